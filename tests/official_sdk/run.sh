#!/usr/bin/env bash
# Runs the unmodified official Python SDK (azure-communication-chat, from PyPI) against
# acs-chat-emulator over HTTP and HTTPS, the official identity SDK (azure-communication-identity:
# its HMAC-signed requests) against the emulator's identity routes, then the drop-in check (tests/drop_in/python/run.py:
# the official samples run unchanged on the official SDK and again with their imports changed
# to acs_chat). Exits non-zero on failure.
#
#   ACS_EMULATOR_BIN   emulator binary (default target/debug/acs-chat-emulator, built if missing)
#   ACS_SDK_VENV       virtualenv to create or reuse (default target/official-sdk-venv)
#   ACS_CHAT_LIBRARY   libacs_chat.so for the drop-in check (default target/debug, built if missing)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

export ACS_EMULATOR_BIN="${ACS_EMULATOR_BIN:-$root/target/debug/acs-chat-emulator}"
if [[ ! -x "$ACS_EMULATOR_BIN" ]]; then
    cargo build -p acs-chat-emulator
fi

venv="${ACS_SDK_VENV:-$root/target/official-sdk-venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import azure.communication.chat, azure.communication.identity, pytest, cryptography, aiohttp' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check azure-communication-chat azure-communication-identity \
        pytest cryptography aiohttp
fi

"$venv/bin/python" -m pytest -p no:cacheprovider -v "$root/tests/official_sdk/test_official_sdk.py" \
    "$root/tests/official_sdk/test_official_identity_sdk.py" "$@"

export ACS_CHAT_LIBRARY="${ACS_CHAT_LIBRARY:-$root/target/debug/libacs_chat.so}"
if [[ ! -f "$ACS_CHAT_LIBRARY" ]]; then
    cargo build -p acs_chat
fi
"$venv/bin/python" "$root/tests/drop_in/python/run.py"
