"""Leases and reservations lend the daemon's shared pool itself: what is
written through a reservation's view is what another client reads, and two
views of one block are the same memory. Pins last as long as the lease,
the client or the process, and views never outlive their memory."""

import gc
import os
import subprocess
import sys
import time

import numpy
import pytest
import tierkv

from conftest import BLOCK_TOKENS, host_tier, prompt

BLOCK_BYTES = 64 * 1024


@pytest.fixture
def ns(client, model):
    return client.namespace(model=model, block_tokens=BLOCK_TOKENS, block_bytes=BLOCK_BYTES,
                            kv_dtype="f16")


def address_of(array: numpy.ndarray) -> int:
    return array.__array_interface__["data"][0]


def test_a_write_through_a_reservation_view_is_what_another_client_reads(daemon, transport, ns,
                                                                       model):
    tokens = prompt(3)
    with ns.reserve(tokens) as r:
        assert len(r) == 3 and r.open
        for i in range(3):
            view = r.numpy(i, numpy.float16)
            assert view.flags.writeable and view.size == BLOCK_BYTES // 2
            view[:] = numpy.arange(view.size, dtype=numpy.float16) + i
        assert ns.lookup(tokens) == 0, "uncommitted blocks are invisible"
    assert not r.open
    with tierkv.connect(daemon.address(transport)) as other:
        theirs = other.namespace(model=model, block_tokens=BLOCK_TOKENS, block_bytes=BLOCK_BYTES)
        out = numpy.empty(3 * BLOCK_BYTES // 2, numpy.float16)
        assert theirs.get(tokens, out) == 3
        for i in range(3):
            block = out[i * BLOCK_BYTES // 2:(i + 1) * BLOCK_BYTES // 2]
            assert numpy.array_equal(block, numpy.arange(block.size, dtype=numpy.float16) + i)


def test_views_of_one_block_are_the_same_memory_in_the_shared_pool(daemon, ns):
    if not ns.client.local:
        pytest.skip("over TCP the bytes travel inline")
    tokens = prompt(2)
    r = ns.reserve(tokens)
    written = r.numpy(1)
    written[:] = 42
    slot = r.address(1)
    r.commit()
    base, size = ns.client.shared_pool
    assert base <= slot < base + size - BLOCK_BYTES + 1
    with ns.acquire(tokens) as first, ns.acquire(tokens) as second:
        a, b = first.numpy(1), second.numpy(1)
        assert address_of(a) == address_of(b) == first.address(1) == slot
        assert address_of(written) == slot
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[0] = 1
        assert (a == 42).all()
        # A write into the slot (as only a writer may) shows through both leases.
        written[0] = 7
        assert a[0] == 7 and b[0] == 7
        assert first.tier(1) == "host"


def test_a_lease_pins_until_released(daemon, transport, ns):
    tokens = prompt(4)
    ns.put(tokens, numpy.ones(4 * BLOCK_BYTES, numpy.uint8))
    admin = tierkv.connect(daemon.socket)
    with ns.acquire(tokens, max_blocks=3) as lease:
        assert len(lease) == 3
        assert bytes(lease[2]) == b"\x01" * BLOCK_BYTES
        assert lease[0].readonly
        admin.evict(ns)
        expect = 3 if ns.client.local else 0  # a TCP lease holds bytes, not pins
        assert ns.lookup(tokens) == expect
    assert lease.released
    with pytest.raises(tierkv.InvalidArgument, match="released"):
        lease[0]
    admin.evict(ns)
    assert ns.lookup(tokens) == 0
    admin.close()


def test_an_exception_aborts_the_reservation(ns):
    tokens = prompt(2)
    used = host_tier(ns.client)["used_bytes"]
    with pytest.raises(RuntimeError):
        with ns.reserve(tokens) as r:
            r.numpy(0)[:] = 1
            raise RuntimeError("the engine failed mid-write")
    assert not r.open
    assert ns.lookup(tokens) == 0
    assert host_tier(ns.client)["used_bytes"] == used


def test_a_block_stored_already_has_no_slot(ns):
    if not ns.client.local:
        pytest.skip("over TCP the client cannot know what is stored")
    tokens = prompt(2)
    ns.put(tokens[:BLOCK_TOKENS], bytes(BLOCK_BYTES))
    with ns.reserve(tokens) as r:
        assert r[0] is None and r.numpy(0) is None and r.address(0) == 0
        r[1][:] = b"\x02" * BLOCK_BYTES
    assert ns.lookup(tokens) == 2


def test_close_unpins_and_views_stay_valid_memory(daemon, transport, model):
    writer = tierkv.connect(daemon.address(transport))
    ns = writer.namespace(model=model, block_tokens=BLOCK_TOKENS, block_bytes=BLOCK_BYTES)
    tokens = prompt(2)
    ns.put(tokens, b"\x09" * (2 * BLOCK_BYTES))
    lease = ns.acquire(tokens)
    view = lease[1]
    array = lease.numpy(0)
    writer.close()
    assert lease.released
    with pytest.raises(tierkv.Unavailable, match="closed"):
        ns.lookup(tokens)
    del lease, ns, writer
    gc.collect()
    # The views still hold the memory they show (here, nothing reused it yet).
    assert bytes(view) == b"\x09" * BLOCK_BYTES and (array == 9).all()
    admin = tierkv.connect(daemon.socket)
    admin_ns = admin.namespace(model=model, block_tokens=BLOCK_TOKENS, block_bytes=BLOCK_BYTES)
    assert admin.evict(admin_ns) == 2, "nothing is pinned any more"
    admin.close()


KILLED_CLIENT = """
import sys, tierkv
client = tierkv.connect(sys.argv[1])
ns = client.namespace(model=sys.argv[2], block_tokens=16, block_bytes=65536)
lease = ns.acquire(list(range(1, 1 + 4 * 16)))
print(len(lease), flush=True)
sys.stdin.read()
"""


def test_a_killed_python_clients_pins_are_released(daemon, transport, model):
    admin = tierkv.connect(daemon.socket)
    ns = admin.namespace(model=model, block_tokens=BLOCK_TOKENS, block_bytes=BLOCK_BYTES)
    tokens = prompt(4)
    ns.put(tokens, bytes(4 * BLOCK_BYTES))
    pinned = host_tier(admin)["pinned_blocks"]
    child = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, daemon.address(transport), model],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ)
    assert child.stdout.readline().strip() == b"4"
    local = transport == "unix"
    if local:
        assert host_tier(admin)["pinned_blocks"] == pinned + 4
        assert admin.evict(ns) == 0
    child.kill()
    child.wait()
    deadline = time.monotonic() + 10
    while host_tier(admin)["pinned_blocks"] > pinned and time.monotonic() < deadline:
        time.sleep(0.01)
    assert host_tier(admin)["pinned_blocks"] == pinned
    assert admin.evict(ns) == 4
    admin.close()
