#!/usr/bin/env bash
# Builds the C# binding and its tests with Mono's mcs and runs them against the emulator.
#   bindings/csharp/run_tests.sh [TEST-NAME-FILTER]
# Then, without a filter (or with the filter drop_in), runs tests/drop_in/csharp/run.sh: the official
# SDK's samples compiled against AcsChat with only their using lines changed.
# Environment: ACS_EMULATOR_BIN (default target/debug/acs-chat-emulator),
#              ACS_CHAT_LIB_DIR (directory of libacs_chat.so, default target/debug).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/csharp"

need_packages=()
command -v mcs >/dev/null 2>&1 || need_packages+=(mono-mcs)
command -v mono >/dev/null 2>&1 || need_packages+=(mono-runtime)
command -v openssl >/dev/null 2>&1 || need_packages+=(openssl)
command -v curl >/dev/null 2>&1 || need_packages+=(curl)
command -v jq >/dev/null 2>&1 || need_packages+=(jq)
if [ "${#need_packages[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: missing ${need_packages[*]}; install them (apt-get install -y ${need_packages[*]}) or run as root" >&2
        exit 2
    fi
    echo "installing ${need_packages[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >&2
fi

lib_dir="${ACS_CHAT_LIB_DIR:-$root/target/debug}"
emulator="${ACS_EMULATOR_BIN:-$root/target/debug/acs-chat-emulator}"
if [ ! -f "$lib_dir/libacs_chat.so" ]; then
    echo "error: $lib_dir/libacs_chat.so not found: run 'cargo build -p acs_chat' first" >&2
    exit 2
fi
if [ ! -x "$emulator" ]; then
    echo "error: $emulator not found: run 'cargo build -p acs-chat-emulator' first" >&2
    exit 2
fi

mkdir -p "$out"

# The library: C# 7.2 is the newest mcs accepts; -warnaserror keeps it free of warnings and
# CS1591 (missing XML doc) makes every public member documented.
mcs -target:library -langversion:7.2 -optimize+ -warnaserror+ \
    -doc:"$out/AcsChat.xml" -out:"$out/AcsChat.dll" "$here"/src/*.cs
mcs -target:exe -langversion:7.2 -warnaserror+ -nowarn:1591 \
    -r:"$out/AcsChat.dll" -r:System.Core.dll -out:"$out/AcsChat.Tests.exe" "$here"/tests/*.cs
mcs -target:exe -langversion:7.2 -warnaserror+ \
    -r:"$out/AcsChat.dll" -out:"$out/Send.exe" "$root"/examples/csharp/Send.cs
mcs -target:exe -langversion:7.2 -warnaserror+ \
    -r:"$out/AcsChat.dll" -out:"$out/SendAsync.exe" "$root"/examples/csharp/SendAsync.cs
# A program that leaves Main with asynchronous calls in flight (run by the async tests).
mcs -target:exe -langversion:7.2 -warnaserror+ \
    -r:"$out/AcsChat.dll" -out:"$out/ExitWithCallsInFlight.exe" "$here"/tests/exit/ExitWithCallsInFlight.cs

# A private CA and a server certificate for 127.0.0.1, for the CaFile test over TLS.
tls="$out/tls"
if [ ! -f "$tls/server.pem" ]; then
    mkdir -p "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=acs_chat test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
        -days 30 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
fi

cd "$root"
export ACS_REPO_ROOT="$root"
export ACS_EMULATOR_BIN="$emulator"
export ACS_TEST_TLS_DIR="$tls"
export ACS_TEST_EXIT_PROGRAM="$out/ExitWithCallsInFlight.exe"
export ACS_TEST_SEND_ASYNC_EXAMPLE="$out/SendAsync.exe"
export LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
filter="${1:-}"
status=0
if [ "$filter" != "drop_in" ]; then
    mono --debug "$out/AcsChat.Tests.exe" "$@" || status=$?
fi
if [ -z "$filter" ] || [ "$filter" = "drop_in" ]; then
    echo "drop-in samples (tests/drop_in/csharp/run.sh):"
    ACS_CHAT_DLL="$out/AcsChat.dll" ACS_CHAT_LIB_DIR="$lib_dir" "$root/tests/drop_in/csharp/run.sh" || status=1
fi
exit "$status"
