"""The web page's several images at once: each upload upscaled as one is, a line per file, one zip.

:mod:`.webapp` puts this on its *Several images* tab. A batch is bounded before anything is
computed, from the files' headers: at most :data:`WEB_MAX_FILES` files, and at most the page's
``--max-pixels`` pixels in all (the budget of one upload: a batch holds the page's one-at-a-time
queue no longer than the largest single image would; our choice). Beyond either, the batch is
refused in one line. Within it, each file goes through
:func:`srgan_keras.inference.web_upscale.upscale_upload` (the upscale command's plan and work,
one :class:`srgan_keras.data.outputs.OutputPlan` for the batch, so two uploads never write the
same file); a file that fails is one line of the summary and the others are still done, as in
the command. The results are put in one zip written by the one atomic write
(:func:`srgan_keras.data.files.atomic_write`): it appears complete or not at all.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from srgan_keras.data.files import atomic_write
from srgan_keras.data.imaging import ImageError, check_pixels
from srgan_keras.data.metadata import probe
from srgan_keras.data.outputs import OutputPlan, write_failure
from srgan_keras.inference.web_settings import AppError, Settings, named
from srgan_keras.inference.web_upscale import WEB_MAX_PIXELS, upscale_upload

# Our choice: at most this many files per batch (each is a line of the summary and an entry of
# the zip; more is a folder job for the command line).
WEB_MAX_FILES = 32
ZIP_NAME = "upscaled.zip"


@dataclass
class Batch:
    """A finished batch: ``(upload, result)`` for each file done, one line per file (in upload
    order, failures included), and the zip of the results (None when none was done)."""

    done: list[tuple[Path, Path]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    failed: int = 0
    zip: Path | None = None


def pixels(n: int) -> str:
    """A pixel count for a line: ``1,120 pixels``, ``16.8 MP``."""
    return f"{n / 1e6:.1f} MP" if n >= 1e6 else f"{n:,} pixels"


def check_batch(paths: list[Path], max_pixels: int = WEB_MAX_PIXELS,
                max_files: int = WEB_MAX_FILES) -> tuple[list[tuple[Path, int]], dict[Path, str]]:
    """The batch's images with their pixel counts, and the one line of each file that is not one
    (or is over ``max_pixels`` itself); raises :class:`AppError` (one line) for a batch over
    ``max_files`` files or ``max_pixels`` pixels in all (0: no total bound)."""
    if len(paths) > max_files:
        raise AppError(f"{len(paths)} files: the page takes at most {max_files} at once; upload "
                       "fewer, or run python -m srgan_keras.upscale on a folder")
    good, bad = [], {}
    for p in paths:
        try:
            header = probe(p)
            check_pixels(p, header.width, header.height, max_pixels or None)
        except ImageError as e:
            bad[p] = named(str(e), p)
            continue
        good.append((p, header.width * header.height))
    total = sum(n for _, n in good)
    if max_pixels and total > max_pixels:
        raise AppError(f"these {len(good)} images have {pixels(total)} in all, more than the "
                       f"page takes at once ({pixels(max_pixels)}, --max-pixels); upload "
                       "fewer or smaller images")
    return good, bad


def write_zip(files: list[Path], dst: Path) -> Path:
    """``files`` into the zip ``dst`` by their names, stored (PNG, JPEG and WebP are compressed
    already), written to a temporary beside it and renamed: never half a zip. A write that
    fails (a full disk) is :class:`AppError`, one line."""
    def write(tmp: str) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
            for f in files:
                z.write(f, arcname=f.name)

    try:
        atomic_write(dst, write, overwrite=False)
    except OSError as e:  # a full disk: the page's one line (the temporary is gone already)
        line = write_failure(dst.name, e, flag="")
        if line is None:
            raise
        raise AppError(line.replace("choose another output or free space", "free space and "
                                    "upscale again")) from None
    return dst


def upscale_batch(paths: list[str | os.PathLike], settings: Settings, out_dir: str | os.PathLike,
                  on_progress: Callable[[int, int | None], None] | None = None,
                  max_pixels: int = WEB_MAX_PIXELS, max_files: int = WEB_MAX_FILES) -> Batch:
    """Upscale every upload of a batch into ``out_dir`` and zip the results there.

    ``on_progress(done, total)`` in pixels over the whole batch. Raises :class:`AppError` for a
    batch over its bounds (:func:`check_batch`), before anything is computed; a file that fails
    is its line in :attr:`Batch.lines`.
    """
    srcs = [Path(p) for p in paths]
    if not srcs:
        raise AppError("Drop one or more images first.")
    good, bad = check_batch(srcs, max_pixels, max_files)
    sizes = dict(good)
    total = sum(sizes.values())
    outputs = OutputPlan(srcs, overwrite=True)  # one plan: no two uploads write the same file
    batch, offset = Batch(), 0
    for src in srcs:
        if src in bad:
            batch.lines.append(f"failed: {bad[src]}")
            batch.failed += 1
            continue

        def tiles(done: int, _total, o: int = offset) -> None:
            if on_progress is not None:
                on_progress(o + done, total)

        try:
            result = upscale_upload(src, settings, out_dir, tiles, max_pixels, outputs)
        except AppError as e:
            batch.lines.append(f"failed: {e}")
            batch.failed += 1
        else:
            batch.done.append((src, result.path))
            batch.lines.append(f"{src.name} -> {result.path.name}: {result.summary}")
        offset += sizes[src]
    if batch.done:
        batch.zip = write_zip([dst for _, dst in batch.done], Path(out_dir) / ZIP_NAME)
    return batch
