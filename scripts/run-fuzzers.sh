#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time from its seed corpus.
# The targets are built by scripts/run-sanitizers.sh asan (build-asan/fuzz);
# this script builds them there if they are missing.
# Usage: scripts/run-fuzzers.sh [seconds per target, default 60; CI gives each 30]
# A crash leaves its input in build-asan/fuzz-artifacts/<target>/; turn it
# into a regression test (see docs/reliability.md) before fixing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
dir=build-asan
if [[ ! -f "$dir/build.ninja" ]]; then
  bash scripts/install-deps.sh --ci
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" \
    -Dtierkv_SANITIZE=address,undefined -Dtierkv_BUILD_FUZZERS=ON -Dtierkv_BUILD_BENCH=OFF \
    -Dtierkv_ENABLE_CUDA=OFF >/dev/null
fi
targets=()
for corpus in fuzz/corpus/*/; do targets+=("$(basename "$corpus")"); done
cmake --build "$dir" -j "${TIERKV_JOBS:-$(nproc)}" --target "${targets[@]}"

status=0
for t in "${targets[@]}"; do
  work="$dir/fuzz-work/$t"           # new inputs found this run (not committed)
  artifacts="$dir/fuzz-artifacts/$t/"
  rm -rf "$work"
  mkdir -p "$work" "$artifacts"
  echo "run-fuzzers: $t for ${seconds}s"
  if ! UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
      "$dir/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts" \
      "$work" "fuzz/corpus/$t" >"$dir/fuzz-work/$t.log" 2>&1; then
    echo "run-fuzzers: $t FAILED; input in $artifacts" >&2
    tail -n 60 "$dir/fuzz-work/$t.log" >&2
    status=1
  else
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$dir/fuzz-work/$t.log" | tail -n 2
  fi
done
exit "$status"
