#!/usr/bin/env bash
# Makes docs/img/report.png, the picture in README.md and docs/reports.md: the HTML report
# (`vz-monitor report latest --output html`) of a sample watch that rolls back, screenshot
# in headless Chromium (Debian's `chromium`, installed by .ci/setup.sh).
#
# The watch reads two metrics from command probes that replay fixed series (an error rate
# that steps up at tick 7, a latency that jumps at the end), in a temporary folder; only
# the PNG is written into the repository. Timestamps differ from run to run, nothing else.
#
#   bash scripts/docs-screenshot.sh            # VZ_MONITOR=path/to/vz-monitor to skip the build
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
bin="${VZ_MONITOR:-}"
if [ -z "$bin" ]; then
  cargo build --quiet
  bin="$repo/target/debug/vz-monitor"
fi
command -v chromium >/dev/null || { echo "chromium is missing: bash .ci/setup.sh" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# A command probe printing the next line of its series file at each call (the last repeats).
cat > next.sh <<'EOF'
#!/bin/sh
f="$1"; c="$f.count"
n=$(cat "$c" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$c"
v=$(sed -n "${n}p" "$f"); [ -n "$v" ] || v=$(tail -n 1 "$f")
echo "$v"
EOF
# Baseline readings first (5 each), then the watch's ticks.
printf '%s\n' 0.4 0.6 0.5 0.45 0.55  0.5 0.4 0.6 0.5 0.45 0.5 7 9 12 14 15 > error_rate.txt
printf '%s\n' 100 104 98 101 99  102 100 97 103 99 101 100 98 104 150 180 > latency_ms.txt

cat > vz-monitor.yaml <<EOF
deployment: checkout
interval: 250ms
duration: 5s
metrics:
  error_rate:
    probe: { command: ["sh", "$work/next.sh", "$work/error_rate.txt"] }
  latency_ms:
    probe: { command: ["sh", "$work/next.sh", "$work/latency_ms.txt"] }
rules:
  - name: high-error-rate
    metric: error_rate
    detector: { threshold: { op: ">", value: 5 } }
    consecutive_failures: 2
    kind: HIGH_ERROR_RATE
    severity: critical
  - name: latency-band
    metric: latency_ms
    detector: { zscore: { threshold: 4, robust: true } }
    kind: HIGH_LATENCY
    severity: high
rollback:
  command: ["sh", "-c", "echo kubectl rollout undo deployment/checkout"]
EOF

export NO_COLOR=1
"$bin" baseline --samples 5 --interval 20ms >/dev/null 2>&1
status=0
"$bin" watch >/dev/null 2>&1 || status=$?
[ "$status" = 1 ] || { echo "the sample watch should roll back (exit 1), got $status" >&2; exit 1; }
"$bin" report latest --output html > report.html

chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --window-size=1100,1250 \
  --screenshot="$work/report.png" "file://$work/report.html" >/dev/null 2>&1
mkdir -p "$repo/docs/img"
cp report.png "$repo/docs/img/report.png"
echo "wrote docs/img/report.png ($(wc -c < report.png) bytes)"
