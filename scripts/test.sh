#!/usr/bin/env bash
# Every suite, end to end against the emulator: Rust (with the fault matrix),
# C under valgrind and under ASan/UBSan, Python, C#, the official Python SDK
# against the emulator, the examples of every language, make install with
# pkg-config and CMake, the wheel, and short fuzz and soak runs.
#   scripts/test.sh            all suites
#   scripts/test.sh c python   only those (rust c sanitize python csharp sdk examples
#                              install wheel fuzz soak)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(rust c sanitize python csharp sdk examples install wheel fuzz soak)

"$root/scripts/deps.sh" || exit 1
echo "== build"
cargo build -p acs_chat -p acs-chat-emulator || exit 1

declare -A result
failed=0
run_suite() {
  local name=$1; shift
  echo "== suite: $name"
  local start=$SECONDS
  if "$@"; then result[$name]="passed ($((SECONDS - start)) s)"
  else result[$name]="FAILED ($((SECONDS - start)) s)"; failed=1; fi
}
for s in "${suites[@]}"; do
  case $s in
    rust)   run_suite rust cargo test --workspace ;;
    c)      run_suite "c (valgrind)" env VALGRIND=1 tests/c/run.sh ;;
    sanitize) run_suite "c (asan/ubsan)" tests/c/sanitize.sh ;;
    python) run_suite python bindings/python/run_tests.sh ;;
    csharp) run_suite csharp bindings/csharp/run_tests.sh ;;
    sdk)    run_suite "official python sdk" tests/official_sdk/run.sh ;;
    examples) run_suite examples tests/install/run_examples.sh ;;
    install)  run_suite install tests/install/test_install.sh ;;
    wheel)    run_suite wheel tests/install/test_wheel.sh ;;
    fuzz)     run_suite "fuzz (${FUZZ_SECONDS:-15} s/target)" env FUZZ_SEED="${FUZZ_SEED:-1}" scripts/fuzz.sh ;;
    soak)     run_suite "soak (${SOAK_SECONDS:-20} s)" env SOAK_SECONDS="${SOAK_SECONDS:-20}" scripts/soak.sh ;;
    *) echo "unknown suite: $s" >&2; exit 2 ;;
  esac
done

echo "== summary"
for k in "${!result[@]}"; do printf '  %-22s %s\n' "$k" "${result[$k]}"; done
exit $failed
