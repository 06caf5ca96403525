#!/usr/bin/env bash
# `make run`: the whole system on this machine until Ctrl-C.
#   1. moto (the local AWS) on $MOTO_HOST:$MOTO_PORT
#   2. terraform apply of terraform/environments/local against it
#   3. the environment's outputs written to .local/outputs.json
# Ctrl-C (or SIGTERM) stops everything this script started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${MOTO_PORT:-4566}
host=${MOTO_HOST:-127.0.0.1}
env_dir=terraform/environments/local
outputs="$root/.local/outputs.json"

export AWS_ENDPOINT_URL="http://$host:$port"
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=${AWS_REGION:-us-east-1} AWS_DEFAULT_REGION=${AWS_REGION:-us-east-1}

pids=()
stop() {
  trap - EXIT INT TERM
  echo
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/moto.sh down "$port" || true
}
trap stop EXIT INT TERM

scripts/moto.sh up "$port"

if [[ -d $env_dir ]]; then
  echo "applying $env_dir to $AWS_ENDPOINT_URL ..."
  (cd "$env_dir" && terraform init -input=false -no-color >/dev/null && terraform apply -input=false -auto-approve -no-color >"$root/.local/apply.log") ||
    { echo "terraform apply failed; see .local/apply.log" >&2; exit 1; }
  (cd "$env_dir" && terraform output -json) >"$outputs"
  echo "outputs: $outputs"
else
  echo "no $env_dir yet: only the emulator is up"
fi

echo "local AWS endpoint: $AWS_ENDPOINT_URL   (Ctrl-C stops everything)"
while true; do sleep 3600 & pids+=($!); wait $! || true; done
