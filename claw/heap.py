"""Keeping a long-running daemon's memory flat on glibc (Linux): fewer malloc arenas, and freed memory returned.

Python frees most of what a turn allocates, but glibc keeps freed pages in per-thread
arenas (up to eight per core) and rarely hands them back, so RSS creeps up with use
while the Python heap stays level. Two arenas are enough for a daemon whose threads are
the event loop, one database writer and one memory reader; ``trim`` returns what is
free to the system, called when the daemon has been idle for a while. Elsewhere (musl,
macOS) both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

M_ARENA_MAX = -8


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def limit_arenas(arenas: int = 2) -> bool:
    """Before the worker threads start: their allocations share ``arenas`` arenas."""
    libc = _libc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, arenas))


def trim() -> bool:
    """Give free heap pages back to the system; True if any were."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0))
