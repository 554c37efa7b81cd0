#!/usr/bin/env bash
# Every suite, end to end against the emulator: Rust (with the fault matrix),
# C under valgrind and under ASan/UBSan, Python, C#, the official Python SDK
# against the emulator, the emulator's web inbox in headless Chromium, the examples of every
# language, make install with pkg-config and CMake, the manylinux wheel (installed and sending on python3, 3.8 and 3.13), the
# Python suite again on 3.8 and 3.13, the crates' `cargo package` and docs, and short fuzz and
# soak runs.
#   scripts/test.sh            all suites
#   scripts/test.sh c python   only those (rust c sanitize python python-versions csharp sdk
#                              browser examples install wheel package fuzz soak; and, not run by
#                              default: python-all (3.8 to 3.13), sdist (~3 min the first time))
# A suite that cannot run here (python-versions without pyenv's 3.8 or 3.13) is reported as
# skipped, with the reason in its output, and does not fail the run.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

suites=("$@")
[ ${#suites[@]} -gt 0 ] ||
  suites=(rust c sanitize python python-versions csharp sdk browser examples install wheel package fuzz soak)

"$root/scripts/deps.sh" || exit 1
echo "== build"
cargo build -p acs_chat -p acs-chat-emulator || exit 1

declare -A result
failed=0
run_suite() {
  local name=$1; shift
  echo "== suite: $name"
  local start=$SECONDS
  "$@"
  case $? in
    0)  result[$name]="passed ($((SECONDS - start)) s)" ;;
    77) result[$name]="skipped ($((SECONDS - start)) s; see its output)" ;;
    *)  result[$name]="FAILED ($((SECONDS - start)) s)"; failed=1 ;;
  esac
}
# The crates package (what `cargo publish` would upload, without building it) and document
# without warnings.
# (The integration tests stay out of the packages, which cargo notes once per test: not shown.)
check_package() {
  local p out rest
  for p in acs_chat acs-chat-emulator; do
    out=$(cargo package --quiet --no-verify --allow-dirty -p "$p" 2>&1) ||
      { echo "$out"; echo "cargo package -p $p failed" >&2; return 1; }
    rest=$(grep -v '^warning: ignoring test' <<< "$out" || true)
    [ -z "$rest" ] || echo "$rest"
    echo "  cargo package -p $p: $(cargo package --list --quiet --allow-dirty -p "$p" 2>/dev/null | wc -l) files"
  done
  RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p acs_chat -p acs-chat-emulator
}
for s in "${suites[@]}"; do
  case $s in
    rust)   run_suite rust cargo test --workspace ;;
    c)      run_suite "c (valgrind)" env VALGRIND=1 tests/c/run.sh ;;
    sanitize) run_suite "c (asan/ubsan)" tests/c/sanitize.sh ;;
    python) run_suite python bindings/python/run_tests.sh ;;
    python-versions) run_suite "python 3.8 + 3.13" env ACS_SKIP_CARGO_BUILD=1 ACS_PYTHON_JOBS=2 scripts/test-python-versions.sh ;;
    python-all) run_suite "python 3.8 to 3.13" env ACS_SKIP_CARGO_BUILD=1 scripts/test-python-versions.sh --all ;;
    csharp) run_suite csharp bindings/csharp/run_tests.sh ;;
    sdk)    run_suite "official python sdk" tests/official_sdk/run.sh ;;
    browser) run_suite "browser (web inbox)" env ACS_SKIP_CARGO_BUILD=1 tests/browser/run.sh ;;
    examples) run_suite examples tests/install/run_examples.sh ;;
    install)  run_suite install tests/install/test_install.sh ;;
    wheel)    run_suite wheel tests/install/test_wheel.sh ;;
    sdist)    run_suite sdist tests/install/test_sdist.sh ;;
    package)  run_suite "cargo package + doc" check_package ;;
    fuzz)     run_suite "fuzz (${FUZZ_SECONDS:-15} s/target)" env FUZZ_SEED="${FUZZ_SEED:-1}" scripts/fuzz.sh ;;
    soak)     run_suite "soak (${SOAK_SECONDS:-20} s)" env SOAK_SECONDS="${SOAK_SECONDS:-20}" scripts/soak.sh ;;
    *) echo "unknown suite: $s" >&2; exit 2 ;;
  esac
done

echo "== summary"
for k in "${!result[@]}"; do printf '  %-22s %s\n' "$k" "${result[$k]}"; done
exit $failed
