"""Handing freed memory back to the operating system between chunks.

A chunk's records are many NumPy arrays of a few hundred kilobytes to tens of megabytes.
glibc's allocator serves the larger ones with ``mmap`` and unmaps them when freed, but it
raises that threshold to the largest block freed so far, so after the first chunk most of
its arrays come from the heap, and a heap keeps the pages it freed for later: a long run's
resident memory stays at its largest chunk plus whatever came after it (the summary, the
report's charts, the tables' writing), each on top of the last.  ``malloc_trim`` returns
the free pages at the top and inside the heap.  Measured on ``run epaa-phase-1 --runs 1000
--out DIR``: peak resident memory 445 -> 397 MB (BENCHMARKS.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl, Windows)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release() -> bool:
    """Give the allocator's free pages back to the operating system; True where it could
    (glibc), False where this C library offers no way.  Changes no Python object."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:  # Arrow's own pool (mimalloc) keeps what reading and writing Parquet took
        arrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
