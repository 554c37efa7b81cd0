#!/usr/bin/env bash
# Builds the examples of the four languages (C, C++ and its asynchronous twin, Python, C#) against
# the library built in this tree and runs each against a fresh emulator on its own thread; checks
# through the emulator's control API that each one's message, typing notification and read
# receipt arrived.
#
#   tests/install/run_examples.sh
#
# Environment: ACS_CHAT_LIB_DIR (directory of libacs_chat.so, default target/debug),
# ACS_EMULATOR_BIN (default target/debug/acs-chat-emulator).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"

need cc:build-essential c++:g++ curl:curl python3:python3 mcs:mono-mcs mono:mono-runtime
lib_dir=${ACS_CHAT_LIB_DIR:-$root/target/debug}
if [ ! -f "$lib_dir/libacs_chat.so" ]; then
  [ -n "${ACS_CHAT_LIB_DIR:-}" ] && { echo "$lib_dir/libacs_chat.so not found" >&2; exit 1; }
  cargo build --quiet -p acs_chat
fi
find_emulator
bin_dir=$root/target/examples
mkdir -p "$bin_dir"

echo "== building the examples against $lib_dir"
warn=(-Wall -Wextra -Wpedantic -Werror)
cc -std=c11 "${warn[@]}" -O2 -I include examples/c/send.c -o "$bin_dir/send-c" \
   -L "$lib_dir" -lacs_chat -Wl,-rpath,"$lib_dir"
c++ -std=c++17 "${warn[@]}" -O2 -I include examples/cpp/send.cpp -o "$bin_dir/send-cpp" \
    -L "$lib_dir" -lacs_chat -Wl,-rpath,"$lib_dir"
c++ -std=c++17 "${warn[@]}" -O2 -I include examples/cpp/send_async.cpp -o "$bin_dir/send-async-cpp" \
    -L "$lib_dir" -lacs_chat -lpthread -Wl,-rpath,"$lib_dir"
mcs -target:library -langversion:7.2 -nowarn:1591 -out:"$bin_dir/AcsChat.dll" bindings/csharp/src/*.cs
mcs -langversion:7.2 -warnaserror+ -r:"$bin_dir/AcsChat.dll" -out:"$bin_dir/Send.exe" examples/csharp/Send.cs
mcs -langversion:7.2 -warnaserror+ -r:"$bin_dir/AcsChat.dll" -out:"$bin_dir/SendAsync.exe" examples/csharp/SendAsync.cs

run_all() {
  echo "== C: examples/c/send.c"
  use_thread "19:example-c@thread.v2"
  "$bin_dir/send-c" "Hello from C"
  check_events "$ACS_THREAD_ID" "Hello from C"

  echo "== C++: examples/cpp/send.cpp"
  use_thread "19:example-cpp@thread.v2"
  "$bin_dir/send-cpp"
  check_events "$ACS_THREAD_ID" "Hello from C++!"

  echo "== C++: examples/cpp/send_async.cpp"
  use_thread "19:example-cpp-async@thread.v2"
  "$bin_dir/send-async-cpp"
  check_events "$ACS_THREAD_ID" "Hello from C++, asynchronously!"

  echo "== Python: examples/python/send.py"
  use_thread "19:example-python@thread.v2"
  ACS_CHAT_LIBRARY=$lib_dir/libacs_chat.so PYTHONPATH=$root/bindings/python/src \
    PYTHONDONTWRITEBYTECODE=1 python3 examples/python/send.py
  check_events "$ACS_THREAD_ID" "Hello from acs_chat!"

  echo "== C#: examples/csharp/Send.cs (Mono)"
  use_thread "19:example-csharp@thread.v2"
  LD_LIBRARY_PATH=$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} mono "$bin_dir/Send.exe"
  check_events "$ACS_THREAD_ID" "Hello from C#!"

  echo "== C#: examples/csharp/SendAsync.cs (Mono)"
  use_thread "19:example-csharp-async@thread.v2"
  LD_LIBRARY_PATH=$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} mono "$bin_dir/SendAsync.exe"
  check_events "$ACS_THREAD_ID" "Hello from C#, asynchronously!"
}
export -f run_all use_thread check_events
export bin_dir lib_dir root
with_emulator bash -c 'set -euo pipefail; run_all'
echo "== every example delivered its message, typing notification and read receipt"
