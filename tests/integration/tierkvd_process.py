"""A real tierkvd for Python tests: started in a fresh directory, with the
same small defaults as tests/integration/daemon_process.h, and the built
tierkv CLI and tierkv-bench to drive it. Binaries come from TIERKV_BIN_DIR
(set by ctest), else build/bin."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

BIN_DIR = os.environ.get("TIERKV_BIN_DIR", "build/bin")
START_DEADLINE_S = 60
STOP_DEADLINE_S = 120


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tierkvd:
    def __init__(self, *flags):
        self.dir = tempfile.mkdtemp(prefix="tierkv-pytest-")
        self.socket = os.path.join(self.dir, "tierkv.sock")
        self.log_path = os.path.join(self.dir, "tierkvd.log")
        self.flags = list(flags)
        self.proc = None

    def start(self):
        args = [os.path.join(BIN_DIR, "tierkvd"), "--socket", self.socket, "--tcp", "off",
                "--data-dir", os.path.join(self.dir, "data"), "--host-bytes", "64MiB",
                "--slab-bytes", "8MiB", "--nvme-bytes", "256MiB", "--gpu-bytes", "256MiB",
                "--metrics-listen", "127.0.0.1:0", "--log-level", "debug"] + self.flags
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tierkvd exited {self.proc.returncode}:\n{self.log()}")
            if self.cli("health", check=False).returncode == 0:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"tierkvd did not come up:\n{self.log()}")

    def stop(self):
        """SIGTERM, as an operator stops it; returns its exit status."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=STOP_DEADLINE_S)
        self.proc = None
        return code

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        if not os.environ.get("TIERKV_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def log_match(self, pattern):
        """The first match of `pattern` in the log (waiting for it a while)."""
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            m = re.search(pattern, self.log())
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in the log:\n{self.log()}")

    def cli(self, *args, check=True):
        r = subprocess.run([os.path.join(BIN_DIR, "tierkv"), "--socket", self.socket, *args],
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"tierkv {' '.join(args)}: {r.returncode}\n{r.stderr}")
        return r

    def stats(self):
        return json.loads(self.cli("stats", "--json").stdout)

    def bench(self, *args):
        r = subprocess.run([os.path.join(BIN_DIR, "tierkv-bench"), "--socket", self.socket,
                            "--json", *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"tierkv-bench {' '.join(args)}: {r.returncode}\n{r.stderr}")
        return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def tier(stats, name):
    for t in stats["tiers"]:
        if t["name"] == name:
            return t
    return None
