#!/usr/bin/env bash
# Runs a command with a fresh emulator on a free loopback port.
#   scripts/with-emulator.sh [EMULATOR FLAGS...] -- COMMAND [ARGS...]
# The command sees ACS_EMULATOR_URL (http://127.0.0.1:PORT) and
# ACS_EMULATOR_CONNECTION_STRING (the emulator's second line); the emulator is
# stopped when the command ends, and the command's exit status is returned.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ACS_EMULATOR_BIN:-$root/target/debug/acs-chat-emulator}
flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "usage: $0 [emulator flags] -- command..." >&2; exit 2; }
[ -x "$bin" ] || { echo "emulator not built: $bin (run: cargo build -p acs-chat-emulator)" >&2; exit 2; }

out=$(mktemp)
"$bin" --listen 127.0.0.1:0 "${flags[@]}" >"$out" 2>"$out.err" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$out" "$out.err"; }
trap cleanup EXIT

url=
for _ in $(seq 1 200); do
  line=$(head -n 1 "$out" 2>/dev/null || true)
  case "$line" in "listening on "*) url=${line#listening on }; break ;; esac
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$url" ]; then
  echo "the emulator did not start:" >&2; cat "$out.err" >&2; exit 1
fi
export ACS_EMULATOR_URL=$url
# Printed and flushed with the first line.
ACS_EMULATOR_CONNECTION_STRING=$(sed -n 2p "$out")
export ACS_EMULATOR_CONNECTION_STRING
set +e
"$@"
status=$?
set -e
exit $status
