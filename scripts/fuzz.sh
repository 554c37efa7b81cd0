#!/usr/bin/env bash
# Builds the fuzz targets in fuzz/ with libFuzzer (libfuzzer-sys, coverage
# instrumentation through stable rustc flags) and runs each for a bounded time.
#   scripts/fuzz.sh                       every target, FUZZ_SECONDS (default 15) each
#   FUZZ_SECONDS=600 scripts/fuzz.sh      long runs
#   scripts/fuzz.sh jwt_exp thread_url    only those targets
#   FUZZ_SEED=1 scripts/fuzz.sh           a fixed libFuzzer seed (the test command's
#                                         short runs use one, so they repeat)
# Seeds come from fuzz/corpus/<target>/ (kept small, in the repository); what a
# run adds goes to target/fuzz/corpus/<target>/, crashes to target/fuzz/artifacts/<target>/.
set -euo pipefail
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-15}
all=(error_body retry_after jwt_exp thread_url emulator_request)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# libFuzzer itself is C++, built by libfuzzer-sys.
if ! command -v c++ >/dev/null; then
  $sudo apt-get update -qq && $sudo apt-get install -y -qq g++ >/dev/null
fi

host=$(rustc -vV | sed -n 's/^host: //p')
out=$root/target/fuzz
flags=(
  -Cpasses=sancov-module
  -Cllvm-args=-sanitizer-coverage-level=4
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
  -Cllvm-args=-sanitizer-coverage-pc-table
  -Cllvm-args=-sanitizer-coverage-trace-compares
  --cfg fuzzing
)
echo "== fuzz: build"
# --target keeps the instrumentation off build scripts and proc macros.
RUSTFLAGS="${flags[*]}" cargo build --manifest-path "$root/fuzz/Cargo.toml" \
  --target "$host" --target-dir "$out" --bins

failed=()
for t in "${targets[@]}"; do
  bin=$out/$host/debug/$t
  [ -x "$bin" ] || { echo "unknown fuzz target: $t" >&2; exit 2; }
  corpus=$out/corpus/$t
  artifacts=$out/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz: $t for ${seconds} s"
  if "$bin" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$seconds" -max_len=4096 -timeout=20 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$artifacts/" \
       "$corpus" "$root/fuzz/corpus/$t" >"$out/$t.log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$out/$t.log" | tr '\n' ' '; echo
  else
    echo "FAILED: $t (log: $out/$t.log, crashes in $artifacts)"
    tail -n 40 "$out/$t.log"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets passed"
