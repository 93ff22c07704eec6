"""Fixtures: real tierkvd processes (build/bin/tierkvd, or $TIERKV_BIN_DIR).

One daemon serves a whole test module; each test opens namespaces of its own
(its name is the model fingerprint), so tests do not see each other's blocks.
"""

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Iterator, List, Optional

import pytest
import tierkv

BIN_DIR = os.environ.get("TIERKV_BIN_DIR", os.path.join("build", "bin"))
START_TIMEOUT_S = 20
POOL_BYTES = 64 << 20
BLOCK_TOKENS = 16


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """A tierkvd with its own socket, TCP port and data directory."""

    def __init__(self, extra_flags: Optional[List[str]] = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="tierkv-py-")
        self.socket = os.path.join(self.dir, "tierkv.sock")
        self.port = free_port()
        self.tcp = f"tcp:127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.dir, "tierkvd.log")
        args = [os.path.join(BIN_DIR, "tierkvd"), "--socket", self.socket,
                "--tcp", f"127.0.0.1:{self.port}", "--data-dir", os.path.join(self.dir, "data"),
                "--host-bytes", "64MiB", "--slab-bytes", "8MiB", "--nvme-bytes", "256MiB",
                "--gpu-bytes", "256MiB", "--metrics-listen", "off"] + (extra_flags or [])
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_healthy()

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tierkvd exited: {self.log()}")
            try:
                with tierkv.connect(self.socket, timeout=1) as c:
                    if c.health()["ok"]:
                        return
            except tierkv.Unavailable:
                time.sleep(0.02)
        raise RuntimeError(f"tierkvd did not start: {self.log()}")

    def log(self) -> str:
        with open(self.log_path) as f:
            return f.read()

    def address(self, transport: str) -> str:
        return self.tcp if transport == "tcp" else self.socket

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# Evict and flush over TCP need the admin token (docs/security.md).
FIXTURE_ADMIN_TOKEN = "py-admin"


@pytest.fixture(scope="module")
def daemon() -> Iterator[Daemon]:
    d = Daemon(["--admin-token", FIXTURE_ADMIN_TOKEN])
    yield d
    d.stop()


@pytest.fixture(params=["unix", "tcp"])
def transport(request) -> str:
    return request.param


@pytest.fixture
def client(daemon: Daemon, transport: str) -> Iterator[tierkv.Client]:
    with tierkv.connect(daemon.address(transport)) as c:
        yield c


_models = itertools.count()


@pytest.fixture
def model(request) -> str:
    """A model fingerprint no other test uses."""
    return f"{request.node.name}-{next(_models)}"


def prompt(blocks: int, first: int = 1) -> List[int]:
    """Token ids of `blocks` full blocks."""
    return list(range(first, first + blocks * BLOCK_TOKENS))


def host_tier(client: tierkv.Client) -> dict:
    return next(t for t in client.stats()["tiers"] if t["name"] == "host")
