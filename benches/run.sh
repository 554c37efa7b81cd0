#!/usr/bin/env bash
# The benchmark suite: runs against the emulator (release build, --no-limits)
# on loopback and prints a table per section; results also go to
# target/bench/results.json. See benches/README.md.
#
#   benches/run.sh [quick] [c] [python] [scale] [cold] [size] [profile]
#
# No section named: c python scale cold size. `quick`: few iterations, a smoke
# run. `profile` (never by default): callgrind over the C send loop.
# Environment: BENCH_NO_BUILD=1 skips `cargo build --release`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/target/bench
rel=$root/target/release
venv=$root/target/bench-venv
mkdir -p "$out"
cd "$root"

quick=0
sections=()
for arg in "$@"; do
  case $arg in
    quick) quick=1 ;;
    c|python|scale|cold|size|profile) sections+=("$arg") ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (sections: c python scale cold size profile; quick)" >&2; exit 2 ;;
  esac
done
[ ${#sections[@]} -gt 0 ] || sections=(c python scale cold size)
want() { local s; for s in "${sections[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

if [ $quick = 1 ]; then
  C_ITERS=300 C_WARMUP=50 ROUNDS=1 PY_ITERS=100 PY_WARMUP=20 SCALE_SECONDS=0.3 CLIENTS=10000 COLD_RUNS=3 PROFILE_ITERS=200
else
  C_ITERS=5000 C_WARMUP=500 ROUNDS=5 PY_ITERS=5000 PY_WARMUP=300 SCALE_SECONDS=2 CLIENTS=10000 COLD_RUNS=20 PROFILE_ITERS=2000
fi

raw=$out/raw.jsonl
: >"$raw"
failed=()
started_pids=()
cleanup() {
  local pid
  for pid in "${started_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*" >&2; }

# ---- prerequisites -----------------------------------------------------------
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
need=()
command -v cc >/dev/null || need+=(build-essential)
{ command -v curl-config >/dev/null && [ -f /usr/include/x86_64-linux-gnu/curl/curl.h -o -f /usr/include/curl/curl.h ]; } || need+=(libcurl4-openssl-dev)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if want profile; then command -v valgrind >/dev/null || need+=(valgrind); fi
if [ ${#need[@]} -gt 0 ]; then
  step "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  step "cargo build --release -p acs_chat -p acs-chat-emulator"
  cargo build --release -p acs_chat -p acs-chat-emulator
fi
[ -f "$rel/libacs_chat.so" ] && [ -x "$rel/acs-chat-emulator" ] || { echo "release build missing in $rel" >&2; exit 1; }

step "compiling benches/c"
cflags=(-O2 -Wall -Wextra -Wno-unused-function -I "$root/include" -I "$root/benches/c")
libs=(-L "$rel" -lacs_chat -Wl,-rpath,"$rel" -lcurl -lpthread)
for prog in bench_send bench_scale cold_c; do
  cc "${cflags[@]}" -o "$out/$prog" "benches/c/$prog.c" "${libs[@]}"
done
cc "${cflags[@]}" -o "$out/coldwrap" benches/c/coldwrap.c

if want python || want cold; then
  if ! "$venv/bin/python" -c 'import azure.communication.chat' 2>/dev/null; then
    step "creating $venv with azure-communication-chat from PyPI"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check azure-communication-chat
  fi
fi
py=$venv/bin/python
export ACS_CHAT_LIBRARY=$rel/libacs_chat.so
export PYTHONPATH=$root/bindings/python/src

# ---- TLS material: a CA and a server certificate for 127.0.0.1 --------------
tls=$out/tls
if { want c || want python || want cold || want profile; } && [ ! -s "$tls/server.pem" ]; then
  step "generating a CA and a server certificate in $tls"
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=acs_chat bench CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 3650 -extfile "$tls/server.ext" -out "$tls/server.pem" 2>/dev/null
fi

# ---- the emulator ------------------------------------------------------------
# start_emulator NAME [flags...]: starts one and sets $NAME to its URL.
start_emulator() {
  local name=$1; shift
  local log=$out/emulator-$name.out
  "$rel/acs-chat-emulator" --listen 127.0.0.1:0 --no-limits "$@" >"$log" 2>"$log.err" &
  local pid=$!
  started_pids+=("$pid")
  local url= i
  for i in $(seq 1 200); do
    case $(head -n 1 "$log" 2>/dev/null || true) in
      "listening on "*) url=$(head -n 1 "$log"); url=${url#listening on }; break ;;
    esac
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$url" ] || { echo "the emulator did not start:" >&2; cat "$log.err" >&2; exit 1; }
  printf -v "$name" '%s' "$url"
}
need_http=0 need_https=0
for s in "${sections[@]}"; do
  case $s in c|python|cold|profile) need_http=1; need_https=1 ;; scale) need_http=1 ;; esac
done
if [ $need_http = 1 ]; then start_emulator HTTP_URL; fi
if [ $need_https = 1 ]; then start_emulator HTTPS_URL --tls-cert "$tls/server.pem" --tls-key "$tls/server.key"; fi
if [ $need_http = 1 ]; then
  TOKEN=$(curl -sf "$HTTP_URL/_emulator/token?expires_in=86400&user=bench" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
fi

# run_bench NAME COMMAND...: runs one benchmark, keeps its RESULT/CHECK lines.
run_bench() {
  local name=$1; shift
  local log=$out/$name.log
  if "$@" >"$log" 2>"$log.err"; then
    :
  else
    echo "FAILED: $name (see $log.err)" >&2
    tail -n 5 "$log.err" >&2 || true
    failed+=("$name")
  fi
  sed -n 's/^\(RESULT\|CHECK\) //p' "$log" >>"$raw"
}

# ---- sections ----------------------------------------------------------------
if want c; then
  step "c: acs_send_message vs libcurl over http, $ROUNDS x $C_ITERS calls each"
  run_bench c-http "$out/bench_send" --url "$HTTP_URL" --token "$TOKEN" --label http \
    --iters $C_ITERS --warmup $C_WARMUP --rounds $ROUNDS
  step "c: acs_send_message vs libcurl over https"
  run_bench c-https "$out/bench_send" --url "$HTTPS_URL" --token "$TOKEN" --ca "$tls/ca.pem" \
    --label https --iters $C_ITERS --warmup $C_WARMUP --rounds $ROUNDS
fi

if want python; then
  step "python: acs_chat vs azure-communication-chat over http, $ROUNDS x $PY_ITERS calls each"
  run_bench python-http "$py" benches/python/bench_py.py --url "$HTTP_URL" --token "$TOKEN" \
    --label http --iters $PY_ITERS --warmup $PY_WARMUP --rounds $ROUNDS
  step "python: send_message over https"
  run_bench python-https "$py" benches/python/bench_py.py --url "$HTTPS_URL" --token "$TOKEN" \
    --ca "$tls/ca.pem" --label https --ops send_message --iters $PY_ITERS --warmup $PY_WARMUP --rounds $ROUNDS
fi

if want scale; then
  step "scale: one client shared by 1, 4, 16 threads, ${SCALE_SECONDS}s each"
  run_bench scale-threads "$out/bench_scale" threads --url "$HTTP_URL" --token "$TOKEN" \
    --seconds $SCALE_SECONDS --rounds $ROUNDS --counts 1,4,16
  step "scale: $CLIENTS clients alive at once"
  run_bench scale-clients "$out/bench_scale" clients --url "$HTTP_URL" --token "$TOKEN" --clients $CLIENTS
fi

if want cold; then
  step "cold: process start to first completed send, $COLD_RUNS runs each, http and https"
  for scheme in http https; do
    if [ $scheme = http ]; then url=$HTTP_URL; ca=(); else url=$HTTPS_URL; ca=("$tls/ca.pem"); fi
    run_bench cold-c-$scheme "$out/coldwrap" --case "$scheme send_message" --impl c_acs_chat --runs $COLD_RUNS -- \
      "$out/cold_c" "$url" "$TOKEN" "${ca[@]}"
    run_bench cold-py-$scheme "$out/coldwrap" --case "$scheme send_message" --impl py_acs_chat --runs $COLD_RUNS -- \
      "$py" benches/python/cold.py acs_chat "$url" "$TOKEN" "${ca[@]}"
    run_bench cold-official-$scheme "$out/coldwrap" --case "$scheme send_message" --impl py_official --runs $COLD_RUNS -- \
      "$py" benches/python/cold.py official "$url" "$TOKEN" "${ca[@]}"
  done
  run_bench cold-python "$out/coldwrap" --case "reference" --impl py_interpreter_only --runs $COLD_RUNS -- \
    "$py" benches/python/cold.py none "$HTTP_URL" "$TOKEN"
fi

if want size; then
  step "size: stripped library"
  cp "$rel/libacs_chat.so" "$out/libacs_chat.so"
  strip "$out/libacs_chat.so"
  cp "$rel/libacs_chat.a" "$out/libacs_chat.a"
  strip --strip-debug "$out/libacs_chat.a"
  libcurl=$(readlink -f "$(cc -print-file-name=libcurl.so)")
  sz() { stat -c %s "$1"; }
  printf '{"section":"size","case":"libacs_chat.so","impl":"acs_chat","round":1,"bytes":%s,"bytes_unstripped":%s}\n' \
    "$(sz "$out/libacs_chat.so")" "$(sz "$rel/libacs_chat.so")" >>"$raw"
  printf '{"section":"size","case":"libacs_chat.a","impl":"acs_chat","round":1,"bytes":%s,"bytes_unstripped":%s}\n' \
    "$(sz "$out/libacs_chat.a")" "$(sz "$rel/libacs_chat.a")" >>"$raw"
  printf '{"section":"size","case":"libcurl.so (reference)","impl":"libcurl","round":1,"bytes":%s,"path":"%s"}\n' \
    "$(sz "$libcurl")" "$libcurl" >>"$raw"
fi

if want profile; then
  step "profile: callgrind over $PROFILE_ITERS acs_send_message calls (http and https)"
  for scheme in http https; do
    if [ $scheme = http ]; then url=$HTTP_URL; ca=(); else url=$HTTPS_URL; ca=(--ca "$tls/ca.pem"); fi
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$scheme.out" \
      "$out/bench_send" --url "$url" --token "$TOKEN" "${ca[@]}" --label $scheme --only ours \
      --no-check --iters "$PROFILE_ITERS" --warmup 50 --rounds 1 >"$out/profile-$scheme.log" 2>"$out/profile-$scheme.err" ||
      failed+=("profile-$scheme")
    callgrind_annotate --inclusive=yes "$out/callgrind.$scheme.out" 2>/dev/null | head -n 80 \
      >"$out/callgrind.$scheme.inclusive.txt" || true
    callgrind_annotate "$out/callgrind.$scheme.out" 2>/dev/null | head -n 60 \
      >"$out/callgrind.$scheme.self.txt" || true
    echo "callgrind ($scheme): $out/callgrind.$scheme.inclusive.txt, $out/callgrind.$scheme.self.txt" >&2
  done
fi

cleanup
started_pids=()

# ---- report ------------------------------------------------------------------
step "results"
python3 benches/report.py "$raw" "$out/results.json" --quick $quick
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed to run: ${failed[*]}" >&2
  exit 1
fi
