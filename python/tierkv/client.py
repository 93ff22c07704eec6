"""Clients, namespaces, key chains, leases and reservations.

Every call that talks to the daemon releases the GIL while it waits. Payload
bytes are never copied on the Python side: ``put`` and ``get`` read and write
the caller's buffer in place, and leases and reservations are memoryviews of
the daemon's shared pool (over TCP, of the bytes that travelled inline).
"""

from __future__ import annotations

import json
import warnings
from typing import (TYPE_CHECKING, Any, Dict, Iterable, Iterator, Optional, Sequence, Tuple,
                    Union, overload)

from . import _tierkv
from . import errors as _errors  # registers the exception classes with _tierkv

if TYPE_CHECKING:
    import numpy
    import torch

DEFAULT_ADDRESS = "/tmp/tierkv.sock"
DEFAULT_TENANT = "default"

#: Anything that holds bytes in place: bytes, bytearray, memoryview, a numpy
#: array, array.array (any object with the buffer protocol), or a CPU torch tensor.
Buffer = Any
#: Token ids: a Chain, or a list, tuple, integer numpy array or torch tensor of them.
Tokens = Union["Chain", Iterable[int]]


def connect(address: str = DEFAULT_ADDRESS, tenant: Optional[str] = None,
            token: Optional[str] = None, timeout: Optional[float] = None, *,
            admin_token: Optional[str] = None, touch_pool: bool = False) -> "Client":
    """Connects to tierkvd.

    Args:
        address: ``"unix:PATH"``, ``"tcp:HOST:PORT"`` or a bare Unix socket path.
            Over a Unix socket the daemon's shared pool is mapped into this
            process and payloads never cross the socket; over TCP they travel
            inline.
        tenant: the tenant of the namespaces this client opens (``"default"``).
        token: that tenant's token, when the daemon lists the tenant under
            ``[tenants]``.
        timeout: seconds each request may wait for the daemon; None means the
            library's default (10 s), ``math.inf`` no limit. A request that runs
            out of time raises :class:`tierkv.Unavailable`.
        admin_token: the daemon's admin token, for :meth:`Client.evict` and
            :meth:`Client.flush`.
        touch_pool: touch every page of the shared pool now, so that the first
            blocks read later do not pay first-touch page faults (engines want
            this; short-lived tools do not).

    Raises:
        Unavailable: the daemon is not there.
    """
    return Client(_tierkv.Client(address, tenant or DEFAULT_TENANT, token or "",
                                 admin_token or "", timeout, touch_pool))


class Client:
    """One connection to tierkvd; make it with :func:`connect`.

    A client may be shared between threads (its requests are serialized on
    its one connection). Use it as a context manager, or call :meth:`close`.
    """

    __slots__ = ("_client",)

    def __init__(self, handle: "_tierkv.Client") -> None:
        self._client = handle

    @property
    def local(self) -> bool:
        """True over a Unix socket: payloads live in the mapped shared pool."""
        return self._client.local

    @property
    def tenant(self) -> str:
        """The tenant of the namespaces this client opens by default."""
        return self._client.tenant

    @property
    def closed(self) -> bool:
        return self._client.closed

    def namespace(self, *, model: str, block_bytes: int, block_tokens: int = 16,
                  kv_dtype: str = "f16", tenant: Optional[str] = None,
                  adapter: Optional[str] = None, layout: Optional[str] = None) -> "Namespace":
        """Opens (or finds) the namespace of blocks that are interchangeable.

        Args:
            model: the model's fingerprint, e.g. a hash of its weights.
            block_bytes: payload bytes per block (all layers' K and V of its tokens).
            block_tokens: tokens per block.
            kv_dtype: one of :data:`tierkv.KV_DTYPES`.
            tenant: the tenant (default: the client's).
            adapter: LoRA adapter id (default: none).
            layout: the engine's name for its KV layout (default ``"layer-major"``).

        Raises:
            InvalidArgument: an unknown kv_dtype, or an impossible size.
            PermissionDenied: the client lacks the tenant's token.
        """
        spec = _tierkv.NamespaceSpec()
        spec.model_fingerprint = model
        spec.tenant = tenant or self._client.tenant
        spec.adapter_id = adapter or ""
        spec.kv_dtype = kv_dtype
        if layout is not None:
            spec.kv_layout = layout
        spec.block_tokens = block_tokens
        spec.block_bytes = block_bytes
        return Namespace(self, self._client.open_namespace(spec))

    def stats(self) -> Dict[str, Any]:
        """The daemon's statistics (tiers, namespaces, counters) as a dict."""
        return json.loads(self._client.stats_json())

    def health(self) -> Dict[str, Any]:
        """``{"ok": bool, "version": str, "detail": str}`` from the daemon."""
        ok, version, detail = self._client.health()
        return {"ok": ok, "version": version, "detail": detail}

    def evict(self, ns: Optional["Namespace"] = None) -> int:
        """Drops every unpinned block of ``ns`` (None: of every namespace) from
        every tier and returns how many. Needs the admin token when the daemon
        sets one."""
        return self._client.evict(ns._ns if ns is not None else None)

    def flush(self) -> int:
        """Writes every host-tier block without an NVMe copy to NVMe and returns
        how many; afterwards every block stored before the call survives a
        daemon crash. Needs the admin token when the daemon sets one."""
        return self._client.flush()

    def gpu_pool(self) -> Dict[str, Any]:
        """The daemon's GPU tier pool, for engines on the same GPU:
        ``device``, ``pci_bus_id``, ``ipc_handle`` (cudaIpcMemHandle_t bytes),
        ``pool_bytes``. Raises Unavailable when the daemon has no GPU tier."""
        return self._client.gpu_pool()

    @property
    def shared_pool(self) -> Tuple[int, int]:
        """(address, bytes) of the daemon's shared pool in this process, for
        registering it once with a device (cudaHostRegister); (0, 0) over TCP."""
        return self._client.shared_pool()

    def close(self) -> None:
        """Unpins every open lease and aborts every open reservation; every
        later call raises Unavailable. The connection itself closes when the
        last view of its memory is gone."""
        self._client.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "local" if self.local else "tcp"
        state = ", closed" if self.closed else ""
        return f"<tierkv.Client {kind} tenant={self.tenant!r}{state}>"


class Chain(Sequence[int]):
    """The keys of a run of full blocks, with their tokens.

    ``key[i]`` names the whole prefix up to block ``i`` (a 128-bit int), and is
    computed locally, with no round trip. A chain from :meth:`Namespace.keys`
    starts at a prompt's first block; a slice ``chain[a:b]`` starts after
    block ``a - 1`` and can be stored (put, reserve) but not looked up.
    """

    __slots__ = ("_chain",)

    def __init__(self, handle: "_tierkv.Chain") -> None:
        self._chain = handle

    def __len__(self) -> int:
        return len(self._chain)

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> "Chain": ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            begin, end, step = index.indices(len(self._chain))
            if step != 1:
                raise _errors.InvalidArgument("a chain slice takes consecutive blocks")
            return Chain(self._chain.slice(begin, max(begin, end)))
        if index < 0:
            index += len(self._chain)
        if index < 0:
            raise IndexError("chain index out of range")
        return self._chain.key(index)

    @property
    def parent(self) -> int:
        """The key before the first block (the namespace id for a prompt's start)."""
        return self._chain.parent

    @property
    def starts_at_root(self) -> bool:
        """True when the chain starts at a prompt's first block."""
        return self._chain.starts_at_root

    @property
    def tokens(self) -> list:
        """The blocks' token ids, ``len(self) * block_tokens`` of them."""
        return self._chain.tokens

    def __repr__(self) -> str:
        return f"<tierkv.Chain of {len(self)} blocks>"


class Namespace:
    """Blocks that are interchangeable: one model, tenant, adapter, KV dtype
    and layout, block size. Made by :meth:`Client.namespace`.

    Every method that takes ``tokens`` takes a :class:`Chain` (computed once
    with :meth:`keys`) or the token ids themselves; only full blocks count.
    """

    __slots__ = ("_client", "_ns")

    def __init__(self, client: Client, handle: "_tierkv.Namespace") -> None:
        self._client = client
        self._ns = handle

    @property
    def client(self) -> Client:
        return self._client

    @property
    def id(self) -> int:
        """The namespace id (128 bits): the root of its key chains."""
        return self._ns.id

    @property
    def block_tokens(self) -> int:
        return self._ns.block_tokens

    @property
    def block_bytes(self) -> int:
        return self._ns.block_bytes

    def keys(self, tokens: Tokens) -> Chain:
        """The key chain of the full blocks of ``tokens`` (a trailing partial
        block gets no key). Local: no round trip."""
        if type(tokens) is Chain:
            return tokens
        return Chain(self._ns.chain(tokens))

    def _chain(self, tokens: Tokens) -> "_tierkv.Chain":
        if type(tokens) is Chain:
            return tokens._chain
        return self._ns.chain(tokens)

    def lookup(self, tokens: Tokens, prefetch: bool = False) -> int:
        """The number of leading blocks of ``tokens`` cached anywhere on the node
        (verified against their tokens). ``prefetch``: those found on NVMe start
        moving up to the host tier now."""
        return self._ns.lookup(self._chain(tokens), prefetch)

    def put(self, tokens: Tokens, data: Buffer) -> None:
        """Stores the blocks of ``tokens``: ``data`` holds ``len(chain) *
        block_bytes`` bytes, block i at ``i * block_bytes``, read in place.
        Blocks already stored are skipped.

        Raises:
            InvalidArgument: data of another size, or not a contiguous buffer.
            ResourceExhausted: the tier is full of pinned blocks.
        """
        self._ns.put(self._chain(tokens), data)

    def get(self, tokens: Tokens, out: Buffer) -> int:
        """Copies the longest cached prefix of ``tokens`` into ``out`` (block i
        at ``i * block_bytes``, written in place) and returns its length in
        blocks. ``out`` must hold every block asked for.

        Raises:
            InvalidArgument: ``out`` is too small, read-only or not contiguous.
        """
        return self._ns.get(self._chain(tokens), out)

    def acquire(self, tokens: Tokens, max_blocks: Optional[int] = None,
                gpu: bool = False) -> "Lease":
        """Pins the longest cached prefix of ``tokens`` (at most ``max_blocks``
        blocks) and lends it in place; use it as a context manager::

            with ns.acquire(tokens) as lease:
                for i in range(len(lease)):
                    kv_pages[i] = lease.numpy(i, numpy.float16)   # one copy, out of the pool

        ``gpu``: this process reads the daemon's GPU tier (:meth:`Client.gpu_pool`).
        """
        chain = self._chain(tokens)
        limit = len(chain) if max_blocks is None else max_blocks
        return Lease(self._ns.acquire(chain, limit, gpu))

    def reserve(self, tokens: Tokens, gpu: bool = False) -> "Reservation":
        """Reserves slots for the blocks of ``tokens``, to be written in place;
        use it as a context manager, which commits on a clean exit and aborts on
        an exception::

            with ns.reserve(chain[cached:]) as r:
                for i in range(len(r)):
                    view = r.numpy(i, numpy.float16)
                    if view is not None:          # None: already stored
                        view[:] = new_kv[i]

        All or nothing: a full tier raises ResourceExhausted and reserves
        nothing. ``gpu``: the blocks also go up to the GPU tier at commit.
        """
        return Reservation(self._ns.reserve(self._chain(tokens), gpu))

    def __repr__(self) -> str:
        return (f"<tierkv.Namespace id={self.id:032x} block_tokens={self.block_tokens} "
                f"block_bytes={self.block_bytes}>")


def _numpy_view(view: memoryview, dtype: Any, shape: Any) -> "numpy.ndarray":
    import numpy
    array = numpy.frombuffer(view, dtype=dtype)
    return array if shape is None else array.reshape(shape)


def _torch_view(view: memoryview, dtype: Any, shape: Any) -> "torch.Tensor":
    import torch
    with warnings.catch_warnings():
        # A lease's view is read-only; torch warns that it cannot enforce that.
        warnings.simplefilter("ignore", UserWarning)
        tensor = torch.frombuffer(view, dtype=dtype)
    return tensor if shape is None else tensor.view(shape)


class Lease:
    """Blocks pinned for this process and lent in place: ``lease[i]`` is a
    read-only memoryview of block i. While the lease is open the blocks are
    neither evicted nor moved; :meth:`release` (or leaving the ``with`` block)
    unpins them. Views stay valid memory afterwards but may then show other
    blocks' bytes. May hold fewer blocks than asked for (a miss ends it).
    """

    __slots__ = ("_lease",)

    def __init__(self, handle: "_tierkv.Lease") -> None:
        self._lease = handle

    def __len__(self) -> int:
        return len(self._lease)

    def __getitem__(self, i: int) -> memoryview:
        return self._lease.view(i)

    def __iter__(self) -> Iterator[memoryview]:
        return (self._lease.view(i) for i in range(len(self._lease)))

    def numpy(self, i: int, dtype: Any = "uint8", shape: Any = None) -> "numpy.ndarray":
        """Block i as a read-only numpy array of ``dtype`` (and ``shape``), no copy."""
        return _numpy_view(self._lease.view(i), dtype, shape)

    def tensor(self, i: int, dtype: Any = None, shape: Any = None) -> "torch.Tensor":
        """Block i as a torch tensor of ``dtype`` (and ``shape``), no copy.
        Read it only: writing would change the stored block."""
        import torch
        return _torch_view(self._lease.view(i), dtype or torch.uint8, shape)

    def address(self, i: int) -> int:
        """The address of block i in this process (for device copies)."""
        return self._lease.address(i)

    def tier(self, i: int) -> str:
        """Where block i lives: ``"host"``, or ``"gpu"`` (see :meth:`gpu_offset`)."""
        return self._lease.tier(i)

    def gpu_offset(self, i: int) -> int:
        """Block i's offset in the GPU tier pool, when :meth:`tier` is ``"gpu"``."""
        return self._lease.gpu_offset(i)

    @property
    def released(self) -> bool:
        return self._lease.released

    def release(self) -> None:
        """Unpins the blocks (idempotent)."""
        self._lease.release()

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lease.release()

    def __repr__(self) -> str:
        state = "released" if self.released else "open"
        return f"<tierkv.Lease of {len(self)} blocks, {state}>"


class Reservation:
    """Slots reserved for new blocks: ``r[i]`` is a writable memoryview of
    block i's slot, or None when that block is already stored. Write every
    slot in full, then :meth:`commit` (or leave the ``with`` block without an
    exception); :meth:`abort` frees the slots unwritten.
    """

    __slots__ = ("_reservation",)

    def __init__(self, handle: "_tierkv.Reservation") -> None:
        self._reservation = handle

    def __len__(self) -> int:
        return len(self._reservation)

    def __getitem__(self, i: int) -> Optional[memoryview]:
        return self._reservation.view(i)

    def numpy(self, i: int, dtype: Any = "uint8",
              shape: Any = None) -> Optional["numpy.ndarray"]:
        """Block i's slot as a writable numpy array, no copy; None when stored already."""
        view = self._reservation.view(i)
        return None if view is None else _numpy_view(view, dtype, shape)

    def tensor(self, i: int, dtype: Any = None, shape: Any = None) -> Optional["torch.Tensor"]:
        """Block i's slot as a writable torch tensor, no copy; None when stored already."""
        import torch
        view = self._reservation.view(i)
        return None if view is None else _torch_view(view, dtype or torch.uint8, shape)

    def address(self, i: int) -> int:
        """The address of block i's slot in this process; 0 when stored already."""
        return self._reservation.address(i)

    @property
    def open(self) -> bool:
        """True until commit or abort."""
        return self._reservation.open

    def commit(self) -> None:
        """Publishes the blocks: lookups find them from now on."""
        self._reservation.commit()

    def abort(self) -> None:
        """Frees the slots; nothing is stored (idempotent)."""
        self._reservation.abort()

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None and self._reservation.open:
            self._reservation.commit()
        else:
            self._reservation.abort()

    def __repr__(self) -> str:
        state = "open" if self.open else "done"
        return f"<tierkv.Reservation of {len(self)} blocks, {state}>"
