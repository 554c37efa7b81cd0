#!/usr/bin/env bash
# Runs the Python binding's test suite against target/debug (library and emulator), then
# type-checks the package with mypy --strict. Creates or reuses a virtualenv at
# <repo>/target/py-venv. Extra arguments go to pytest (and skip the type check).
# ACS_SKIP_CARGO_BUILD=1 skips `cargo build`; PYTHON picks the interpreter (default python3).
# uvloop is optional: installed once per virtualenv when pip can get it (otherwise the uvloop
# variants of the asyncio tests are skipped); ACS_SKIP_UVLOOP=1 never tries. Likewise
# azure-core and azure-communication-chat (for the drop-in tests: exceptions deriving from
# azure-core's, the official credential; skipped without them); ACS_SKIP_AZURE=1 never tries.
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
if ! "$venv/bin/python" -c "import pytest, mypy" 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pytest>=7" "mypy>=1.10"
fi
if [[ "${ACS_SKIP_UVLOOP:-0}" != 1 && ! -e "$venv/.uvloop-tried" ]] \
    && ! "$venv/bin/python" -c "import uvloop" 2>/dev/null; then
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --timeout 15 --retries 1 uvloop; then
        echo "note: uvloop could not be installed; its test variants will be skipped" >&2
    fi
    touch "$venv/.uvloop-tried"
fi

if [[ "${ACS_SKIP_AZURE:-0}" != 1 && ! -e "$venv/.azure-tried" ]] \
    && ! "$venv/bin/python" -c "import azure.core, azure.communication.chat" 2>/dev/null; then
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --timeout 15 --retries 1 \
        azure-core azure-communication-chat; then
        echo "note: azure-core could not be installed; the tests needing it will be skipped" >&2
    fi
    touch "$venv/.azure-tried"
fi

export ACS_CHAT_LIBRARY="${ACS_CHAT_LIBRARY:-$repo/target/debug/libacs_chat.so}"
export ACS_EMULATOR_BIN="${ACS_EMULATOR_BIN:-$repo/target/debug/acs-chat-emulator}"
export PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1

cd "$here"
"$venv/bin/python" -m pytest -p no:cacheprovider "$@" tests
if [[ $# -eq 0 ]]; then
    "$venv/bin/python" -m mypy --strict --no-incremental src/acs_chat
fi
