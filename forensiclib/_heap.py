"""glibc's heap settings for the suite's work: large arrays allocated and freed many times over (camera captures,
DCT coefficients, TensorFlow's tensors).

`tune_heap` is called by every process that does such work: one that builds data (`data.builders`), extracts
features (`provenance.features`, and its workers) or trains a network (`training.train`). It changes the process's
allocator settings for the rest of its life and does nothing without glibc (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes

__all__ = ["HEAP_SETTINGS", "tune_heap"]

#: mallopt's parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3

#: What `tune_heap` sets, in bytes.
HEAP_SETTINGS = {
    "M_MMAP_THRESHOLD": 256 << 20,  # blocks below this come from the heap, and are reused once freed
    "M_TRIM_THRESHOLD": 512 << 20,  # the heap gives memory back to the system past this much free at its top
    "M_TOP_PAD": 16 << 20,  # and grows by at least this much at a time
}

_tuned = False


def tune_heap() -> bool:
    """Have glibc reuse freed large blocks instead of mapping fresh pages for each (once per process).

    By default glibc serves a block of more than 128 kB with its own `mmap` and unmaps it when freed, so the next
    block of that size costs a page fault for every 4 kB touched; glibc raises that threshold by itself (up to
    32 MB) as such blocks are freed, but any `mallopt` call turns that adjustment off. The three settings of
    `HEAP_SETTINGS` are therefore set together:

    - a 256 MB mmap threshold: every block the suite allocates (a 1280x960 capture in float64 is 30 MB, a
      TensorFlow tensor of the 1-D CNN a few MB) comes from the heap;
    - a 512 MB trim threshold, so freed blocks stay for the next image or training step;
    - a 16 MB top pad, so the heap grows in steps (about 800 fewer page faults per image in feature extraction).

    Measured (`benchmarks/bench_heap.py`, fresh processes side by side): with the 16 MB pad alone, which is what
    feature extraction used to set, a paper-1 network trained about 1.8x slower than in a process left at glibc's
    defaults; with the three settings it trains at least as fast as at the defaults, and data builds spend far less
    time in the kernel.

    Returns:
        True if the settings were applied now (glibc, first call in this process), False otherwise.
    """
    global _tuned
    if _tuned:
        return False
    _tuned = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return False
    mallopt(_M_MMAP_THRESHOLD, HEAP_SETTINGS["M_MMAP_THRESHOLD"])
    mallopt(_M_TRIM_THRESHOLD, HEAP_SETTINGS["M_TRIM_THRESHOLD"])
    mallopt(_M_TOP_PAD, HEAP_SETTINGS["M_TOP_PAD"])
    return True
