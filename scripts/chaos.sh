#!/usr/bin/env bash
# The seeded fault campaign (make chaos, docs/reliability.md) against a
# private moto on TEST_MOTO_PORT (default 4567): started here unless one is
# already running there (e.g. scripts/test.sh's), stopped again at the end.
#
#   scripts/chaos.sh [-seed N] [-audit N] [-sms N] [-short] [-timeout D] [-plan] [-v]
#
# Needs the bootstraps of make build-local. The campaign's last line is its
# verdict; its exit code is 1 when a guarantee was broken, 2 when it could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${TEST_MOTO_PORT:-4567}

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
export OFFLOAD_TEST_TARGET=local

mkdir -p .local
go build -o .local/offload-chaos ./cmd/offload-chaos

started=0
cleanup() {
  if [[ $started == 1 ]]; then scripts/moto.sh down "$port" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT INT TERM
if [[ " $* " != *" -plan "* ]] && ! scripts/moto.sh status "$port" >/dev/null 2>&1; then
  scripts/moto.sh up "$port"
  started=1
fi
.local/offload-chaos "$@"
