"""Training data: HR crops, their LR counterparts, augmentation, as a prefetched tf.data pipeline.

SRGAN §3.2: "For each mini-batch we crop 16 random 96x96 HR sub images of distinct training
images"; LR is bicubic x1/4 of HR (§3.1, :mod:`srgan_keras.data.degradation`). Ranges (§3.2): LR in
[0, 1], HR in [-1, 1].

Sources (``--data``): ``builtin`` (scikit-image's photos, no download), a folder (recursive), a
folder of HR paired by file name with a folder of LR (``--lr-data``) (all read by
:mod:`srgan_keras.data.sources`), or ``tfds:NAME[:SPLIT]``. Random flips and 90 degree rotations
are applied (our choice; the paper is silent), and optional colour jitter. Small sources are
decoded once into memory; large ones are streamed from disk (:mod:`srgan_keras.data.batches`).
This module turns their crops into training pairs (:func:`make_pair`) and the ``tf.data``
pipeline (:func:`training_dataset`).

The data order is a function of ``(seed, step)`` (our design): batch ``k`` of a folder or the
built-in photos, its crops, flips, colour jitter and Real-ESRGAN degradations are drawn from
random generators seeded with ``(seed, k)``, so a run resumed at step ``k`` sees the batches the
uninterrupted run would have seen, and ends with the same weights. (A ``tfds:`` source keeps
tensorflow-datasets' own shuffling, which restarts on a resume.)
"""

from __future__ import annotations

import tensorflow as tf

from srgan_keras.data.batches import pool_batches, streamed_batches
from srgan_keras.data.degradation import bicubic_downscale
from srgan_keras.data.ranges import pixels_to_signed, pixels_to_unit, unit_to_pixels, unit_to_signed
from srgan_keras.data.sources import DataError, DataSettings, ImagePool, load_pool

JITTER_STREAM = 1000  # stateless_fold_in offsets of the colour jitter (our choice: apart from degradation's)


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
                lambda: pool_batches(source, cfg, seed, start_step),
                output_signature=(tf.TensorSpec((cfg.batch_size, size, size, 3), tf.uint8),
                                  tf.TensorSpec(lr_shape, tf.uint8)))
        else:
            ds = tf.data.Dataset.from_generator(
                lambda: streamed_batches(source, cfg, seed, start_step),
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
