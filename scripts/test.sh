#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install the servers tests need, check
# formatting and lints, run every unit and integration test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --all-features --no-fail-fast -- --test-threads 2
