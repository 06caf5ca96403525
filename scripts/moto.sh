#!/usr/bin/env bash
# Start or stop the project's local AWS (moto behind scripts/moto_launcher.py).
#
#   scripts/moto.sh up   [PORT]   start on 127.0.0.1:PORT unless already running; wait until it answers
#   scripts/moto.sh down [PORT]   stop only the server that `up` started (pid file)
#   scripts/moto.sh status [PORT]
#
# State lives in .local/: moto-PORT.pid and moto-PORT.log.
set -euo pipefail

cmd=${1:-}
port=${2:-${MOTO_PORT:-4566}}
host=${MOTO_HOST:-127.0.0.1}
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.local"
pidfile="$state/moto-$port.pid"
logfile="$state/moto-$port.log"
url="http://$host:$port"

running() {
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

healthy() {
  curl -fsS -m 2 "$url/_offload/health" >/dev/null 2>&1
}

case $cmd in
up)
  if running; then
    echo "moto already running on $url (pid $(cat "$pidfile"))"
    exit 0
  fi
  if ! python3 -c 'import moto.server, flask' 2>/dev/null; then
    echo "moto is missing: install it with: pip install 'moto[server]==5.2.1'" >&2
    exit 1
  fi
  if healthy; then
    echo "port $port already has a server that this project did not start; stop it or pick another MOTO_PORT" >&2
    exit 1
  fi
  mkdir -p "$state"
  # setsid: the server gets its own process group, so `down` can stop all of it.
  setsid python3 "$root/scripts/moto_launcher.py" -H "$host" -p "$port" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 150); do
    if healthy; then
      echo "moto up on $url (pid $(cat "$pidfile"), log $logfile)"
      exit 0
    fi
    if ! running; then
      echo "moto exited during start; last lines of $logfile:" >&2
      tail -n 20 "$logfile" >&2
      rm -f "$pidfile"
      exit 1
    fi
    sleep 0.2
  done
  echo "moto did not answer on $url within 30 s; see $logfile" >&2
  exit 1
  ;;
down)
  if ! running; then
    rm -f "$pidfile"
    echo "moto not running on port $port"
    exit 0
  fi
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "moto on port $port stopped"
  ;;
status)
  if running && healthy; then
    echo "moto running on $url (pid $(cat "$pidfile"))"
  else
    echo "moto not running on port $port"
    exit 1
  fi
  ;;
*)
  echo "usage: $0 up|down|status [PORT]" >&2
  exit 2
  ;;
esac
