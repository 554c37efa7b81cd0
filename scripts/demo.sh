#!/usr/bin/env bash
# The demo: builds the library, then sends a message, a typing notification
# and a read receipt through the C API (examples/c/send.c).
# With ACS_ENDPOINT, ACS_TOKEN and ACS_THREAD_ID set it talks to that ACS
# resource; otherwise it starts the bundled emulator and talks to it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "== building the library and the emulator"
cargo build --quiet -p acs_chat -p acs-chat-emulator
mkdir -p target/demo
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -I include examples/c/send.c \
   -o target/demo/send -L target/debug -lacs_chat -Wl,-rpath,"$root/target/debug"

if [ -n "${ACS_ENDPOINT:-}" ] && [ -n "${ACS_TOKEN:-}" ] && [ -n "${ACS_THREAD_ID:-}" ]; then
  echo "== sending to $ACS_ENDPOINT"
  exec target/demo/send "$@"
fi

run_against_emulator() {
  local token
  token=$(curl -fsS "$ACS_EMULATOR_URL/_emulator/token?expires_in=3600&user=demo-user" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export ACS_ENDPOINT=$ACS_EMULATOR_URL ACS_TOKEN=$token ACS_THREAD_ID="19:demo@thread.v2"
  echo "== emulator at $ACS_ENDPOINT, thread $ACS_THREAD_ID"
  local status=0
  target/demo/send "$@" || status=$?
  echo "== what the emulator stored for the thread"
  curl -fsS "$ACS_EMULATOR_URL/_emulator/threads/19%3Ademo%40thread.v2/events" | python3 -m json.tool
  return $status
}
export -f run_against_emulator
scripts/with-emulator.sh -- bash -c 'run_against_emulator "$@"' demo "$@"
