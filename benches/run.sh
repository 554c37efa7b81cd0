#!/usr/bin/env bash
# The benchmark suite: runs against the emulator (release build, --no-limits)
# on loopback and prints a table per section; results also go to
# target/bench/results.json. See benches/README.md.
#
#   benches/run.sh [quick] [c] [python] [pybinding] [scale] [cold] [size]
#                  [fanout] [before-after] [pyaio] [csasync] [profile]
#
# No section named: all but profile. `quick`: few iterations, a smoke run.
# `profile` (never by default): callgrind over the C send loop.
# Environment: BENCH_NO_BUILD=1 skips `cargo build --release`; BENCH_BASELINE=0
# skips the baseline library of before-after (built once from d320b37 into
# target/bench-baseline, then reused).
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
    c|python|pybinding|scale|cold|size|fanout|before-after|pyaio|csasync|profile) sections+=("$arg") ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (sections: c python pybinding scale cold size fanout before-after pyaio csasync profile; quick)" >&2; exit 2 ;;
  esac
done
[ ${#sections[@]} -gt 0 ] || sections=(c python pybinding scale cold size fanout before-after pyaio csasync)
want() { local s; for s in "${sections[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

if [ $quick = 1 ]; then
  C_ITERS=300 C_WARMUP=50 ROUNDS=1 PY_ITERS=100 PY_WARMUP=20 SCALE_SECONDS=0.3 CLIENTS=10000 COLD_RUNS=3 PROFILE_ITERS=200
  FAN_COUNTS=1000,10000 FAN_ROUNDS=1 BA_ITERS=300 BA_ROUNDS=1 BA_SECONDS=0.3 PYAIO_COUNTS=1000:1 CS_CALLS=200 CS_ROUNDS=1
  PB_ITERS=10000 PB_ROUNDS=3 PB_IMPORTS=5
else
  C_ITERS=5000 C_WARMUP=500 ROUNDS=5 PY_ITERS=3000 PY_WARMUP=300 SCALE_SECONDS=2 CLIENTS=10000 COLD_RUNS=20 PROFILE_ITERS=2000
  FAN_COUNTS=1000,10000 FAN_ROUNDS=3 BA_ITERS=2000 BA_ROUNDS=3 BA_SECONDS=0.5 PYAIO_COUNTS=1000:3,10000:1 CS_CALLS=1000 CS_ROUNDS=3
  PB_ITERS=30000 PB_ROUNDS=15 PB_IMPORTS=20
fi
LATENCY_MS=50

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
t_start=$SECONDS
step() { printf '\n== [%ds] %s\n' $((SECONDS - t_start)) "$*" >&2; }

# The fan-out sections hold up to 10,000 connections open at once: a
# descriptor each in the client and in the emulator (both inherit this limit).
if want fanout || want pyaio || want csasync; then
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10100 ]; then
    echo "warning: open-files limit $(ulimit -n) is below what N=10,000 needs; those rounds will fail" >&2
  fi
fi

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
if want csasync; then
  command -v mcs >/dev/null || need+=(mono-mcs)
  command -v mono >/dev/null || need+=(mono-runtime)
fi
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
# RUNPATH (new dtags), not RPATH: LD_LIBRARY_PATH then takes precedence, which
# is how before-after runs the same programs on the baseline library.
libs=(-L "$rel" -lacs_chat -Wl,--enable-new-dtags,-rpath,"$rel" -lcurl -lpthread -ldl)
for prog in bench_send bench_scale bench_fanout cold_c; do
  cc "${cflags[@]}" -o "$out/$prog" "benches/c/$prog.c" "${libs[@]}"
done
cc "${cflags[@]}" -o "$out/coldwrap" benches/c/coldwrap.c
# The stub the pybinding section loads: the sends answered at once, the rest from the library
# (--no-as-needed keeps the dependency that the unresolved functions come from).
cc "${cflags[@]}" -shared -fPIC -o "$out/libacs_chat_stub.so" benches/python/stub_sends.c \
  -Wl,--no-as-needed -L "$rel" -lacs_chat -Wl,--enable-new-dtags,-rpath,"$rel"

if want python || want pybinding || want cold || want pyaio; then
  if ! "$venv/bin/python" -c 'import azure.communication.chat, aiohttp' 2>/dev/null; then
    step "creating $venv with azure-communication-chat and aiohttp from PyPI"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check azure-communication-chat aiohttp
  fi
fi
py=$venv/bin/python
export ACS_CHAT_LIBRARY=$rel/libacs_chat.so
export PYTHONPATH=$root/bindings/python/src

# ---- TLS material: a CA and a server certificate for 127.0.0.1 --------------
tls=$out/tls
if { want c || want python || want cold || want profile || want before-after; } && [ ! -s "$tls/server.pem" ]; then
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
# start_emulator NAME [flags...]: starts one and sets $NAME to its URL and
# ${NAME}_PID to its process id.
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
  printf -v "${name}_PID" '%s' "$pid"
}
need_http=0 need_https=0 need_latency=0
for s in "${sections[@]}"; do
  case $s in
    c|python|cold|profile|before-after) need_http=1; need_https=1 ;;
    scale) need_http=1 ;;
    fanout|pyaio|csasync) need_latency=1 ;;
  esac
done
if [ $need_http = 1 ]; then start_emulator HTTP_URL; fi
if [ $need_https = 1 ]; then start_emulator HTTPS_URL --tls-cert "$tls/server.pem" --tls-key "$tls/server.key"; fi
# The fan-out sections' emulator: every service call answered LATENCY_MS after
# it arrived (the benchmarks set it to 0 through the control API for the
# emulator-bound ceiling, and back).
if [ $need_latency = 1 ]; then start_emulator LAT_URL --latency-ms $LATENCY_MS; fi
any_url=${HTTP_URL:-${LAT_URL:-}}
if [ -n "$any_url" ]; then
  TOKEN=$(curl -sf "$any_url/_emulator/token?expires_in=86400&user=bench" |
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

if want pybinding; then
  step "pybinding: the binding's own cost per call over a stub library, $PB_ROUNDS x $PB_ITERS calls; import acs_chat, $PB_IMPORTS runs"
  run_bench pybinding "$py" benches/python/bench_binding.py --stub "$out/libacs_chat_stub.so" \
    --library "$rel/libacs_chat.so" --iters $PB_ITERS --rounds $PB_ROUNDS --import-runs $PB_IMPORTS
fi

if want scale; then
  step "scale: one client shared by 1, 4, 16 threads, ${SCALE_SECONDS}s each"
  run_bench scale-threads "$out/bench_scale" threads --url "$HTTP_URL" --token "$TOKEN" \
    --seconds $SCALE_SECONDS --rounds $ROUNDS --counts 1,4,16
  step "scale: $CLIENTS clients alive at once"
  run_bench scale-clients "$out/bench_scale" clients --url "$HTTP_URL" --token "$TOKEN" --clients $CLIENTS
fi

if want fanout; then
  step "fanout: N = $FAN_COUNTS async sends in flight on one client, ${LATENCY_MS} ms latency, cold + $FAN_ROUNDS warm and ceiling rounds each"
  run_bench fanout "$out/bench_fanout" --url "$LAT_URL" --token "$TOKEN" --counts $FAN_COUNTS \
    --rounds $FAN_ROUNDS --latency-ms $LATENCY_MS --emulator-pid "$LAT_URL_PID"
fi

if want before-after; then
  # The library before the asynchronous core (same sync ABI and SONAME),
  # built once into its own target directory and reused.
  base_commit=d320b37
  bdir=$root/target/bench-baseline
  base_lib=
  if [ "${BENCH_BASELINE:-1}" = 0 ]; then
    echo "before-after: BENCH_BASELINE=0, the baseline library is skipped" >&2
  else
    full=$(git -C "$root" rev-parse --verify -q "$base_commit^{commit}" || true)
    if [ -n "$full" ] && [ -f "$bdir/lib/libacs_chat.so" ] && [ "$(cat "$bdir/lib/COMMIT" 2>/dev/null)" = "$full" ]; then
      base_lib=$bdir/lib
    elif [ -z "$full" ]; then
      echo "before-after: commit $base_commit not found in $root; the baseline is skipped" >&2
    elif [ $quick = 1 ]; then
      echo "before-after: quick run and no cached baseline in $bdir/lib; run once without quick to build it" >&2
    else
      step "before-after: building the baseline library from $base_commit into $bdir (once; takes minutes)"
      rm -rf "$bdir/src" "$bdir/lib"
      mkdir -p "$bdir/src" "$bdir/lib"
      git -C "$root" archive "$full" | tar -x -C "$bdir/src"
      if (cd "$bdir/src" && CARGO_TARGET_DIR=$bdir/target cargo build --release -p acs_chat --lib) >"$out/baseline-build.log" 2>&1; then
        cp "$bdir/target/release/libacs_chat.so" "$bdir/lib/"
        echo "$full" >"$bdir/lib/COMMIT"
        base_lib=$bdir/lib
      else
        echo "FAILED: the baseline build (see $out/baseline-build.log)" >&2
        failed+=(baseline-build)
      fi
    fi
  fi
  if [ -n "$base_lib" ]; then
    # The programs ask the loader for the SONAME (libacs_chat.so.0.N), not libacs_chat.so.
    soname=$(readelf -d "$base_lib/libacs_chat.so" | sed -n 's/.*soname: \[\(.*\)\]/\1/p')
    [ -z "$soname" ] || ln -sf libacs_chat.so "$base_lib/$soname"
  fi
  # variant LD_LIBRARY_PATH ACS_CHAT_IO_THREADS
  variants=("after|$rel|2" "after-io1|$rel|1")
  [ -z "$base_lib" ] || variants=("before|$base_lib|" "${variants[@]}")
  # Round by round, every variant in turn (the order rotating), so that drift in
  # the machine's load spreads over all of them; each program runs one round
  # (numbered with --round-base) with libcurl in it as the in-round reference.
  nv=${#variants[@]}
  step "before-after: ${variants[*]} (variant|library dir|ACS_CHAT_IO_THREADS); each round: c over http and https ($BA_ITERS calls), scale 1/4/16 threads (${BA_SECONDS}s); $BA_ROUNDS rounds"
  for r in $(seq 1 $BA_ROUNDS); do
    for j in $(seq 0 $((nv - 1))); do
      IFS='|' read -r name libdir io <<<"${variants[$(( (j + r - 1) % nv ))]}"
      envs=(env LD_LIBRARY_PATH="$libdir" BENCH_SECTION=before-after BENCH_VARIANT="$name" ACS_CHAT_IO_THREADS="$io")
      common=(--rounds 1 --round-base $((r - 1)) --url)
      run_bench ba-$name-http-$r "${envs[@]}" "$out/bench_send" --label http --iters $BA_ITERS \
        --warmup $((BA_ITERS / 10)) --token "$TOKEN" "${common[@]}" "$HTTP_URL"
      run_bench ba-$name-https-$r "${envs[@]}" "$out/bench_send" --label https --iters $BA_ITERS \
        --warmup $((BA_ITERS / 10)) --token "$TOKEN" --ca "$tls/ca.pem" "${common[@]}" "$HTTPS_URL"
      run_bench ba-$name-scale-$r "${envs[@]}" "$out/bench_scale" threads --seconds $BA_SECONDS --counts 1,4,16 \
        --token "$TOKEN" "${common[@]}" "$HTTP_URL"
    done
  done
fi

if want pyaio; then
  step "pyaio: acs_chat.aio vs azure.communication.chat.aio (aiohttp), N[:rounds] = $PYAIO_COUNTS, ${LATENCY_MS} ms latency"
  # One process per implementation, so each one's thread counts are its own;
  # asyncio.sleep is the reference: the event loop alone, no I/O.
  for impl in acs_chat official asyncio.sleep; do
    run_bench pyaio-$impl "$py" benches/python/bench_pyaio.py --url "$LAT_URL" --token "$TOKEN" \
      --counts $PYAIO_COUNTS --latency-ms $LATENCY_MS --impls $impl
  done
fi

if want csasync; then
  step "csasync: building the C# binding and benches/csharp with mcs"
  cs=$out/csharp
  mkdir -p "$cs"
  if mcs -target:library -langversion:7.2 -optimize+ -nowarn:1591 -out:"$cs/AcsChat.dll" bindings/csharp/src/*.cs \
       >"$out/csharp-build.log" 2>&1 &&
     mcs -target:exe -langversion:7.2 -optimize+ -r:"$cs/AcsChat.dll" -r:System.dll -out:"$cs/BenchFanout.exe" \
       benches/csharp/BenchFanout.cs >>"$out/csharp-build.log" 2>&1; then
    # The Task.Run form takes about 20 s a round (the thread pool grows slowly):
    # one round of it, CS_ROUNDS of the asynchronous form.
    for mode in async taskrun; do
      rounds=$CS_ROUNDS
      [ $mode = async ] || rounds=1
      step "csasync: $mode, $CS_CALLS concurrent sends + Task.WhenAll, $rounds round(s), ${LATENCY_MS} ms latency"
      run_bench csasync-$mode timeout -k 5 300 env LD_LIBRARY_PATH="$rel" mono "$cs/BenchFanout.exe" --url "$LAT_URL" \
        --token "$TOKEN" --mode $mode --calls $CS_CALLS --rounds $rounds --latency-ms $LATENCY_MS
    done
  else
    echo "FAILED: csasync build (see $out/csharp-build.log)" >&2
    tail -n 5 "$out/csharp-build.log" >&2 || true
    failed+=(csasync-build)
  fi
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
step "results (the whole run took $((SECONDS - t_start)) s)"
python3 benches/report.py "$raw" "$out/results.json" --quick $quick
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed to run: ${failed[*]}" >&2
  exit 1
fi
