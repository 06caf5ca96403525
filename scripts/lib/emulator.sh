# Sourced (not run) by the scripts that test against a private moto:
# scripts/test.sh, scripts/chaos.sh, scripts/bench-latency.sh. They cd to the
# repository root first.

# emulator_env PORT: the standard SDK variables, pointed at the moto on PORT
# with its fake credentials and nothing from the caller's AWS profile. The
# tests and tools talk to the emulator only through these.
emulator_env() {
  export AWS_ENDPOINT_URL="http://127.0.0.1:$1"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  unset AWS_PROFILE AWS_SESSION_TOKEN
}

# emulator_up PORT: start moto on PORT unless one this project started runs
# there already, and stop it again when the script exits (only if started here).
emulator_started=0
emulator_up() {
  emulator_port=$1
  trap emulator_down EXIT INT TERM
  if ! scripts/moto.sh status "$emulator_port" >/dev/null 2>&1; then
    scripts/moto.sh up "$emulator_port"
    emulator_started=1
  fi
}

emulator_down() {
  if [[ $emulator_started == 1 ]]; then scripts/moto.sh down "$emulator_port" >/dev/null 2>&1 || true; fi
}
