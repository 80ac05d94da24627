"""Our temporary files: their names, whether their writer still lives, and their removal.

Not a paper concept: the part of "never half a file" (:mod:`.files`) that names the file being
written. Our rules:

- **Temporaries are recognisably ours.** A file or folder is first written as
  ``.<name>.srgan-tmp-<pid>-<8 random>[<suffix>]`` beside its destination (the suffix is the
  destination's, since Keras, Pillow and ffmpeg dispatch on it), then renamed into place
  (:func:`srgan_keras.data.files.atomic_write`), so a crash never leaves half a file under the
  real name. Nothing else in a folder can match :data:`TEMP_NAME`.
- **A killed command's temporaries are removed by the next one.** :func:`clean_stale_temps`
  removes those whose process is gone (the pid is not alive, or was reused by a process started
  after the temporary was last written); :func:`clean_once` does it the first time a process
  writes into a folder, so the next run of *any* command that writes there cleans up.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import string
from pathlib import Path

TEMP_TAG = "srgan-tmp"
# ".<name>.srgan-tmp-<pid>-<8 of [a-z0-9]>" then the destination's suffix(es), if any
TEMP_NAME = re.compile(rf"^\.(?P<name>.+)\.{TEMP_TAG}-(?P<pid>\d+)-[a-z0-9]{{8}}"
                       r"(?P<suffix>(\.[A-Za-z0-9_]+)*)$")
_ALPHABET = string.ascii_lowercase + string.digits
NAME_MAX = 255  # bytes in one file name on Linux filesystems (ext4, xfs, btrfs, tmpfs)


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


def writer_alive(pid: int, mtime: float) -> bool:
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
    return not writer_alive(int(m.group("pid")), mtime)


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


def clean_once(folder: str | os.PathLike) -> None:
    """:func:`clean_stale_temps` the first time this process writes into ``folder``."""
    key = Path(folder).resolve()
    if key not in _CLEANED:
        _CLEANED.add(key)
        clean_stale_temps(folder)


__all__ = ["NAME_MAX", "TEMP_NAME", "TEMP_TAG", "clean_once", "clean_stale_temps", "is_stale_temp",
           "is_temp", "temp_path"]
