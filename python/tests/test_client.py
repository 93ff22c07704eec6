"""The client as a whole: tenants and tokens, admin calls, errors raised as
the class of their status code, the GIL released while a call waits, one
client shared by threads, and a package that documents itself."""

import ctypes
import os
import pydoc
import socket
import tempfile
import threading
import typing

import numpy
import pytest
import tierkv
from tierkv import errors

from conftest import BIN_DIR, BLOCK_TOKENS, FIXTURE_ADMIN_TOKEN, Daemon, host_tier, prompt

BLOCK_BYTES = 64 * 1024
ACME_TOKEN = "acme-t0ken"
ADMIN_TOKEN = "adm1n"


@pytest.fixture(scope="module")
def tenant_daemon():
    config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    config.write(f'[tenants]\nacme = "{ACME_TOKEN}"\n')
    config.close()
    d = Daemon(["--config", config.name, "--admin-token", ADMIN_TOKEN])
    yield d
    d.stop()
    os.unlink(config.name)


def test_a_tenant_with_its_token_uses_its_namespaces_and_no_one_else_can(tenant_daemon,
                                                                         transport, model):
    address = tenant_daemon.address(transport)
    with tierkv.connect(address, tenant="acme", token=ACME_TOKEN, timeout=5) as acme:
        assert acme.tenant == "acme"
        ns = acme.namespace(model=model, block_bytes=BLOCK_BYTES)
        tokens = prompt(2)
        ns.put(tokens, bytes(2 * BLOCK_BYTES))
        assert ns.lookup(tokens) == 2
        assert any(n["tenant"] == "acme" and n["model_fingerprint"] == model
                   for n in acme.stats()["namespaces"])
        # Over TCP admin calls need the admin token; on the Unix socket the
        # daemon's own uid (this test's) is admin too (docs/security.md).
        if transport == "tcp":
            with pytest.raises(tierkv.PermissionDenied, match="admin token"):
                acme.evict()
            with pytest.raises(PermissionError):
                acme.flush()
    with tierkv.connect(address, tenant="acme", token="wrong") as intruder:
        with pytest.raises(tierkv.PermissionDenied, match="do not allow tenant 'acme'"):
            intruder.namespace(model=model, block_bytes=BLOCK_BYTES)
        # The default tenant needs no token, and shares nothing with acme.
        other = intruder.namespace(model=model, block_bytes=BLOCK_BYTES, tenant="default")
        assert other.lookup(prompt(2)) == 0
    with tierkv.connect(address, admin_token=ADMIN_TOKEN) as admin:
        assert admin.evict() >= 2


def test_stats_health_evict_and_flush(daemon, transport, client, model):
    ns = client.namespace(model=model, block_bytes=BLOCK_BYTES)
    tokens = prompt(3)
    ns.put(tokens, bytes(3 * BLOCK_BYTES))
    stats = client.stats()
    assert host_tier(client)["blocks"] >= 3
    assert any(n["model_fingerprint"] == model and n["blocks"] == 3 for n in stats["namespaces"])
    health = client.health()
    assert health["ok"] and health["version"] and "host tier" in health["detail"]
    with tierkv.connect(daemon.address(transport), admin_token=FIXTURE_ADMIN_TOKEN) as admin:
        assert admin.flush() >= 3
        admin_ns = admin.namespace(model=model, block_bytes=BLOCK_BYTES)
        assert admin.evict(admin_ns) == 3
    assert ns.lookup(tokens) == 0


def test_errors_are_raised_as_the_class_of_their_status(daemon, client, model):
    with pytest.raises(tierkv.InvalidArgument, match="unknown kv_dtype 'fp99'"):
        client.namespace(model=model, block_bytes=BLOCK_BYTES, kv_dtype="fp99")
    assert set(tierkv.KV_DTYPES) >= {"f32", "f16", "bf16", "q8_0"}
    for dtype in tierkv.KV_DTYPES:
        client.namespace(model=model, block_bytes=BLOCK_BYTES, kv_dtype=dtype)
    with pytest.raises(tierkv.InvalidArgument, match="block_bytes must be"):
        client.namespace(model=model, block_bytes=0)
    with pytest.raises(tierkv.Unavailable, match="cannot reach tierkvd"):
        tierkv.connect(os.path.join(daemon.dir, "no-such.sock"))
    with pytest.raises(ConnectionError):
        tierkv.connect(os.path.join(daemon.dir, "no-such.sock"))
    with pytest.raises(tierkv.InvalidArgument, match="timeout"):
        tierkv.connect(daemon.socket, timeout=-1)
    expected = tierkv.Unsupported if not client.local else tierkv.Unavailable
    with pytest.raises(expected):
        client.gpu_pool()  # the test daemon has no GPU tier, and TCP clients never get it
    # 17 blocks of 4 MiB never fit the 64 MiB pool: refused whole, before anything is evicted.
    big = client.namespace(model=model, block_bytes=4 << 20)
    with pytest.raises(tierkv.ResourceExhausted):
        big.put(prompt(17), numpy.zeros(17 << 22, numpy.uint8))


def test_every_status_code_has_its_class_named_as_the_library_names_it():
    lib = ctypes.CDLL(os.path.join(BIN_DIR, os.pardir, "lib", "libtierkv.so.0"))
    lib.tierkv_status_name.restype = ctypes.c_char_p
    assert sorted(errors.ERRORS_BY_CODE) == list(range(1, 12))
    for code, cls in errors.ERRORS_BY_CODE.items():
        assert issubclass(cls, tierkv.Error)
        assert cls.code == code
        assert cls.status == lib.tierkv_status_name(code).decode()
        assert getattr(tierkv, cls.__name__) is cls
        parts = cls.status.split("_")
        assert cls.__name__.lower() == "".join(parts), (cls.__name__, cls.status)


def test_a_waiting_call_releases_the_gil():
    # A socket that answers nothing: the connect below waits for a hello reply
    # while this thread, which needs the GIL, accepts it, reads the hello and
    # hangs up. Were the GIL held, the call would time out first instead.
    path = os.path.join(tempfile.mkdtemp(prefix="tierkv-py-gil-"), "silent.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    outcome = {}

    def connect():
        try:
            tierkv.connect(path, timeout=30)
        except tierkv.Unavailable as e:
            outcome["error"] = str(e)

    worker = threading.Thread(target=connect)
    worker.start()
    conn, _ = listener.accept()
    assert conn.recv(4) == b"TKV1"
    conn.close()
    worker.join()
    listener.close()
    os.unlink(path)
    assert "timed out" not in outcome["error"]  # it saw the hang-up: "reset" or "closed"


def test_one_client_shared_by_threads(client, model):
    ns = client.namespace(model=model, block_bytes=BLOCK_BYTES)
    tokens = prompt(4)
    data = numpy.random.default_rng(3).integers(0, 256, 4 * BLOCK_BYTES, numpy.uint8)
    ns.put(tokens, data)
    chain = ns.keys(tokens)
    failures = []

    def reader():
        out = numpy.empty_like(data)
        for _ in range(50):
            if ns.get(chain, out) != 4 or not numpy.array_equal(out, data):
                failures.append(1)
            with ns.acquire(chain) as lease:
                if bytes(lease[3]) != data[3 * BLOCK_BYTES:].tobytes():
                    failures.append(1)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_the_package_documents_itself():
    text = pydoc.render_doc(tierkv, renderer=pydoc.plaintext)
    for name in ("connect", "Namespace", "Lease", "Reservation", "NotFound", "zero copy"):
        assert name in text, name
    for cls in (tierkv.Client, tierkv.Namespace, tierkv.Chain, tierkv.Lease,
                tierkv.Reservation):
        assert cls.__doc__
        for name, member in vars(cls).items():
            if not name.startswith("_") and callable(member):
                assert member.__doc__, f"{cls.__name__}.{name}"
    hints = typing.get_type_hints(tierkv.connect)
    assert hints["return"] is tierkv.Client
    assert typing.get_type_hints(tierkv.Namespace.lookup)["return"] is int


def test_the_kv_offload_example_stores_and_reloads_a_prompt(daemon, transport):
    import runpy
    import sys
    example = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "kv_offload.py")
    argv = sys.argv
    sys.argv = [example, "--address", daemon.address(transport), "--blocks", "5"]
    try:
        runpy.run_path(example, run_name="__main__")
    except SystemExit as e:
        assert e.code in (None, 0)
    finally:
        sys.argv = argv
