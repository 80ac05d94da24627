"""Training data: HR crops, their LR counterparts, augmentation, as a prefetched tf.data pipeline.

SRGAN §3.2: "For each mini-batch we crop 16 random 96x96 HR sub images of distinct training
images"; LR is bicubic x1/4 of HR (§3.1, :mod:`srgan_keras.data.degradation`). Ranges (§3.2): LR in
[0, 1], HR in [-1, 1].

Sources (``--data``): ``builtin`` (scikit-image's photos, no download), a folder (recursive), a
folder of HR paired by file name with a folder of LR (``--lr-data``), or ``tfds:NAME[:SPLIT]``.
Random flips and 90 degree rotations are applied (our choice; the paper is silent), and optional
colour jitter. Small sources are decoded once into memory; large ones are streamed from disk.

The data order is a function of ``(seed, step)`` (our design): batch ``k`` of a folder or the
built-in photos, its crops, flips, colour jitter and Real-ESRGAN degradations are drawn from
random generators seeded with ``(seed, k)``, so a run resumed at step ``k`` sees the batches the
uninterrupted run would have seen, and ends with the same weights. (A ``tfds:`` source keeps
tensorflow-datasets' own shuffling, which restarts on a resume.)
"""

from __future__ import annotations

import itertools
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import tensorflow as tf
from PIL import Image

from srgan_keras.data.degradation import bicubic_downscale, crop_to_multiple, make_lr_numpy
from srgan_keras.data.imaging import (
    BUILTIN_TRAIN,
    BUILTIN_VAL,
    ImageError,
    builtin_images,
    list_images,
    load_rgb_uint8,
)
from srgan_keras.data.ranges import pixels_to_signed, pixels_to_unit, unit_to_pixels, unit_to_signed
from srgan_keras.errors import SrganKerasError

CROPS_PER_IMAGE = 8  # streaming: random crops taken from each decoded file (our choice)
# Streaming: stop when this many files in a row failed to decode and none ever has (our choice;
# enough to rule out bad luck in a source that holds a few broken files).
MAX_FAILURES_BEFORE_FIRST_DECODE = 100
JITTER_STREAM = 1000  # stateless_fold_in offsets of the colour jitter (our choice: apart from degradation's)
MAX_SKIP_WARNINGS = 20  # streaming: files named in a warning; the rest are counted (our choice)


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


def _decode_checked(path: Path, min_size: int) -> np.ndarray:
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
            hr = _decode_checked(p, cfg.hr_size)
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


def _augment_numpy(rng: np.random.Generator, *arrays: np.ndarray) -> list[np.ndarray]:
    """The same random flip and 90 degree rotation applied to every array (HR and its LR)."""
    k, flip = int(rng.integers(4)), bool(rng.integers(2))
    out = []
    for a in arrays:
        a = np.rot90(a, k) if k else a
        out.append(np.ascontiguousarray(a[:, ::-1] if flip else a))
    return out


def _pool_batches(pool: ImagePool, cfg: DataSettings, seed: int, start_step: int = 0):
    """Endless batches of (HR uint8, LR uint8 or zeros) crops, each from a distinct image when
    possible; batch ``k`` (from ``start_step`` on) is a function of ``(seed, k)`` alone."""
    n, s, size = len(pool.hr), cfg.scale, cfg.hr_size
    lr_size = size // s
    for step in itertools.count(start_step):
        rng = np.random.default_rng([seed, step])
        idx = rng.choice(n, cfg.batch_size, replace=n < cfg.batch_size)
        hrs, lrs = [], []
        for i in idx:
            hr = pool.hr[i]
            # Offsets on the LR grid (HR offsets on multiples of the scale), with or without LR
            # images, so that the same seed gives the same crops either way.
            y = int(rng.integers((hr.shape[0] - size) // s + 1))
            x = int(rng.integers((hr.shape[1] - size) // s + 1))
            hr_c = hr[y * s:y * s + size, x * s:x * s + size]
            if pool.lr is not None:
                lr_c = pool.lr[i][y:y + lr_size, x:x + lr_size]
                hr_c, lr_c = _augment_numpy(rng, hr_c, lr_c)
                lrs.append(lr_c)
            else:
                (hr_c,) = _augment_numpy(rng, hr_c)
            hrs.append(hr_c)
        lr_batch = np.stack(lrs) if lrs else np.zeros((cfg.batch_size, 1, 1, 3), np.uint8)
        yield np.stack(hrs), lr_batch


_stream_failures: list[DataError] = []  # what a stream raised inside tf.data (see stream_failure)


def stream_failure(error: BaseException) -> DataError | None:
    """The :class:`DataError` that stopped a streamed source, if ``error`` is TensorFlow's
    wrapping of it (an exception inside a ``tf.data`` generator reaches the loop as an OpError)."""
    if isinstance(error, tf.errors.OpError) and _stream_failures:
        return _stream_failures[-1]
    return None


def _crops_of_file(path: Path, cfg: DataSettings, rng_seed: list[int]) -> np.ndarray:
    """CROPS_PER_IMAGE random augmented HR crops of one file; raises ImageError."""
    size = cfg.hr_size
    img = _decode_checked(path, size)
    rng = np.random.default_rng(rng_seed)
    crops = []
    for _ in range(CROPS_PER_IMAGE):
        y = int(rng.integers(img.shape[0] - size + 1))
        x = int(rng.integers(img.shape[1] - size + 1))
        (c,) = _augment_numpy(rng, img[y:y + size, x:x + size])
        crops.append(c)
    return np.stack(crops)


def _streamed_batches(paths: list[Path], cfg: DataSettings, seed: int, start_step: int = 0):
    """Endless HR batches decoded from disk, a function of ``(seed, step)`` like the pool's.

    Steps come in chunks of CROPS_PER_IMAGE: chunk ``c`` takes ``batch_size`` files in the
    order of a permutation drawn from ``(seed, c)``, decodes them in parallel (Pillow, so every
    format and mode works) and cuts CROPS_PER_IMAGE crops from each; batch ``r`` of the chunk
    holds crop ``r`` of every file, so a batch's crops come from distinct files. A file that
    fails to decode is replaced by the next in the permutation, named in a warning once, and not
    tried again. When every file has failed, or the first MAX_FAILURES_BEFORE_FIRST_DECODE tried
    all failed, the stream stops with a :class:`DataError` (it retried forever before).
    """
    n, b = len(paths), cfg.batch_size
    bad: dict[int, str] = {}
    decoded_any = False
    chunk, skip = divmod(start_step, CROPS_PER_IMAGE)

    def stop(why: str) -> DataError:
        first = next(iter(bad.values()))
        err = DataError(f"--data {cfg.data}: {why} (first: {first}); the streamed source cannot "
                        "make a batch: check the files, or remove the broken ones")
        _stream_failures.append(err)
        return err

    def work(item):  # (slot k of chunk c's permutation, file i, c) -> (k, crops or None, error)
        k, i, c = item
        try:
            return k, _crops_of_file(paths[i], cfg, [seed, c, k]), None
        except ImageError as e:
            return k, None, str(e)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        while True:
            rng = np.random.default_rng([seed, chunk])
            order = [int(i) for i in rng.permutation(n)]
            chosen: list[tuple[int, np.ndarray]] = []  # (slot in the permutation, crops)
            pos = 0
            while len(chosen) < b and pos < n:
                want = order[pos:pos + (b - len(chosen))]
                pos += len(want)
                todo = [(k, i, chunk) for k, i in enumerate(want, pos - len(want)) if i not in bad]
                for k, crops, err in pool.map(work, todo):
                    i = order[k]
                    if err is None:
                        chosen.append((k, crops))
                        decoded_any = True
                        continue
                    bad[i] = err
                    if len(bad) <= MAX_SKIP_WARNINGS:
                        print(f"warning: skipped {err}", file=sys.stderr)
                    elif len(bad) == MAX_SKIP_WARNINGS + 1:
                        print("warning: more files fail to decode; they are skipped without a "
                              "warning each", file=sys.stderr)
                if len(bad) == n:
                    raise stop(f"none of the {n} files decodes, although their headers read")
                if not decoded_any and len(bad) >= MAX_FAILURES_BEFORE_FIRST_DECODE:
                    raise stop(f"the first {len(bad)} files tried all fail to decode")
            chosen.sort(key=lambda kc: kc[0])
            crops = [c for _, c in chosen]
            while len(crops) < b:  # fewer good files than a batch: repeat them
                crops += crops[: b - len(crops)]
            stacked = np.stack(crops, axis=1)  # (CROPS_PER_IMAGE, B, size, size, 3)
            for r in range(skip, CROPS_PER_IMAGE):
                yield stacked[r]
            chunk, skip = chunk + 1, 0


def _tfds_crops(spec: str, cfg: DataSettings, seed: int) -> tf.data.Dataset:
    """``tfds:NAME[:SPLIT]``: images from tensorflow-datasets (feature ``hr`` or ``image``)."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DataError(f"--data {spec} needs tensorflow-datasets: pip install -e .[tfds]") from None
    parts = spec.split(":")
    name, split = parts[1], (parts[2] if len(parts) > 2 else "train")
    try:
        ds = tfds.load(name, split=split, shuffle_files=True)
    except Exception as e:
        raise DataError(f"--data {spec}: tensorflow-datasets could not load it ({type(e).__name__}: "
                        f"{str(e)[:160]}); download it once with a network, or use a folder") from None
    key = "hr" if "hr" in ds.element_spec else "image"
    size = cfg.hr_size

    def to_rgb(ex):
        img = ex[key]
        img = tf.image.grayscale_to_rgb(img) if img.shape[-1] == 1 else img[..., :3]
        return tf.image.convert_image_dtype(img, tf.uint8, saturate=True)

    def big_enough(img):
        return tf.reduce_min(tf.shape(img)[:2]) >= size

    ds = ds.map(to_rgb, num_parallel_calls=tf.data.AUTOTUNE).filter(big_enough).repeat()
    ds = ds.map(lambda img: tf.image.random_crop(img, (size, size, 3), seed=seed),
                num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda c: tf.image.rot90(tf.image.random_flip_left_right(c, seed=seed),
                                         tf.random.uniform([], 0, 4, tf.int32, seed=seed)))
    return ds.shuffle(256, seed=seed).batch(cfg.batch_size, drop_remainder=True)


def _color_jitter(hr255, seed):
    """Brightness and saturation jitter of HR crops (our option, after seed 001): +-10 %.

    Stateless draws from ``seed`` (the batch's), so a resumed run jitters as the uninterrupted one.
    """
    x = pixels_to_unit(hr255)
    fold = tf.random.experimental.stateless_fold_in
    x = tf.image.stateless_random_brightness(x, 0.1, fold(seed, JITTER_STREAM))
    x = tf.image.stateless_random_saturation(x, 0.9, 1.1, fold(seed, JITTER_STREAM + 1))
    return unit_to_pixels(tf.clip_by_value(x, 0.0, 1.0))


def make_pair(hr_uint8, lr_uint8, cfg: DataSettings, seed=(0, 0), lr_given: bool = False):
    """HR uint8 crops -> (LR in [0, 1], HR in [-1, 1], target in [-1, 1]).

    LR is the given LR crop (``lr_given``: a paired file's, or the bicubic LR of the whole
    image), the MATLAB-equivalent bicubic downscale of the HR crop, or Real-ESRGAN's
    second-order degradation (stateless random draws from ``seed``). The target is what the pixel
    and content losses compare with: HR, or for Real-ESRGAN (``usm_gt``) its unsharp-masked
    version, from which the LR is then degraded too (the official training triplet).
    """
    hr255 = tf.cast(hr_uint8, tf.float32)
    if cfg.color_jitter:
        hr255 = _color_jitter(hr255, tf.cast(seed, tf.int64))
    target01 = None
    if lr_given:
        lr01 = pixels_to_unit(lr_uint8)
    elif cfg.degradation != "bicubic":  # realesrgan | light: the second-order pipeline
        from srgan_keras.data import realesrgan_degradation as red

        lr01, _, hr_usm = red.realesrgan_triplet(pixels_to_unit(hr255), cfg.scale,
                                                 red.PRESETS[cfg.degradation], seed)
        target01 = hr_usm if cfg.usm_gt else None
    else:
        lr01 = pixels_to_unit(bicubic_downscale(tf.round(hr255), cfg.scale))
    hr = pixels_to_signed(hr255)
    target = hr if target01 is None else unit_to_signed(target01)
    return lr01, hr, target


def training_dataset(cfg: DataSettings, seed: int | None = None, start_step: int = 0) -> tf.data.Dataset:
    """Endless batches ``(lr (B, h, w, 3) in [0,1], hr (B, H, W, 3) in [-1,1], target like hr)``.

    The first batch is the one of step ``start_step`` (a resumed run passes its step count).
    """
    seed = cfg.seed if seed is None else seed
    size, lr_size = cfg.hr_size, cfg.hr_size // cfg.scale
    lr_given = False  # True when the source yields LR crops (paired files, whole-image LR)
    if cfg.data.startswith("tfds:"):
        ds = _tfds_crops(cfg.data, cfg, seed).map(lambda hr: (hr, tf.zeros((1, 1, 1, 3), tf.uint8)))
    else:
        source = load_pool(cfg)
        if isinstance(source, ImagePool):
            lr_given = source.lr is not None
            lr_shape = (cfg.batch_size, lr_size, lr_size, 3) if source.lr is not None else (
                cfg.batch_size, 1, 1, 3)
            ds = tf.data.Dataset.from_generator(
                lambda: _pool_batches(source, cfg, seed, start_step),
                output_signature=(tf.TensorSpec((cfg.batch_size, size, size, 3), tf.uint8),
                                  tf.TensorSpec(lr_shape, tf.uint8)))
        else:
            ds = tf.data.Dataset.from_generator(
                lambda: _streamed_batches(source, cfg, seed, start_step),
                output_signature=tf.TensorSpec((cfg.batch_size, size, size, 3), tf.uint8)
            ).map(lambda hr: (hr, tf.zeros((1, 1, 1, 3), tf.uint8)))
    from srgan_keras.data.realesrgan_degradation import PRESETS, check_size, seed_for

    if cfg.degradation != "bicubic":
        check_size(cfg.hr_size, cfg.scale, PRESETS[cfg.degradation])
    # Element i is the batch of step start_step + i: its degradation and jitter seed (seed, step).
    ds = ds.enumerate(start=start_step).map(
        lambda i, b: make_pair(b[0], b[1], cfg, seed_for(seed, i), lr_given=lr_given),
        num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


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
