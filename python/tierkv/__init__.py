"""tierkv: the Python client of tierkvd, the multi-tier KV cache daemon.

Before it prefills a prompt, an engine asks which leading blocks of the
prompt already have their KV cached on the node, loads those, prefills the
rest and stores the new blocks::

    import numpy, tierkv
    client = tierkv.connect("/tmp/tierkv.sock")
    ns = client.namespace(model="llama-3-8b", block_tokens=16, block_bytes=1 << 20)
    ns.put(tokens, kv)                         # len(tokens) // 16 blocks of 1 MiB
    out = numpy.empty(len(tokens) // 16 << 20, numpy.uint8)
    n = ns.get(tokens, out)                    # cached leading blocks, copied into out

Over a Unix socket the daemon's shared pool is mapped into this process:
``put`` and ``get`` copy once, straight between your buffer and the pool, and
:meth:`Namespace.acquire` and :meth:`Namespace.reserve` lend the pool's
blocks themselves as memoryviews (zero copy). Over TCP (``"tcp:HOST:PORT"``)
the bytes travel inline. Buffers may be bytes, bytearray, memoryview, numpy
arrays (anything with the buffer protocol) or CPU torch tensors.

Every call that waits for the daemon releases the GIL. Failures raise a
subclass of :class:`tierkv.Error` named after its status code
(:class:`NotFound`, :class:`PermissionDenied`, :class:`ResourceExhausted`,
...).
"""

try:
    from ._tierkv import KV_DTYPES, LIBRARY_VERSION
except ImportError as e:  # the sources in python/ rather than a build or an install
    raise ImportError("tierkv's compiled core (_tierkv) is missing: import tierkv from a build "
                      "(PYTHONPATH=build/python) or an installed prefix") from e
from .client import (DEFAULT_ADDRESS, Buffer, Chain, Client, Lease, Namespace, Reservation,
                     Tokens, connect)
from .errors import (AlreadyExists, Corruption, Error, Internal, InvalidArgument, IOError,
                     NotFound, PermissionDenied, ProtocolError, ResourceExhausted, Unavailable,
                     Unsupported)

__version__ = LIBRARY_VERSION

__all__ = [
    "connect", "Client", "Namespace", "Chain", "Lease", "Reservation", "Buffer", "Tokens",
    "DEFAULT_ADDRESS", "KV_DTYPES", "Error", "InvalidArgument", "NotFound", "ResourceExhausted",
    "Corruption", "IOError", "PermissionDenied", "Unavailable", "ProtocolError", "Internal",
    "AlreadyExists", "Unsupported",
]
