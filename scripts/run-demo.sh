#!/usr/bin/env bash
# The main job on built-in defaults: installs and builds tierkv, writes a small
# random-weight llama model, starts tierkvd with no configuration, runs a
# shared-prefix chat workload through tierkv-engine cold and warm (TTFT table),
# stores and re-reads raw blocks from another process, prints `tierkv stats`,
# and stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
bin=build/bin
sock=/tmp/tierkv.sock

if "$bin/tierkv" --socket "$sock" health >/dev/null 2>&1; then
  echo "a tierkvd is already serving $sock; stop it first" >&2
  exit 1
fi
echo "== starting tierkvd (defaults: $sock, 1 GiB CPU tier)"
"$bin/tierkvd" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT
for _ in $(seq 1 100); do
  "$bin/tierkv" health >/dev/null 2>&1 && break
  sleep 0.1
done
"$bin/tierkv" health

model=build/demo-model.gguf
if [[ ! -f $model ]]; then
  echo "== writing a random-weight llama model ($model)"
  "$bin/tierkv-mkmodel" --layers 4 --dim 512 --heads 8 --kv-heads 2 --ffn 1408 --vocab 32000 \
    --context 4096 --dtype f16 --seed 1 --out "$model"
fi
echo "== shared-prefix chat workload: cold, then warm through tierkvd"
"$bin/tierkv-engine" bench --model "$model" --system-tokens 1024 --conversations 3 --turns 2 \
  --user-tokens 64 --answer-tokens 16
echo "== throughput and latency beside memcpy and a bare round trip"
"$bin/tierkv-bench" --workload put-get --block-bytes 1048576
echo "== storing 256 blocks of 1 MiB (16 prompts of 16 blocks)"
"$bin/tierkv-bench" --workload fill --block-bytes 1048576 --blocks 256 --seed 7
echo "== reading them back from another process, byte-checked (cache hits)"
"$bin/tierkv-bench" --workload verify --block-bytes 1048576 --blocks 256 --seed 7
echo "== tierkv stats"
"$bin/tierkv" stats
kill "$daemon"
wait "$daemon" || true
trap - EXIT
echo "== tierkvd stopped"
