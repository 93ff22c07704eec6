#!/usr/bin/python3
"""Turns the benches' JSON lines into PNG charts for docs/performance.md.

Reads files of JSON values, one per line ('-' is stdin), as these print them:

  tierkv-bench --json --workload put-get      {"op": "put"|"get", "block_bytes",
                                               "gbps", "copy_limit_gbps", ...}
  tierkv-bench --json --tier nvme             {"op": "nvme", "block_bytes",
                                               "write_gbps", "read_gbps",
                                               "raw_write_gbps", "raw_read_gbps"}
  tierkv-engine generate --json               {"ttft_ms", "cached_tokens",
                                               "prefill_tokens", ...}

and writes, for what it found, into --out-dir:

  host-tier-gbps.png   put and get GB/s against block size, with the copy
                       limit (the same memcpy into and out of the same pool
                       slots without the requests) drawn in
  nvme-tier-gbps.png   NVMe tier write and read GB/s against block size, with
                       raw io_uring O_DIRECT on the same disk drawn in
  ttft.png             time to first token against prompt length, cold
                       (nothing cached) and cached

Several runs of one figure are plotted as their median. Lines that are not
JSON objects, or objects of no known kind, are reported and skipped.

Usage: /usr/bin/python3 scripts/plot-bench.py --out-dir DIR FILE... [--title-suffix TEXT]
"""
import argparse
import collections
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

KIB = 1024
DPI = 110
FIGSIZE = (7.5, 4.2)


def read_rows(paths):
    rows, skipped = [], 0
    for path in paths:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
        with stream:
            for number, line in enumerate(stream, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    print(f"plot-bench: {path}:{number}: not JSON, skipped", file=sys.stderr)
                    skipped += 1
                    continue
                for row in value if isinstance(value, list) else [value]:
                    if isinstance(row, dict):
                        rows.append(row)
                    else:
                        skipped += 1
    return rows, skipped


def size_label(block_bytes):
    if block_bytes >= KIB * KIB:
        return f"{block_bytes / (KIB * KIB):g} MiB"
    return f"{block_bytes / KIB:g} KiB"


def medians(rows, key, fields):
    """{key value: {field: median}} over the rows that have every field."""
    groups = collections.defaultdict(lambda: collections.defaultdict(list))
    for row in rows:
        if all(f in row for f in fields):
            for f in fields:
                groups[row[key]][f].append(float(row[f]))
    return {k: {f: statistics.median(v) for f, v in g.items()} for k, g in sorted(groups.items())}


def gbps_chart(path, title, series, limits):
    """series/limits: [(label, {block_bytes: gbps})]; limit i is series i's, in its colour."""
    fig, ax = plt.subplots(figsize=FIGSIZE)
    sizes = sorted({b for _, points in series + limits for b in points})
    for i, (label, points) in enumerate(series):
        xs = sorted(points)
        ax.plot(xs, [points[x] for x in xs], marker="o", color=f"C{i}", label=label)
    for i, (label, points) in enumerate(limits):
        xs = sorted(points)
        ax.plot(xs, [points[x] for x in xs], linestyle="--", color=f"C{i}", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes)
    ax.set_xticklabels([size_label(b) for b in sizes])
    ax.set_xlabel("block size")
    ax.set_ylabel("GB/s")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def host_chart(rows, out_dir, suffix):
    put = medians([r for r in rows if r.get("op") == "put"], "block_bytes",
                  ["gbps", "copy_limit_gbps"])
    get = medians([r for r in rows if r.get("op") == "get"], "block_bytes",
                  ["gbps", "copy_limit_gbps"])
    if not put and not get:
        return None
    path = os.path.join(out_dir, "host-tier-gbps.png")
    gbps_chart(path, "Host tier: put and get" + suffix,
               [("put", {b: v["gbps"] for b, v in put.items()}),
                ("get", {b: v["gbps"] for b, v in get.items()})],
               [("put copy limit", {b: v["copy_limit_gbps"] for b, v in put.items()}),
                ("get copy limit", {b: v["copy_limit_gbps"] for b, v in get.items()})])
    return path


def nvme_chart(rows, out_dir, suffix):
    fields = ["write_gbps", "read_gbps", "raw_write_gbps", "raw_read_gbps"]
    nvme = medians([r for r in rows if r.get("op") == "nvme"], "block_bytes", fields)
    if not nvme:
        return None
    path = os.path.join(out_dir, "nvme-tier-gbps.png")
    gbps_chart(path, "NVMe tier against raw io_uring on the same disk" + suffix,
               [("tier write", {b: v["write_gbps"] for b, v in nvme.items()}),
                ("tier read", {b: v["read_gbps"] for b, v in nvme.items()})],
               [("raw write", {b: v["raw_write_gbps"] for b, v in nvme.items()}),
                ("raw read", {b: v["raw_read_gbps"] for b, v in nvme.items()})])
    return path


def ttft_chart(rows, out_dir, suffix):
    runs = [r for r in rows if {"ttft_ms", "cached_tokens", "prefill_tokens"} <= r.keys()]
    if not runs:
        return None
    for r in runs:
        r["prompt_tokens"] = r["cached_tokens"] + r["prefill_tokens"]
    cold = medians([r for r in runs if r["cached_tokens"] == 0], "prompt_tokens", ["ttft_ms"])
    cached = medians([r for r in runs if r["cached_tokens"] > 0], "prompt_tokens", ["ttft_ms"])
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for label, points in (("cold (nothing cached)", cold), ("cached prefix", cached)):
        xs = sorted(points)
        if xs:
            ax.plot(xs, [points[x]["ttft_ms"] for x in xs], marker="o", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("prompt length (tokens)")
    ax.set_ylabel("time to first token (ms)")
    ax.set_title("Time to first token, cold and cached" + suffix)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = os.path.join(out_dir, "ttft.png")
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="JSON-lines files, or - for stdin")
    parser.add_argument("--out-dir", required=True, help="where the PNG files go")
    parser.add_argument("--title-suffix", default="", help="appended to every chart title")
    args = parser.parse_args()
    rows, skipped = read_rows(args.files)
    os.makedirs(args.out_dir, exist_ok=True)
    suffix = f" ({args.title_suffix})" if args.title_suffix else ""
    written = [p for p in (host_chart(rows, args.out_dir, suffix),
                           nvme_chart(rows, args.out_dir, suffix),
                           ttft_chart(rows, args.out_dir, suffix)) if p]
    for path in written:
        print(f"plot-bench: wrote {path}")
    if skipped:
        print(f"plot-bench: skipped {skipped} lines", file=sys.stderr)
    if not written:
        print("plot-bench: no bench figures of a known kind in the input", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
