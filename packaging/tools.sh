# shellcheck shell=bash
# Sourced by build-wheel.sh and build-sdist.sh: the virtual environment with the tools of
# packaging/wheel-tools.txt (cargo-zigbuild, ziglang, auditwheel, build), made once under
# $target/wheel-venv and brought up to date when that file changes.
# Needs: root, target. Sets: venv.

venv=$target/wheel-venv
tools_venv() {
  local python=${PYTHON:-python3} stamp
  if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" ||
      { echo "$python -m venv failed (apt-get install python3-venv)" >&2; return 1; }
  fi
  stamp=$venv/.wheel-tools.txt
  if ! cmp -s "$root/packaging/wheel-tools.txt" "$stamp"; then
    echo "installing the packaging tools into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r "$root/packaging/wheel-tools.txt" >&2
    cp "$root/packaging/wheel-tools.txt" "$stamp"
  fi
}
