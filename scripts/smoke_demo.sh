#!/usr/bin/env bash
# Smoke test of `make demo` on the embedded default (SQLite, filesystem broker, no service):
# start it on a free port with a temporary data dir and no DATABASE_URL / CELERY_BROKER_URL, wait
# for /health, check the vendored assets, get a token with the openstack CLI, check /metrics,
# then stop it with SIGINT and check that none of its processes is left. Exit status 0 = all good.
#
#   scripts/smoke_demo.sh            (SMOKE_TIMEOUT=120 seconds to wait for /health)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TIMEOUT=${SMOKE_TIMEOUT:-120}
PY=.venv/bin/python
work=$(mktemp -d -t nefos-smoke.XXXXXX)
datadir=$work/data
log=$work/demo.log
demo_pid=""

say() { printf '[smoke] %s\n' "$*" >&2; }
fail() {
  say "FAILED: $*"
  exit 1
}

# PIDs of every process in session $1 (`make demo` runs in a session of its own, so this is the
# demo and everything it started, whatever process group each child put itself in).
session_pids() {
  # /proc/PID/stat is "pid (comm) state ppid pgrp session ..."; comm may hold spaces.
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v sid="$1" '{ pid = $1; sub(/^.*\) /, ""); if ($4 == sid) print pid }'
}

wait_session_gone() { # $1 session, $2 seconds
  local deadline=$((SECONDS + $2))
  while [ -n "$(session_pids "$1")" ]; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.5
  done
}

cleanup() {
  local status=$? pids
  if [ -n "$demo_pid" ] && [ -n "$(session_pids "$demo_pid")" ]; then
    say "stopping what is left of the demo (session $demo_pid)"
    kill -TERM -- "-$demo_pid" 2>/dev/null || true
    if ! wait_session_gone "$demo_pid" 30; then
      pids=$(session_pids "$demo_pid" | tr '\n' ' ')
      say "killing leftover processes: $pids"
      if [ -n "$pids" ]; then
        # shellcheck disable=SC2086 # word splitting intended: a list of PIDs
        kill -KILL $pids 2>/dev/null || true
      fi
    fi
  fi
  if [ $status -ne 0 ] && [ -f "$log" ]; then
    say "last lines of the demo's output:"
    tail -n 60 "$log" >&2
  fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# GET a URL; print the status code (000 when nothing answers). Body into $2 if given.
http_get() {
  "$PY" - "$1" "${2:-/dev/null}" <<'EOF'
import sys
import urllib.error
import urllib.request

url, out = sys.argv[1], sys.argv[2]
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        status, body = response.status, response.read()
except urllib.error.HTTPError as exc:
    status, body = exc.code, exc.read()
except OSError:
    status, body = 0, b""
with open(out, "wb") as handle:
    handle.write(body)
print(f"{status:03d}")
EOF
}

port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
console_port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base=http://127.0.0.1:$port
say "starting make demo on $base with data dir $datadir"
started=$SECONDS
env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u PORTAL_BIND -u PORTAL_ADMIN_PASSWORD \
  PORTAL_PORT="$port" PORTAL_CONSOLE_PORT="$console_port" PORTAL_DATA_DIR="$datadir" setsid make demo </dev/null >"$log" 2>&1 &
demo_pid=$!
sleep 0.5
session_pids "$demo_pid" | grep -qx "$demo_pid" ||
  fail "make demo (pid $demo_pid) is not running in a session of its own"

status=000
while [ $((SECONDS - started)) -lt "$TIMEOUT" ]; do
  kill -0 "$demo_pid" 2>/dev/null || fail "make demo exited before /health answered"
  status=$(http_get "$base/health" "$work/health.json")
  [ "$status" = 200 ] && break
  sleep 1
done
[ "$status" = 200 ] || fail "/health answered $status, not 200, within $TIMEOUT s: $(cat "$work/health.json" 2>/dev/null)"
say "/health is 200 after $((SECONDS - started)) s: $(cat "$work/health.json")"

for asset in vendor/bootstrap/dist/css/bootstrap.min.css vendor/htmx.org/dist/htmx.min.js vendor/@novnc/novnc/core/rfb.js; do
  status=$(http_get "$base/static/$asset")
  [ "$status" = 200 ] || fail "/static/$asset answered $status"
done
say "vendored Bootstrap, htmx and noVNC are served"

# The console proxy answers; a forged console token is refused before any upgrade.
"$PY" - "$console_port" <<'EOF' || fail "the console proxy on 127.0.0.1:$console_port did not refuse a forged token with 403"
import sys
import time
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

deadline = time.monotonic() + 30  # the proxy may still be starting when /health answers
while True:
    try:
        connect(f"ws://127.0.0.1:{sys.argv[1]}/?token=forged", open_timeout=10).close()
    except InvalidStatus as exc:
        sys.exit(exc.response.status_code != 403)
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.5)
        continue
    sys.exit(1)
EOF
say "the console proxy refuses a forged token (403)"

[ -s "$datadir/admin_password" ] || fail "no admin password in $datadir/admin_password"
[ "$(stat -c %a "$datadir/admin_password")" = 600 ] || fail "$datadir/admin_password is not mode 600"
mkdir -p "$work/home"
# A private HOME and no OS_* variables: only the command line configures the client.
token=$(env -u OS_CLOUD -u OS_AUTH_URL -u OS_TOKEN HOME="$work/home" .venv/bin/openstack \
  --os-auth-url "$base/identity/v3" --os-username admin --os-password "$(cat "$datadir/admin_password")" \
  --os-project-name admin --os-user-domain-name Default --os-project-domain-name Default \
  --os-identity-api-version 3 token issue -f value -c id) || fail "openstack token issue failed"
[ -n "$token" ] || fail "openstack token issue printed no token"
say "openstack token issue gave a token (${#token} characters)"

status=$(http_get "$base/metrics" "$work/metrics.txt")
[ "$status" = 200 ] || fail "/metrics answered $status"
grep -q '^portal_http_requests_total{.*view="health"' "$work/metrics.txt" ||
  fail "/metrics has no portal_http_requests_total sample for the health view"
say "/metrics counts requests by view"

say "stopping the demo with SIGINT (as Ctrl-C does)"
stop_started=$SECONDS
kill -INT -- "-$demo_pid"
wait_session_gone "$demo_pid" 60 || fail "processes left 60 s after SIGINT: $(session_pids "$demo_pid" | tr '\n' ' ')"
wait "$demo_pid" 2>/dev/null || true
grep -q 'all processes stopped' "$log" || fail "the supervisor did not report a clean stop"
say "all demo processes stopped $((SECONDS - stop_started)) s after SIGINT"
say "passed"
