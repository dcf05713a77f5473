#!/usr/bin/env bash
# The whole gate against a real, local Graphite (carbon-cache + graphite-web under gunicorn):
# a feeder pushes a service's metrics every second; check --online, baseline, a healthy
# watch (exit 0), then a bad deploy (exit 1, rollback.log gets a line). Exits 0 only then.
#
# usage: examples/graphite-demo/run.sh   (needs graphite-carbon, graphite-web, gunicorn:
#        .ci/setup.sh; builds vz-monitor unless VZ_MONITOR=path/to/vz-monitor)
# env:   VZ_MONITOR  GRAPHITE_PORT=18081  CARBON_PORT=18003  CONTROL_PORT=18090  BASELINE_WAIT=20
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib/demo.sh"
GRAPHITE_PORT="${GRAPHITE_PORT:-18081}"
CARBON_PORT="${CARBON_PORT:-18003}"
command -v carbon-cache >/dev/null && command -v gunicorn >/dev/null \
  && [ -d /usr/lib/python3/dist-packages/graphite ] \
  || { echo "graphite-carbon/graphite-web/gunicorn missing: run .ci/setup.sh" >&2; exit 2; }

g="$work/graphite"; mkdir -p "$g/whisper" "$g/log" "$g/conf"
cat > "$g/conf/carbon.conf" <<CONF
[cache]
STORAGE_DIR = $g/
LOCAL_DATA_DIR = $g/whisper/
CONF_DIR = $g/conf/
LOG_DIR = $g/log/
PID_DIR = $g/
ENABLE_LOGROTATION = False
MAX_CACHE_SIZE = inf
MAX_CREATES_PER_MINUTE = inf
ENABLE_TAGS = False
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $CARBON_PORT
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $((CARBON_PORT + 1))
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $((CARBON_PORT + 2))
CONF
printf '[all]\npattern = .*\nretentions = 1s:6h\n' > "$g/conf/storage-schemas.conf"
printf '[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n' > "$g/conf/storage-aggregation.conf"
cat > "$g/demo_graphite_settings.py" <<CONF
SECRET_KEY = 'vz-monitor-demo'
STORAGE_DIR = '$g'
WHISPER_DIR = '$g/whisper'
LOG_DIR = '$g/log'
INDEX_FILE = '$g/index'
CARBONLINK_HOSTS = ['127.0.0.1:$((CARBON_PORT + 2))']
DATABASES = {'default': {'NAME': '$g/graphite.db', 'ENGINE': 'django.db.backends.sqlite3'}}
CONF
carbon-cache --config="$g/conf/carbon.conf" --pidfile="$g/carbon.pid" --nodaemon --logdir="$g/log" start \
  >"$g/carbon.out" 2>&1 & pids+=($!)
PYTHONPATH="$g" GRAPHITE_SETTINGS_MODULE=demo_graphite_settings \
  gunicorn --bind "127.0.0.1:$GRAPHITE_PORT" --workers 2 --chdir "$g" graphite.wsgi:application \
  >"$g/gunicorn.out" 2>&1 & pids+=($!)
export VZ_GRAPHITE_URL="http://127.0.0.1:$GRAPHITE_PORT"
echo "waiting for graphite-web and carbon ..."
wait_for 30 python3 -c "import urllib.request; urllib.request.urlopen('$VZ_GRAPHITE_URL/render?target=x&format=json')"
wait_for 30 python3 -c "import socket; socket.create_connection(('127.0.0.1', $CARBON_PORT))"

python3 "$here/../lib/feeder.py" graphite --to "127.0.0.1:$CARBON_PORT" --control-port "$CONTROL_PORT" & pids+=($!)
echo "waiting for the first points ..."
wait_for 30 python3 -c "import json,urllib.request,sys; d=json.load(urllib.request.urlopen('$VZ_GRAPHITE_URL/render?target=demo.error_rate&format=json&from=-10s')); sys.exit(0 if d and any(p[0] is not None for p in d[0]['datapoints']) else 1)"
gate
