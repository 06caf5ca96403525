#!/usr/bin/env bash
# `make bench-latency`: the example service's client-side latency per
# endpoint on the local stack (docs/performance.md). Starts its own moto on
# $TEST_MOTO_PORT (unless one this project started runs there), builds the
# example service, the Twilio stand-in and the driver, runs
# cmd/offload-bench-latency (which starts and stops the service and the
# stand-in on free ports) and stops what it started. BENCH_FLAGS go to the
# driver (-n, -rate, -warmup, -sms-median, -sms-p99, -seed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/emulator.sh
. scripts/lib/emulator.sh
port=${TEST_MOTO_PORT:-4567}
emulator_env "$port"
unset AWS_XRAY_DAEMON_ADDRESS
emulator_up "$port" >/dev/null

mkdir -p bin .local
go build -o bin/example-service ./cmd/example-service
go build -o bin/offload-twilio-fake ./cmd/offload-twilio-fake
go build -o bin/offload-bench-latency ./cmd/offload-bench-latency
# shellcheck disable=SC2086 # BENCH_FLAGS is a list of flags
bin/offload-bench-latency --service-bin bin/example-service --twilio-fake-bin bin/offload-twilio-fake --log-dir .local ${BENCH_FLAGS:-}
