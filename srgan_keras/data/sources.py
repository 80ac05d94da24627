"""Where the training and validation images come from: the sources ``--data`` names, read and checked.

``builtin`` (scikit-image's photos, no download), a folder (recursive), or a folder of HR paired
by file name with a folder of LR (``--lr-data``). A small source is decoded once into an
:class:`ImagePool` (with each whole image's bicubic LR, :func:`whole_image_lr`); a large one is
returned as file paths, to be streamed (:mod:`srgan_keras.data.batches`). Files that cannot be
used are skipped and named in one warning; a source with none usable is a :class:`DataError`.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from srgan_keras.data.degradation import crop_to_multiple, make_lr_numpy
from srgan_keras.data.imaging import (
    BUILTIN_TRAIN,
    BUILTIN_VAL,
    ImageError,
    builtin_images,
    list_images,
    load_rgb_uint8,
)
from srgan_keras.errors import SrganKerasError


class DataSettings(Protocol):
    """The settings the pipeline reads: the data fields of a training config.

    :class:`srgan_keras.training.config.TrainConfig` has them all (so ``training_dataset(cfg)``
    takes a training config as it is); the pipeline names only what it needs, so the data stage
    does not depend on the training stage (issue 26.3).
    """

    data: str  # builtin | a folder | tfds:NAME
    lr_data: str | None  # a folder of LR images paired by name, else bicubic LR
    val_data: str
    val_images: int
    scale: int
    hr_size: int
    batch_size: int
    color_jitter: bool
    degradation: str  # bicubic | realesrgan | light
    usm_gt: bool
    cache_gib: float
    seed: int


class DataError(SrganKerasError, ValueError):
    """A data source that cannot be used; the message says what to do."""


@dataclass
class ImagePool:
    """Decoded HR images (uint8 RGB) and LR images (paired files, or the bicubic LR of each whole
    image)."""

    names: list[str] = field(default_factory=list)
    hr: list[np.ndarray] = field(default_factory=list)
    lr: list[np.ndarray] | None = None


def warn_skipped(skipped: list[str], total: int) -> None:
    """One summary warning naming every skipped file (not one warning per file)."""
    if skipped:
        shown = "; ".join(skipped[:10]) + (f"; ... and {len(skipped) - 10} more" if len(skipped) > 10 else "")
        print(f"warning: skipped {len(skipped)} of {total} image files: {shown}", file=sys.stderr)


def _header_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header, without decoding; raises ImageError."""
    try:
        if path.stat().st_size == 0:
            raise ImageError(f"{path}: empty file (0 bytes)")
        with Image.open(path) as im:
            return im.size
    except ImageError:
        raise
    except Exception as e:
        raise ImageError(f"{path}: not an image file ({type(e).__name__})") from None


def decode_checked(path: Path, min_size: int) -> np.ndarray:
    arr = load_rgb_uint8(path)
    if min(arr.shape[:2]) < min_size:
        raise ImageError(f"{path}: too small ({arr.shape[1]}x{arr.shape[0]} < {min_size} px)")
    return arr


def scan_folder(folder: str, min_size: int) -> tuple[list[Path], list[str], int, int]:
    """Image paths under ``folder`` whose headers read and are large enough, from the headers
    alone: (usable, skipped messages, files looked at, pixels of the usable ones)."""
    if not Path(folder).exists():
        raise DataError(f"--data {folder}: no such file or folder")
    paths = list_images(folder)
    usable, skipped, pixels = [], [], 0
    for p in paths:
        try:
            w, h = _header_size(p)
            if min(w, h) < min_size:
                raise ImageError(f"{p}: too small ({w}x{h} < {min_size} px)")
            usable.append(p)
            pixels += w * h
        except ImageError as e:
            skipped.append(str(e))
    return usable, skipped, len(paths), pixels


def load_pool(cfg: DataSettings) -> ImagePool | list[Path]:
    """Decode the training source into memory, or return file paths when it is too large to cache."""
    pool = ImagePool()
    if cfg.data == "builtin":
        # As a folder's files: a photo smaller than the crop is skipped (issue 27.11: page and
        # text, under 256 px, made --preset realesrgan's crops fail with "high <= 0")
        photos, skipped = builtin_images(BUILTIN_TRAIN), []
        for name, arr in photos:
            if min(arr.shape[:2]) < cfg.hr_size:
                skipped.append(f"{name}: too small ({arr.shape[1]}x{arr.shape[0]} < {cfg.hr_size} px)")
                continue
            pool.names.append(name)
            pool.hr.append(arr)
        warn_skipped(skipped, len(photos))
        if not pool.hr:
            raise DataError(f"--data builtin: no photo of at least --hr-size {cfg.hr_size} px")
        return _with_whole_image_lr(pool, cfg)
    paths, skipped, total, pixels = scan_folder(cfg.data, cfg.hr_size)
    if cfg.lr_data is None:
        if pixels * 3 > cfg.cache_gib * 2**30:  # decoded RGB bytes
            warn_skipped(skipped, total)
            if not paths:
                raise DataError(f"--data {cfg.data}: no usable images ({total} files looked at)")
            return paths
    lr_dir = Path(cfg.lr_data) if cfg.lr_data else None
    if lr_dir is not None and not lr_dir.is_dir():
        raise DataError(f"--lr-data {lr_dir}: no such folder")
    lr_by_stem = {p.stem: p for p in list_images(lr_dir)} if lr_dir else {}

    def work(p: Path):
        try:
            hr = decode_checked(p, cfg.hr_size)
            if lr_dir is None:
                return p, hr, None, None
            lp = lr_by_stem.get(p.stem)
            if lp is None:
                raise ImageError(f"{p}: no LR image named {p.stem}.* in {lr_dir}")
            lr = load_rgb_uint8(lp)
            hr = crop_to_multiple(hr, cfg.scale)
            want = (hr.shape[0] // cfg.scale, hr.shape[1] // cfg.scale)
            if lr.shape[:2] != want:
                raise ImageError(f"{lp}: size {lr.shape[1]}x{lr.shape[0]} is not HR/{cfg.scale} "
                                 f"({want[1]}x{want[0]})")
            return p, hr, lr, None
        except ImageError as e:
            return p, None, None, str(e)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        results = list(ex.map(work, paths))
    if lr_dir is not None:
        pool.lr = []
    for p, hr, lr, err in results:
        if err:
            skipped.append(err)
            continue
        pool.names.append(str(p))
        pool.hr.append(hr)
        if pool.lr is not None:
            pool.lr.append(lr)
    warn_skipped(skipped, total)
    if not pool.hr:
        raise DataError(f"--data {cfg.data}: no usable images ({total} files looked at; "
                        "need png/jpg/jpeg/bmp/webp/tif files of at least --hr-size pixels)")
    return _with_whole_image_lr(pool, cfg)


def whole_image_lr(cfg: DataSettings) -> bool:
    """Whether an in-memory pool gets each image's bicubic LR once, cropped with its HR crop.

    That is the evaluation protocol's LR (the whole image downscaled, :func:`make_lr_numpy`),
    and what BasicSR does with LR files made beforehand. Downscaling each 96x96 crop on its own
    instead would pad the crop's edges: the antialiased x4 kernel reaches 2 LR pixels inward,
    so about 30 % of a 24x24 LR crop would differ from any LR seen at test time. Colour jitter
    changes HR per crop, so with it the LR is still made per crop.
    """
    return cfg.lr_data is None and cfg.degradation == "bicubic" and not cfg.color_jitter


def _with_whole_image_lr(pool: ImagePool, cfg: DataSettings) -> ImagePool:
    if pool.lr is None and whole_image_lr(cfg):
        pool.hr = [crop_to_multiple(hr, cfg.scale) for hr in pool.hr]  # still >= hr_size
        pool.lr = [make_lr_numpy(hr, cfg.scale) for hr in pool.hr]
    return pool

def validation_images(cfg: DataSettings) -> list[tuple[str, np.ndarray]]:
    """(name, HR uint8 cropped to a multiple of the scale) for validation while training."""
    if cfg.val_data == "builtin":
        items = builtin_images(BUILTIN_VAL)
    else:
        paths, skipped, total, _ = scan_folder(cfg.val_data, 16)
        items, bad = [], list(skipped)
        for p in paths:
            try:
                items.append((p.name, load_rgb_uint8(p)))
            except ImageError as e:
                bad.append(str(e))
        warn_skipped(bad, total)
        if not items:
            raise DataError(f"--val-data {cfg.val_data}: no usable images")
    if cfg.val_images:
        items = items[: cfg.val_images]
    return [(n, crop_to_multiple(a, cfg.scale)) for n, a in items]
