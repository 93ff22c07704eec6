#!/usr/bin/env bash
# Everything that needs a CUDA device, in one run, for a session lent one:
#   1. every GPU test (kernels against their CPU references, the CUDA runner
#      and engine against the CPU ones, the GPU tier, the daemon's CUDA IPC
#      pool); a GPU test that skips here fails the run, since a skip means the
#      device was not usable;
#   2. tierkv-kernel-bench for f16, bf16 and f32 KV (figures beside their
#      ceilings: device copy bandwidth, cuBLAS rate, pinned host-to-device);
#   3. tierkvd with its GPU tier: a put/get workload, then `tierkv stats`;
#   4. tierkv-engine bench on the CPU and on the GPU, same model and workload.
# Usage (after scripts/build.sh, on the machine with the GPU):
#   scripts/run-gpu-checks.sh [output dir, default build/gpu-checks]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-build/gpu-checks}"
bin=build/bin
mkdir -p "$out"
if ! nvidia-smi >"$out/nvidia-smi.txt" 2>&1; then
  echo "run-gpu-checks: nvidia-smi failed: no usable GPU here" >&2
  cat "$out/nvidia-smi.txt" >&2
  exit 1
fi
head -n 12 "$out/nvidia-smi.txt"
status=0

echo "== 1. GPU tests"
(cd build && ctest -L gpu --no-tests=error --output-on-failure --timeout 600) |
  tee "$out/gpu-tests.txt" || status=1
(cd build && ctest -R 'EngineCliTest.CudaDeviceRunsOrSaysWhyNot' --no-tests=error \
  --output-on-failure) | tee -a "$out/gpu-tests.txt" || status=1
if grep -q "(Skipped)" "$out/gpu-tests.txt"; then
  echo "run-gpu-checks: GPU tests were skipped although a GPU is present:" >&2
  grep "(Skipped)" "$out/gpu-tests.txt" >&2
  status=1
fi

echo "== 2. kernel benchmark"
for dtype in f16 bf16 f32; do
  "$bin/tierkv-kernel-bench" --dtype "$dtype" | tee "$out/kernel-bench-$dtype.txt" || status=1
done

echo "== 3. tierkvd with its GPU tier"
work="$(mktemp -d)"
trap 'kill "${daemon_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin/tierkvd" --socket "$work/sock" --tcp off --data-dir "$work/data" \
  --gpu-bytes 4GiB >"$out/tierkvd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
  "$bin/tierkv" --socket "$work/sock" health >/dev/null 2>&1 && break
  sleep 0.1
done
grep "gpu tier" "$out/tierkvd.log" || true
"$bin/tierkv-bench" --socket "$work/sock" --workload put-get --block-bytes 1048576 4194304 |
  tee "$out/tierkv-bench.txt" || status=1
"$bin/tierkv" --socket "$work/sock" stats | tee "$out/tierkv-stats.txt" || status=1

echo "== 4. engine: CPU against GPU"
model="$work/model.gguf"
"$bin/tierkv-mkmodel" --out "$model" --layers 8 --dim 1024 --heads 16 --kv-heads 4 --ffn 2816 \
  --vocab 32000 --context 4096 >/dev/null
for device in cpu cuda; do
  "$bin/tierkv-engine" bench --device "$device" --model "$model" --socket "$work/sock" \
    --system-tokens 2048 --conversations 3 --turns 2 | tee "$out/engine-bench-$device.txt" ||
    status=1
done
"$bin/tierkv" --socket "$work/sock" stats | tee "$out/tierkv-stats-after-engines.txt" || status=1

echo "run-gpu-checks: outputs in $out; $([[ $status == 0 ]] && echo "all passed" || echo FAILED)"
exit "$status"
