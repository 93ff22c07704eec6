#!/usr/bin/env bash
# Runs scripts/plot-bench.py on a sample of every bench's JSON lines and
# checks that each chart comes out as a PNG, and that input with no figures
# is refused. Usage: check-plot-bench.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 "$root/scripts/plot-bench.py" --out-dir "$out" \
  "$root/scripts/testdata/bench-sample.jsonl"
for chart in host-tier-gbps nvme-tier-gbps ttft; do
  head -c 8 "$out/$chart.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" ||
    { echo "check-plot-bench: $chart.png is not a PNG"; exit 1; }
done
if echo '{"op":"unknown"}' | /usr/bin/python3 "$root/scripts/plot-bench.py" --out-dir "$out" - 2>/dev/null; then
  echo "check-plot-bench: input without figures was accepted"
  exit 1
fi
echo "check-plot-bench: charts written"
