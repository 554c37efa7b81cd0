#!/usr/bin/env bash
# Installs what the test suites need on a fresh Debian machine, and nothing
# that is already there: a C compiler, valgrind, curl, openssl, binutils (objdump, for the wheel's
# glibc check), Python's venv, Mono. Python packages (pytest, cargo-zigbuild and zig, auditwheel)
# go into virtualenvs under target/ from PyPI. The python-versions suite takes CPython 3.8 and 3.13
# from pyenv when it is there and is skipped otherwise: nothing here installs them.
set -euo pipefail
need=()
command -v cc >/dev/null       || need+=(build-essential)
command -v valgrind >/dev/null || need+=(valgrind)
command -v curl >/dev/null     || need+=(curl)
command -v openssl >/dev/null  || need+=(openssl)
command -v objdump >/dev/null  || need+=(binutils)
command -v mcs >/dev/null      || need+=(mono-mcs)
command -v mono >/dev/null     || need+=(mono-runtime)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
[ ${#need[@]} -eq 0 ] && exit 0
exec "$(dirname "$0")/apt-install.sh" "${need[@]}"
