#!/usr/bin/env bash
# The remote tier through the daemon beside its limit, in one run on one
# cluster: starts a 3-master, 3-replica Redis Cluster (scripts/redis-cluster.sh)
# and a tierkvd with --remote-url and no NVMe tier, then runs
#   tierkv-bench --tier remote        put and get of BLOCK_KIB KiB blocks through
#                                     the daemon (write-through, then gets after
#                                     a local evict)
#   tierkv-remote-bench --url ...     pipelined SET/GET of the same value size
#                                     through the tier's client and plain hiredis
# and prints both with the load average. Everything it started is stopped at
# the end.
# Usage: scripts/remote-tier-bench.sh [BUILD_DIR] [BLOCK_KIB]   (build, 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
block_kib="${2:-1024}"
bin="$build/bin"
for b in tierkvd tierkv-bench tierkv-remote-bench; do
  [[ -x "$bin/$b" ]] || { echo "remote-tier-bench: $bin/$b is not built" >&2; exit 2; }
done
dir="$(mktemp -d /tmp/tierkv-remote-bench-XXXXXX)"
daemon_pid=""
cleanup() {
  [[ -n "$daemon_pid" ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  bash scripts/redis-cluster.sh stop "$dir/cluster" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

seeds="$(bash scripts/redis-cluster.sh start "$dir/cluster")"
echo "cluster: $seeds"
"$bin/tierkvd" --socket "$dir/tierkv.sock" --tcp off --data-dir "$dir/data" \
  --nvme-bytes 0 --gpu-bytes 0 --remote-url "redis-cluster://$seeds" >"$dir/tierkvd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 600); do
  [[ -S "$dir/tierkv.sock" ]] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$dir/tierkvd.log" >&2; exit 1; }
  sleep 0.1
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/tierkv-bench" --socket "$dir/tierkv.sock" --tier remote --block-bytes "$((block_kib * 1024))"
"$bin/tierkv-remote-bench" --url "redis-cluster://$seeds" --block-kib "$block_kib" --repeat 1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
