"""Writing files without losing any: the one place every command's outputs go through (issues 26-27).

Not a paper concept: the chores every command that writes shares, kept here once so that a new
command inherits them (STYLE.md point 18). Our rules:

- **Temporaries are recognisably ours.** A file or folder is first written as
  ``.<name>.srgan-tmp-<pid>-<8 random>[<suffix>]`` beside its destination (the suffix is the
  destination's, since Keras, Pillow and ffmpeg dispatch on it), then renamed into place, so a
  crash never leaves half a file under the real name. :func:`clean_stale_temps` removes such
  temporaries whose process is gone (the pid is not alive, or was reused by a process started
  after the temporary was last written); nothing else in the folder can match the pattern.
  :func:`atomic_write` and :func:`staging_dir` call it once per folder and process, so the next
  run of *any* command that writes into a folder removes what a killed one left there.
- **Nothing is replaced by accident.** :func:`atomic_write` and :func:`publish` take
  ``overwrite``; without it the final step is a no-clobber rename (``renameat2(RENAME_NOREPLACE)``,
  else ``os.link`` for files), so a file that appeared at the destination while the command ran is
  kept and :class:`OutputExistsError` says so. Commands check earlier (``check_output``) to fail at
  start; this is the check that cannot race.
- **An input is never an output.** :func:`is_input` compares resolved paths and
  ``os.path.samefile`` (symlinks and hard links included); :func:`check_output` refuses an output
  that is an input, or a folder that holds one, even with ``--overwrite``.
- **A folder is replaced only when it is a SavedModel.** :func:`publish` with ``overwrite`` swaps
  an existing folder out only when :func:`is_saved_model_dir` recognises it (a SavedModel's
  files and nothing else), so ``export -o proj --overwrite`` never deletes a project folder.
- **One command per folder at a time.** :func:`folder_lock` holds an OS lock (``flock``) on
  ``<folder>/.lock`` while a command uses the folder (``train --out``); a second one is refused
  with :class:`FolderInUseError`. The kernel drops the lock when its process dies, even by
  ``kill -9``, so a stale lock cannot exist; the file is removed when the holder lets go.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import re
import secrets
import shutil
import string
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from srgan_keras.errors import SrganKerasError

TEMP_TAG = "srgan-tmp"
# ".<name>.srgan-tmp-<pid>-<8 of [a-z0-9]>" then the destination's suffix(es), if any
TEMP_NAME = re.compile(rf"^\.(?P<name>.+)\.{TEMP_TAG}-(?P<pid>\d+)-[a-z0-9]{{8}}"
                       r"(?P<suffix>(\.[A-Za-z0-9_]+)*)$")
_ALPHABET = string.ascii_lowercase + string.digits
NAME_MAX = 255  # bytes in one file name on Linux filesystems (ext4, xfs, btrfs, tmpfs)
# What tf.saved_model.save writes, and nothing else: a folder holding anything more is not replaced.
SAVED_MODEL_ENTRIES = frozenset({"saved_model.pb", "variables", "assets", "fingerprint.pb",
                                 "keras_metadata.pb"})


class OutputExistsError(SrganKerasError, FileExistsError):
    """The destination exists (or appeared while the command ran) and may not be replaced."""


class OutputIsInputError(SrganKerasError, ValueError):
    """An output path is one of the command's inputs, or a folder holding one."""


class FolderInUseError(SrganKerasError, RuntimeError):
    """Another process holds the folder's lock (:func:`folder_lock`)."""


# ---------------------------------------------------------------------------------------------
# Temporaries: names, liveness, cleanup


def temp_path(path: str | os.PathLike, suffix: str | None = None) -> Path:
    """A fresh temporary name of ours for ``path``, in its folder (so the rename is atomic).

    ``suffix`` (default: ``path``'s own; ``""`` for none, as for folders) ends the name, since
    savers dispatch on it. A name that would pass :data:`NAME_MAX` bytes drops characters from
    the front of ``path``'s name (the tag, the pid and the suffix stay).
    """
    path = Path(path)
    tail = path.suffix if suffix is None else suffix
    rand = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    ours = f".{TEMP_TAG}-{os.getpid()}-{rand}{tail}"
    name = path.name
    # a long name (a 243-character stem) loses its first characters, so the temporary still fits
    # NAME_MAX and keeps the end that says what it is (``..._x4.png``) and our tag
    while len(os.fsencode(f".{name}{ours}")) > NAME_MAX and len(name) > 1:
        name = name[1:]
    return path.with_name(f".{name}{ours}")


def is_temp(path: str | os.PathLike) -> bool:
    """True if ``path``'s name is one of our temporaries."""
    return TEMP_NAME.match(Path(path).name) is not None


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from /proc; None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime, after "(comm)"
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return int(line.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    return None


def _writer_alive(pid: int, mtime: float) -> bool:
    """Could process ``pid`` still be writing a temporary last modified at ``mtime``?

    No if it does not exist, or if it started after that moment (the pid was reused). Our
    choice: 2 s of slack for the clocks' rounding; a pid we may not signal counts as alive.
    """
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = _process_start(pid)
    return start is None or start <= mtime + 2.0


def is_stale_temp(path: str | os.PathLike) -> bool:
    """True if ``path`` is a temporary of ours whose writer is gone (safe to delete)."""
    path = Path(path)
    m = TEMP_NAME.match(path.name)
    if m is None or path.is_symlink():
        return False
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return False
    return not _writer_alive(int(m.group("pid")), mtime)


def clean_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporaries of ours in ``folder`` that no live process is writing.

    Only names matching :data:`TEMP_NAME` whose writer is gone are touched (a folder, as export's
    staging, is removed whole); symlinks never. Returns what was removed.
    """
    removed: list[Path] = []
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return removed
    for p in entries:
        if not is_stale_temp(p):
            continue
        try:
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
        except FileNotFoundError:
            continue  # another cleaner was faster
        except OSError:
            continue  # not ours to fight over: left for a later run
        removed.append(p)
    return removed


_CLEANED: set[Path] = set()


def _clean_once(folder: Path) -> None:
    """:func:`clean_stale_temps` the first time this process writes into ``folder``."""
    key = folder.resolve()
    if key not in _CLEANED:
        _CLEANED.add(key)
        clean_stale_temps(folder)


# ---------------------------------------------------------------------------------------------
# Inputs and outputs


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def is_input(path: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> Path | None:
    """The input that ``path`` is (same file, through symlinks or hard links), or None."""
    path = Path(path)
    for i in inputs:
        if _same(path, Path(i)):
            return Path(i)
    return None


def holds_input(folder: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> Path | None:
    """The input that is ``folder`` or lies inside it (resolved), or None."""
    root = Path(folder).resolve()
    for i in inputs:
        r = Path(i).resolve()
        if r == root or root in r.parents:
            return Path(i)
    return None


def is_saved_model_dir(path: str | os.PathLike) -> bool:
    """A folder holding a SavedModel's files and nothing else (what ``--overwrite`` may replace)."""
    path = Path(path)
    if not path.is_dir() or path.is_symlink():
        return False
    names = {p.name for p in path.iterdir()}
    return "saved_model.pb" in names and names <= SAVED_MODEL_ENTRIES


def check_output(path: str | os.PathLike, overwrite: bool, inputs: Iterable[str | os.PathLike] = (),
                 flag: str = "-o", folder_ok: Callable[[Path], bool] | None = None) -> None:
    """Refuse, in one sentence, an output that would lose something: call it before any work.

    ``path`` may not be one of ``inputs`` nor a folder holding one (even with ``overwrite``); an
    existing ``path`` needs ``overwrite``, and an existing folder also ``folder_ok(path)`` (for
    export: :func:`is_saved_model_dir`; without it no folder is replaced).
    """
    path = Path(path)
    inputs = list(inputs)
    name = f"{flag} {path}" if flag else str(path)
    same = is_input(path, inputs)
    if same is not None:
        raise OutputIsInputError(f"{name} is the input {same}; choose another output")
    if path.is_dir() and not path.is_symlink():
        held = holds_input(path, inputs)
        if held is not None:
            raise OutputIsInputError(f"{name} is a folder holding the input {held}; choose "
                                     "another output")
    if not (path.exists() or path.is_symlink()):
        return
    if folder_ok is None and path.is_dir():  # a file's output: --overwrite cannot help
        raise OutputExistsError(f"{name} is a folder; the output is a file, choose another name")
    if not overwrite:
        raise OutputExistsError(f"{name} already exists; choose another output or pass --overwrite")
    if path.is_dir() and not path.is_symlink() and not (folder_ok and folder_ok(path)):
        raise OutputExistsError(f"{name} is a folder that is not an export of ours (it holds other "
                                "files); not replaced, choose another output")


# What a failed write means to the user, by errno: the causes a full or read-only disk gives.
WRITE_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
                errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
                errno.EPERM: "permission denied", errno.EFBIG: "the file is too large for the disk",
                errno.ENAMETOOLONG: "the name is too long", errno.EISDIR: "it is a folder",
                errno.ENOTDIR: "a part of the path is a file"}


def write_failure(path: str | os.PathLike, e: OSError, flag: str = "-o") -> str | None:
    """The one line for an output that could not be written (a full disk, a read-only folder):
    names the output and the cause, says nothing was left; None for an OSError of another kind
    (not a write's), which the caller lets through."""
    why = WRITE_ERRNOS.get(e.errno)
    if why is None:
        return None
    name = f"{flag} {path}" if flag else str(path)
    return f"{name}: cannot write ({why}); nothing was written, choose another output or free space"


# ---------------------------------------------------------------------------------------------
# Publishing: the final rename


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
    _clean_once(path.parent)
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
    _clean_once(path.parent)
    tmp = temp_path(path, "")
    tmp.mkdir()
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# One command per folder


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


__all__ = ["FolderInUseError", "LOCK_NAME", "OutputExistsError", "OutputIsInputError", "TEMP_NAME",
           "atomic_write", "check_output", "clean_stale_temps", "folder_lock", "holds_input",
           "is_input", "is_saved_model_dir", "is_stale_temp", "is_temp", "new_temp", "publish",
           "rename_noreplace", "staging_dir", "temp_path", "write_failure"]
