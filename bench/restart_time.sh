#!/usr/bin/env bash
# Time for tierkvd to restart with N blocks indexed on its NVMe tier: fills N
# small blocks, stops the daemon (which flushes them to NVMe), then times a
# start until it answers health, and checks every block is still there.
# Usage: bench/restart_time.sh [BLOCKS=100000] [BIN_DIR=build/bin]
set -euo pipefail
blocks=${1:-100000}
bin=${2:-build/bin}
dir=$(mktemp -d /var/tmp/tierkv-restart-XXXXXX)
sock="$dir/tierkv.sock"
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
start() {
  "$bin/tierkvd" --socket "$sock" --tcp off --data-dir "$dir/data" --host-bytes 1GiB \
    --nvme-bytes 2GiB --log-level info >>"$dir/log" 2>&1 &
  pid=$!
  until "$bin/tierkv" --socket "$sock" health >/dev/null 2>&1; do sleep 0.01; done
}
start
"$bin/tierkv-bench" --socket "$sock" --workload fill --block-bytes 4096 --blocks "$blocks" \
  --batch 64 >/dev/null
kill -TERM $pid
wait $pid
t0=$(date +%s.%N)
start
t1=$(date +%s.%N)
verify=$("$bin/tierkv-bench" --socket "$sock" --workload verify --block-bytes 4096 \
  --blocks "$blocks" --batch 64 --json)
grep -h "blocks restored" "$dir/log" | tail -1 >&2
echo "{\"indexed_blocks\": $blocks, \"restart_s\": $(echo "$t1 - $t0" | bc), \"verify\": $verify}"
