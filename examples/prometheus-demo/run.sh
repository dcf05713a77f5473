#!/usr/bin/env bash
# The whole flow against a local Prometheus and a demo service whose error rate and latency
# switch to bad: check --online, baseline from a range query, a healthy watch (exit 0), then
# a bad deploy (exit 1, rollback.log gets a line).
#
# usage: examples/prometheus-demo/run.sh        (needs prometheus and python3; builds vz-monitor)
# env:   VZ_MONITOR=path/to/vz-monitor   DEMO_PORT=18080   PROM_PORT=19090   BASELINE_WAIT=30
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
DEMO_PORT="${DEMO_PORT:-18080}"
PROM_PORT="${PROM_PORT:-19090}"
BASELINE_WAIT="${BASELINE_WAIT:-30}"

prom="$(command -v prometheus || echo /usr/bin/prometheus)"
[ -x "$prom" ] || { echo "prometheus not found: run .ci/setup.sh or apt-get install prometheus" >&2; exit 2; }
if [ -z "${VZ_MONITOR:-}" ]; then
  (cd "$root" && cargo build -q --release)
  VZ_MONITOR="$root/target/release/vz-monitor"
fi

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cp "$here/vz-monitor.yaml" "$here/alerts.yml" "$work/"
sed "s/127.0.0.1:18080/127.0.0.1:$DEMO_PORT/" "$here/prometheus.yml" > "$work/prometheus.yml"
cd "$work"
export VZ_PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT"
vz() { echo "+ vz-monitor $*" >&2; "$VZ_MONITOR" "$@"; }
switch() { python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode().strip())" "http://127.0.0.1:$DEMO_PORT/$1"; }

python3 "$here/demo_service.py" --port "$DEMO_PORT" & pids+=($!)
"$prom" --config.file=prometheus.yml --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn 2>prometheus.log & pids+=($!)

echo "waiting for Prometheus to scrape the demo service ..."
for _ in $(seq 60); do
  if python3 - "$PROM_PORT" <<'PY' 2>/dev/null; then break; fi
import json, sys, urllib.request, urllib.parse
q = urllib.parse.quote('sum(rate(http_requests_total{job="demo"}[10s])) > 0')
r = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?query={q}"))
sys.exit(0 if r["data"]["result"] else 1)
PY
  sleep 1
done

echo; echo "== 1. every query once"
vz check --online || true      # exit 3 while some metric has no data yet is fine here

echo; echo "== 2. baseline: let ${BASELINE_WAIT}s of healthy history build up, then a range query"
sleep "$BASELINE_WAIT"
vz baseline --window "${BASELINE_WAIT}s" --interval 1s

echo; echo "== 3. a healthy deploy: the window passes"
set +e
vz watch --duration 10s; code=$?
set -e
echo "exit code: $code (0 = healthy)"

echo; echo "== 4. a bad deploy: errors and latency up"
switch bad
set +e
vz watch --duration 30s; code=$?
set -e
echo "exit code: $code (1 = rolled back)"
echo "rollback.log:"; cat rollback.log 2>/dev/null || echo "(none)"
