#!/usr/bin/env bash
# Regenerates the committed shell completions (completions/) and man pages (man/) from
# the current command line. tests/completions.rs fails until this has been run after a
# CLI change.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q
B="${CARGO_TARGET_DIR:-target}/debug/vz-monitor"
$B completions bash > completions/vz-monitor.bash
$B completions zsh > completions/_vz-monitor
$B completions fish > completions/vz-monitor.fish
$B completions powershell > completions/_vz-monitor.ps1
$B man > man/vz-monitor.1
rm -f man/vz-monitor-*.1
for sub in $($B --help | sed -n '/^Commands:/,/^$/p' | grep -E '^  [a-z]' | awk '{print $1}' | grep -v '^help$'); do
  $B man "$sub" > "man/vz-monitor-$sub.1"
done
echo "regenerated completions/ and man/"
