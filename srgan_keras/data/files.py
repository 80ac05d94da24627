"""Writing files without losing any: the one atomic write every command's outputs go through (issues 26-27).

Not a paper concept: the chore every command that writes shares, kept here once so that a new
command inherits it (STYLE.md point 18). A file or folder is written under a temporary name of
ours beside its destination (:mod:`.temporaries`), flushed, then renamed into place: a crash never
leaves half a file under the real name, and the first write into a folder removes what a killed
command left there. Our rules for the final step:

- **Nothing is replaced by accident.** :func:`atomic_write` and :func:`publish` take
  ``overwrite``; without it the final step is a no-clobber rename (``renameat2(RENAME_NOREPLACE)``,
  else ``os.link`` for files), so a file that appeared at the destination while the command ran is
  kept and :class:`~srgan_keras.data.outputs.OutputExistsError` says so. Commands check earlier
  (:mod:`.outputs`: the output-planning rules) to fail at start; this is the check that cannot race.
- **A folder is replaced only when it is a SavedModel.** :func:`publish` with ``overwrite`` swaps
  an existing folder out only when :func:`~srgan_keras.data.outputs.is_saved_model_dir`
  recognises it, so ``export -o proj --overwrite`` never deletes a project folder.

The names of :mod:`.temporaries`, :mod:`.outputs` and :mod:`.folder_lock` that the commands
imported from here before those modules existed are still importable from here.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from srgan_keras.data.folder_lock import LOCK_NAME, FolderInUseError, folder_lock
from srgan_keras.data.outputs import (
    OutputExistsError,
    OutputIsInputError,
    check_output,
    holds_input,
    is_input,
    is_saved_model_dir,
    write_failure,
)
from srgan_keras.data.temporaries import (
    NAME_MAX,
    TEMP_NAME,
    clean_once,
    clean_stale_temps,
    is_stale_temp,
    is_temp,
    temp_path,
)


def _libc_renameat2() -> Callable | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


_RENAMEAT2 = _libc_renameat2()
_AT_FDCWD, _RENAME_NOREPLACE = -100, 1


def rename_noreplace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Rename ``src`` to ``dst`` atomically, raising :class:`OutputExistsError` if ``dst`` exists.

    ``renameat2(RENAME_NOREPLACE)`` on Linux; where the filesystem lacks it, a hard link then
    unlink for files, and a check just before the rename for folders (a small window remains).
    """
    src, dst = os.fspath(src), os.fspath(dst)
    if _RENAMEAT2 is not None:
        if _RENAMEAT2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise OutputExistsError(f"{dst} already exists (it appeared while this command ran); "
                                  "not replaced")
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), dst)
    if os.path.isdir(src):
        if os.path.lexists(dst):
            raise OutputExistsError(f"{dst} already exists (it appeared while this command ran); "
                                  "not replaced")
        os.rename(src, dst)
        return
    try:
        os.link(src, dst)
    except FileExistsError:
        raise OutputExistsError(f"{dst} already exists (it appeared while this command ran); "
                                  "not replaced") from None
    os.unlink(src)


def _fsync(path: str | os.PathLike) -> None:
    """Flush a file (or a folder's entries) to disk; best effort where the OS refuses."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(staged: str | os.PathLike, path: str | os.PathLike, overwrite: bool = False) -> None:
    """Move a finished file or folder ``staged`` onto ``path``.

    Without ``overwrite``: no-clobber (:func:`rename_noreplace`). With it: a file is replaced by
    ``os.replace``; an existing folder only if :func:`is_saved_model_dir`, by renaming it away to a
    temporary of ours first (a kill in between leaves it recognisable for cleanup), never by
    deleting a folder with other content.
    """
    staged, path = Path(staged), Path(path)
    if not overwrite:
        rename_noreplace(staged, path)
    elif path.is_dir() and not path.is_symlink():
        if not is_saved_model_dir(path):
            raise OutputExistsError(f"{path} is a folder that is not an export of ours; not replaced")
        old = temp_path(path, "")
        os.rename(path, old)
        try:
            rename_noreplace(staged, path)
        except BaseException:
            os.rename(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    elif staged.is_dir() and path.exists():
        raise OutputExistsError(f"{path} is a file; a folder cannot replace it")
    else:
        os.replace(staged, path)
    _fsync(path.parent)


def new_temp(path: str | os.PathLike, suffix: str | None = None) -> Path:
    """Create an empty temporary file of ours beside ``path`` (:func:`temp_path`) and return it.

    The folder is made if needed and, the first time this process writes there, rid of stale
    temporaries (:func:`clean_stale_temps`). The caller removes the file or :func:`publish`-es it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_once(path.parent)
    tmp = temp_path(path, suffix)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # umask applies, as for open()
    return tmp


def atomic_write(path: str | os.PathLike, write_fn: Callable[[str], object],
                 suffix: str | None = None, overwrite: bool = True,
                 on_temp: Callable[[str], object] | None = None) -> None:
    """Call ``write_fn(tmp_path)``, flush it, then rename it onto ``path``: never half a file.

    The temporary (:func:`temp_path`) is created empty, with the permissions a plain ``open()``
    gives, before ``write_fn`` writes it; ``on_temp(tmp)`` runs first (upscale locks it there).
    ``overwrite=False`` refuses a ``path`` that exists by then (:class:`OutputExistsError`, the
    temporary removed). Any failure removes the temporary and re-raises.
    """
    path = Path(path)
    tmp = new_temp(path, suffix)
    try:
        if on_temp is not None:
            on_temp(str(tmp))
        write_fn(str(tmp))
        if tmp.is_file():
            _fsync(tmp)
        publish(tmp, path, overwrite)
    except BaseException:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.lexists(tmp):
            os.remove(tmp)
        raise


@contextmanager
def staging_dir(path: str | os.PathLike) -> Iterator[Path]:
    """A fresh temporary folder of ours beside ``path``, removed on exit whatever happens.

    For outputs written as several files or as a folder (export's SavedModel and its parity
    report): write into it, then :func:`publish` each piece.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_once(path.parent)
    tmp = temp_path(path, "")
    tmp.mkdir()
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["FolderInUseError", "LOCK_NAME", "NAME_MAX", "OutputExistsError", "OutputIsInputError",
           "TEMP_NAME", "atomic_write", "check_output", "clean_stale_temps", "folder_lock",
           "holds_input", "is_input", "is_saved_model_dir", "is_stale_temp", "is_temp", "new_temp",
           "publish", "rename_noreplace", "staging_dir", "temp_path", "write_failure"]
