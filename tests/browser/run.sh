#!/usr/bin/env bash
# The emulator's web inbox in headless Chromium, driven through chromedriver (WebDriver over
# HTTP, from the standard library's urllib): calls made through the C library (the Python
# binding) appear on the open page without a reload, and hostile content stays inert.
# Installs Debian's chromium and chromium-driver when they are missing. On failure a
# screenshot and the page's text are saved under target/browser/.
#
#   ACS_SKIP_CARGO_BUILD=1   use target/debug as it is
#   ACS_EMULATOR_BIN         emulator binary (default target/debug/acs-chat-emulator)
#   ACS_CHAT_LIBRARY         libacs_chat.so (default target/debug/libacs_chat.so)
#   CHROMIUM, CHROMEDRIVER   browser and driver (default: chromium, chromedriver on PATH)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

need=()
command -v "${CHROMIUM:-chromium}" >/dev/null || need+=(chromium)
command -v "${CHROMEDRIVER:-chromedriver}" >/dev/null || need+=(chromium-driver)
[ ${#need[@]} -eq 0 ] || "$root/scripts/apt-install.sh" "${need[@]}"
chromium=$(command -v "${CHROMIUM:-chromium}") ||
  { echo "browser: ${CHROMIUM:-chromium} not found" >&2; exit 1; }
chromedriver=$(command -v "${CHROMEDRIVER:-chromedriver}") ||
  { echo "browser: ${CHROMEDRIVER:-chromedriver} not found" >&2; exit 1; }

if [[ "${ACS_SKIP_CARGO_BUILD:-0}" != 1 ]]; then
  cargo build --quiet -p acs_chat -p acs-chat-emulator
fi

export ACS_EMULATOR_BIN="${ACS_EMULATOR_BIN:-$root/target/debug/acs-chat-emulator}"
export ACS_CHAT_LIBRARY="${ACS_CHAT_LIBRARY:-$root/target/debug/libacs_chat.so}"
export CHROMIUM="$chromium" CHROMEDRIVER="$chromedriver"
export ACS_BROWSER_ARTIFACTS="$root/target/browser"
export PYTHONPATH="$root/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$ACS_BROWSER_ARTIFACTS"
exec python3 "$root/tests/browser/test_inbox.py"
