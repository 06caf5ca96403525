#!/usr/bin/env bash
# `make run`: the whole system on this machine until Ctrl-C.
#   1. moto (the local AWS) on $MOTO_HOST:$MOTO_PORT
#   2. stand-ins for functions not written yet (scripts/standins.sh)
#   3. terraform apply of terraform/environments/local against it
#   4. the environment's outputs, plus emulator_endpoint and
#      example_service_url, written to .local/outputs.json
#   5. the local Lambda runtime (bin/offload-local, with the X-Ray daemon)
#      and the example service (cmd/example-service) on $SERVICE_PORT, with
#      one API key in the emulator's Secrets Manager (<prefix>-example-service-api-keys;
#      the key itself in .local/example-service-api-key, never printed), and
#      for its POST /sms/sync the Twilio stand-in (cmd/offload-twilio-fake) on
#      $TWILIO_FAKE_PORT with its credentials in <prefix>-example-service-twilio
#      METRICS=faithful gives alarms one AWS/SQS datapoint a minute, as on
#      AWS (default fast: a sample a second); CLOCK_SCALE=0.1 runs AWS's
#      minutes (metrics, async retries) ten times faster.
# Ctrl-C (or SIGTERM) stops everything this script started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
t0=$(date +%s)
port=${MOTO_PORT:-4566}
host=${MOTO_HOST:-127.0.0.1}
service_port=${SERVICE_PORT:-8080}
twilio_port=${TWILIO_FAKE_PORT:-8090}
env_dir=terraform/environments/local
# Local state belongs to the emulator instance (OFFLOAD_TF_STATE moves it).
tf_state=${OFFLOAD_TF_STATE:-$root/$env_dir/terraform.tfstate}
export TF_VAR_dist_dir="$root/dist"
state="$root/.local"
outputs="$state/outputs.json"
mkdir -p "$state"

export AWS_ENDPOINT_URL="http://$host:$port"
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=${AWS_REGION:-us-east-1} AWS_DEFAULT_REGION=${AWS_REGION:-us-east-1}
unset AWS_PROFILE AWS_SESSION_TOKEN
export TF_CLI_CONFIG_FILE=${TF_CLI_CONFIG_FILE:-$state/terraformrc} TF_IN_AUTOMATION=1
[[ -f $TF_CLI_CONFIG_FILE ]] || scripts/tfconfig.sh "$TF_CLI_CONFIG_FILE"

pids=()
started_moto=0
stop() {
  trap - EXIT INT TERM
  # Ctrl-C also ends whatever reads our output (| tee): never die of SIGPIPE here.
  trap '' PIPE INT
  echo -e "\nstopping..." 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $started_moto == 1 ]]; then scripts/moto.sh down "$port" >/dev/null 2>&1 || true; fi
  rm -f "$state/runtime.ready"
}
trap stop EXIT
trap 'exit 130' INT TERM

if ! scripts/moto.sh status "$port" >/dev/null 2>&1; then
  started_moto=1
  # Local state belongs to the emulator instance: a new emulator starts empty.
  rm -f "$tf_state" "$tf_state.backup"
fi
scripts/moto.sh up "$port"

scripts/standins.sh
service=0
[[ -f cmd/example-service/main.go ]] && service=1
# The runtime and the service build while Terraform waits on the emulator.
(go build -o bin/offload-local ./cmd/offload-local &&
  if [[ $service == 1 ]]; then go build -o bin/example-service ./cmd/example-service &&
    go build -o bin/offload-twilio-fake ./cmd/offload-twilio-fake; fi) >"$state/go-build.log" 2>&1 &
builder=$!

echo "applying $env_dir to $AWS_ENDPOINT_URL (log: .local/apply.log) ..."
(cd "$env_dir" && terraform init -input=false -no-color >"$state/init.log" &&
  terraform apply -input=false -auto-approve -no-color -state="$tf_state" >"$state/apply.log" 2>&1) ||
  { echo "terraform failed; see .local/init.log and .local/apply.log" >&2; tail -n 20 "$state/apply.log" >&2; exit 1; }
(cd "$env_dir" && terraform output -json -state="$tf_state") >"$state/tf-outputs.json"

service_url="http://127.0.0.1:$service_port"
python3 - "$state/tf-outputs.json" "$outputs" "$AWS_ENDPOINT_URL" "$service_url" "$service" <<'PY'
import json, sys
src, dst, endpoint, url, service = sys.argv[1:]
out = json.load(open(src))
out["emulator_endpoint"] = {"sensitive": False, "type": "string", "value": endpoint}
if service == "1":
    out["example_service_url"] = {"sensitive": False, "type": "string", "value": url}
json.dump(out, open(dst, "w"), indent=2, sort_keys=True)
PY
wait "$builder" || { echo "go build failed:" >&2; cat "$state/go-build.log" >&2; exit 1; }
value() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["value"])' "$outputs" "$1"; }
prefix=$(value name_prefix)

rm -f "$state/runtime.ready"
bin/offload-local --bin-dir dist/local --xray-daemon bin/xray-daemon --alarm-prefix "$prefix" \
  --metrics "${METRICS:-fast}" --clock-scale "${CLOCK_SCALE:-1}" --ready-file "$state/runtime.ready" &
pids+=($!)
for _ in $(seq 1 300); do
  [[ -f $state/runtime.ready ]] && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "the local runtime exited during start" >&2; exit 1; }
  sleep 0.1
done
[[ -f $state/runtime.ready ]] || { echo "the local runtime was not ready within 30 s" >&2; exit 1; }

if [[ $service == 1 ]]; then
  # One API key for the example service: created once per emulator, reused
  # while it runs (the key file keeps working across make run restarts).
  keys_secret="$prefix-example-service-api-keys"
  key_file="$state/example-service-api-key"
  python3 - "$keys_secret" "$key_file" <<'PY'
import json, os, secrets, sys
import boto3
name, key_file = sys.argv[1:]
sm = boto3.client("secretsmanager", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
try:
    keys = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["keys"]
except sm.exceptions.ResourceNotFoundException:
    keys = [{"id": "local", "key": secrets.token_urlsafe(32)}]
    sm.create_secret(Name=name, SecretString=json.dumps({"keys": keys}),
                     Description="API keys of the local example service (make run)")
fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.write(keys[0]["key"])
PY
  # POST /sms/sync calls a Twilio-compatible stand-in whose answers take a
  # provider's time (docs/performance.md); its credentials, made up per run,
  # go to the fake through the environment and to the service through a secret.
  twilio_secret="$prefix-example-service-twilio"
  twilio_env="$state/twilio-fake.env"
  python3 - "$twilio_secret" "$twilio_env" <<'PY'
import json, os, secrets, sys
import boto3
name, env_file = sys.argv[1:]
creds = {"account_sid": "AC" + secrets.token_hex(16), "auth_token": secrets.token_hex(16), "from": "+15005550006"}
sm = boto3.client("secretsmanager", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
try:
    sm.put_secret_value(SecretId=name, SecretString=json.dumps(creds))
except sm.exceptions.ResourceNotFoundException:
    sm.create_secret(Name=name, SecretString=json.dumps(creds), Description="Twilio stand-in credentials of the local example service (make run)")
fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.write("TWILIO_FAKE_ACCOUNT_SID=%s\nTWILIO_FAKE_AUTH_TOKEN=%s\n" % (creds["account_sid"], creds["auth_token"]))
PY
  twilio_sid=$(sed -n 's/^TWILIO_FAKE_ACCOUNT_SID=//p' "$twilio_env")
  TWILIO_FAKE_AUTH_TOKEN=$(sed -n 's/^TWILIO_FAKE_AUTH_TOKEN=//p' "$twilio_env") \
    bin/offload-twilio-fake --addr "127.0.0.1:$twilio_port" --account-sid "$twilio_sid" &
  pids+=($!)
  # The producers' size guard is the smaller of the two queues' limits.
  max_message=$(python3 -c 'import json,sys; print(min(json.load(open(sys.argv[1]))["queue_max_message_size"]["value"].values()))' "$outputs")
  AWS_XRAY_DAEMON_ADDRESS=$(sed -n 's/^xray_daemon_address=//p' "$state/runtime.ready") \
  bin/example-service --addr "127.0.0.1:$service_port" \
    --audit-queue-url "$(value audit_queue_url)" --sms-queue-url "$(value sms_queue_url)" \
    --audit-table "$(value audit_table_name)" --api-keys-secret "$keys_secret" \
    --max-message-bytes "$max_message" --twilio-secret "$twilio_secret" --twilio-url "http://127.0.0.1:$twilio_port" &
  pids+=($!)
fi

cat <<INFO

offload is up in $(( $(date +%s) - t0 )) s   (Ctrl-C stops everything)
  local AWS (moto)     $AWS_ENDPOINT_URL   log: .local/moto-$port.log
  outputs (JSON)       $outputs
  audit queue          $(value audit_queue_url)
  sms queue            $(value sms_queue_url)
  audit table          $(value audit_table_name)
  alarm topic          $(value alarm_topic_arn)
  local Lambda runtime bin/offload-local (functions' logs below, prefixed [function])
INFO
if [[ $service == 1 ]]; then
  cat <<INFO
  example service      $service_url   (API key: secret $keys_secret, copy in .local/example-service-api-key)
    key=\$(cat .local/example-service-api-key)
    curl -X POST $service_url/audit -H "X-API-Key: \$key" -d '{"auditText":"hello"}'       (202 once buffered; ?durable=1: once on the queue)
    curl -X POST $service_url/sms -H "X-API-Key: \$key" -H 'Idempotency-Key: order-17' -d '{"to":"+14155552671","body":"hi"}'
    curl -X POST $service_url/audit/sync -H "X-API-Key: \$key" -d '{"auditText":"hello"}'  (written before answering)
    curl -X POST $service_url/sms/sync -H "X-API-Key: \$key" -H 'Idempotency-Key: order-18' -d '{"to":"+14155552671","body":"hi"}'  (the provider stand-in answers first)
INFO
fi
echo

# Serve until a signal, or until a child gives up.
while true; do
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited; stopping" >&2; exit 1; }
  done
  sleep 1
done
