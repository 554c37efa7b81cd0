#!/usr/bin/env bash
# Builds the wheel (`make wheel`), checks it is tagged manylinux and carries the library, that
# `auditwheel show` finds it consistent with that tag, and that the library needs no glibc symbol
# newer than the tag's baseline; installs it into a fresh virtual environment of each Python
# (python3, and 3.8 and 3.13, the oldest and newest supported, where pyenv or PATH has them) and
# sends a message, a typing notification and a read receipt to the emulator from a directory
# outside the repository, with no ACS_CHAT_LIBRARY, PYTHONPATH or CARGO_TARGET_DIR: the package
# must load the library it carries.
#
#   tests/install/test_wheel.sh
# Environment: ACS_WHEEL_PYTHONS (the interpreters to install it into, space-separated; default
# python3 plus 3.8 and 3.13 where found).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"

need make:make curl:curl python3:python3 objdump:binutils
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
find_emulator

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== make wheel"
wheel=$(make --no-print-directory wheel | tail -n 1)
echo "  $wheel"
name=$(basename "$wheel")
[[ $name =~ ^acs_chat-[^-]+-py3-none-manylinux_([0-9]+)_([0-9]+)_x86_64(\.manylinux2014_x86_64)?\.whl$ ]] ||
  fail "unexpected wheel name $name (expected py3-none-manylinux_X_Y_x86_64)"
baseline=${BASH_REMATCH[1]}.${BASH_REMATCH[2]}
plat=manylinux_${BASH_REMATCH[1]}_${BASH_REMATCH[2]}_x86_64
[ -z "${BASH_REMATCH[3]}" ] || [ "$baseline" = 2.17 ] || fail "$name: manylinux2014 means glibc 2.17"
python3 - "$wheel" <<'PY' || fail "the wheel does not carry the library"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert "acs_chat/libacs_chat.so" in names, names
assert not any(n.endswith("_source_root.txt") for n in names), names
PY

echo "== auditwheel show"
target/wheel-venv/bin/auditwheel show "$wheel" > "$tmp/auditwheel.txt" 2>&1 ||
  { cat "$tmp/auditwheel.txt" >&2; fail "auditwheel show failed"; }
tr -s ' \n' ' ' < "$tmp/auditwheel.txt" |
  grep -qF "is consistent with the following platform tag: \"$plat\"" ||
  { cat "$tmp/auditwheel.txt" >&2; fail "auditwheel does not find the wheel consistent with $plat"; }
echo "  consistent with $plat"

echo "== glibc symbols of the bundled library (baseline $baseline)"
python3 -m zipfile -e "$wheel" "$tmp/unpacked"
newest=$(objdump -T "$tmp/unpacked/acs_chat/libacs_chat.so" | grep -o 'GLIBC_[0-9][0-9.]*' |
         sed 's/^GLIBC_//' | sort -uV | tail -n 1)
[ -n "$newest" ] || fail "no versioned glibc symbol found in the library"
[ "$(printf '%s\n%s\n' "$newest" "$baseline" | sort -V | tail -n 1)" = "$baseline" ] ||
  fail "the library needs GLIBC_$newest, newer than the tag's $baseline"
echo "  newest needed: GLIBC_$newest"

if [ -n "${ACS_WHEEL_PYTHONS:-}" ]; then
  read -r -a pythons <<< "$ACS_WHEEL_PYTHONS"
else
  pythons=("$(command -v python3)")
  for v in 3.8 3.13; do
    if p=$(find_python "$v"); then pythons+=("$p")
    else echo "note: no Python $v (pyenv or python$v on PATH): the wheel is not tried on it" >&2; fi
  done
fi
venvs=()
for p in "${pythons[@]}"; do
  v=$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  echo "== installing it into a fresh virtual environment of Python $v ($p)"
  "$p" -m venv "$tmp/venv-$v"
  (cd "$tmp" && "$tmp/venv-$v/bin/python" -m pip install --quiet --disable-pip-version-check \
     --no-deps "$wheel")
  venvs+=("$tmp/venv-$v")
done

mkdir "$tmp/work"
cp examples/python/send.py "$tmp/work/"
send_from_wheel() {
  local venv v
  for venv in $VENVS; do
    v=${venv##*/venv-}
    echo "== sending with Python $v from $tmp/work"
    send_from_package "$venv" "$tmp/work" "19:wheel-py$v@thread.v2"
  done
}
export -f send_from_wheel send_from_package use_thread check_events
export tmp VENVS="${venvs[*]}"
with_emulator bash -c 'set -euo pipefail; send_from_wheel'
echo "== wheel test passed (${#venvs[@]} Pythons)"
