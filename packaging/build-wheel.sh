#!/usr/bin/env bash
# Builds the Python wheel with the native library inside it (`make wheel`):
# target/wheels/acs_chat-<version>-py3-none-<platform>.whl, installable with pip and no
# environment variables.
#
# Environment: ACS_CHAT_BUNDLE_LIBRARY (the libacs_chat.so to bundle; default: the release
# build, built first), PYTHON (default python3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-python3}
target=${CARGO_TARGET_DIR:-$root/target}
out=$target/wheels

if [ -z "${ACS_CHAT_BUNDLE_LIBRARY:-}" ]; then
  cargo build --release -p acs_chat
  export ACS_CHAT_BUNDLE_LIBRARY=$target/release/libacs_chat.so
fi
[ -f "$ACS_CHAT_BUNDLE_LIBRARY" ] || { echo "$ACS_CHAT_BUNDLE_LIBRARY not found" >&2; exit 1; }

# pip runs from a virtual environment: Debian's python3 may have no pip of its own.
venv=$target/wheel-venv
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv" || { echo "python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
fi

# Build from a copy of the package sources: nothing is written into bindings/python, and the
# wheel records no source tree to look for a library in.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/python"
cp -R bindings/python/pyproject.toml bindings/python/setup.py bindings/python/README.md \
      bindings/python/src "$stage/python/"
find "$stage/python/src" \( -name __pycache__ -o -name '*.egg-info' -o -name '*.so' \) -prune \
     -exec rm -rf {} +

mkdir -p "$out"
"$venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$out" "$stage/python"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' bindings/python/pyproject.toml)
# shellcheck disable=SC2012
wheel=$(ls -t "$out"/acs_chat-"$version"-*.whl | head -n 1)
case $wheel in
  *-none-any.whl) echo "error: $wheel is not platform-specific" >&2; exit 1 ;;
esac
echo "$wheel"
