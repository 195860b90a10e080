"""One writer at a time for a results or sweep folder.

``shieldlab run --out DIR`` and ``shieldlab sweep --out DIR`` write a folder over minutes or
hours, ``--force`` replaces one and ``--resume`` goes on with one.  Two such commands on one
folder at once (a job submitted again while the first still runs) would each write chunks
the other reads as its own: the folder could come out a mix of two sweeps, reported as
finished.  So each command holds an exclusive advisory lock (``flock``) on a hidden file
beside the folder, ``.DIR.lock``, from before it touches the folder until it ends; a second
command is refused, naming the first one's process.  The kernel drops the lock when its
process dies (``kill -9`` included), so a stopped command never leaves a folder locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shieldlab.errors import InputError


def lock_path(out_dir: str | Path) -> Path:
    """The lock file of folder ``out_dir``: ``.NAME.lock`` beside it."""
    p = Path(out_dir).absolute()
    return p.parent / f".{p.name}.lock"


@contextmanager
def writing(out_dir: str | Path, field: str = "--out") -> Iterator[None]:
    """Hold the folder ``out_dir`` for this process while the block runs; raises
    :class:`~shieldlab.errors.InputError` naming ``field`` where another process holds it.
    Where no lock file can be made (no such parent folder, none writable) nothing is held:
    the command's own checks of the folder say what is wrong with it."""
    path = lock_path(out_dir)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            os.close(fd)
            raise InputError(f"{out_dir} is being written by another shieldlab command (process {pid}): wait for "
                             "it to end, or stop it first (a stopped one goes on with --resume)", field=field) from None
        try:  # the file a holder just let go of and removed is no lock: take the one there now
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except OSError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        try:
            yield
        finally:
            try:  # (the lock goes with the descriptor; the file, so that no stale one is left behind)
                path.unlink()
            except OSError:
                pass
    finally:
        os.close(fd)
