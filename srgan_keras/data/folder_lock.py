"""One command per folder at a time: an OS lock on ``<folder>/.lock`` (issue 27.3).

Not a paper concept: two ``train`` runs on one ``--out`` would share one checkpoint numbering and
delete each other's checkpoints. :func:`folder_lock` holds an OS lock (``flock``) on
``<folder>/.lock`` while a command uses the folder; a second one is refused with
:class:`FolderInUseError`. The kernel drops the lock when its process dies, even by ``kill -9``,
so a stale lock cannot exist; the file is removed when the holder lets go.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from srgan_keras.errors import SrganKerasError


class FolderInUseError(SrganKerasError, RuntimeError):
    """Another process holds the folder's lock (:func:`folder_lock`)."""


LOCK_NAME = ".lock"


@contextmanager
def folder_lock(folder: str | os.PathLike, flag: str = "--out") -> Iterator[Path]:
    """Hold an exclusive OS lock on ``folder`` (which must exist) while the block runs.

    Raises :class:`FolderInUseError` at once, without waiting, when another process holds it; the
    message names that process. The lock is ``flock`` on ``<folder>/.lock``: released by the
    kernel when the holder exits however it exits. The holder removes the file on the way out;
    whoever locks a file that was just removed (its inode no longer at the path) tries again,
    so two processes can never both hold the lock.
    """
    folder = Path(folder)
    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            who = f"process {holder}" if holder.isdigit() else "another process"
            raise FolderInUseError(f"{flag} {folder} is in use by {who} (another run on the same "
                                   "folder); wait for it to end or choose another folder") from None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed that file as we opened it: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        try:
            os.unlink(path)  # while still holding it (see above)
        except OSError:
            pass
        os.close(fd)


__all__ = ["FolderInUseError", "LOCK_NAME", "folder_lock"]
