#!/usr/bin/python3
"""Python client figures beside the C++ client's, measured in the same run
against the same daemon.

- put and get of 1 MiB blocks, 16 per request (a prompt), 256 MiB in all, from
  and into numpy arrays: GB/s, best of 3 passes, each beside tierkv-bench's put
  and get (same sizes, same method). Goal: Python at 0.8x of C++ or better.
- lookup of a cached 64-block prefix, 2000 times: p50 and p99 per call, beside
  tierkv-bench's lookup. Goal: Python's p50 within 10 us of C++'s.

tierkv-bench runs before and after the Python passes; each Python figure is
compared with the better C++ figure of the two.

    PYTHONPATH=build/python /usr/bin/python3 python/bench.py --socket /tmp/tierkv.sock
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Dict, List

import numpy

# Run as a script, this file's folder (python/, the package's sources without
# their compiled core) would shadow the built package on PYTHONPATH.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
import tierkv  # noqa: E402

BLOCK_TOKENS = 16
LOOKUP_PREFIX_BLOCKS = 64
LOOKUP_ITERATIONS = 2000
PASSES = 3
WORKING_SET_BYTES = 256 << 20
PUT_GET_GOAL_RATIO = 0.8
LOOKUP_GOAL_OVERHEAD_US = 10.0


def parse_args() -> argparse.Namespace:
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", default=tierkv.DEFAULT_ADDRESS,
                   help="daemon address: socket path, unix:PATH or tcp:HOST:PORT")
    p.add_argument("--tierkv-bench", default=os.path.join(here, os.pardir, "build", "bin",
                                                          "tierkv-bench"),
                   help="the C++ benchmark to compare with")
    p.add_argument("--block-bytes", type=int, default=1 << 20)
    p.add_argument("--batch", type=int, default=16, help="blocks per request")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    return p.parse_args()


def percentile(samples: List[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def prompt_tokens(p: int, blocks: int) -> numpy.ndarray:
    rng = numpy.random.default_rng(1000003 + p)
    tokens = rng.integers(0, 32000, blocks * BLOCK_TOKENS, numpy.uint32)
    tokens[0] = p  # a distinct first block per prompt
    return tokens


def python_put_get(client: tierkv.Client, args: argparse.Namespace) -> Dict[str, float]:
    ns = client.namespace(model="tierkv-python-bench", block_tokens=BLOCK_TOKENS,
                          block_bytes=args.block_bytes)
    prompts = max(1, WORKING_SET_BYTES // (args.block_bytes * args.batch))
    chains = [ns.keys(prompt_tokens(p, args.batch)) for p in range(prompts)]
    payload = numpy.empty(args.batch * args.block_bytes, numpy.uint8)
    out = numpy.empty_like(payload)
    best = {"put_gbps": 0.0, "get_gbps": 0.0}
    for _ in range(PASSES):
        client.evict(ns)
        busy = 0.0
        for p, chain in enumerate(chains):
            payload.fill(p % 251)
            t0 = time.perf_counter()
            ns.put(chain, payload)
            busy += time.perf_counter() - t0
        best["put_gbps"] = max(best["put_gbps"], prompts * payload.nbytes / busy / 1e9)
        busy, got = 0.0, 0
        for chain in chains:
            t0 = time.perf_counter()
            got += ns.get(chain, out)
            busy += time.perf_counter() - t0
        best["get_gbps"] = max(best["get_gbps"], got * args.block_bytes / busy / 1e9)
        if got != prompts * args.batch:
            raise RuntimeError(f"get found {got} of {prompts * args.batch} blocks")
    client.evict(ns)
    return best


def python_lookup(client: tierkv.Client, args: argparse.Namespace) -> Dict[str, float]:
    ns = client.namespace(model="tierkv-python-bench", block_tokens=BLOCK_TOKENS,
                          block_bytes=args.block_bytes)
    tokens = prompt_tokens(7777, LOOKUP_PREFIX_BLOCKS)
    chain = ns.keys(tokens)
    ns.put(chain, numpy.full(LOOKUP_PREFIX_BLOCKS * args.block_bytes, 3, numpy.uint8))
    samples = []
    for _ in range(LOOKUP_ITERATIONS):
        t0 = time.perf_counter()
        matched = ns.lookup(chain)
        samples.append((time.perf_counter() - t0) * 1e6)
        if matched != LOOKUP_PREFIX_BLOCKS:
            raise RuntimeError(f"lookup matched {matched} of {LOOKUP_PREFIX_BLOCKS}")
    # The same lookup from raw token ids: hashing the keys is part of the call.
    token_list = tokens.tolist()
    from_tokens = []
    for _ in range(LOOKUP_ITERATIONS // 4):
        t0 = time.perf_counter()
        ns.lookup(token_list)
        from_tokens.append((time.perf_counter() - t0) * 1e6)
    client.evict(ns)
    return {"p50_us": statistics.median(samples), "p99_us": percentile(samples, 99),
            "from_tokens_p50_us": statistics.median(from_tokens)}


def cxx_bench(args: argparse.Namespace) -> Dict[str, dict]:
    cmd = [args.tierkv_bench, "--socket", args.socket, "--workload", "put-get",
           "--block-bytes", str(args.block_bytes), "--batch", str(args.batch), "--json"]
    result = subprocess.run(cmd, check=True, capture_output=True, text=True)
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {row["op"]: row for row in rows}


def main() -> int:
    args = parse_args()
    cxx_before = cxx_bench(args)
    with tierkv.connect(args.socket) as client:
        py_put_get = python_put_get(client, args)
        py_lookup = python_lookup(client, args)
    cxx_after = cxx_bench(args)
    cxx_put = max(cxx_before["put"]["gbps"], cxx_after["put"]["gbps"])
    cxx_get = max(cxx_before["get"]["gbps"], cxx_after["get"]["gbps"])
    cxx_lookup = min(cxx_before["lookup"]["p50_us"], cxx_after["lookup"]["p50_us"])
    # tierkv-bench times the same copies without the requests: the limit both
    # clients are compared with.
    copy_limit = {op: max(cxx_before[op]["copy_limit_gbps"], cxx_after[op]["copy_limit_gbps"])
                  for op in ("put", "get")}
    load = os.getloadavg()
    rows = [
        {"op": "put", "block_bytes": args.block_bytes, "python_gbps": py_put_get["put_gbps"],
         "cxx_gbps": cxx_put, "ratio": py_put_get["put_gbps"] / cxx_put,
         "goal_ratio": PUT_GET_GOAL_RATIO, "copy_limit_gbps": copy_limit["put"]},
        {"op": "get", "block_bytes": args.block_bytes, "python_gbps": py_put_get["get_gbps"],
         "cxx_gbps": cxx_get, "ratio": py_put_get["get_gbps"] / cxx_get,
         "goal_ratio": PUT_GET_GOAL_RATIO, "copy_limit_gbps": copy_limit["get"]},
        {"op": "lookup", "prefix_blocks": LOOKUP_PREFIX_BLOCKS,
         "python_p50_us": py_lookup["p50_us"], "python_p99_us": py_lookup["p99_us"],
         "python_from_tokens_p50_us": py_lookup["from_tokens_p50_us"],
         "cxx_p50_us": cxx_lookup, "overhead_us": py_lookup["p50_us"] - cxx_lookup,
         "goal_overhead_us": LOOKUP_GOAL_OVERHEAD_US},
    ]
    for row in rows:
        row["loadavg_1m"] = load[0]
        if args.json:
            print(json.dumps(row))
    if not args.json:
        for row in rows[:2]:
            verdict = "meets" if row["ratio"] >= PUT_GET_GOAL_RATIO else "MISSES"
            print(f"{row['op']:<7} {args.block_bytes >> 10} KiB blocks x{args.batch}  "
                  f"python {row['python_gbps']:6.2f} GB/s  c++ {row['cxx_gbps']:6.2f} GB/s  "
                  f"ratio {row['ratio']:.2f}x ({verdict} >= {PUT_GET_GOAL_RATIO}x)  "
                  f"| copy limit {row['copy_limit_gbps']:.2f} GB/s")
        lk = rows[2]
        verdict = "meets" if lk["overhead_us"] <= LOOKUP_GOAL_OVERHEAD_US else "MISSES"
        print(f"lookup  {LOOKUP_PREFIX_BLOCKS} blocks  python p50 {lk['python_p50_us']:6.1f} us "
              f"(p99 {lk['python_p99_us']:.1f}; from raw tokens "
              f"{lk['python_from_tokens_p50_us']:.1f})  c++ p50 {lk['cxx_p50_us']:6.1f} us  "
              f"overhead {lk['overhead_us']:+.1f} us ({verdict} <= {LOOKUP_GOAL_OVERHEAD_US} us)")
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
