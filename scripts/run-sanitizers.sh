#!/usr/bin/env bash
# Builds tierkv with clang under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/, which also holds the libFuzzer targets) and under
# ThreadSanitizer (build-tsan/), and runs the unit and integration tests in
# each. Passes only when every test passes and no sanitizer wrote a report,
# from a test binary or from any tierkvd the tests started.
# Usage: scripts/run-sanitizers.sh [asan|tsan]...   (default: asan tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --ci
jobs="${TIERKV_JOBS:-$(nproc)}"

# Optimized with debug info, and with assert() on: RelWithDebInfo's default
# flags carry -DNDEBUG, which would compile out the invariant checks
# (daemon/lru_list.h, tiers/host/slab_allocator.cc) in every CI build.
configure_and_build() {
  local dir="$1" sanitize="$2"
  shift 2
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" \
    -Dtierkv_SANITIZE="$sanitize" -Dtierkv_BUILD_BENCH=OFF -Dtierkv_ENABLE_CUDA=OFF "$@" >/dev/null
  if grep -q -- "-DNDEBUG" "$dir/build.ninja"; then
    echo "run-sanitizers: $dir compiles with -DNDEBUG; assertions would be off" >&2
    exit 1
  fi
  cmake --build "$dir" -j "$jobs"
}

# Runs ctest with every sanitizer writing its reports under $dir/sanitizer-reports
# (tierkvd's stderr goes to a log file the tests delete, so reports are files).
run_tests() {
  local dir="$1"
  local reports="$PWD/$dir/sanitizer-reports"
  rm -rf "$reports"
  mkdir -p "$reports"
  local status=0
  ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1" \
  UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1" \
  TSAN_OPTIONS="log_path=$reports/tsan:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp" \
    ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs" --timeout 900 ||
    status=$?
  if compgen -G "$reports/*" >/dev/null; then
    echo "run-sanitizers: sanitizer reports in $reports:" >&2
    head -n 80 "$reports"/* >&2
    status=1
  fi
  return "$status"
}

suites=("$@")
((${#suites[@]})) || suites=(asan tsan)
for suite in "${suites[@]}"; do
  start=$SECONDS
  case "$suite" in
    asan)
      configure_and_build build-asan address,undefined -Dtierkv_BUILD_FUZZERS=ON
      run_tests build-asan ;;
    tsan)
      configure_and_build build-tsan thread
      run_tests build-tsan ;;
    *) echo "run-sanitizers: unknown suite '$suite' (asan, tsan)" >&2; exit 2 ;;
  esac
  echo "run-sanitizers: $suite clean in $((SECONDS - start)) s"
done
