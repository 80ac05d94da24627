"""What the upscale command reads: its INPUT arguments (files, folders, globs) as a list of files.

Folders are searched recursively for images (videos only when named: a stray clip should not start
an hours-long job); each file keeps its sub-folder, so OUT_DIR mirrors the input folder. Our own
files are never inputs: temporaries (:mod:`srgan_keras.data.temporaries`), a killed run's partial
outputs, and the earlier outputs under OUT_DIR that carry our mark
(:data:`srgan_keras.data.outputs.OUTPUT_STEM`), so running twice does not upscale the first run's
results. Every problem is one line, and the other inputs are still processed.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from srgan_keras.data.imaging import IMAGE_EXTENSIONS, list_images
from srgan_keras.data.metadata import is_ours
from srgan_keras.data.outputs import OUTPUT_STEM, is_partial_output
from srgan_keras.data.temporaries import is_temp

INPUT_EXTENSIONS = (*IMAGE_EXTENSIONS, ".gif")  # GIF: the first frame (a note if animated)


def broken_link(path: Path) -> str | None:
    """Why ``path`` is a symlink that leads nowhere, or None if it is not one."""
    if not path.is_symlink():
        return None
    try:
        os.stat(path)
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop (it points back to itself)"
        return f"dangling symlink (its target {os.readlink(path)} does not exist)"


def collect_inputs(inputs: list[str], out_dir: Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(file, sub-folder for its output) pairs, and one error line per problem found.

    In folders: image files (GIF included); broken symlinks are reported; our own temporary
    files are never inputs; earlier outputs (``*_x<digits>`` files under OUT_DIR that carry our
    mark) are left out, so running twice does not upscale the first run's results; a user's
    file merely named like an output is an input like any other. Files named explicitly are
    always kept.
    """
    out_root = out_dir.resolve()

    def earlier_output(f: Path) -> bool:
        return (out_root in f.resolve().parents and OUTPUT_STEM.search(f.stem) is not None
                and is_ours(f))

    found: list[tuple[Path, Path]] = []
    errors: list[str] = []
    seen: set[Path] = set()  # a file named twice (folder and glob) is upscaled once

    def add(f: Path, sub: Path) -> None:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            found.append((f, sub))

    for arg in inputs:
        p = Path(arg)
        why = broken_link(p)
        if why:
            errors.append(f"{arg}: {why}")
        elif p.is_dir():
            n = len(found)
            for f in sorted(p.rglob("*")):
                why = broken_link(f)
                if why:
                    errors.append(f"{f}: {why}")
                elif (f.is_file() and f.suffix.lower() in INPUT_EXTENSIONS
                      and not is_partial_output(f) and not is_temp(f)
                      and not earlier_output(f)):
                    add(f, f.parent.relative_to(p))
            if len(found) == n and not any(e.startswith(f"{p}{os.sep}") for e in errors):
                errors.append(f"{arg}: no image files found in this folder")
        elif p.is_file():
            add(p, Path())
        else:
            found_files = [f for f in list_images(arg)
                           if not (is_partial_output(f) or is_temp(f))]
            if not found_files:
                errors.append(f"{arg}: no such file or folder" if not any(c in arg for c in "*?[")
                              else f"{arg}: no files match")
            for f in found_files:
                add(f, Path())
    return found, errors
