#!/usr/bin/env bash
# The whole gate against a local CloudWatch API (moto_server from PyPI moto[server]): a
# feeder puts a service's metrics every second (PutMetricData); check --online, baseline, a
# healthy watch (exit 0), then a bad deploy (exit 1, rollback.log gets a line). Exits 0 only
# then. vz-monitor signs every request with SigV4 from the AWS_* variables below.
#
# usage: examples/cloudwatch-demo/run.sh   (needs moto[server] in /opt/vz-monitor-ci-venv:
#        .ci/setup.sh; builds vz-monitor unless VZ_MONITOR=path/to/vz-monitor)
# env:   VZ_MONITOR  MOTO_PORT=18500  CONTROL_PORT=18090  BASELINE_WAIT=20  VENV=/opt/vz-monitor-ci-venv
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib/demo.sh"
MOTO_PORT="${MOTO_PORT:-18500}"
VENV="${VENV:-/opt/vz-monitor-ci-venv}"
[ -x "$VENV/bin/moto_server" ] || { echo "moto_server missing in $VENV: run .ci/setup.sh" >&2; exit 2; }

# moto accepts any key; a real account takes the same variables (or AWS_SESSION_TOKEN too).
export AWS_ACCESS_KEY_ID=AKIADEMODEMODEMO AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 VZ_CLOUDWATCH_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$work/moto.out" 2>&1 & pids+=($!)
echo "waiting for moto_server ..."
wait_for 30 python3 -c "import urllib.request; urllib.request.urlopen('$VZ_CLOUDWATCH_ENDPOINT/moto-api/')"

"$VENV/bin/python" "$here/../lib/feeder.py" cloudwatch --to "$VZ_CLOUDWATCH_ENDPOINT" --control-port "$CONTROL_PORT" & pids+=($!)
echo "waiting for the first points ..."
wait_for 30 "$VENV/bin/python" -c "import boto3,sys,datetime as d; c=boto3.client('cloudwatch',endpoint_url='$VZ_CLOUDWATCH_ENDPOINT'); n=d.datetime.now(d.timezone.utc); r=c.get_metric_data(MetricDataQueries=[{'Id':'m','MetricStat':{'Metric':{'Namespace':'Demo','MetricName':'ErrorRate'},'Period':1,'Stat':'Average'}}],StartTime=n-d.timedelta(seconds=30),EndTime=n); sys.exit(0 if r['MetricDataResults'][0]['Values'] else 1)"
gate
