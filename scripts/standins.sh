#!/usr/bin/env bash
# Stand-ins for the stack's functions that are not written yet.
#
# terraform/stack deploys every function named in its function_descriptions and
# needs dist/<name>.zip for each. Until functions/<name>/main.go exists, this
# builds the local runtime's test function (internal/localrt/testdata/fixtures/
# behave, FIXTURE_MODE unset) in its place, for the host (dist/local/<name>/
# bootstrap) and as a zip (dist/<name>.zip): it logs and acknowledges every
# record, so `make run` and the end-to-end tests work from the first commit.
# A written function is never replaced.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
names=$(sed -n '/function_descriptions = {/,/^  }/p' terraform/stack/functions.tf | grep -oE '^    "[a-z0-9-]+"' | tr -d ' "')
built=0
for fn in $names; do
  [[ -f functions/$fn/main.go ]] && continue
  if [[ $built == 0 ]]; then
    CGO_ENABLED=0 go build -trimpath -o dist/standin/host/bootstrap ./internal/localrt/testdata/fixtures/behave
    CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -tags lambda.norpc -ldflags "-s -w -buildid=" \
      -o dist/standin/arm64/bootstrap ./internal/localrt/testdata/fixtures/behave
    built=1
  fi
  mkdir -p "dist/local/$fn"
  cp dist/standin/host/bootstrap "dist/local/$fn/bootstrap"
  go run ./scripts/mkzip "dist/$fn.zip" dist/standin/arm64/bootstrap >/dev/null
  echo "stand-in for $fn (functions/$fn not written yet): logs and acknowledges every record"
done
