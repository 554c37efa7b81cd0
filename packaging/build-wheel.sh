#!/usr/bin/env bash
# Builds the Python wheel with the native library inside it (`make wheel`):
#   target/wheels/acs_chat-<version>-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
# installable with pip on any Python 3.8+ of any x86_64 Linux with glibc 2.17 or newer
# (manylinux2014: CentOS 7, Debian 8, Ubuntu 14.04 and later), with no environment variable.
# Prints the wheel's path as its last line.
#
# The library is linked against glibc 2.17 by cargo-zigbuild (zig as the C compiler and linker,
# both from PyPI, in target/wheel-venv) into its own target dir, target/zig, so that it disturbs
# no other build; a second run rebuilds nothing. Before packing, every versioned glibc symbol
# the library needs is checked to be no newer than the baseline the tag claims.
#
# Environment:
#   ACS_CHAT_GLIBC           glibc baseline, default 2.17 (2.28 gives manylinux_2_28)
#   ACS_CHAT_BUNDLE_LIBRARY  bundle this libacs_chat.so instead of building one; the wheel is then
#                            tagged for this machine only (linux_<arch>), unless
#                            ACS_CHAT_WHEEL_PLATFORM names the platform tag(s) to give it
#   ACS_CHAT_ZIG_TARGET_DIR  cargo target dir of the zig build, default target/zig (target/zig-X.Y
#                            for another baseline)
#   PYTHON                   interpreter for the tools' virtualenv, default python3
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
out=$target/wheels
. "$root/packaging/tools.sh"
tools_venv

arch=$(uname -m)
if [ -z "${ACS_CHAT_BUNDLE_LIBRARY:-}" ]; then
  glibc=${ACS_CHAT_GLIBC:-2.17}
  triple=$arch-unknown-linux-gnu
  # Another baseline builds apart (target/zig-2.28): cargo would not relink for it on its own.
  zig_target=$target/zig
  [ "$glibc" = 2.17 ] || zig_target=$target/zig-$glibc
  zig_target=${ACS_CHAT_ZIG_TARGET_DIR:-$zig_target}
  echo "building libacs_chat.so for $triple with glibc $glibc (cargo zigbuild, $zig_target)" >&2
  PATH="$venv/bin:$PATH" CARGO_TARGET_DIR="$zig_target" \
    cargo zigbuild --release --quiet -p acs_chat --lib --target "$triple.$glibc" >&2
  export ACS_CHAT_BUNDLE_LIBRARY=$zig_target/$triple/release/libacs_chat.so

  # The newest versioned glibc symbol the library needs must not be newer than the baseline.
  newest=$(objdump -T "$ACS_CHAT_BUNDLE_LIBRARY" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' |
           sort -uV | tail -n 1)
  if [ "$(printf '%s\n%s\n' "$newest" "$glibc" | sort -V | tail -n 1)" != "$glibc" ]; then
    echo "error: $ACS_CHAT_BUNDLE_LIBRARY needs GLIBC_$newest, newer than the baseline $glibc" >&2
    exit 1
  fi
  plat=manylinux_${glibc//./_}_$arch
  # The legacy alias of manylinux_2_17 lets pip older than 20.3 (PEP 600) install it too.
  [ "$glibc" = 2.17 ] && plat=$plat.manylinux2014_$arch
  export ACS_CHAT_WHEEL_PLATFORM=${ACS_CHAT_WHEEL_PLATFORM:-$plat}
fi
[ -f "$ACS_CHAT_BUNDLE_LIBRARY" ] || { echo "$ACS_CHAT_BUNDLE_LIBRARY not found" >&2; exit 1; }

# Build from a copy of the package sources: nothing is written into bindings/python, and the
# wheel records no source tree to look for a library in.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/python"
cp -R bindings/python/pyproject.toml bindings/python/setup.py bindings/python/README.md \
      bindings/python/src LICENSE "$stage/python/"
find "$stage/python/src" \( -name __pycache__ -o -name '*.egg-info' -o -name '*.so' \) -prune \
     -exec rm -rf {} +

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' bindings/python/pyproject.toml)
mkdir -p "$out"
# A wheel of the same version but another platform tag left by an earlier build would be
# taken for this one.
rm -f "$out"/acs_chat-"$version"-*.whl
"$venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --wheel-dir "$out" "$stage/python" >&2

# shellcheck disable=SC2012
wheel=$(ls -t "$out"/acs_chat-"$version"-*.whl | head -n 1)
case $wheel in
  *-none-any.whl) echo "error: $wheel is not platform-specific" >&2; exit 1 ;;
esac
echo "$wheel"
