# shellcheck shell=bash
# Helpers shared by the install tests; sourced, not run.
# Sets: root (the repository), emulator (the acs-chat-emulator binary, built if missing).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Installs the Debian packages for the commands named that are missing: need CMD:PACKAGE...
need() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

apt_install() {
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The emulator: $ACS_EMULATOR_BIN, else the debug or release build, else a debug build.
find_emulator() {
  emulator=${ACS_EMULATOR_BIN:-}
  if [ -z "$emulator" ]; then
    for emulator in "$root/target/debug/acs-chat-emulator" "$root/target/release/acs-chat-emulator" ""; do
      [ -x "$emulator" ] && break
    done
  fi
  if [ -z "$emulator" ]; then
    (cd "$root" && cargo build --quiet -p acs-chat-emulator)
    emulator=$root/target/debug/acs-chat-emulator
  fi
  export ACS_EMULATOR_BIN=$emulator
}

# Runs a command with a fresh emulator; the command sees ACS_EMULATOR_URL.
with_emulator() {
  "$root/scripts/with-emulator.sh" -- "$@"
}

# Sets ACS_ENDPOINT, ACS_TOKEN (a fresh emulator token) and ACS_THREAD_ID for one thread.
use_thread() {
  export ACS_ENDPOINT=$ACS_EMULATOR_URL ACS_THREAD_ID=$1
  ACS_TOKEN=$(curl -fsS "$ACS_EMULATOR_URL/_emulator/token?expires_in=3600&user=8%3Aacs%3Aexample" |
              python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  export ACS_TOKEN
}

# Checks that thread $1 holds one message with content $2, a typing notification and a read
# receipt for that message, as the emulator's control API reports them.
check_events() {
  local thread=$1 content=$2 encoded
  encoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$thread")
  curl -fsS "$ACS_EMULATOR_URL/_emulator/threads/$encoded/events" | python3 -c '
import json, sys
thread, content = sys.argv[1], sys.argv[2]
events = json.load(sys.stdin)["events"]
ops = [e["op"] for e in events]
messages = [e for e in events if e["op"] == "message"]
receipts = [e for e in events if e["op"] == "readReceipt"]
problems = []
if len(messages) != 1 or messages[0].get("content") != content:
    problems.append("expected one message %r" % content)
if "typing" not in ops:
    problems.append("no typing notification")
if len(receipts) != 1 or not messages or receipts[0].get("chatMessageId") != messages[0].get("id"):
    problems.append("no read receipt for the message")
if problems:
    sys.exit("%s: %s; events: %s" % (thread, ", ".join(problems), json.dumps(events)))
print("  %s: %s (message id %s)" % (thread, " + ".join(ops), messages[0]["id"]))
' "$thread" "$content"
}

# Runs examples/python/send.py with the acs_chat installed in virtualenv $1, from folder $2, on
# thread $3, with nothing of the build tree in the environment; fails unless the library came from
# the installed package and the emulator stored the message, typing and receipt.
send_from_package() {
  local venv=$1 work=$2
  use_thread "$3"
  (
    cd "$work"
    env -u ACS_CHAT_LIBRARY -u PYTHONPATH -u CARGO_TARGET_DIR -u LD_LIBRARY_PATH \
      "$venv/bin/python" -c '
import acs_chat, sys
print("  loaded", acs_chat.LIBRARY_PATH, "version", acs_chat.__version__)
if not acs_chat.LIBRARY_PATH.startswith(sys.prefix):
    sys.exit("the library did not come from the installed package")
'
    env -u ACS_CHAT_LIBRARY -u PYTHONPATH -u CARGO_TARGET_DIR -u LD_LIBRARY_PATH \
      "$venv/bin/python" send.py
  )
  check_events "$ACS_THREAD_ID" "Hello from acs_chat!"
}

# Prints the path of a CPython X.Y interpreter (e.g. `find_python 3.8`): the newest pyenv build of
# it ($PYENV_ROOT, default ~/.pyenv), else pythonX.Y on PATH (a pyenv shim of a version not
# installed does not count: it must run); fails when there is none.
find_python() {
  local version=$1 pyenv_root=${PYENV_ROOT:-$HOME/.pyenv} dir python
  dir=$(find "$pyenv_root/versions" -mindepth 1 -maxdepth 1 -name "$version.*" 2>/dev/null |
        sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/bin/python$version" ]; then
    python=$dir/bin/python$version
  else
    python=$(command -v "python$version") || return 1
  fi
  "$python" -c 'import sys' >/dev/null 2>&1 || return 1
  echo "$python"
}
