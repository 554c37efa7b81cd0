#!/usr/bin/env bash
# Drop-in check for C#: compiles samples written for the official SDK (Azure.Communication.Chat) against
# AcsChat after rewriting their `using` lines, runs them with Mono against the emulator, and checks
# through the emulator's control API that what each sample sent was stored.
#   tests/drop_in/csharp/run.sh
# Environment: ACS_EMULATOR_BIN (default target/debug/acs-chat-emulator), ACS_CHAT_LIB_DIR (directory of
# libacs_chat.so, default target/debug), ACS_CHAT_DLL (AcsChat.dll; built into target/csharp/drop_in when unset).
# Needs mcs, mono, curl and jq.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/target/csharp/drop_in"
lib_dir="${ACS_CHAT_LIB_DIR:-$root/target/debug}"
emulator="${ACS_EMULATOR_BIN:-$root/target/debug/acs-chat-emulator}"
mkdir -p "$out"

for tool in mcs mono curl jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found" >&2; exit 2; }
done

dll="${ACS_CHAT_DLL:-}"
if [ -z "$dll" ]; then
    dll="$out/AcsChat.dll"
    mcs -target:library -langversion:7.2 -nowarn:1591 -out:"$dll" "$root"/bindings/csharp/src/*.cs
fi

samples=(SendMessageSample TypingNotificationSample ReadReceiptSample)

# 1. Rewrite the using lines (the only change a user makes), then compile with warnings as errors.
for s in "${samples[@]}"; do
    sed -e 's/^using Azure\.Communication\.Chat;/using AcsChat;/' \
        -e '/^using Azure\.Communication;$/d' \
        -e '/^using Azure;$/d' "$here/$s.cs" > "$out/$s.cs"
    if grep -n 'Azure' "$out/$s.cs" | grep -v '^[0-9]*: *//' >/dev/null; then
        echo "error: $s.cs still names Azure outside comments after the rewrite" >&2
        exit 1
    fi
    mcs -target:exe -langversion:7.2 -warnaserror+ -r:"$dll" -out:"$out/$s.exe" "$out/$s.cs"
done
cp "$dll" "$out/" 2>/dev/null || true

# 2. An emulator of our own (no rate limits), stopped on exit.
log="$out/emulator.log"
"$emulator" --listen 127.0.0.1:0 --no-limits >"$log" 2>&1 &
emu_pid=$!
trap 'kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 100); do
    url="$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$log" | head -n1)"
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "error: the emulator did not start: $(cat "$log")" >&2; exit 1; }

failures=0
fail() { echo "FAIL $1" >&2; failures=$((failures + 1)); }
check() { # check NAME JQ-EXPRESSION over the thread's events (must print true)
    local name="$1" expr="$2"
    if [ "$(jq -r "$expr" <<<"$events")" = "true" ]; then echo "ok   $name"; else fail "$name"; echo "     events: $events" >&2; fi
}

run_sample() { # run_sample SAMPLE: sets $thread, $output, $events
    local s="$1"
    thread="19:dropin-$s-$RANDOM$RANDOM@thread.v2"
    local token
    token="$(curl -fsS "$url/_emulator/token?user=8%3Aacs%3Adropin-$s" | jq -r .token)"
    if ! output="$(cd "$out" && LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        ACS_ENDPOINT="$url" ACS_TOKEN="$token" ACS_THREAD_ID="$thread" mono --debug "$out/$s.exe")"; then
        fail "$s exited non-zero"
    fi
    echo "$output" | sed "s/^/     $s: /"
    local enc
    enc="$(jq -rn --arg t "$thread" '$t|@uri')"
    events="$(curl -fsS "$url/_emulator/threads/$enc/events" | jq -c '.events')"
}

id_of() { awk -v k="$1" '$1 == k { print $2 }' <<<"$output"; }

run_sample SendMessageSample
check "send: five messages stored" 'map(select(.op == "message")) | length == 5'
check "send: sync text" "map(select(.op == \"message\"))[0] | .content == \"hello world\" and .type == \"text\" and .id == \"$(id_of sync-text)\""
check "send: sync options (name, metadata)" "map(select(.op == \"message\"))[1] | .content == \"hello with options\" and .senderDisplayName == \"Jack\" and .metadata == {\"tags\":\"tag1\",\"isQuestion\":\"false\"} and .id == \"$(id_of sync-options)\""
check "send: sync html positional" "map(select(.op == \"message\"))[2] | .content == \"<b>hello html</b>\" and .type == \"html\" and .senderDisplayName == \"Jack\" and .id == \"$(id_of sync-html)\""
check "send: async text" "map(select(.op == \"message\"))[3] | .content == \"hello world async\" and .id == \"$(id_of async-text)\""
check "send: async options" "map(select(.op == \"message\"))[4] | .content == \"hello with options async\" and .senderDisplayName == \"Jill\" and .metadata == {\"tags\":\"tag2\"} and .id == \"$(id_of async-options)\""
check "send: Response status 201" "$(grep -c 'status 201' <<<"$output") == 2"
check "send: user from the token" 'all(.user == "8:acs:dropin-SendMessageSample")'
enc="$(jq -rn --arg t "$thread" '$t|@uri')"
ua="$(curl -fsS "$url/_emulator/threads/$enc/requests" | jq -r '.requests[0].userAgent')"
case "$ua" in dropin-sample*) echo "ok   send: Diagnostics.ApplicationId in User-Agent";; *) fail "send: User-Agent '$ua'";; esac

run_sample TypingNotificationSample
check "typing: four notifications" 'map(select(.op == "typing")) | length == 4'
check "typing: names" '[map(select(.op == "typing"))[] | .senderDisplayName] == [null, "Jack", null, "Jill"]'
check "typing: Response status 200" "$(grep -c 'typing status 200' <<<"$output") == 2"

run_sample ReadReceiptSample
check "receipt: two messages, two receipts" '(map(select(.op == "message")) | length == 2) and (map(select(.op == "readReceipt")) | length == 2)'
check "receipt: sync receipt names its message" "map(select(.op == \"readReceipt\"))[0].chatMessageId == \"$(id_of sync-receipt)\" and map(select(.op == \"message\"))[0].id == \"$(id_of sync-receipt)\""
check "receipt: async receipt names its message" "map(select(.op == \"readReceipt\"))[1].chatMessageId == \"$(id_of async-receipt)\" and map(select(.op == \"message\"))[1].id == \"$(id_of async-receipt)\""
check "receipt: Response status 200" "$(grep -c 'receipt .* status 200' <<<"$output") == 2"
enc="$(jq -rn --arg t "$thread" '$t|@uri')"
check "receipt: ServiceVersion sent as api-version" "$(curl -fsS "$url/_emulator/threads/$enc/requests" | jq '[.requests[].apiVersion] | all(. == "2024-03-07")')"

if [ "$failures" -ne 0 ]; then
    echo "drop-in (C#): $failures check(s) failed" >&2
    exit 1
fi
echo "drop-in (C#): all samples compiled unchanged but for the using lines, ran, and were stored"
