"""put and get read and write the caller's own buffer: bytes, bytearray,
memoryview, numpy arrays, array.array and CPU torch tensors; token ids come
as lists, tuples, numpy arrays or torch tensors. Over both transports."""

import array

import numpy
import pytest
import torch
import tierkv

from conftest import BLOCK_TOKENS, prompt

BLOCK_BYTES = 64 * 1024
BLOCKS = 4


def payload(blocks: int = BLOCKS, seed: int = 1) -> numpy.ndarray:
    return numpy.random.default_rng(seed).integers(0, 256, blocks * BLOCK_BYTES, numpy.uint8)


@pytest.fixture
def ns(client, model):
    return client.namespace(model=model, block_tokens=BLOCK_TOKENS, block_bytes=BLOCK_BYTES)


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "numpy", "array", "torch"])
def test_put_reads_any_buffer_in_place(ns, kind):
    data = payload()
    source = {
        "bytes": lambda: data.tobytes(),
        "bytearray": lambda: bytearray(data.tobytes()),
        "memoryview": lambda: memoryview(data.tobytes()),
        "numpy": lambda: data,
        "array": lambda: array.array("B", data.tobytes()),
        "torch": lambda: torch.from_numpy(data.copy()),
    }[kind]()
    tokens = prompt(BLOCKS)
    ns.put(tokens, source)
    assert ns.lookup(tokens) == BLOCKS
    out = numpy.zeros_like(data)
    assert ns.get(tokens, out) == BLOCKS
    assert numpy.array_equal(out, data)


@pytest.mark.parametrize("kind", ["bytearray", "memoryview", "numpy", "torch"])
def test_get_writes_any_writable_buffer_in_place(ns, kind):
    data = payload(seed=2)
    tokens = prompt(BLOCKS)
    ns.put(tokens, data)
    out = {
        "bytearray": lambda: bytearray(data.nbytes),
        "memoryview": lambda: memoryview(bytearray(data.nbytes)),
        "numpy": lambda: numpy.zeros(data.nbytes // 2, numpy.float16),
        "torch": lambda: torch.zeros(data.nbytes // 2, dtype=torch.float16),
    }[kind]()
    assert ns.get(tokens, out) == BLOCKS
    assert bytes(memoryview(out.numpy() if kind == "torch" else out).cast("B")) == data.tobytes()


def test_get_of_a_partly_cached_prompt_fills_only_its_prefix(ns):
    data = payload()
    tokens = prompt(BLOCKS)
    ns.put(tokens[:2 * BLOCK_TOKENS], data[:2 * BLOCK_BYTES])
    out = numpy.full(data.size, 7, numpy.uint8)
    assert ns.get(tokens, out) == 2
    assert numpy.array_equal(out[:2 * BLOCK_BYTES], data[:2 * BLOCK_BYTES])
    assert (out[2 * BLOCK_BYTES:] == 7).all()


def test_token_ids_come_in_any_integer_form(ns):
    tokens = prompt(3)
    want = list(ns.keys(tokens))
    forms = [tuple(tokens), numpy.array(tokens, numpy.int64), numpy.array(tokens, numpy.uint32),
             torch.tensor(tokens), array.array("I", tokens), tokens + [5, 6]]  # + a partial block
    for form in forms:
        assert list(ns.keys(form)) == want, type(form)
    with pytest.raises(tierkv.InvalidArgument, match="below 0"):
        ns.keys(numpy.array([-1] * BLOCK_TOKENS))
    with pytest.raises(tierkv.InvalidArgument, match="outside 0..2"):
        ns.keys([2 ** 32] * BLOCK_TOKENS)
    with pytest.raises(tierkv.InvalidArgument, match="not an int"):
        ns.keys(["a"] * BLOCK_TOKENS)
    with pytest.raises(tierkv.InvalidArgument, match="format"):
        ns.keys(numpy.zeros(BLOCK_TOKENS, numpy.float32))


def test_bad_buffers_are_refused_and_change_nothing(ns):
    data = payload()
    tokens = prompt(BLOCKS)
    ns.put(tokens[:BLOCK_TOKENS], data[:BLOCK_BYTES])
    with pytest.raises(tierkv.InvalidArgument, match="payload holds"):
        ns.put(tokens, data[:-1])
    with pytest.raises(tierkv.InvalidArgument, match="cannot hold 4 blocks"):
        ns.get(tokens, bytearray(BLOCK_BYTES - 1))  # smaller than one block: an error, not 0
    with pytest.raises(tierkv.InvalidArgument, match="writable"):
        ns.get(tokens, bytes(data.nbytes))
    with pytest.raises(tierkv.InvalidArgument, match="contiguous"):
        ns.get(tokens, numpy.zeros(2 * data.nbytes, numpy.uint8)[::2])
    with pytest.raises(tierkv.InvalidArgument, match="not contiguous"):
        ns.put(tokens, torch.zeros(2 * data.nbytes, dtype=torch.uint8)[::2])
    with pytest.raises(tierkv.InvalidArgument, match="not int"):
        ns.put(tokens, 12345)
    assert isinstance(tierkv.InvalidArgument("x"), ValueError)
    assert ns.lookup(tokens) == 1


def test_a_chain_names_prefixes_and_slices_into_continuations(ns):
    tokens = prompt(4)
    chain = ns.keys(tokens)
    assert len(chain) == 4 and chain.starts_at_root and chain.parent == ns.id
    assert chain[0] != chain[1] and all(0 < k < 2 ** 128 for k in chain)
    assert chain[-1] == chain[3]
    tail = chain[2:]
    assert len(tail) == 2 and not tail.starts_at_root
    assert tail.parent == chain[1] and list(tail) == [chain[2], chain[3]]
    assert tail.tokens == tokens[2 * BLOCK_TOKENS:]
    # Store the head, then the tail as a continuation: the whole prompt is cached.
    data = payload()
    ns.put(chain[:2], data[:2 * BLOCK_BYTES])
    ns.put(tail, data[2 * BLOCK_BYTES:])
    assert ns.lookup(chain) == 4
    with pytest.raises(tierkv.InvalidArgument, match="first block"):
        ns.lookup(tail)
    with pytest.raises(IndexError):
        chain[4]
