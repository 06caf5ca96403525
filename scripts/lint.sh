#!/usr/bin/env bash
# Every static check the project runs; `make lint` calls this after building bin/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin="$root/bin"
fail=0
step() { echo "== $*"; }

step gofmt
unformatted=$(gofmt -l $(git ls-files -co --exclude-standard '*.go') 2>/dev/null || true)
if [[ -n $unformatted ]]; then echo "gofmt needed:"; echo "$unformatted"; fail=1; fi

step "go vet (all build tags)"
go vet ./... || fail=1
go vet -tags integration ./... || fail=1
go vet -tags e2e ./... || fail=1

step "doc comments (every exported identifier of pkg/, cmd/, functions/, internal/, examples/)"
go run ./scripts/doccheck pkg cmd functions internal examples || fail=1

step "terraform/environments/_shared generated from terraform/stack (make tfshared)"
go run ./scripts/tfshared -check || fail=1

step staticcheck
"$bin/staticcheck" -tags integration,e2e ./... || fail=1

if [[ -d terraform ]]; then
  step "terraform fmt"
  terraform fmt -check -recursive -diff terraform || fail=1

  step "every module has an examples/ root (validated below)"
  for m in terraform/modules/*/; do
    if ! compgen -G "${m}examples/*/*.tf" >/dev/null; then echo "${m%/} has no examples/<name>/*.tf"; fail=1; fi
  done

  step "terraform validate (offline, every module and environment)"
  while IFS= read -r dir; do
    if ! out=$(cd "$dir" && terraform init -backend=false -input=false -no-color >/dev/null 2>&1 && terraform validate -no-color 2>&1); then
      echo "$dir: $out"; fail=1
    else
      echo "ok  $dir"
    fi
  # environments/_shared holds files the environment roots link; it is no root itself.
  done < <(find terraform -name '*.tf' -not -path '*/.terraform/*' -not -path '*/_shared/*' -exec dirname {} \; | sort -u)

  step "tfsec (HIGH and CRITICAL fail)"
  "$bin/tfsec" terraform --minimum-severity HIGH --no-color --no-module-downloads --concise-output || fail=1
fi

if [[ -d .github/workflows ]]; then
  step actionlint
  "$bin/actionlint" -color=false || fail=1
fi

if [[ $fail != 0 ]]; then echo "lint failed"; exit 1; fi
echo "lint passed"
