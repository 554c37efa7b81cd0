#!/usr/bin/env bash
# Builds the sdist (`make sdist`), installs it with pip into a fresh virtual environment, which
# builds the library from the Rust sources inside it with cargo, then sends a message, a typing
# notification and a read receipt to the emulator from a directory outside the repository, with
# no ACS_CHAT_LIBRARY, PYTHONPATH or CARGO_TARGET_DIR.
#
#   tests/install/test_sdist.sh      (make test-sdist)
#
# The cargo build of the sdist goes to target/sdist (CARGO_TARGET_DIR, set for pip only), kept
# between runs: the first run compiles the release library and its dependencies (~3 min on 2
# cores), later ones only what changed in src/ (seconds to ~1.5 min).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"

need curl:curl python3:python3
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
find_emulator

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== make sdist"
sdist=$(make --no-print-directory sdist | tail -n 1)
echo "  $sdist"
tar -tzf "$sdist" > "$tmp/list.txt"
for f in pyproject.toml setup.py LICENSE src/acs_chat/__init__.py native/Cargo.toml native/Cargo.lock \
         native/src/lib.rs native/build.rs; do
  grep -qx "acs_chat-[^/]*/$f" "$tmp/list.txt" || fail "the sdist has no $f"
done
! grep -E '/(target|fuzz|soak|benches|tests)/' "$tmp/list.txt" || fail "the sdist carries files it should not"

echo "== pip install of the sdist (builds the library with cargo into target/sdist)"
python3 -m venv "$tmp/venv"
start=$SECONDS
(cd "$tmp" && CARGO_TARGET_DIR="$root/target/sdist" "$tmp/venv/bin/python" -m pip install --quiet \
   --disable-pip-version-check "$sdist")
echo "  built and installed in $((SECONDS - start)) s"

mkdir "$tmp/work"
cp examples/python/send.py "$tmp/work/"
send_from_sdist() {
  send_from_package "$tmp/venv" "$tmp/work" "19:sdist@thread.v2"
}
export -f send_from_sdist send_from_package use_thread check_events
export tmp
with_emulator bash -c 'set -euo pipefail; send_from_sdist'
echo "== sdist test passed"
