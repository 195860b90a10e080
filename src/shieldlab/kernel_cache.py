"""Numba's cache of the compiled kernels, kept true to the code.

Numba checks a cached kernel against the modification time and size of the one file that
defines it.  A kernel that inlines or calls a function of another file (the trackers call
the field-of-regard test of ``sensors/visibility.py``; every kernel calls ``earth_kernel``)
keeps its old machine code when only that other file changes: an upgrade could run the new
Python around the old compiled physics.  :func:`check` keeps a digest of every file that
holds compiled code, with Numba's and NumPy's versions, beside the cache; where it differs
(or none is there), the index of every cached kernel is emptied, so that each compiles
afresh on first use (as on a fresh install), and the new digest is written.  A lock keeps
two processes (test workers) from emptying it at once.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

__all__ = ["check", "kernel_modules", "digest", "flush"]

#: Name of the digest's file, in the cache's folder.
STAMP = "shieldlab-kernels.sha256"

_PACKAGE = Path(__file__).resolve().parent


def kernel_modules() -> list[str]:
    """The shieldlab modules that hold kernels Numba caches (``cache=True``), dotted names."""
    out = []
    for f in sorted(_PACKAGE.rglob("*.py")):
        if "__pycache__" in f.parts or f.name == "kernel_cache.py":
            continue
        text = f.read_text(encoding="utf-8")
        if "cache=True" in text and "njit" in text:
            rel = f.relative_to(_PACKAGE.parent).with_suffix("")
            out.append(".".join(rel.parts))
    return out


def digest() -> str:
    """SHA-256 of every module with compiled code (path and contents), with the versions of
    Numba and NumPy."""
    from importlib.metadata import version

    h = hashlib.sha256(f"{version('numba')} {version('numpy')}".encode())
    for name in kernel_modules():
        f = _PACKAGE.parent.joinpath(*name.split(".")).with_suffix(".py")
        h.update(name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _stamp_path() -> Path:
    base = os.environ.get("NUMBA_CACHE_DIR")
    return Path(base) / STAMP if base else _PACKAGE / "__pycache__" / STAMP


def flush() -> int:
    """Empty the cache index of every cached kernel of :func:`kernel_modules`; returns how
    many were emptied."""
    from numba.core.dispatcher import Dispatcher

    n = 0
    for name in kernel_modules():
        mod = importlib.import_module(name)
        for obj in list(vars(mod).values()):
            cache = getattr(obj, "_cache", None) if isinstance(obj, Dispatcher) else None
            if cache is not None and type(cache).__name__ != "NullCache":
                cache.flush()
                n += 1
    return n


def check() -> bool:
    """Empty the kernels' cache where the code that compiled it has changed since (see the
    module's notes); returns whether it did.  A cache that cannot be written (a read-only
    install without a writable cache folder) is left alone."""
    want = digest()
    stamp = _stamp_path()
    try:
        if stamp.read_text(encoding="ascii").strip() == want:
            return False
    except OSError:
        pass
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(stamp.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return False
    try:
        try:
            import fcntl
        except ImportError:  # (no POSIX locks: one process at a time is assumed)
            pass
        else:
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # another process may have done it while this one waited
            if stamp.read_text(encoding="ascii").strip() == want:
                return False
        except OSError:
            pass
        flush()
        tmp = stamp.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(want + "\n", encoding="ascii")
        os.replace(tmp, stamp)
        return True
    finally:
        os.close(fd)
