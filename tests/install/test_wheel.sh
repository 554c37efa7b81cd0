#!/usr/bin/env bash
# Builds the wheel (`make wheel`), checks it is platform-tagged and carries the library, installs
# it into a fresh virtual environment and sends a message, a typing notification and a read
# receipt to the emulator from a directory outside the repository, with no ACS_CHAT_LIBRARY,
# PYTHONPATH or CARGO_TARGET_DIR: the package must load the library it carries.
#
#   tests/install/test_wheel.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"

need make:make curl:curl python3:python3
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
find_emulator

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== make wheel"
wheel=$(make --no-print-directory wheel | tail -n 1)
echo "  $wheel"
case $(basename "$wheel") in
  *-none-any.whl) fail "the wheel is not platform-specific" ;;
  acs_chat-*-py3-none-linux_*.whl | acs_chat-*-py3-none-manylinux*.whl) ;;
  *) fail "unexpected wheel name $(basename "$wheel")" ;;
esac
python3 - "$wheel" <<'PY' || fail "the wheel does not carry the library"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert "acs_chat/libacs_chat.so" in names, names
assert not any(n.endswith("_source_root.txt") for n in names), names
PY

echo "== installing it into a fresh virtual environment"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --no-deps "$wheel"

echo "== sending from $tmp/work"
mkdir "$tmp/work"
cp examples/python/send.py "$tmp/work/"
send_from_wheel() {
  use_thread "19:wheel@thread.v2"
  cd "$tmp/work"
  env -u ACS_CHAT_LIBRARY -u PYTHONPATH -u CARGO_TARGET_DIR -u LD_LIBRARY_PATH \
    "$tmp/venv/bin/python" -c '
import acs_chat, os, sys
print("  loaded", acs_chat.LIBRARY_PATH, "version", acs_chat.__version__)
if not acs_chat.LIBRARY_PATH.startswith(sys.prefix):
    sys.exit("the library did not come from the installed package")
'
  env -u ACS_CHAT_LIBRARY -u PYTHONPATH -u CARGO_TARGET_DIR -u LD_LIBRARY_PATH \
    "$tmp/venv/bin/python" send.py
  check_events "$ACS_THREAD_ID" "Hello from acs_chat!"
}
export -f send_from_wheel use_thread check_events
export tmp
with_emulator bash -c 'set -euo pipefail; send_from_wheel'
echo "== wheel test passed"
