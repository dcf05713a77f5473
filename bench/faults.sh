#!/usr/bin/env bash
# Replays issue 11's and issue 24's fault tables (each test of tests/it/faults.rs,
# tests/it/faults_input.rs, tests/it/faults_run.rs and tests/it/faults_store.rs reproduces one
# fault against the real binary) N times against the release binary, and prints tries and
# deviations per fault; then runs the fuzz harness (tests/it/fuzz.rs) once and prints its case
# counts.
#
#   bench/faults.sh [N] [BINARY]
#
# PROFILE=debug uses the debug build (test executables and default binary) where no release
# build is at hand; FUZZ=0 skips the fuzz harness.
#
# N defaults to 5. BINARY defaults to this checkout's release vz-monitor; pass another
# (e.g. a build of an older commit) to see which faults it still has. The binary is copied
# to a temp file first: builds that share CARGO_TARGET_DIR cannot swap it mid-run.
# A deviation is a try whose test failed (wrong exit code, a process left behind, a raw
# workflow command printed, a secret leaked, a hang or a memory-limit abort …); its first
# lines are kept in $OUT/<fault>.<try>.log.
set -euo pipefail

N=${1:-5}
BIN=${2:-}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
OUT=$(mktemp -d /tmp/vz-faults.XXXXXX)

# The test executables (release), found from cargo's own report.
PROFILE=${PROFILE:-release}
release_flag=$([ "$PROFILE" = release ] && echo --release || true)
tests_json=$(cargo test $release_flag --test it --no-run --message-format=json 2>/dev/null)
exe() {
    echo "$tests_json" | python3 -c "
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get('reason') == 'compiler-artifact' and m['target']['name'] == '$1' and m.get('executable'):
        print(m['executable'])"
}
# One test binary (tests/it); the fault modules' tests are listed by their module prefix.
IT=$(exe it)

if [ -z "$BIN" ]; then
    cargo build $release_flag --bin vz-monitor >/dev/null 2>&1
    BIN="$CARGO_TARGET_DIR/$PROFILE/vz-monitor"
fi
cp "$BIN" "$OUT/vz-monitor"
# `export` cannot name a variable with a dash: env(1) can.
run() { env "CARGO_BIN_EXE_vz-monitor=$OUT/vz-monitor" "$@"; }

echo "binary: $BIN ($(sha256sum "$OUT/vz-monitor" | cut -c1-12)), $N tries per fault, logs in $OUT"
printf '%-90s %5s %10s\n' fault tries deviations
total_dev=0
total_tries=0
for f in $IT; do
for t in $("$f" --list 2>/dev/null | sed -n 's/: test$//p' | grep -E '^faults(_input|_run|_store)?::'); do
    dev=0
    for i in $(seq 1 "$N"); do
        if ! run "$f" --exact "$t" --test-threads 1 >"$OUT/$t.$i.log" 2>&1; then
            dev=$((dev + 1))
        else
            rm -f "$OUT/$t.$i.log"
        fi
    done
    total_dev=$((total_dev + dev))
    total_tries=$((total_tries + N))
    printf '%-90s %5d %10d\n' "$t" "$N" "$dev"
done
done
printf '%-90s %5d %10d\n' TOTAL "$total_tries" "$total_dev"

[ "${FUZZ:-1}" = 0 ] && exit 0
echo
echo "fuzz harness ($PROFILE build of tests/it/fuzz.rs):"
if run "$IT" fuzz:: --nocapture >"$OUT/fuzz.log" 2>&1; then
    fuzz_status=ok
else
    fuzz_status=FAILED
fi
grep '^fuzz ' "$OUT/fuzz.log" | sed 's/^/  /'
cases=$(grep '^fuzz ' "$OUT/fuzz.log" | sed -E 's/.*: ([0-9]+) cases.*/\1/' | paste -sd+ | bc)
panics=$(grep -c 'panicked' "$OUT/fuzz.log" || true)
hangs=$(grep -c 'hang:' "$OUT/fuzz.log" || true)
ooms=$(grep -Ec 'memory allocation|SIGSEGV|SIGABRT|signal: 6|signal: 9' "$OUT/fuzz.log" || true)
echo "  $cases cases, result $fuzz_status; panics $panics, hangs $hangs, OOMs/aborts $ooms"
