#!/usr/bin/env bash
# The install step of action.yml: puts vz-monitor on the job's PATH.
#
#   VZ_VERSION=vX.Y.Z  a released static Linux binary, checked against its .sha256
#   VZ_VERSION=source  `cargo install --locked` of the action's own checkout into VZ_ROOT
#                      (action.yml caches VZ_ROOT, so later jobs skip the build)
#
# Other inputs: VZ_REPO (owner/name that publishes the releases; when empty it is read
# from where the runner checked the action out, .../_actions/OWNER/NAME/REF), VZ_ROOT,
# and the runner's RUNNER_OS, RUNNER_TEMP, GITHUB_PATH, GITHUB_ACTION_PATH.
set -euo pipefail

fail() { echo "::error title=vz-monitor install::$1"; exit 2; }

if [ "$VZ_VERSION" = "source" ]; then
  root="${VZ_ROOT:?VZ_ROOT must be set for version: source}"
  if [ -x "$root/bin/vz-monitor" ]; then
    echo "vz-monitor: using the cached build in $root"
  else
    command -v cargo >/dev/null 2>&1 || fail "version: source needs cargo on the runner (or use a release, e.g. version: v0.1.0)"
    cargo install --locked --path "$GITHUB_ACTION_PATH" --root "$root"
  fi
  echo "$root/bin" >> "$GITHUB_PATH"
  exit 0
fi

case "$VZ_VERSION" in
  v[0-9]*) ;;
  *) fail "version must be a release tag such as v0.1.0, or source; got '$VZ_VERSION'" ;;
esac
# The release binaries are static Linux (musl) executables: nothing else can run them.
[ "${RUNNER_OS:-Linux}" = "Linux" ] || fail "no vz-monitor release binary for ${RUNNER_OS}; use version: source (needs cargo)"
case "$(uname -m)" in
  x86_64) target=x86_64-unknown-linux-musl ;;
  aarch64|arm64) target=aarch64-unknown-linux-musl ;;
  *) fail "no vz-monitor release for $(uname -m); use version: source" ;;
esac
repo="${VZ_REPO:-}"
if [ -z "$repo" ]; then
  # The runner checks a `uses: OWNER/NAME@REF` action out at .../_actions/OWNER/NAME/REF.
  path="${GITHUB_ACTION_PATH:-}"
  case "$path" in
    */_actions/*/*/*)
      rest="${path##*/_actions/}"
      owner="${rest%%/*}"; rest="${rest#*/}"
      repo="$owner/${rest%%/*}" ;;
  esac
fi
[ -n "$repo" ] || fail "cannot tell which repository publishes the releases; set the action's repository input (owner/name)"
asset="vz-monitor-${VZ_VERSION}-${target}.tar.gz"
dir="$RUNNER_TEMP/vz-monitor"
mkdir -p "$dir"
gh release download "$VZ_VERSION" --repo "$repo" --dir "$dir" \
  --pattern "$asset" --pattern "$asset.sha256" --clobber
(cd "$dir" && sha256sum --check --strict "$asset.sha256") || fail "checksum of $asset does not match $asset.sha256"
tar -xzf "$dir/$asset" -C "$dir"
[ -x "$dir/vz-monitor" ] || fail "$asset holds no vz-monitor binary"
echo "$dir" >> "$GITHUB_PATH"
