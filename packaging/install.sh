#!/usr/bin/env bash
# Installs (or removes) the built C library, its headers, a pkg-config file and a CMake
# package configuration. `make install` / `make uninstall` call it after the release build.
#
#   packaging/install.sh install|uninstall
#
# Environment: PREFIX (default /usr/local), LIBDIR (default $PREFIX/lib), INCLUDEDIR (default
# $PREFIX/include), DESTDIR (staging root, prepended to every path written), ACS_CHAT_BUILD_DIR
# (where libacs_chat.so/.a are taken from; default ${CARGO_TARGET_DIR:-target}/release).
#
# Installed:
#   $LIBDIR/libacs_chat.so.X.Y.Z, libacs_chat.so.<ABI> -> it, libacs_chat.so -> libacs_chat.so.<ABI>
#   $LIBDIR/libacs_chat.a
#   $INCLUDEDIR/acs_chat.h, $INCLUDEDIR/acs_chat.hpp
#   $LIBDIR/pkgconfig/acs_chat.pc
#   $LIBDIR/cmake/acs_chat/acs_chat-config.cmake, acs_chat-config-version.cmake
# where <ABI> is MAJOR, or 0.MINOR before 1.0 (the library's SONAME, set by build.rs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# System libraries the static library needs, as printed by
#   cargo rustc -p acs_chat --lib -- --print native-static-libs
# (Linux, glibc). tests/install/test_install.sh links a program statically with them.
NATIVE_STATIC_LIBS="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

action=${1:-}
case $action in install|uninstall) ;; *) echo "usage: $0 install|uninstall" >&2; exit 2 ;; esac

absolute() {
  case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac
}
PREFIX=$(absolute "${PREFIX:-/usr/local}")
LIBDIR=$(absolute "${LIBDIR:-$PREFIX/lib}")
INCLUDEDIR=$(absolute "${INCLUDEDIR:-$PREFIX/include}")
DESTDIR=${DESTDIR:-}
build_dir=${ACS_CHAT_BUILD_DIR:-${CARGO_TARGET_DIR:-$root/target}/release}

version=$(sed -n 's/^#define ACS_CHAT_VERSION "\(.*\)"$/\1/p' "$root/include/acs_chat.h")
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]] || { echo "no ACS_CHAT_VERSION in include/acs_chat.h" >&2; exit 1; }
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
if [ "$major" = 0 ]; then abi=0.$minor; else abi=$major; fi
soname=libacs_chat.so.$abi
real=libacs_chat.so.$version

lib=$DESTDIR$LIBDIR
inc=$DESTDIR$INCLUDEDIR
pcdir=$lib/pkgconfig
cmakedir_installed=$LIBDIR/cmake/acs_chat
cmakedir=$DESTDIR$cmakedir_installed

if [ "$action" = uninstall ]; then
  rm -f "$lib/$real" "$lib/$soname" "$lib/libacs_chat.so" "$lib/libacs_chat.a" \
        "$inc/acs_chat.h" "$inc/acs_chat.hpp" "$pcdir/acs_chat.pc" \
        "$cmakedir/acs_chat-config.cmake" "$cmakedir/acs_chat-config-version.cmake"
  rmdir "$cmakedir" 2>/dev/null || true
  echo "removed acs_chat $version from $DESTDIR$PREFIX"
  exit 0
fi

for f in libacs_chat.so libacs_chat.a; do
  [ -f "$build_dir/$f" ] || { echo "$build_dir/$f not found: run 'cargo build --release -p acs_chat'" >&2; exit 1; }
done
if command -v readelf >/dev/null; then
  built_soname=$(readelf -d "$build_dir/libacs_chat.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
  if [ "$built_soname" != "$soname" ]; then
    echo "$build_dir/libacs_chat.so has SONAME '${built_soname}', expected $soname: rebuild it" >&2
    exit 1
  fi
fi

# Pointer size of the library (ELF class byte), for the CMake version check.
case $(od -An -tu1 -j4 -N1 "$build_dir/libacs_chat.so" | tr -d ' ') in
  1) sizeof_void_p=4 ;;
  *) sizeof_void_p=8 ;;
esac

install -d "$lib" "$inc" "$pcdir" "$cmakedir"
install -m 0755 "$build_dir/libacs_chat.so" "$lib/$real"
ln -sfn "$real" "$lib/$soname"
ln -sfn "$soname" "$lib/libacs_chat.so"
install -m 0644 "$build_dir/libacs_chat.a" "$lib/libacs_chat.a"
install -m 0644 "$root/include/acs_chat.h" "$root/include/acs_chat.hpp" "$inc/"

# Replaces @NAME@ with the value of the shell variable NAME for each NAME given.
substitute() {
  local template=$1 out=$2; shift 2
  local expr=() name value
  for name in "$@"; do
    value=${!name}
    value=${value//\\/\\\\}; value=${value//|/\\|}; value=${value//&/\\&}
    expr+=(-e "s|@$name@|$value|g")
  done
  sed "${expr[@]}" "$template" > "$out.tmp"
  if grep -q '@[A-Z_]*@' "$out.tmp"; then
    echo "unreplaced placeholder in $out" >&2; rm -f "$out.tmp"; exit 1
  fi
  chmod 0644 "$out.tmp"
  mv "$out.tmp" "$out"
}

# The placeholders' values, read by substitute through ${!name}.
# shellcheck disable=SC2034,SC2086
{
  VERSION=$version VERSION_MAJOR=$major VERSION_MINOR=$minor SONAME=$soname SHARED_FILE=$real
  LIBS_PRIVATE=$NATIVE_STATIC_LIBS
  CMAKE_LIBS_PRIVATE=$(printf '%s\n' $NATIVE_STATIC_LIBS | sed 's/^-l//' | paste -sd ';')
  SIZEOF_VOID_P=$sizeof_void_p BITS=$((sizeof_void_p * 8))
  CMAKEDIR_TO_LIBDIR=$(realpath -m --relative-to="$cmakedir_installed" "$LIBDIR")
  CMAKEDIR_TO_INCLUDEDIR=$(realpath -m --relative-to="$cmakedir_installed" "$INCLUDEDIR")
}

substitute "$root/packaging/acs_chat.pc.in" "$pcdir/acs_chat.pc" \
  PREFIX LIBDIR INCLUDEDIR VERSION LIBS_PRIVATE
substitute "$root/packaging/acs_chat-config.cmake.in" "$cmakedir/acs_chat-config.cmake" \
  CMAKEDIR_TO_LIBDIR CMAKEDIR_TO_INCLUDEDIR SHARED_FILE SONAME CMAKE_LIBS_PRIVATE VERSION
substitute "$root/packaging/acs_chat-config-version.cmake.in" "$cmakedir/acs_chat-config-version.cmake" \
  VERSION VERSION_MAJOR VERSION_MINOR SIZEOF_VOID_P BITS

# Refresh the loader's cache when installing for real into a directory it searches.
if [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null &&
   cat /etc/ld.so.conf /etc/ld.so.conf.d/*.conf 2>/dev/null | grep -qxF "$LIBDIR"; then
  ldconfig
fi

echo "installed acs_chat $version into $DESTDIR$PREFIX (SONAME $soname)"
