"""tierkvd's /metrics as Prometheus sees it: a real Prometheus server (Debian's
prometheus package), started here on a free port, scrapes a real tierkvd;
after traffic from the real tierkv-bench the values read back through
Prometheus's HTTP query API are the ones `tierkv stats` reports, and
`promtool check metrics` accepts the exposition.

Run: TIERKV_BIN_DIR=build/bin /usr/bin/python3 -m pytest tests/integration/metrics_prometheus_test.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from tierkvd_process import Tierkvd, free_port, tier  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
SCRAPE_INTERVAL = "1s"
PORT_ATTEMPTS = 5
DEADLINE_S = 90
BLOCK_TOKENS = 16  # tierkv-bench's


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


class Prometheus:
    """A Prometheus server scraping one target, in its own directory."""

    def __init__(self, target):
        self.dir = tempfile.mkdtemp(prefix="tierkv-prometheus-")
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"global:\n  scrape_interval: {SCRAPE_INTERVAL}\n"
                    f"scrape_configs:\n  - job_name: tierkvd\n"
                    f"    static_configs:\n      - targets: ['{target}']\n")
        self.proc = None
        for _ in range(PORT_ATTEMPTS):  # the port may be taken meanwhile
            self.port = free_port()
            log = open(os.path.join(self.dir, "prometheus.log"), "ab")
            self.proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={config}",
                 f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT)
            if self.wait_ready():
                return
            self.proc.kill()
            self.proc.wait()
        raise RuntimeError(f"prometheus did not start:\n{self.log()}")

    def log(self):
        with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
            return f.read()

    def wait_ready(self):
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if "Ready" in get(f"http://127.0.0.1:{self.port}/-/ready"):
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def query(self, expr):
        """{labels tuple: value} of an instant query."""
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": expr}))
        doc = json.loads(get(url))
        assert doc["status"] == "success", doc
        return {tuple(sorted((k, v) for k, v in r["metric"].items()
                             if k not in ("job", "instance", "__name__"))): float(r["value"][1])
                for r in doc["data"]["result"]}

    def wait_for(self, expr, want):
        """Polls until the query gives `want` (scrapes come every second)."""
        deadline = time.monotonic() + DEADLINE_S
        got = None
        while time.monotonic() < deadline:
            got = self.query(expr)
            if got == want:
                return
            time.sleep(0.5)
        raise AssertionError(f"{expr}: {got} != {want}\n{self.log()[-2000:]}")

    def close(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def daemon():
    d = Tierkvd("--metrics-listen", "127.0.0.1:0")
    d.start()
    yield d
    assert d.stop() == 0, d.log()
    d.close()


def metrics_address(daemon):
    return daemon.log_match(r"metrics: serving http://(\S+)/metrics").group(1)


def test_promtool_accepts_the_exposition(daemon):
    daemon.bench("--workload", "fill", "--block-bytes", "64KiB", "--blocks", "32")
    daemon.bench("--workload", "verify", "--block-bytes", "64KiB", "--blocks", "32")
    text = get(f"http://{metrics_address(daemon)}/metrics")
    assert "tierkv_request_duration_seconds_bucket" in text
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout + r.stderr == "", r.stdout + r.stderr  # no lint findings


def test_prometheus_reads_back_what_traffic_moved(daemon):
    prometheus = Prometheus(metrics_address(daemon))
    try:
        prometheus.wait_for('tierkv_tier_blocks{tier="host"}', {(("tier", "host"),): 0.0})
        # tierkv-bench rounds the block count up to whole batches: use what it stored.
        blocks = daemon.bench("--workload", "fill", "--block-bytes", "64KiB",
                              "--blocks", "200")[0]["blocks"]
        daemon.bench("--workload", "verify", "--block-bytes", "64KiB", "--blocks", "200")
        stats = daemon.stats()
        host = tier(stats, "host")
        assert host["blocks"] == blocks and host["hits"] > 0, host
        prometheus.wait_for('tierkv_tier_blocks{tier="host"}',
                            {(("tier", "host"),): float(blocks)})
        prometheus.wait_for('tierkv_hits_total{tier="host"}',
                            {(("tier", "host"),): float(host["hits"])})
        prometheus.wait_for("tierkv_lookup_hit_tokens_total",
                            {(): float(host["hits"] * BLOCK_TOKENS)})
        prometheus.wait_for('tierkv_tenant_blocks{tenant="default"}',
                            {(("tenant", "default"),): float(blocks)})
        prometheus.wait_for('tierkv_transfer_bytes_total{from="client",to="host"}',
                            {(("from", "client"), ("to", "host")): float(host["bytes_in"])})
        prometheus.wait_for('tierkv_tier_used_bytes{tier="host"}',
                            {(("tier", "host"),): float(host["used_bytes"])})
        # A derived hit rate, as a dashboard computes it.
        rate = prometheus.query(
            "tierkv_lookup_hit_tokens_total / tierkv_lookup_tokens_total")
        assert list(rate.values()) == [1.0], rate
        durations = prometheus.query('tierkv_request_duration_seconds_count{op="acquire"}')
        assert durations and list(durations.values())[0] > 0, durations
        build = prometheus.query("tierkv_build_info")
        assert [dict(k)["version"] for k in build] == [stats["version"]], build
    finally:
        prometheus.close()
