#!/usr/bin/env bash
# `make install` into a temporary prefix, then builds programs against the installed copy only:
# the C example with pkg-config (shared, and static with Libs.private) and with CMake's static
# target, the C++ example with CMake's find_package(acs_chat). Runs them against the emulator
# and checks what arrived. Also checks the SONAME, the links, CMake's version check, and that
# `make uninstall` removes every file.
#
#   tests/install/test_install.sh        (KEEP=1 keeps the temporary prefix)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"

need cc:build-essential c++:g++ make:make pkg-config:pkg-config cmake:cmake readelf:binutils \
     curl:curl python3:python3
find_emulator

tmp=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "temporary prefix kept: $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
prefix=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== make install PREFIX=$prefix"
make --no-print-directory install PREFIX="$prefix"
(cd "$prefix" && find . -mindepth 1 \( -type l -printf '  %p -> %l\n' \) -o \( -type f -printf '  %p\n' \) | sort)

version=$(sed -n 's/^#define ACS_CHAT_VERSION "\(.*\)"$/\1/p' include/acs_chat.h)
IFS=. read -r major minor _ <<<"$version"
if [ "$major" = 0 ]; then abi=0.$minor; else abi=$major; fi
lib=$prefix/lib

echo "== SONAME and links"
soname=$(readelf -d "$lib/libacs_chat.so.$version" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
echo "  SONAME $soname"
[ "$soname" = "libacs_chat.so.$abi" ] || fail "SONAME is '$soname', expected libacs_chat.so.$abi"
[ "$(readlink "$lib/libacs_chat.so")" = "libacs_chat.so.$abi" ] || fail "libacs_chat.so link"
[ "$(readlink "$lib/libacs_chat.so.$abi")" = "libacs_chat.so.$version" ] || fail "libacs_chat.so.$abi link"
[ -f "$lib/libacs_chat.a" ] || fail "no libacs_chat.a"

echo "== pkg-config"
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion acs_chat)" = "$version" ] || fail "pkg-config --modversion"
echo "  cflags/libs: $(pkg-config --cflags --libs acs_chat)"
echo "  static libs: $(pkg-config --static --libs acs_chat)"

echo "== C example, shared, with pkg-config"
build=$tmp/build
mkdir -p "$build"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 examples/c/send.c -o "$build/send-c" \
   $(pkg-config --cflags --libs acs_chat) -Wl,-rpath,"$lib"
needed=$(readelf -d "$build/send-c" | sed -n 's/.*Shared library: \[\(libacs_chat.*\)\].*/\1/p')
[ "$needed" = "libacs_chat.so.$abi" ] || fail "send-c needs '$needed', expected libacs_chat.so.$abi"
resolved=$(ldd "$build/send-c" | awk '/libacs_chat/ { print $3 }')
echo "  NEEDED $needed, loaded from $resolved"
[ "$resolved" = "$lib/libacs_chat.so.$abi" ] || fail "send-c loads $resolved"

echo "== C example, static, with pkg-config --static"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 examples/c/send.c -o "$build/send-c-static" \
   $(pkg-config --cflags acs_chat) \
   $(pkg-config --static --libs acs_chat | sed 's/-lacs_chat/-l:libacs_chat.a/')
! ldd "$build/send-c-static" | grep -q libacs_chat || fail "send-c-static links libacs_chat.so"
echo "  linked without libacs_chat.so"

echo "== C++ example with CMake, find_package(acs_chat)"
cmake -S examples/cpp -B "$build/cpp" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Werror" >"$build/cmake.log" 2>&1 ||
  { cat "$build/cmake.log"; fail "cmake configure"; }
cmake --build "$build/cpp" >>"$build/cmake.log" 2>&1 || { cat "$build/cmake.log"; fail "cmake build"; }
resolved=$(ldd "$build/cpp/send" | awk '/libacs_chat/ { print $3 }')
echo "  built $build/cpp/send, loads $resolved"
[ "$resolved" = "$lib/libacs_chat.so.$abi" ] || fail "C++ example loads $resolved"

echo "== C example with CMake, acs_chat::acs_chat_static"
mkdir -p "$build/cstatic"
cat > "$build/cstatic/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.14)
project(send_static LANGUAGES C)
find_package(acs_chat 0.1 REQUIRED)
add_executable(send "$root/examples/c/send.c")
target_link_libraries(send PRIVATE acs_chat::acs_chat_static)
CMAKE
{ cmake -S "$build/cstatic" -B "$build/cstatic/b" -DCMAKE_PREFIX_PATH="$prefix" &&
  cmake --build "$build/cstatic/b"; } >>"$build/cmake.log" 2>&1 || { cat "$build/cmake.log"; fail "static CMake build"; }
! ldd "$build/cstatic/b/send" | grep -q libacs_chat || fail "acs_chat_static links libacs_chat.so"
echo "  linked without libacs_chat.so"

echo "== CMake version check: 0.1 found, an incompatible request refused"
mkdir -p "$build/probe"
cat > "$build/probe/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.14)
project(probe LANGUAGES NONE)
find_package(acs_chat ${WANT} QUIET)
if(acs_chat_FOUND)
  message(STATUS "acs_chat ${acs_chat_VERSION} found")
else()
  message(STATUS "acs_chat not found")
endif()
CMAKE
probe() {
  rm -rf "$build/probe/b"
  cmake -S "$build/probe" -B "$build/probe/b" -DCMAKE_PREFIX_PATH="$prefix" -DWANT="$1" |
    sed -n 's/^-- \(acs_chat .*\)/\1/p'
}
[ "$(probe "$major.$minor")" = "acs_chat $version found" ] || fail "find_package(acs_chat $major.$minor)"
[ "$(probe "$major.$((minor + 1))")" = "acs_chat not found" ] || fail "find_package accepted $major.$((minor + 1))"
if [ "$major" = 0 ] && [ "$minor" -gt 0 ]; then
  [ "$(probe "0.$((minor - 1))")" = "acs_chat not found" ] || fail "0.x accepted an older 0.MINOR request"
fi
echo "  ok"

echo "== running them against the emulator"
run_installed() {
  use_thread "19:install-c@thread.v2"
  "$build/send-c" "Hello from the installed library"
  check_events "$ACS_THREAD_ID" "Hello from the installed library"
  use_thread "19:install-c-static@thread.v2"
  "$build/send-c-static" "Hello from the static library"
  check_events "$ACS_THREAD_ID" "Hello from the static library"
  use_thread "19:install-cmake-static@thread.v2"
  "$build/cstatic/b/send" "Hello from CMake, statically"
  check_events "$ACS_THREAD_ID" "Hello from CMake, statically"
  use_thread "19:install-cpp@thread.v2"
  "$build/cpp/send" "Hello from C++ and CMake"
  check_events "$ACS_THREAD_ID" "Hello from C++ and CMake"
}
export -f run_installed use_thread check_events
export build
with_emulator bash -c 'set -euo pipefail; run_installed'

echo "== make uninstall"
make --no-print-directory uninstall PREFIX="$prefix" >/dev/null
left=$(find "$prefix" ! -type d)
[ -z "$left" ] || fail "left after uninstall: $left"
echo "  nothing left"
echo "== install test passed"
