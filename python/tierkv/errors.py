"""The exceptions tierkv raises: one class per status code of the daemon and
the library (tierkv/status.h), all under :class:`Error`.

Where a Python built-in means the same thing, the class also derives from it,
so ``except ValueError`` catches :class:`InvalidArgument` and ``except
ConnectionError`` catches :class:`Unavailable`.
"""

from __future__ import annotations

from typing import Dict, Type

from . import _tierkv


class Error(Exception):
    """A tierkv call failed. ``code`` and ``status`` name the status code."""

    code: int = -1
    status: str = "unknown"


class InvalidArgument(Error, ValueError):
    """The request is malformed, names something impossible, or a buffer is too small."""

    code, status = 1, "invalid_argument"


class NotFound(Error, LookupError):
    """An unknown namespace, lease or reservation."""

    code, status = 2, "not_found"


class ResourceExhausted(Error):
    """A tier is full of pinned blocks or blocks being written, or a limit is hit."""

    code, status = 3, "resource_exhausted"


class Corruption(Error):
    """Stored bytes failed their checksum; they were dropped, never served."""

    code, status = 4, "corruption"


class IOError(Error):  # noqa: A001 - named after the status code io_error
    """The operating system refused a read or write."""

    code, status = 5, "io_error"


class PermissionDenied(Error, PermissionError):
    """The tenant or admin token does not allow this operation."""

    code, status = 6, "permission_denied"


class Unavailable(Error, ConnectionError):
    """The daemon cannot be reached, timed out, or the client was closed."""

    code, status = 7, "unavailable"


class ProtocolError(Error):
    """A frame could not be decoded."""

    code, status = 8, "protocol_error"


class Internal(Error):
    """A bug: an invariant did not hold."""

    code, status = 9, "internal"


class AlreadyExists(Error):
    """The block is already stored."""

    code, status = 10, "already_exists"


class Unsupported(Error):
    """A version or feature this daemon or library does not have."""

    code, status = 11, "unsupported"


ERRORS_BY_CODE: Dict[int, Type[Error]] = {
    cls.code: cls
    for cls in (InvalidArgument, NotFound, ResourceExhausted, Corruption, IOError,
                PermissionDenied, Unavailable, ProtocolError, Internal, AlreadyExists,
                Unsupported)
}

_tierkv._set_error_classes(ERRORS_BY_CODE)
