"""Training data: HR crops, their LR counterparts, augmentation, as a prefetched tf.data pipeline.

SRGAN §3.2: "For each mini-batch we crop 16 random 96x96 HR sub images of distinct training
images"; LR is bicubic x1/4 of HR (§3.1, :mod:`srgan_keras.data.degradation`). Ranges (§3.2): LR in
[0, 1], HR in [-1, 1].

Sources (``--data``): ``builtin`` (scikit-image's photos, no download), a folder (recursive), a
folder of HR paired by file name with a folder of LR (``--lr-data``), or ``tfds:NAME[:SPLIT]``.
Random flips and 90 degree rotations are applied (our choice; the paper is silent), and optional
colour jitter. Small sources are decoded once into memory; large ones are streamed from disk.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

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
from srgan_keras.training.config import TrainConfig

CROPS_PER_IMAGE = 8  # streaming: random crops taken from each decoded file (our choice)


class DataError(ValueError):
    """A data source that cannot be used; the message says what to do."""


@dataclass
class ImagePool:
    """Decoded HR images (uint8 RGB), LR images (paired files, or the bicubic LR of each whole
    image), and what was skipped and why."""

    names: list[str] = field(default_factory=list)
    hr: list[np.ndarray] = field(default_factory=list)
    lr: list[np.ndarray] | None = None
    skipped: list[str] = field(default_factory=list)


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


def load_pool(cfg: TrainConfig) -> ImagePool | list[Path]:
    """Decode the training source into memory, or return file paths when it is too large to cache."""
    pool = ImagePool()
    if cfg.data == "builtin":
        for name, arr in builtin_images(BUILTIN_TRAIN):
            pool.names.append(name)
            pool.hr.append(arr)
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
    pool.skipped = skipped
    warn_skipped(skipped, total)
    if not pool.hr:
        raise DataError(f"--data {cfg.data}: no usable images ({total} files looked at; "
                        "need png/jpg/jpeg/bmp/webp/tif files of at least --hr-size pixels)")
    return _with_whole_image_lr(pool, cfg)


def whole_image_lr(cfg: TrainConfig) -> bool:
    """Whether an in-memory pool gets each image's bicubic LR once, cropped with its HR crop.

    That is the evaluation protocol's LR (the whole image downscaled, :func:`make_lr_numpy`),
    and what BasicSR does with LR files made beforehand. Downscaling each 96x96 crop on its own
    instead would pad the crop's edges: the antialiased x4 kernel reaches 2 LR pixels inward,
    so about 30 % of a 24x24 LR crop would differ from any LR seen at test time. Colour jitter
    changes HR per crop, so with it the LR is still made per crop.
    """
    return cfg.lr_data is None and cfg.degradation == "bicubic" and not cfg.color_jitter


def _with_whole_image_lr(pool: ImagePool, cfg: TrainConfig) -> ImagePool:
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


def _pool_batches(pool: ImagePool, cfg: TrainConfig, seed: int):
    """Endless batches of (HR uint8, LR uint8 or zeros) crops, each from a distinct image when possible."""
    rng = np.random.default_rng(seed)
    n, s, size = len(pool.hr), cfg.scale, cfg.hr_size
    lr_size = size // s
    while True:
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


def _streamed_crops(paths: list[Path], cfg: TrainConfig, seed: int) -> tf.data.Dataset:
    """Decode files in parallel (Pillow, so every format and mode works), CROPS_PER_IMAGE crops each."""
    size = cfg.hr_size

    def decode_and_crop(path_t, seed_t):
        rng = np.random.default_rng(int(seed_t))
        try:
            img = _decode_checked(Path(path_t.numpy().decode()), size)
        except ImageError as e:
            print(f"warning: skipped {e}", file=sys.stderr)
            return np.zeros((0, size, size, 3), np.uint8)
        crops = []
        for _ in range(CROPS_PER_IMAGE):
            y = int(rng.integers(img.shape[0] - size + 1))
            x = int(rng.integers(img.shape[1] - size + 1))
            (c,) = _augment_numpy(rng, img[y:y + size, x:x + size])
            crops.append(c)
        return np.stack(crops)

    ds = tf.data.Dataset.from_tensor_slices([str(p) for p in paths])
    ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed)))
    ds = ds.map(lambda p, r: tf.ensure_shape(tf.py_function(decode_and_crop, [p, r], tf.uint8),
                                             [None, size, size, 3]),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
    ds = ds.unbatch().shuffle(CROPS_PER_IMAGE * 64, seed=seed)
    return ds.batch(cfg.batch_size, drop_remainder=True)


def _tfds_crops(spec: str, cfg: TrainConfig, seed: int) -> tf.data.Dataset:
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


def _color_jitter(hr255):
    """Brightness and saturation jitter of HR crops (our option, after seed 001): +-10 %."""
    x = hr255 / 255.0
    x = tf.image.random_brightness(x, 0.1)
    x = tf.image.random_saturation(x, 0.9, 1.1)
    return tf.clip_by_value(x, 0.0, 1.0) * 255.0


def make_pair(hr_uint8, lr_uint8, cfg: TrainConfig, seed=(0, 0), lr_given: bool = False):
    """HR uint8 crops -> (LR in [0, 1], HR in [-1, 1], target in [-1, 1]).

    LR is the given LR crop (``lr_given``: a paired file's, or the bicubic LR of the whole
    image), the MATLAB-equivalent bicubic downscale of the HR crop, or Real-ESRGAN's
    second-order degradation (stateless random draws from ``seed``). The target is what the pixel
    and content losses compare with: HR, or for Real-ESRGAN (``usm_gt``) its unsharp-masked
    version, from which the LR is then degraded too (the official training triplet).
    """
    hr255 = tf.cast(hr_uint8, tf.float32)
    if cfg.color_jitter:
        hr255 = _color_jitter(hr255)
    target01 = None
    if lr_given:
        lr01 = tf.cast(lr_uint8, tf.float32) / 255.0
    elif cfg.degradation == "realesrgan":
        from srgan_keras.data import realesrgan_degradation as red

        lr01, _, hr_usm = red.realesrgan_triplet(hr255 / 255.0, cfg.scale, red.DEFAULT, seed)
        target01 = hr_usm if cfg.usm_gt else None
    else:
        lr01 = bicubic_downscale(tf.round(hr255), cfg.scale) / 255.0
    hr = hr255 / 127.5 - 1.0
    target = hr if target01 is None else target01 * 2.0 - 1.0
    return lr01, hr, target


def training_dataset(cfg: TrainConfig, seed: int | None = None) -> tf.data.Dataset:
    """Endless batches ``(lr (B, h, w, 3) in [0,1], hr (B, H, W, 3) in [-1,1], target like hr)``."""
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
                lambda: _pool_batches(source, cfg, seed),
                output_signature=(tf.TensorSpec((cfg.batch_size, size, size, 3), tf.uint8),
                                  tf.TensorSpec(lr_shape, tf.uint8)))
        else:
            ds = _streamed_crops(source, cfg, seed).map(
                lambda hr: (hr, tf.zeros((1, 1, 1, 3), tf.uint8)))
    if cfg.degradation == "realesrgan":
        from srgan_keras.data.realesrgan_degradation import check_size, seed_for

        check_size(cfg.hr_size, cfg.scale)
        ds = ds.enumerate().map(lambda i, b: make_pair(b[0], b[1], cfg, seed_for(seed, i)),
                                num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda hr, lr: make_pair(hr, lr, cfg, lr_given=lr_given),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def validation_images(cfg: TrainConfig) -> list[tuple[str, np.ndarray]]:
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
