"""Atomic file output: write beside the target, then rename over it.

:func:`check_target` checks, before any work is done, that a file can be written at a
path (no folder in the way, a writable folder to hold it).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from shieldlab.errors import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def nearest_existing(path: Path) -> Path:
    """``path`` itself if it exists, else its closest existing ancestor."""
    p = Path(os.path.abspath(path))
    while not (p.exists() or p.is_symlink()) and p != p.parent:
        p = p.parent
    return p


def writable_folder(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (tried, not guessed from mode bits)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".shieldlab-probe.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(tmp)
    return True


def check_parent(path: str | Path, field: str) -> None:
    """Raise :class:`InputError` naming ``field`` unless ``path``'s folder exists or can be
    created, and is writable."""
    parent = Path(os.path.abspath(path)).parent
    base = nearest_existing(parent)
    if not base.is_dir():
        raise InputError(f"{base} is a file, so {parent} cannot be a folder", field=field)
    if not writable_folder(base):
        raise InputError(f"cannot write in {base}: permission denied or read-only", field=field)


def check_target(path: str | Path, field: str, *, force: bool = True, keep=()) -> Path:
    """Raise :class:`InputError` naming ``field`` unless a file can be written at ``path``.

    An existing file is replaced only with ``force``; a file in ``keep`` (an input being
    read, say) never is.  Paths are compared resolved, so a link or a ``..`` is the file it
    names.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p} is a folder; give a file name", field=field)
    resolved = p.resolve()
    if any(resolved == Path(k).resolve() for k in keep):
        raise InputError(f"{p} is an input file of this command; give another file name", field=field)
    if (p.exists() or p.is_symlink()) and not force:
        raise InputError(f"{p} already exists; give --force to replace it", field=field)
    check_parent(p, field)
    return p


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path in the target's folder; on success it replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates the file 0600; give the result the mode a plain open() would
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
