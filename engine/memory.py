"""Giving freed memory back to the operating system after a large request.

glibc's malloc keeps freed blocks in its arenas (one per thread that allocated, up to 8 per core) for reuse, so a
gateway that once transcribed an hour of audio in chunks would keep its peak RSS for good. `malloc_trim(0)` returns
the free pages of every arena; the images also cap the arenas with MALLOC_ARENA_MAX (docker/). Elsewhere than
glibc (musl, macOS) there is nothing to call and this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

logger = logging.getLogger(__name__)


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> bool:
    """Return free heap pages to the OS (glibc `malloc_trim`); False where the C library has no such call."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
