#!/usr/bin/env bash
# Requests per second of acs-chat-emulator (release build, --no-limits) on POST .../messages
# with keep-alive, next to nginx answering a fixed `201 {"id":"1"}` on another loopback port.
# Both are driven by wrk with the same request (method, body, headers incl. a valid token).
#
#   DURATION (default 10s)  THREADS (wrk threads, default 2)  CONNECTIONS (default 32)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
duration="${DURATION:-10s}"
threads="${THREADS:-2}"
connections="${CONNECTIONS:-32}"

for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || { echo "rps.sh: $tool is required (apt-get install -y wrk nginx curl)" >&2; exit 1; }
done

(cd "$root" && cargo build --release -p acs-chat-emulator --quiet)
emulator="$root/target/release/acs-chat-emulator"

tmp="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# The emulator, on a free port.
"$emulator" --listen 127.0.0.1:0 --no-limits >"$tmp/emulator.out" &
pids+=($!)
for _ in $(seq 100); do [[ -s "$tmp/emulator.out" ]] && break; sleep 0.05; done
emulator_url="$(head -1 "$tmp/emulator.out" | sed 's/^listening on //')"
[[ "$emulator_url" == http://* ]] || { echo "rps.sh: emulator did not start" >&2; exit 1; }
token="$(curl -sf --noproxy '*' "$emulator_url/_emulator/token?user=bench&expires_in=3600" |
    sed -E 's/.*"token":"([^"]+)".*/\1/')"

# nginx with a fixed answer, in the foreground, on another free port.
nginx_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            default_type "application/json; charset=utf-8";
            return 201 '{"id":"1"}';
        }
    }
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
for _ in $(seq 100); do curl -s --noproxy '*' -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.05; done

cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"content":"benchmark message","senderDisplayName":"Bench","metadata":{"k":"v"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA

path="/chat/threads/19%3Abench%40thread.v2/messages?api-version=2025-03-15"
# Sanity: the emulator accepts the request wrk will send.
status="$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -X POST "$emulator_url$path" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $token" -d '{"content":"x"}')"
[[ "$status" == 201 ]] || { echo "rps.sh: emulator answered $status" >&2; exit 1; }

run() {
    wrk -t"$threads" -c"$connections" -d"$duration" -s "$tmp/post.lua" "$1" | tee "$tmp/wrk.out" >&2
    if grep -q "Non-2xx" "$tmp/wrk.out"; then echo "rps.sh: non-2xx answers from $1" >&2; exit 1; fi
    awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out"
}

echo "== emulator $emulator_url (wrk -t$threads -c$connections -d$duration)" >&2
emulator_rps="$(run "$emulator_url$path")"
echo "== nginx http://127.0.0.1:$nginx_port (fixed 201)" >&2
nginx_rps="$(run "http://127.0.0.1:$nginx_port$path")"

echo "emulator: $emulator_rps requests/s"
echo "nginx:    $nginx_rps requests/s"
awk -v e="$emulator_rps" -v n="$nginx_rps" 'BEGIN { printf "ratio emulator/nginx: %.2f\n", e / n }'
