"""Where outputs go, and what they may never replace: the one output-planning module (issues 26-27).

Not a paper concept: the rules every command that writes shares, here once so that a new command
inherits them (STYLE.md point 18). A command with one output (export, convert, snapshot, evaluate's
reports) calls :func:`check_output` before any work; a command with one output per input
(upscale's images and videos, the web page's upload) names each output with :func:`output_name`
and claims it from an :class:`OutputPlan` before any work. Our rules:

- **An input is never an output.** Compared by resolved path and by file identity (symlinks and
  hard links included), even with ``--overwrite``; nor is a folder that holds an input replaced.
- **Nothing of the user's is replaced.** An existing output needs ``--overwrite``; a command with
  one output per input replaces only an earlier output of its own (``ours(path)``: our mark in the
  file's metadata), and keeps an existing one without ``--overwrite`` (the input is skipped). A
  folder is replaced only when it is a SavedModel (:func:`is_saved_model_dir`).
- **One output per name.** Two inputs that would write the same output: the second is refused.
- **Checked twice.** These checks fail a command at its start; the final rename
  (:func:`srgan_keras.data.files.publish`) checks again without a race, so a file that appears at
  an output path while the command runs is kept (:class:`OutputExistsError`).
- **Our outputs are recognisable by name** (:data:`OUTPUT_STEM`: ``cat_x4.png``), so a folder
  input does not upscale an earlier run's results, and a killed run's partial outputs are removed
  (:func:`clean_partial_outputs`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from srgan_keras.data.temporaries import TEMP_NAME, clean_stale_temps, is_temp
from srgan_keras.errors import SrganKerasError

# What tf.saved_model.save writes, and nothing else: a folder holding anything more is not replaced.
SAVED_MODEL_ENTRIES = frozenset({"saved_model.pb", "variables", "assets", "fingerprint.pb",
                                 "keras_metadata.pb"})
# Our outputs' stems end like this (output_name's tags: x4, x2.5, 800x600; w/h of old versions).
OUTPUT_STEM = re.compile(r"_(x\d+(\.\d+)?|\d+x\d+|w\d+|h\d+)$")
# Temporaries of versions before the pid-named ones (:data:`TEMP_NAME`): ".<stem>.<8 chars>.<ext>"
# (tempfile.mkstemp's random part: lowercase letters, digits and "_"), locked while written.
OLD_TEMP_NAME = re.compile(r"^\.(?P<stem>.+)\.[a-z0-9_]{8}\.[A-Za-z0-9]+$")


class OutputExistsError(SrganKerasError, FileExistsError):
    """The destination exists (or appeared while the command ran) and may not be replaced."""


class OutputIsInputError(SrganKerasError, ValueError):
    """An output path is one of the command's inputs, or a folder holding one."""


# ---------------------------------------------------------------------------------------------
# One output: export, convert, snapshot, evaluate's reports


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


def check_out_dir(out_dir: str | os.PathLike, flag: str = "-o") -> str | None:
    """Why a folder cannot receive files (a file, read-only, under a file), or None if it can."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        return f"{out_dir}: the output folder is a file; choose another {flag}"
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{out_dir}: cannot be created, {existing} is a file; choose another {flag}"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{out_dir}: the output folder is read-only; choose another {flag}"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        return f"{out_dir}: cannot write in {existing} ({e.strerror or e}); choose another {flag}"
    return None


# ---------------------------------------------------------------------------------------------
# One output per input: upscale's images and videos, the web page


def size_tag(scale: int, outscale: float | None = None, size: tuple[int, int] | None = None,
             box: bool = False) -> str:
    """What an output's name says of its size: ``x4`` (the network's scale), ``x2.5``
    (``--outscale``), ``800x600`` (the final (height, width) ``size`` of a ``--width``/``--height``
    box)."""
    if box and size is not None:
        return f"{size[1]}x{size[0]}"
    return f"x{scale if outscale is None else format(outscale, 'g')}"


def output_name(src: str | os.PathLike, tag: str, ext: str) -> str:
    """``<stem>_<tag>.<ext>``: ``cat.jpg`` -> ``cat_x4.png``."""
    return f"{Path(src).stem}_{tag}.{ext.lstrip('.')}"


def appeared(src: str | os.PathLike, dst: str | os.PathLike) -> str:
    """The line for an output that a file took while the command ran (the no-clobber rename)."""
    return (f"{src}: {dst} appeared while this command ran and was not written by it; kept, not "
            "overwritten (move it or choose another -o)")


@dataclass(frozen=True)
class Claim:
    """An output claimed for one input: write it, or (``skipped``) keep what is there."""

    dst: Path
    replace: bool = False  # an earlier output of ours, --overwrite given: the write may replace it
    skipped: str | None = None  # the line saying why the input is skipped (the output exists)


class OutputPlan:
    """The outputs of one run over many inputs, each claimed before any work is done.

    ``inputs``: every input of the run (no output may be one); ``overwrite``: ``--overwrite``.
    """

    def __init__(self, inputs: Iterable[str | os.PathLike], overwrite: bool = False):
        self.overwrite = overwrite
        self._paths: set[Path] = set()
        self._ids: set[tuple[int, int]] = set()  # (device, inode): hard links are the same file
        for i in inputs:
            self._paths.add(Path(i).resolve())
            try:
                st = os.stat(i)
            except OSError:
                continue
            self._ids.add((st.st_dev, st.st_ino))
        self._claimed: dict[Path, Path] = {}

    def is_input(self, path: str | os.PathLike) -> bool:
        """``path`` is one of the inputs (through symlinks or hard links)."""
        if Path(path).resolve() in self._paths:
            return True
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) in self._ids

    def claim(self, src: str | os.PathLike, dst: str | os.PathLike,
              ours: Callable[[Path], bool]) -> Claim:
        """Claim ``dst`` as ``src``'s output, or raise the one line that refuses it.

        ``ours(dst)`` says whether an existing ``dst`` is an earlier output of this command (only
        those are replaced, and only with ``overwrite``). Raises :class:`OutputIsInputError`
        (``dst`` is an input) or :class:`OutputExistsError` (claimed by another input, a folder,
        or a file of the user's); an existing ``dst`` without ``overwrite`` is a skipped claim.
        """
        dst = Path(dst)
        key = dst.resolve()
        if self.is_input(dst):
            raise OutputIsInputError(f"{src}: its output {dst} is an input file; choose another -o")
        if key in self._claimed:
            raise OutputExistsError(f"{src}: same output name {dst} as {self._claimed[key]}; "
                                    "upscale it separately")
        if dst.is_dir():
            raise OutputExistsError(f"{src}: its output {dst} is a folder")
        exists = os.path.lexists(dst)
        if exists and not self.overwrite:
            self._claimed[key] = Path(src)
            return Claim(dst, skipped=f"{src}: {dst} exists (pass --overwrite to replace it)")
        if exists and not ours(dst):
            raise OutputExistsError(f"{src}: {dst} exists and was not written by this command; not "
                                    "overwritten (move it or choose another -o)")
        self._claimed[key] = Path(src)
        return Claim(dst, replace=exists)


def is_partial_output(path: str | os.PathLike) -> bool:
    """A temporary file of ours for an output (``.cat_x4.png.srgan-tmp-...``, or an older
    version's ``.cat_x4.XXXXXXXX.png``): a killed run leaves them."""
    name = Path(path).name
    m = TEMP_NAME.match(name)
    if m:
        return OUTPUT_STEM.search(Path(m.group("name")).stem) is not None
    m = OLD_TEMP_NAME.match(name)
    return bool(m and OUTPUT_STEM.search(m.group("stem")))


def clean_partial_outputs(folder: str | os.PathLike, min_age: float = 5.0) -> list[Path]:
    """Remove our temporary files in ``folder`` that no live process is writing.

    Every temporary whose process is gone (:func:`~srgan_keras.data.temporaries.clean_stale_temps`),
    then the unnamed-pid ones of older versions, whose writers held an ``flock`` on them until the
    rename: one we can lock belongs to a run that was killed; those younger than ``min_age``
    seconds are left for the next run (our choice: the instant between creating and locking).
    """
    removed = clean_stale_temps(folder)
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    now = time.time()
    for f in entries:
        if not (is_partial_output(f) and not is_temp(f) and f.is_file() and not f.is_symlink()):
            continue
        try:
            if now - f.stat().st_mtime < min_age:
                continue
            fd = os.open(f, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live writer holds it
        else:
            f.unlink(missing_ok=True)
            removed.append(f)
        finally:
            os.close(fd)
    return removed


__all__ = ["Claim", "OUTPUT_STEM", "OutputExistsError", "OutputIsInputError", "OutputPlan",
           "SAVED_MODEL_ENTRIES", "appeared", "check_out_dir", "check_output", "clean_partial_outputs",
           "holds_input", "is_input", "is_partial_output", "is_saved_model_dir", "output_name",
           "size_tag", "write_failure"]
