#!/usr/bin/env bash
# What metrics and KV events cost the hot paths: two tierkvd on the same
# settings, one with /metrics on (scraped every SCRAPE_S seconds, as
# Prometheus would) and KV events published (PUB and replay sockets bound),
# and one with both off, measured in turns in the same run by tierkv-bench: lookup p50
# (64-block prefix) and 1 MiB get GB/s. Prints each round and the medians,
# with the on/off ratio beside the 3% goal.
# Usage: bench/observability_cost.sh [ROUNDS=5] [BIN_DIR=build/bin]
set -euo pipefail
rounds=${1:-5}
bin=${2:-build/bin}
readonly scrape_s=1
readonly goal_pct=3
dir=$(mktemp -d /var/tmp/tierkv-obs-cost-XXXXXX)
pids=()
scraper=""
cleanup() {
  [[ -n "$scraper" ]] && kill "$scraper" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

start() {  # NAME FLAGS...
  local name=$1
  shift
  "$bin/tierkvd" --socket "$dir/$name.sock" --tcp off --data-dir "$dir/$name" \
    --host-bytes 1GiB --nvme-bytes 0 --gpu-bytes 0 --log-level info "$@" \
    >>"$dir/$name.log" 2>&1 &
  pids+=($!)
  until "$bin/tierkv" --socket "$dir/$name.sock" health >/dev/null 2>&1; do sleep 0.05; done
}
start on --metrics-listen 127.0.0.1:0 --kv-events-endpoint 'tcp://127.0.0.1:*' \
  --kv-events-replay-endpoint 'tcp://127.0.0.1:*'
start off --metrics-listen off --kv-events-endpoint off
metrics=$(grep -o 'serving http://[^ ]*' "$dir/on.log" | head -1 | cut -d' ' -f2)
/usr/bin/python3 -c 'import sys, time, urllib.request
while True:
    urllib.request.urlopen(sys.argv[1], timeout=10).read()
    time.sleep(float(sys.argv[2]))' "$metrics" "$scrape_s" &
scraper=$!

measure() {  # NAME -> "lookup_p50_us get_gbps"
  local sock="$dir/$1.sock" lookup get
  lookup=$("$bin/tierkv-bench" --socket "$sock" --workload lookup --prefix-blocks 64 --json |
    /usr/bin/python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin
      if l.startswith("{")][0]["p50_us"])')
  get=$("$bin/tierkv-bench" --socket "$sock" --workload put-get --block-bytes 1MiB \
    --blocks 128 --json | /usr/bin/python3 -c 'import json,sys; print([j for j in
      (json.loads(l) for l in sys.stdin if l.startswith("{")) if j.get("op") == "get"][0]["gbps"])')
  echo "$lookup $get"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
results="$dir/results"
for ((i = 1; i <= rounds; i++)); do
  for name in on off; do
    read -r lookup get < <(measure "$name")
    echo "round $i metrics+events $name: lookup p50 $lookup us, 1 MiB get $get GB/s"
    echo "$name $lookup $get" >>"$results"
  done
done
/usr/bin/python3 - "$results" "$goal_pct" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
goal = float(sys.argv[2])
med = {name: (statistics.median(float(r[1]) for r in rows if r[0] == name),
              statistics.median(float(r[2]) for r in rows if r[0] == name))
       for name in ("on", "off")}
lookup_pct = 100 * (med["on"][0] / med["off"][0] - 1)
get_pct = 100 * (1 - med["on"][1] / med["off"][1])
print(f"median lookup p50: on {med['on'][0]:.1f} us, off {med['off'][0]:.1f} us "
      f"({lookup_pct:+.1f}% slower with metrics+events; goal within {goal:.0f}%)")
print(f"median 1 MiB get: on {med['on'][1]:.2f} GB/s, off {med['off'][1]:.2f} GB/s "
      f"({get_pct:+.1f}% slower with metrics+events; goal within {goal:.0f}%)")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
