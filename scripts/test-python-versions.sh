#!/usr/bin/env bash
# Runs the Python binding's pytest suite (bindings/python/tests, against target/debug: library
# and emulator) on several CPython versions, each in its own virtualenv target/py-venv-X.Y, made
# once and reused. bindings/python/run_tests.sh runs the same suite on python3 plus mypy; this
# skips mypy (the type check does not depend on the interpreter running the tests).
#
#   scripts/test-python-versions.sh               3.8 and 3.13, the oldest and newest supported
#                                                  (the `python-versions` suite of scripts/test.sh)
#   scripts/test-python-versions.sh --all         3.8 to 3.13 (`make test-python-all`)
#   scripts/test-python-versions.sh 3.9 3.12      those
#
# Interpreters are taken from pyenv ($PYENV_ROOT/versions/X.Y.*, default ~/.pyenv), else pythonX.Y
# on PATH. They are not installed here: this machine reaches no python.org (pyenv install) and
# Debian ships one Python 3. A version with no interpreter is skipped with a message saying so,
# and the script then exits 77 (scripts/test.sh reports the suite as skipped) unless some version
# failed (1); ACS_REQUIRE_PYTHONS=1 makes a missing interpreter a failure instead.
# Each virtualenv gets pytest, and once, when pip can get them, the optional uvloop, azure-core
# and azure-communication-chat (tests needing them skip without them), as run_tests.sh does.
# ACS_SKIP_CARGO_BUILD=1 skips `cargo build`; extra pytest arguments go after `--`.
# ACS_PYTHON_JOBS=N runs up to N versions' suites at once (default 1), each printed when it ends:
# the suite mostly waits on sockets and timers (a quarter of a core each), so 2 at once on
# 2 cores take the time of one.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/install/lib.sh"

versions=() pytest_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --all) versions+=(3.8 3.9 3.10 3.11 3.12 3.13) ;;
    --) shift; pytest_args=("$@"); break ;;
    *) versions+=("$1") ;;
  esac
  shift
done
[ ${#versions[@]} -gt 0 ] || versions=(3.8 3.13)

if [ "${ACS_SKIP_CARGO_BUILD:-0}" != 1 ]; then
  (cd "$root" && cargo build --quiet -p acs_chat -p acs-chat-emulator) || exit 1
fi

declare -A result python_of
failed=0 missing=0
ready=()
for v in "${versions[@]}"; do
  if ! python=$(find_python "$v"); then
    echo "SKIPPED: no Python $v (looked in ${PYENV_ROOT:-$HOME/.pyenv}/versions and for python$v on PATH);" \
         "install it, e.g. 'pyenv install $v'" >&2
    result[$v]="skipped: no interpreter"; missing=1; continue
  fi
  venv=$root/target/py-venv-$v
  if ! {
    { [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"; } &&
    { "$venv/bin/python" -c 'import pytest' 2>/dev/null ||
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pytest>=7"; }
  }; then
    result[$v]="FAILED: could not set up $venv"; failed=1; continue
  fi
  if [ ! -e "$venv/.optional-tried" ]; then
    for pkg in uvloop "azure-core azure-communication-chat"; do
      # shellcheck disable=SC2086
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --timeout 15 --retries 1 $pkg ||
        echo "note: $pkg could not be installed for Python $v; the tests needing it will be skipped" >&2
    done
    touch "$venv/.optional-tried"
  fi
  python_of[$v]=$venv/bin/python
  ready+=("$v")
done

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run_version() {
  local v=$1 start=$SECONDS rc
  (cd "$root/bindings/python" &&
   ACS_CHAT_LIBRARY=${ACS_CHAT_LIBRARY:-$root/target/debug/libacs_chat.so} \
   ACS_EMULATOR_BIN=${ACS_EMULATOR_BIN:-$root/target/debug/acs-chat-emulator} \
   PYTHONPATH="$root/bindings/python/src" PYTHONDONTWRITEBYTECODE=1 \
   "${python_of[$v]}" -m pytest -p no:cacheprovider -q "${pytest_args[@]}" tests) > "$logs/$v.log" 2>&1
  rc=$?
  echo "$rc $((SECONDS - start))" > "$logs/$v.rc"
}
jobs_max=${ACS_PYTHON_JOBS:-1}
pending=("${ready[@]}")
running=()
report() {
  local v=$1 rc took
  read -r rc took < "$logs/$v.rc"
  echo "== Python $v (${python_of[$v]})"
  cat "$logs/$v.log"
  if [ "$rc" = 0 ]; then result[$v]="passed ($("${python_of[$v]}" -V 2>&1), $took s)"
  else result[$v]="FAILED ($("${python_of[$v]}" -V 2>&1), $took s)"; failed=1; fi
}
while [ ${#pending[@]} -gt 0 ] || [ ${#running[@]} -gt 0 ]; do
  while [ ${#pending[@]} -gt 0 ] && [ ${#running[@]} -lt "$jobs_max" ]; do
    run_version "${pending[0]}" &
    running+=("${pending[0]}"); pending=("${pending[@]:1}")
  done
  wait -n 2>/dev/null || sleep 1
  still=()
  for v in "${running[@]}"; do
    if [ -e "$logs/$v.rc" ]; then report "$v"; else still+=("$v"); fi
  done
  running=("${still[@]+"${still[@]}"}")
done

echo "== Python versions"
for v in "${versions[@]}"; do printf '  %-6s %s\n' "$v" "${result[$v]}"; done
[ $failed = 0 ] || exit 1
if [ $missing = 1 ]; then
  [ "${ACS_REQUIRE_PYTHONS:-0}" = 1 ] && exit 1
  exit 77
fi
exit 0
