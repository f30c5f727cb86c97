"""Process memory housekeeping after the in-memory map is (re)built.

Loading the map parses every boundary's GeoJSON text and builds thousands of long-lived
objects. Afterwards:

- ``gc.collect()`` then ``gc.freeze()`` move the survivors (the map, the tree, imported
  modules) into the collector's permanent generation. A batched request allocates tens of
  thousands of objects, which triggers collections; a full collection would otherwise walk
  the whole map each time (a 20–200 ms pause at the p99 of ``locate_many``). Frozen objects
  are still freed by reference counting when the next map replaces them.
- ``malloc_trim(0)`` (glibc) hands the freed parse buffers back to the operating system,
  so the resident size reflects what the map keeps, not the peak of loading it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from typing import Any


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    return libc


_LIBC = _libc()


def settle_after_load() -> dict[str, int]:
    """Collect, freeze the survivors and trim the heap; returns what was done (for logs)."""
    collected = gc.collect()
    gc.freeze()
    trimmed = int(_LIBC.malloc_trim(0)) if _LIBC is not None else 0
    return {"collected": collected, "frozen": gc.get_freeze_count(), "trimmed": trimmed}
