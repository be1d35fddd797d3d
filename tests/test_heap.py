"""glibc's heap settings (`forensiclib._heap`): what each one spares, measured in fresh processes."""

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the heap settings are glibc's")

_SETUP = """
import ctypes, resource, sys
import numpy as np
from forensiclib import _heap
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
if sys.argv[1] == "pad only":  # what feature extraction used to set: the top pad alone
    ctypes.CDLL(None).mallopt(-2, 16 << 20)
elif sys.argv[1] == "tuned":
    assert _heap.tune_heap() and not _heap.tune_heap()  # applied on the first call only
"""

_LARGE_BLOCKS = _SETUP + """
for _ in range(3):  # warm-up
    np.ones(1 << 19).sum()  # a 4 MB block, as a tensor of a training step
before = faults()
for _ in range(20):
    np.ones(1 << 19).sum()
print((faults() - before) / 20)
"""

_IMAGES = _SETUP + """
from forensiclib.provenance import features
for path in sys.argv[2:]:  # warm-up
    features.image_features(path)
before = faults()
for _ in range(3):
    for path in sys.argv[2:]:
        features.image_features(path)
print((faults() - before) / 3)
"""


def _faults(script: str, heap: str, *args: str) -> float:
    out = subprocess.run([sys.executable, "-c", script, heap, *args], capture_output=True, text=True, check=True)
    return float(out.stdout)


def test_tuned_heap_reuses_large_blocks_that_a_top_pad_alone_maps_afresh():
    """Any mallopt turns glibc's own mmap-threshold adjustment off: with the pad alone, every 4 MB block is a fresh
    mapping (about 1,000 page faults); tune_heap sets the threshold too, and the freed block is reused."""
    faults = {heap: _faults(_LARGE_BLOCKS, heap) for heap in ("pad only", "tuned")}
    assert faults["pad only"] > 500, faults
    assert faults["tuned"] < faults["pad only"] / 10, faults


def test_tuned_heap_spares_the_page_faults_of_each_image(photo_jpegs):
    """A feature worker extracts image after image; at glibc's defaults its heap shrinks and grows every image."""
    paths = [str(photo_jpegs[name, 75, "4:4:4"]) for name in ("chelsea", "coffee", "china")]
    faults = {heap: _faults(_IMAGES, heap, *paths) for heap in ("default", "tuned")}
    assert faults["tuned"] < faults["default"] / 4, faults
