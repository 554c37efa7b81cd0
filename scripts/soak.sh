#!/usr/bin/env bash
# Soak: SOAK_THREADS threads (default 16) send through the C API for
# SOAK_SECONDS (default 600) against a fresh emulator while random faults are
# injected; checks accounting, stored messages, memory and descriptors, and
# prints a summary (soak/src/main.rs).
#   scripts/soak.sh                     10 minutes
#   SOAK_SECONDS=20 scripts/soak.sh     the short run of the test command
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build -q -p acs-chat-emulator
# Its own workspace with its own target directory: acs_chat is a cdylib, so its
# rlib has no hash in its file name, and a build of it with the soak's feature set
# in target/debug would replace the one the workspace's tests link against.
cargo build -q --manifest-path soak/Cargo.toml --target-dir "$root/target/soak"
export SOAK_SECONDS=${SOAK_SECONDS:-600}
exec "$root/scripts/with-emulator.sh" --no-limits -- "$root/target/soak/debug/acs_chat-soak"
