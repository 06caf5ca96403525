#!/usr/bin/env bash
# Run every test tier against a private moto instance, then stop it.
#
#   unit         go test ./...                      (fakes only)
#   integration  go test -tags integration ./...    (against moto)
#   e2e          go test -tags e2e ./test/...       (Terratest: apply terraform/environments/local to moto)
#   chaos        the short seeded fault campaign     (scripts/chaos.sh -short, docs/reliability.md)
#
# TIERS="unit integration" limits the tiers; PKGS (default ./...) and E2E_PKGS
# (default ./test/...) limit the packages; GOTESTFLAGS adds flags to every go test.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${TEST_MOTO_PORT:-4567}
tiers=${TIERS:-unit integration e2e chaos}
flags=${GOTESTFLAGS:-}
pkgs=${PKGS:-./...}
e2e_pkgs=${E2E_PKGS:-./test/...}

command -v terraform >/dev/null || { echo "terraform is missing: install Terraform >= 1.11 (https://developer.hashicorp.com/terraform/install)" >&2; exit 1; }
python3 -c 'import moto.server, flask' 2>/dev/null || { echo "moto is missing: install it with: pip install 'moto[server]==5.2.1'" >&2; exit 1; }

# The tests talk to the emulator only through the standard SDK variables.
# shellcheck source=scripts/lib/emulator.sh
. scripts/lib/emulator.sh
emulator_env "$port"
export OFFLOAD_TEST_TARGET=${OFFLOAD_TEST_TARGET:-local}

started=0
cleanup() {
  if [[ $started == 1 ]]; then scripts/moto.sh down "$port" >/dev/null; fi
}
trap cleanup EXIT INT TERM

for tier in $tiers; do
  start=$(date +%s)
  echo "== $tier tests"
  case $tier in
  unit)
    go test -count=1 $flags $pkgs
    ;;
  integration)
    if [[ $started == 0 ]]; then scripts/moto.sh up "$port"; started=1; fi
    go test -count=1 -tags integration $flags $pkgs
    ;;
  e2e)
    if [[ $started == 0 ]]; then scripts/moto.sh up "$port"; started=1; fi
    if ! grep -rlq --include='*_test.go' '^//go:build.*e2e' test 2>/dev/null; then
      echo "no end-to-end suites yet"; continue
    fi
    go test -count=1 -tags e2e -timeout 30m $flags $e2e_pkgs
    ;;
  chaos)
    if [[ $started == 0 ]]; then scripts/moto.sh up "$port"; started=1; fi
    TEST_MOTO_PORT=$port scripts/chaos.sh -short
    ;;
  *)
    echo "unknown tier $tier" >&2
    exit 2
    ;;
  esac
  echo "== $tier tests passed in $(( $(date +%s) - start )) s"
done
