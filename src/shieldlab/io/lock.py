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
    """The lock file of folder ``out_dir``: ``.NAME.lock`` beside it (the folder's real path:
    one folder named two ways, through a link, has one lock)."""
    p = Path(out_dir).resolve()
    return p.parent / f".{p.name}.lock"


@contextmanager
def writing(out_dir: str | Path, field: str = "--out") -> Iterator[None]:
    """Hold the folder ``out_dir`` for this process while the block runs; raises
    :class:`~shieldlab.errors.InputError` naming ``field`` where another process holds it.
    The parent folder is made where missing (the command is about to write the folder: it
    is called once every check has passed); where no lock file can be made all the same (a
    folder not writable) nothing is held, and the command's own writing says what is wrong."""
    path = lock_path(out_dir)
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            if not _still_there(path, fd):  # its holder let go and removed it as we looked: again
                os.close(fd)
                continue
            os.close(fd)
            raise InputError(f"{out_dir} is being written by another shieldlab command (process {pid}): wait for "
                             "it to end, or stop it first (a stopped one goes on with --resume)", field=field) from None
        if _still_there(path, fd):  # (a file its holder let go of and removed is no lock: the one there now)
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


def held_by(out_dir: str | Path) -> str | None:
    """The process (its number, as its lock file says) that holds folder ``out_dir`` for
    writing now, or None where none does; makes no lock file."""
    path = lock_path(out_dir)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _still_there(path: Path, fd: int) -> bool:
    """Whether ``path`` is still the file open as ``fd`` (not removed, nor made anew)."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except OSError:
        return False
