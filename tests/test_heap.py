"""Freed memory handed back between chunks (shieldlab.engine.heap)."""

import json
import subprocess
import sys

import pytest

from shieldlab.engine import heap

# run in a fresh interpreter: the premise (where glibc's threshold and the heap's free blocks
# stand) must not depend on what the test process allocated before
_SCRIPT = r"""
import json, sys
import numpy as np
from shieldlab.engine import heap

def anon_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024

import ctypes
libc = ctypes.CDLL("libc.so.6")
# what a long run's big freed arrays do to glibc's thresholds, set outright (raised by a freed
# 16 MB block, the threshold left the 1 MB blocks to their own mappings in some starts)
libc.mallopt(-3, 64 * 2**20)  # M_MMAP_THRESHOLD: blocks under 64 MB come from the heap
libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: free() alone never trims the heap's top
blocks = [np.ones(2**17) for _ in range(96)]  # 96 MB in 1 MB blocks, now on the heap
pin = np.ones(2**15)  # a live block above them keeps the heap from shrinking at its top
held = anon_mb()
del blocks
kept = anon_mb()
released = heap.release() if sys.argv[1] == "1" else None
print(json.dumps({"held": held, "kept": kept, "after": anon_mb(), "released": released, "pin": float(pin.sum())}))
"""


def _measure(release: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", _SCRIPT, "1" if release else "0"], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux") or heap._malloc_trim() is None,
                    reason="glibc's malloc_trim is what is measured")
def test_release_returns_the_pages_a_chunk_freed_inside_the_heap():
    """The case of a chunk's arrays: once glibc has freed a block of 16 MB it serves blocks
    below that from the heap, and pages freed below a live block stay resident; release()
    gives them back."""
    without, with_ = _measure(False), _measure(True)
    for m in (without, with_):
        assert m["kept"] > m["held"] - 16, "freed blocks below a live one stay resident (the premise)"
    assert without["after"] > without["kept"] - 16
    assert with_["released"] is True
    assert with_["after"] < with_["kept"] - 64


def test_release_without_malloc_trim_changes_nothing(monkeypatch):
    monkeypatch.setattr(heap, "_malloc_trim", lambda: None)
    assert heap.release() is False
