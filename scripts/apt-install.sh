#!/usr/bin/env bash
# Installs the given Debian packages with apt-get (through sudo when not root), quietly and
# without recommended extras. scripts/deps.sh and suites that need more call it with what is
# missing.
set -euo pipefail
[ $# -gt 0 ] || exit 0
echo "installing: $*"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
