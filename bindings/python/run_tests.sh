#!/usr/bin/env bash
# Runs the Python binding's test suite against target/debug (library and emulator).
# Creates or reuses a virtualenv at <repo>/target/py-venv. Extra arguments go to pytest.
# ACS_SKIP_CARGO_BUILD=1 skips `cargo build`; PYTHON picks the interpreter (default python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/target/py-venv"
python="${PYTHON:-python3}"

if [[ "${ACS_SKIP_CARGO_BUILD:-0}" != 1 ]]; then
    (cd "$repo" && cargo build --quiet -p acs_chat -p acs-chat-emulator)
fi

if [[ ! -x "$venv/bin/python" ]]; then
    mkdir -p "$repo/target"
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import pytest" 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pytest>=7"
fi

export ACS_CHAT_LIBRARY="${ACS_CHAT_LIBRARY:-$repo/target/debug/libacs_chat.so}"
export ACS_EMULATOR_BIN="${ACS_EMULATOR_BIN:-$repo/target/debug/acs-chat-emulator}"
export PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@" tests
