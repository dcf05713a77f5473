# Shared by the backend demos' run.sh: the binary, a temp dir cleaned on exit, the feeder,
# and the gate's four steps with the verdict check. Sourced, not run.
root="$(cd "$here/../.." && pwd)"
BASELINE_WAIT="${BASELINE_WAIT:-20}"
CONTROL_PORT="${CONTROL_PORT:-18090}"
if [ -z "${VZ_MONITOR:-}" ]; then
  (cd "$root" && cargo build -q --release)
  VZ_MONITOR="$root/target/release/vz-monitor"
fi
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cp "$here/vz-monitor.yaml" "$work/"
vz() { echo "+ vz-monitor $*" >&2; (cd "$work" && "$VZ_MONITOR" "$@"); }
switch() { python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1]).read().decode().strip())" "http://127.0.0.1:$CONTROL_PORT/$1"; }
# wait_for SECONDS CMD...: polls CMD every 0.5 s.
wait_for() { local n=$(( $1 * 2 )); shift; for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done; echo "timed out: $*" >&2; return 1; }

# gate: check --online, baseline, a healthy watch (must exit 0), a bad deploy (must exit 1
# with its rollback run). Exits 0 only when both verdicts are right.
gate() {
  echo; echo "== 1. every query once"
  vz check --online
  echo; echo "== 2. baseline: ${BASELINE_WAIT}s of healthy history, then a range query"
  sleep "$BASELINE_WAIT"
  vz baseline --window "${BASELINE_WAIT}s" --interval 1s
  echo; echo "== 3. a healthy deploy: the window passes"
  set +e; vz watch --duration 10s; healthy=$?; set -e
  echo "exit code: $healthy (0 = healthy)"
  echo; echo "== 4. a bad deploy: errors and latency up"
  switch bad
  set +e; vz watch --duration 30s; bad=$?; set -e
  echo "exit code: $bad (1 = rolled back)"
  echo "rollback.log:"; cat "$work/rollback.log" 2>/dev/null || echo "(none)"
  if [ "$healthy" -eq 0 ] && [ "$bad" -eq 1 ] && [ -s "$work/rollback.log" ]; then
    echo; echo "demo OK: healthy deploy passed (0), bad deploy rolled back (1)"
    return 0
  fi
  echo; echo "demo FAILED: healthy=$healthy (want 0), bad=$bad (want 1)" >&2
  return 1
}
