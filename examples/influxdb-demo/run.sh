#!/usr/bin/env bash
# The whole gate against a real, local InfluxDB 1.x (influxd): a feeder writes a service's
# metrics every second; check --online, baseline, a healthy watch (exit 0), then a bad
# deploy (exit 1, rollback.log gets a line). Exits 0 only then.
#
# usage: examples/influxdb-demo/run.sh   (needs influxdb: .ci/setup.sh; builds vz-monitor
#        unless VZ_MONITOR=path/to/vz-monitor)
# env:   VZ_MONITOR  INFLUX_PORT=18086  CONTROL_PORT=18090  BASELINE_WAIT=20
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib/demo.sh"
INFLUX_PORT="${INFLUX_PORT:-18086}"
command -v influxd >/dev/null || { echo "influxd missing: run .ci/setup.sh (apt-get install influxdb)" >&2; exit 2; }

i="$work/influxdb"; mkdir -p "$i"
cat > "$i/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$((INFLUX_PORT + 2))"
[meta]
  dir = "$i/meta"
[data]
  dir = "$i/data"
  wal-dir = "$i/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[logging]
  level = "warn"
[http]
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
CONF
influxd -config "$i/influxdb.conf" >"$i/influxd.out" 2>&1 & pids+=($!)
export VZ_INFLUXDB_URL="http://127.0.0.1:$INFLUX_PORT"
echo "waiting for influxd ..."
wait_for 30 python3 -c "import urllib.request; urllib.request.urlopen('$VZ_INFLUXDB_URL/ping')"
python3 -c "import urllib.request,urllib.parse; urllib.request.urlopen(urllib.request.Request('$VZ_INFLUXDB_URL/query', data=urllib.parse.urlencode({'q': 'CREATE DATABASE demo'}).encode()))"

python3 "$here/../lib/feeder.py" influxdb --to "$VZ_INFLUXDB_URL" --control-port "$CONTROL_PORT" & pids+=($!)
echo "waiting for the first points ..."
wait_for 30 python3 -c "import json,urllib.request,urllib.parse,sys; d=json.load(urllib.request.urlopen('$VZ_INFLUXDB_URL/query?'+urllib.parse.urlencode({'db':'demo','q':'SELECT last(error_rate) FROM service'}))); sys.exit(0 if d['results'][0].get('series') else 1)"
gate
