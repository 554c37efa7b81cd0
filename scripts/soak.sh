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
# Its own workspace, sharing the root's target directory and lock file versions.
cargo build -q --manifest-path soak/Cargo.toml --target-dir "$root/target"
export SOAK_SECONDS=${SOAK_SECONDS:-600}
exec "$root/scripts/with-emulator.sh" --no-limits -- "$root/target/debug/acs_chat-soak"
