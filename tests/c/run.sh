#!/usr/bin/env bash
# Builds the C suite against include/acs_chat.h and the shared library with
# strict warnings, then runs it against a fresh emulator.
#   tests/c/run.sh            plain run
#   VALGRIND=1 tests/c/run.sh under valgrind: any error or leak fails the run
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
profile=${PROFILE:-debug}
lib=$root/target/$profile
out=$root/target/c-tests
mkdir -p "$out"
cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -I "$root/include")
ldflags=(-L "$lib" -lacs_chat -lpthread "-Wl,-rpath,$lib")

cc=${CC:-cc}
"$cc" "${cflags[@]}" "$root/tests/c/test_api.c" -o "$out/test_api" "${ldflags[@]}"
"$cc" "${cflags[@]}" "$root/examples/c/send.c" -o "$out/send" "${ldflags[@]}"

runner=()
if [ "${VALGRIND:-0}" = 1 ]; then
  runner=(valgrind --quiet --error-exitcode=99 --leak-check=full
          --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
          --suppressions="$root/tests/c/valgrind.supp")
fi
"$root/scripts/with-emulator.sh" -- "${runner[@]}" "$out/test_api"
