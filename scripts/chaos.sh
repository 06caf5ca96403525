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
# shellcheck source=scripts/lib/emulator.sh
. scripts/lib/emulator.sh
port=${TEST_MOTO_PORT:-4567}
emulator_env "$port"
export OFFLOAD_TEST_TARGET=local

mkdir -p .local
go build -o .local/offload-chaos ./cmd/offload-chaos

if [[ " $* " != *" -plan "* ]]; then emulator_up "$port"; fi
.local/offload-chaos "$@"
