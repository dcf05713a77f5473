#!/usr/bin/env bash
# Installs the real servers the integration tests start themselves (on 127.0.0.1, with
# their own ports and temp dirs). Idempotent: installs only what is missing. Package
# post-install scripts are told not to start any service, so nothing is left running.
set -euo pipefail

need=()
command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ] || need+=(prometheus)
command -v prometheus-pushgateway >/dev/null 2>&1 || [ -x /usr/bin/prometheus-pushgateway ] || need+=(prometheus-pushgateway)
command -v prometheus-alertmanager >/dev/null 2>&1 || [ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
# tests/it/victoria_metrics.rs: a second Prometheus-compatible backend (started by the test).
command -v victoria-metrics >/dev/null 2>&1 || [ -x /usr/bin/victoria-metrics ] || need+=(victoria-metrics)
# tests/it/web.rs: tests/web/server.py (python3, standard library) and a CA made by openssl.
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# PostgreSQL for the shared store (tests/it/common/postgres.rs runs initdb into a temp dir).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# tests/it/html_report.rs: the HTML report in a real headless browser.
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)
# tests/it/action.rs: a venv for check-jsonschema (GitHub's workflow and action schemas).
/usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# tests/it/graphite.rs: carbon-cache stores what the test sends, graphite-web (under gunicorn)
# answers /render; both started by tests/it/common/graphite.rs in a temp dir.
command -v carbon-cache >/dev/null 2>&1 || need+=(graphite-carbon)
[ -d /usr/lib/python3/dist-packages/graphite ] || need+=(graphite-web)
command -v gunicorn >/dev/null 2>&1 || [ -x /usr/bin/gunicorn3 ] || need+=(gunicorn)
# tests/it/influxdb.rs: InfluxDB 1.x (InfluxQL over /query), started by tests/it/common/influxdb.rs.
command -v influxd >/dev/null 2>&1 || need+=(influxdb)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Keep Debian from starting the daemons it installs: the tests start their own.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
  [ "$created_policy" -eq 0 ] || $sudo rm -f "$policy"
fi
# check-jsonschema (PyPI) in its own venv; tests/it/action.rs finds it there.
venv=/opt/vz-monitor-ci-venv
if [ ! -x "$venv/bin/check-jsonschema" ]; then
  echo "setup: installing check-jsonschema into $venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q check-jsonschema
fi
# tests/it/cloudwatch.rs: moto_server (PyPI moto[server]) plays CloudWatch's GetMetricData and
# PutMetricData on 127.0.0.1; tests/it/common/cloudwatch.rs finds it in the same venv.
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "setup: installing moto[server] into $venv"
  [ -x "$venv/bin/pip" ] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'moto[server]'
fi
echo "setup: servers available: $(command -v prometheus || echo /usr/bin/prometheus)"
