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
port=${TEST_MOTO_PORT:-4567}
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_XRAY_DAEMON_ADDRESS

started=0
cleanup() {
  if [[ $started == 1 ]]; then scripts/moto.sh down "$port" >/dev/null || true; fi
}
trap cleanup EXIT INT TERM
if ! scripts/moto.sh status "$port" >/dev/null 2>&1; then
  scripts/moto.sh up "$port" >/dev/null
  started=1
fi

mkdir -p bin .local
go build -o bin/example-service ./cmd/example-service
go build -o bin/offload-twilio-fake ./cmd/offload-twilio-fake
go build -o bin/offload-bench-latency ./cmd/offload-bench-latency
# shellcheck disable=SC2086 # BENCH_FLAGS is a list of flags
bin/offload-bench-latency --service-bin bin/example-service --twilio-fake-bin bin/offload-twilio-fake --log-dir .local ${BENCH_FLAGS:-}
