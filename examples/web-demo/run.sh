#!/usr/bin/env bash
# The whole flow against a JSON metrics API (examples/web-demo/demo_service.py, behind an
# API key) through the `web` backend: check --online, a wrong key (a clear 401, the key
# never printed), baseline from a range request, a healthy watch (must exit 0), then a bad
# deploy (must exit 1 with its rollback run). Exits 0 only when both hold.
#
# usage: examples/web-demo/run.sh        (needs python3; builds vz-monitor)
# env:   VZ_MONITOR=path/to/vz-monitor   DEMO_PORT=18181
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
DEMO_PORT="${DEMO_PORT:-18181}"
if [ -z "${VZ_MONITOR:-}" ]; then
  (cd "$root" && cargo build -q --release)
  VZ_MONITOR="$root/target/release/vz-monitor"
fi

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cp "$here/vz-monitor.yaml" "$work/"
cd "$work"
export DEMO_API="http://127.0.0.1:$DEMO_PORT"
export DEMO_API_KEY="demo-k3y-$RANDOM$RANDOM"
vz() { echo "+ vz-monitor $*" >&2; "$VZ_MONITOR" "$@"; }
get() { python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode().strip())" "$DEMO_API/$1"; }

python3 "$here/demo_service.py" --port "$DEMO_PORT" --key "$DEMO_API_KEY" & pids+=($!)
for _ in $(seq 50); do get switch/good >/dev/null 2>&1 && break; sleep 0.2; done

echo; echo "== 1. every query once"
vz check --online

echo; echo "== 2. a wrong API key: a 401 naming the metric and the fix; the key is never printed"
set +e
out="$(DEMO_API_KEY=wrong-k3y-0000 "$VZ_MONITOR" check --online 2>&1)"; code=$?
set -e
echo "$out"
echo "exit code: $code (3 = a query failed)"
if echo "$out" | grep -q "wrong-k3y-0000"; then echo "FAIL: the key was printed" >&2; exit 1; fi

echo; echo "== 3. baseline: the last minute's points, one range request per metric"
vz baseline --window 60s --interval 1s

echo; echo "== 4. a healthy deploy: the window passes"
set +e
vz watch --duration 8s; healthy=$?
set -e
echo "exit code: $healthy (0 = healthy)"

echo; echo "== 5. a bad deploy: errors and latency up"
get switch/bad
set +e
vz watch --duration 15s; bad=$?
set -e
echo "exit code: $bad (1 = rolled back)"
echo "rollback.log:"; cat rollback.log 2>/dev/null || echo "(none)"

if [ "$healthy" -eq 0 ] && [ "$bad" -eq 1 ] && [ -s rollback.log ]; then
  echo; echo "demo passed: healthy watch exit 0, bad watch exit 1 with its rollback run"
else
  echo; echo "demo FAILED: healthy watch exit $healthy (want 0), bad watch exit $bad (want 1)" >&2
  exit 1
fi
