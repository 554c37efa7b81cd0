#!/usr/bin/env bash
# The demo: builds the library, then sends a message, a typing notification
# and a read receipt through the C API (examples/c/send.c).
# With ACS_CONNECTION_STRING and ACS_THREAD_ID set it talks to that ACS
# resource, getting its own token (ACS_USER_ID, if set, names the user);
# with ACS_ENDPOINT, ACS_TOKEN and ACS_THREAD_ID set, likewise with that
# token; otherwise it starts the bundled emulator and talks to it through the
# emulator's connection string.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== building the library and the emulator"
cargo build --quiet -p acs_chat -p acs-chat-emulator
mkdir -p target/demo
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -I include examples/c/send.c \
   -o target/demo/send -L target/debug -lacs_chat -Wl,-rpath,"$root/target/debug"

if [ -n "${ACS_CONNECTION_STRING:-}" ] && [ -n "${ACS_THREAD_ID:-}" ]; then
  echo "== sending with ACS_CONNECTION_STRING"
  exec target/demo/send "$@"
fi
if [ -n "${ACS_ENDPOINT:-}" ] && [ -n "${ACS_TOKEN:-}" ] && [ -n "${ACS_THREAD_ID:-}" ]; then
  echo "== sending to $ACS_ENDPOINT"
  exec target/demo/send "$@"
fi

run_against_emulator() {
  export ACS_CONNECTION_STRING=$ACS_EMULATOR_CONNECTION_STRING ACS_THREAD_ID="19:demo@thread.v2"
  unset ACS_ENDPOINT ACS_TOKEN ACS_USER_ID
  echo "== emulator at $ACS_EMULATOR_URL, thread $ACS_THREAD_ID"
  echo "   connection string: ${ACS_CONNECTION_STRING%%;*};accesskey=(the emulator's public default key)"
  local status=0
  target/demo/send "$@" || status=$?
  echo "== the identity requests the emulator verified (HMAC-SHA256 signatures)"
  curl -fsS "$ACS_EMULATOR_URL/_emulator/identity/requests" |
    python3 -c 'import json,sys
for r in json.load(sys.stdin)["requests"]:
    print("  {status} {method} {pathAndQuery}  user {userId}".format(**r))'
  echo "== what the emulator stored for the thread"
  curl -fsS "$ACS_EMULATOR_URL/_emulator/threads/19%3Ademo%40thread.v2/events" | python3 -m json.tool
  return $status
}
export -f run_against_emulator
scripts/with-emulator.sh -- bash -c 'run_against_emulator "$@"' demo "$@"
