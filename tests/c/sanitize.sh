#!/usr/bin/env bash
# Builds the C suite with clang under AddressSanitizer and UndefinedBehaviorSanitizer
# (LeakSanitizer on) against the debug shared library, and runs it against a
# fresh emulator. Any sanitizer report fails the run.
#   tests/c/sanitize.sh
set -euo pipefail
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
root=$(cd "$(dirname "$0")/../.." && pwd)
profile=${PROFILE:-debug}
lib=$root/target/$profile
out=$root/target/c-tests-sanitize
mkdir -p "$out"

# clang and its sanitizer runtimes, installed when missing.
cc=${CC_SANITIZE:-clang}
probe=$out/probe
if ! command -v "$cc" >/dev/null ||
   ! echo 'int main(void){return 0;}' | "$cc" -x c -fsanitize=address,undefined -o "$probe" - 2>/dev/null; then
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq clang >/dev/null
  if ! echo 'int main(void){return 0;}' | "$cc" -x c -fsanitize=address,undefined -o "$probe" - 2>/dev/null; then
    ver=$("$cc" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
    $sudo apt-get install -y -qq "libclang-rt-$ver-dev" >/dev/null
  fi
fi
[ -f "$lib/libacs_chat.so" ] || cargo build -p acs_chat -p acs-chat-emulator

cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -fno-omit-frame-pointer
        -fsanitize=address,undefined -fno-sanitize-recover=all -I "$root/include")
ldflags=(-L "$lib" -lacs_chat -lpthread "-Wl,-rpath,$lib")
"$cc" "${cflags[@]}" "$root/tests/c/test_api.c" -o "$out/test_api" "${ldflags[@]}"
"$cc" "${cflags[@]}" "$root/examples/c/send.c" -o "$out/send" "${ldflags[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87
export LSAN_OPTIONS=exitcode=88
log=$out/sanitize.log
set +e
"$root/scripts/with-emulator.sh" -- "$out/test_api" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer)|runtime error:' "$log"; then
  echo "sanitizer reports found (see $log)" >&2
  exit 1
fi
exit "$status"
