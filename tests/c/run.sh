#!/usr/bin/env bash
# Builds the C and C++ suites against include/acs_chat.h (and acs_chat.hpp) and the shared
# library with strict warnings, then runs each program against a fresh emulator:
#   test_api        the blocking API
#   test_async      asynchronous calls, cancellation, the delivery verdict (ACS_ASYNC_N calls
#                   in the burst: 10000, or 1000 under valgrind)
#   test_fork       fork() with calls in flight and with an idle pool
#   test_exit       process exit with calls in flight (each scenario a child process)
#   test_identity   clients from a connection string: tokens from the identity service
#   test_cpp_identity  the same through acs_chat::client::from_connection_string
#   test_cpp_async  the asynchronous C++ wrappers
#
#   tests/c/run.sh            plain run
#   VALGRIND=1 tests/c/run.sh under valgrind: any error or leak fails the run
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
profile=${PROFILE:-debug}
lib=$root/target/$profile
out=$root/target/c-tests
mkdir -p "$out"
cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -I "$root/include")
cxxflags=(-std=c++17 -Wall -Wextra -Wpedantic -Werror -g -O1 -I "$root/include")
ldflags=(-L "$lib" -lacs_chat -lpthread "-Wl,-rpath,$lib")

cc=${CC:-cc}
cxx=${CXX:-c++}
for t in test_api test_async test_fork test_exit test_identity; do
  "$cc" "${cflags[@]}" "$root/tests/c/$t.c" -o "$out/$t" "${ldflags[@]}"
done
for t in test_cpp_async test_cpp_identity; do
  "$cxx" "${cxxflags[@]}" "$root/tests/c/$t.cpp" -o "$out/$t" "${ldflags[@]}"
done
"$cc" "${cflags[@]}" "$root/examples/c/send.c" -o "$out/send" "${ldflags[@]}"

runner=()
if [ "${VALGRIND:-0}" = 1 ]; then
  runner=(valgrind --quiet --error-exitcode=99 --leak-check=full
          --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
          --suppressions="$root/tests/c/valgrind.supp")
  # Slower under valgrind: longer timeouts, and a smaller burst.
  export ACS_TEST_SLOW=1 ACS_ASYNC_N=${ACS_ASYNC_N:-1000}
fi

run() {
  local name=$1; shift
  local start=$SECONDS
  echo "== $name"
  "$root/scripts/with-emulator.sh" "$@"
  echo "== $name: passed in $((SECONDS - start)) s"
}
run test_api -- "${runner[@]}" "$out/test_api"
run test_async --no-limits -- "${runner[@]}" "$out/test_async"
# Forked children stay under valgrind (memory errors fail them); test_fork turns their leak
# check off, since a child abandons the parent's generation of the library on purpose.
run test_fork --no-limits -- "${runner[@]}" "$out/test_fork"
# Each exit scenario is this program run again: under valgrind too, errors and leaks included.
run test_exit --no-limits -- "${runner[@]}" ${runner:+--trace-children=yes} "$out/test_exit"
run test_cpp_async --no-limits -- "${runner[@]}" "$out/test_cpp_async"
run test_identity --no-limits -- "${runner[@]}" "$out/test_identity"
run test_cpp_identity --no-limits -- "${runner[@]}" "$out/test_cpp_identity"
