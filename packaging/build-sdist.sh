#!/usr/bin/env bash
# Builds the Python source distribution (`make sdist`): target/wheels/acs_chat-<version>.tar.gz,
# for platforms no wheel fits. It carries the package and, in native/, the Rust crate as
# `cargo package` lays it out (its own Cargo.toml and Cargo.lock); `pip install` of it builds
# the library with cargo (which must be on PATH, and reach crates.io) and bundles it into the
# wheel it installs. Prints the sdist's path as its last line.
#
# Environment: PYTHON (interpreter for the tools' virtualenv, default python3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
out=$target/wheels
. "$root/packaging/tools.sh"
tools_venv

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' bindings/python/pyproject.toml)
crate_version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml)
[ "$version" = "$crate_version" ] ||
  { echo "bindings/python is $version but the crate is $crate_version" >&2; exit 1; }

# The crate's published file list (Cargo.toml's include), with workspace settings resolved.
cargo package --quiet --no-verify --allow-dirty -p acs_chat >&2
crate=$target/package/acs_chat-$crate_version.crate

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/python/native"
cp -R bindings/python/pyproject.toml bindings/python/setup.py bindings/python/README.md \
      bindings/python/src LICENSE "$stage/python/"
find "$stage/python/src" \( -name __pycache__ -o -name '*.egg-info' -o -name '*.so' \) -prune \
     -exec rm -rf {} +
tar -xzf "$crate" -C "$stage/python/native" --strip-components=1
rm -f "$stage/python/native/Cargo.toml.orig" "$stage/python/native/.cargo_vcs_info.json"
# Its own workspace root, wherever the sdist is unpacked.
printf '\n[workspace]\n' >> "$stage/python/native/Cargo.toml"
# cargo package stamps every file with one fixed date; give them back the dates of the files
# they were made from, on which cargo judges whether a kept CARGO_TARGET_DIR is up to date.
(cd "$stage/python/native" && find . -type f | while read -r f; do
   if [ -e "$root/$f" ]; then touch -r "$root/$f" "$f"; else touch "$f"; fi
 done)
printf 'graft native\ninclude LICENSE\nglobal-exclude __pycache__ *.py[cod]\n' > "$stage/python/MANIFEST.in"

mkdir -p "$out"
rm -f "$out/acs_chat-$version.tar.gz"
# Its log (setuptools' deprecation notices among it) is shown only when it fails.
"$venv/bin/python" -m build --sdist --outdir "$out" "$stage/python" > "$stage/build.log" 2>&1 ||
  { cat "$stage/build.log" >&2; echo "python -m build --sdist failed" >&2; exit 1; }
echo "$out/acs_chat-$version.tar.gz"
