#!/usr/bin/env bash
# Installs what the test suites need on a fresh Debian machine, and nothing
# that is already there: a C compiler, valgrind, curl, openssl, Python's venv, Mono.
set -euo pipefail
need=()
command -v cc >/dev/null       || need+=(build-essential)
command -v valgrind >/dev/null || need+=(valgrind)
command -v curl >/dev/null     || need+=(curl)
command -v openssl >/dev/null  || need+=(openssl)
command -v mcs >/dev/null      || need+=(mono-mcs)
command -v mono >/dev/null     || need+=(mono-runtime)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
[ ${#need[@]} -eq 0 ] && exit 0

echo "installing: ${need[*]}"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
