#!/usr/bin/env bash
# Rebuild time of every test target after a change to the library, side by side for two
# revisions (issue 25: one integration-test binary instead of one per file).
#
#   bench/test_build.sh [BEFORE] [AFTER] [ROUNDS]
#
# Checks each revision out in this working tree (which must be clean), touches both crates'
# lib.rs, and times `cargo test --workspace --no-run`; alternates the two ROUNDS times (the
# first round also rebuilds what the checkout changed). Prints seconds, the number of test
# executables and their total size. Ends on the branch it started from.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:-cdd1f99}
AFTER=${2:-27729f9}
ROUNDS=${3:-2}
[ -z "$(git status --porcelain)" ] || { echo "the working tree must be clean" >&2; exit 2; }
start=$(git rev-parse --abbrev-ref HEAD)
trap 'git checkout -q "$start"' EXIT
for round in $(seq 1 "$ROUNDS"); do
    for rev in "$BEFORE" "$AFTER"; do
        git checkout -q "$rev"
        touch src/lib.rs crates/vz-core/src/lib.rs
        log=$(mktemp)
        s=$(date +%s.%N)
        cargo test --workspace --no-run >"$log" 2>&1
        e=$(date +%s.%N)
        n=$(grep -c Executable "$log")
        size=$(grep Executable "$log" | sed -E 's/.*\((.*)\)/\1/' | xargs du -cb | tail -1 | cut -f1)
        printf 'round %d %s: %.0f s, %d test executables, %d MiB\n' "$round" "$rev" \
            "$(echo "$e - $s" | bc)" "$n" $((size / 1048576))
        rm -f "$log"
    done
done
