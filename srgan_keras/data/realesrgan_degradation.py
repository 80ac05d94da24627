"""Real-ESRGAN's second-order degradation model (Wang et al. 2021, §3, Fig. 2), in pure TF ops.

Bicubic downscaling (SRGAN, ESRGAN) is a clean, known degradation; real low-resolution photos are
blurred, resized, noisy and JPEG-compressed, often more than once. Real-ESRGAN synthesises its
training LR images by applying the classical model ``y = [(x * k) resized + n] JPEG`` twice:

    HR --usm--> blur k1 -> resize -> noise -> JPEG          (first order)
            --> blur k2 (p 0.8) -> resize -> noise          (second order)
            --> {resize to H/s, sinc} then JPEG   or   JPEG then {resize to H/s, sinc}  (p 0.5 each)
            --> round to 8 bits                                                         = LR

Every number is the official default (``options/train_realesrgan_x4plus.yml`` and
``RealESRGANDataset``), gathered in :class:`DegradationConfig` (defined, with its presets, in
:mod:`srgan_keras.data.realesrgan_config`, which needs no TensorFlow; re-exported here). Each stage
is a function of its explicit parameters (``filter2d``, ``resize``, ``add_gaussian_noise``,
``add_poisson_noise``, ``jpeg``, ``usm_sharpen``: :mod:`srgan_keras.data.realesrgan_stages`) plus
a sampler of those parameters, so each is testable on its own; the blur and sinc kernels are
:mod:`srgan_keras.data.realesrgan_kernels`'. This module chains them into the pipeline.

Departures from the official code, and why:

- **Per-image randomness.** The official model draws the resize scale, resize mode, noise type
  and order once per *batch* (GPU batches need one shape) and then shuffles pairs through a
  180-image pool to restore diversity. Here every choice is drawn per *image* inside ``tf.data``
  (the LR output has a fixed size either way), so no pool is needed; each image's marginal
  distribution is the official one.
- **Stateless random ops** with an explicit ``seed`` (a pair of ints): the same seed gives the
  same LR image, on any worker, in any order.
- ``tf.image.resize``'s bicubic is Keys' a = -0.5 (PyTorch's is a = -0.75); JPEG goes through
  libjpeg at an integer quality (official: a differentiable JPEG at a float quality).
- Resized sizes are floored at 11 px so the 21x21 kernels' reflection padding fits; at the
  official 256 px crops this never applies (0.15 x 256 = 38 px).

Images are float32 RGB in [0, 1], ``(H, W, 3)`` (or ``(B, H, W, 3)`` for the ``*_batch`` functions).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from srgan_keras.data.ranges import pixels_to_unit, quantize_unit
from srgan_keras.data.realesrgan_config import (
    DEFAULT,
    MAX_KERNEL,
    MIN_SIZE,
    RESIZE_MODES,
    DegradationConfig,
)
from srgan_keras.data.realesrgan_config import KERNEL_TYPES as KERNEL_TYPES
from srgan_keras.data.realesrgan_config import LIGHT as LIGHT
from srgan_keras.data.realesrgan_config import PRESETS as PRESETS
from srgan_keras.data.realesrgan_kernels import Seeds, chance, sample_kernels, uniform
from srgan_keras.data.realesrgan_stages import (
    add_noise,
    filter2d,
    jpeg,
    random_mode,
    random_noise_draw,
    random_scale,
    resize,
    usm_sharpen,
)


# ----------------------------------------------------------------------------------------------
# One stateless seed per image (realesrgan_kernels.Seeds folds in a number for each draw).
# ----------------------------------------------------------------------------------------------
def seed_for(base_seed: int, index) -> tf.Tensor:
    """The seed of element ``index`` of a dataset: use with ``Dataset.enumerate()``."""
    return tf.stack([tf.cast(base_seed, tf.int64), tf.cast(index, tf.int64)])



# ----------------------------------------------------------------------------------------------
# The whole pipeline.
# ----------------------------------------------------------------------------------------------
def degrade_image(hr01, scale: int, cfg: DegradationConfig, seed, stages=None):
    """One HR image ``(H, W, 3)`` in [0, 1] -> its LR ``(H/s, W/s, 3)``, 8-bit-valued in [0, 1].

    ``seed``: a pair of ints (or int tensor of shape (2,)); the same seed gives the same LR, so
    give every image its own (:func:`seed_for` with ``Dataset.enumerate()``).

    Official Real-ESRGAN degrades the *sharpened* ground truth: pass ``usm_sharpen(hr)`` (or use
    :func:`realesrgan_triplet`). ``stages``: a list that, in eager mode, receives
    ``(name, image, note)`` after each stage (for :func:`degradation_grid_figure`).
    """
    img = tf.convert_to_tensor(hr01, tf.float32)
    _check_static_size(img, scale, cfg)
    h, w = tf.shape(img)[0], tf.shape(img)[1]
    seeds = Seeds(seed)

    def record(name, x, note=""):
        if stages is not None and tf.executing_eagerly():
            stages.append((name, x, note))
        return x

    def size_at(factor):
        return tf.cast(tf.cast(tf.stack([h, w]), tf.float32) * factor, tf.int32)

    kernel1, kernel2, sinc = sample_kernels(seeds(), cfg)
    lr_size = tf.stack([h // scale, w // scale])

    eager = stages is not None and tf.executing_eagerly()  # notes only when recording

    # ----- first order: blur, resize, noise, JPEG -----
    x = record("blur 1", filter2d(img, kernel1))
    s1, mode1 = random_scale(seeds(), cfg.resize_prob, cfg.resize_range), random_mode(seeds())
    x = record("resize 1", resize(x, size_at(s1), mode1),
               f"{RESIZE_MODES[int(mode1)]} x{float(s1):.2f}" if eager else "")
    n1 = random_noise_draw(seeds(), cfg.gaussian_noise_prob, cfg.noise_range,
                           cfg.poisson_scale_range, cfg.gray_noise_prob)
    x = record("noise 1", add_noise(x, n1), n1.describe() if eager else "")
    q1 = uniform(seeds(), *cfg.jpeg_range)
    x = record("JPEG 1", jpeg(x, q1), f"quality {float(q1):.0f}" if eager else "")

    # ----- second order: blur (p 0.8), resize relative to the LR size, noise -----
    blur2 = chance(seeds(), cfg.second_blur_prob)
    x = record("blur 2", tf.cond(blur2, lambda: filter2d(x, kernel2), lambda: x),
               "" if not eager or bool(blur2) else "skipped")
    s2, mode2 = random_scale(seeds(), cfg.resize_prob2, cfg.resize_range2), random_mode(seeds())
    x = record("resize 2", resize(x, size_at(s2 / scale), mode2),
               f"{RESIZE_MODES[int(mode2)]} x{float(s2):.2f} of H/{scale}" if eager else "")
    n2 = random_noise_draw(seeds(), cfg.gaussian_noise_prob2, cfg.noise_range2,
                           cfg.poisson_scale_range2, cfg.gray_noise_prob2)
    x = record("noise 2", add_noise(x, n2), n2.describe() if eager else "")

    # ----- last: [resize to H/s + sinc] and JPEG, in either order (p 0.5 each) -----
    q2, mode3 = uniform(seeds(), *cfg.jpeg_range2), random_mode(seeds())

    note = ""
    if eager:
        pulse = float(sinc[MAX_KERNEL // 2, MAX_KERNEL // 2]) == 1.0
        note = f"{RESIZE_MODES[int(mode3)]} to H/{scale}" + (", no sinc" if pulse else "")

    def resize_sinc(y):
        return record("resize + sinc", filter2d(resize(y, lr_size, mode3), sinc), note)

    def jpeg2(y):
        return record("JPEG 2", jpeg(y, q2), f"quality {float(q2):.0f}" if eager else "")

    x = tf.cond(chance(seeds(), 0.5), lambda: jpeg2(resize_sinc(x)),
                lambda: resize_sinc(jpeg2(x)))
    x = quantize_unit(x)  # 8-bit LR, as saved to disk
    if img.shape[0] is not None and img.shape[1] is not None:
        x = tf.ensure_shape(x, (img.shape[0] // scale, img.shape[1] // scale, 3))
    return record("LR", x, "rounded to 8 bits")


def check_size(hr_size: int, scale: int, cfg: DegradationConfig = DEFAULT) -> None:
    """Fail early, with a sentence, on crops too small for the kernels' reflection padding."""
    need = max(MIN_SIZE * scale, cfg.usm_radius // 2 + 2)
    if hr_size < need:
        raise ValueError(f"Real-ESRGAN degradations need HR crops of at least {need} px at "
                         f"x{scale} (the 21x21 kernels pad the LR image by 10 px); got {hr_size}")


def _check_static_size(img, scale: int, cfg: DegradationConfig) -> None:
    """:func:`check_size` on the H and W of ``(..., H, W, C)`` when they are known statically."""
    h, w = img.shape[-3], img.shape[-2]
    if h is not None and w is not None:
        check_size(min(h, w), scale, cfg)


def degrade_batch(hr01, scale: int, cfg: DegradationConfig, seed):
    """``(B, H, W, 3)`` in [0, 1] -> ``(B, H/s, W/s, 3)``; image ``i`` uses ``fold_in(seed, i)``.

    For ``Dataset.map`` on batches: ``ds.batch(B).enumerate().map(lambda i, hr:
    degrade_batch(hr, 4, cfg, seed_for(base_seed, i)))``. Mapping :func:`degrade_image` before
    batching does the same work with more parallelism (``num_parallel_calls``).
    """
    hr = tf.convert_to_tensor(hr01, tf.float32)
    _check_static_size(hr, scale, cfg)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    out_shape = (None if hr.shape[1] is None else hr.shape[1] // scale,
                 None if hr.shape[2] is None else hr.shape[2] // scale, 3)
    return tf.map_fn(
        lambda args: degrade_image(args[0], scale, cfg,
                                   tf.random.experimental.stateless_fold_in(seed, args[1])),
        (hr, tf.range(tf.shape(hr)[0])),
        fn_output_signature=tf.TensorSpec(out_shape, tf.float32))


def realesrgan_triplet(hr01, scale: int, cfg: DegradationConfig, seed):
    """The official training triplet ``(lr, hr, hr_usm)``, ``lr`` degraded from ``hr_usm``.

    ``hr01``: one image ``(H, W, 3)`` (map this before ``.batch``: fastest, measured) or a batch
    ``(B, H, W, 3)``. Real-ESRGAN compares the L1 and perceptual losses with ``hr_usm`` and feeds
    the discriminator the plain ``hr`` (``l1_gt_usm``, ``percep_gt_usm`` true, ``gan_gt_usm``
    false).
    """
    hr = tf.convert_to_tensor(hr01, tf.float32)
    _check_static_size(hr, scale, cfg)
    hr_usm = usm_sharpen(hr, cfg.usm_weight, cfg.usm_radius, cfg.usm_threshold)
    degrade = degrade_batch if hr.shape.rank == 4 else degrade_image
    return degrade(hr_usm, scale, cfg, seed), hr, hr_usm


def degradation_grid_figure(image, path=None, scale: int = 4, cfg: DegradationConfig = DEFAULT,
                            seed=(0, 3)):
    """Plot one image through every stage (and the three kernels); save to ``path`` if given.

    ``image``: ``(H, W, 3)`` uint8 or [0, 1] floats. Returns the matplotlib figure. Each panel is
    shown at the same display size, so the resizes show as changes of pixel size.
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    img = np.asarray(image)
    img = pixels_to_unit(img) if img.dtype == np.uint8 else img.astype(np.float32)
    stages = [("HR", tf.constant(img), ""), ("USM sharpened", usm_sharpen(img), "")]
    degrade_image(stages[-1][1], scale, cfg, seed, stages)
    kernels = zip(("kernel 1", "kernel 2", "final sinc"),
                  sample_kernels(Seeds(seed)(), cfg))  # degrade_image's first draw
    kernels = list(kernels)
    panels = len(stages) + len(kernels)
    cols = 4
    rows = -(-panels // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows))
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (name, x, note) in zip(axes.ravel(), stages):
        x = np.asarray(x)
        ax.imshow(np.clip(x, 0, 1), interpolation="nearest")
        ax.set_title(f"{name} {x.shape[1]}x{x.shape[0]}" + (f"\n{note}" if note else ""),
                     fontsize=9)
    for ax, (name, k) in zip(axes.ravel()[len(stages):], kernels):
        ax.imshow(np.asarray(k), cmap="viridis", interpolation="nearest")
        ax.set_title(name, fontsize=9)
    fig.suptitle(f"Real-ESRGAN second-order degradation, x{scale}, seed {tuple(seed)}")
    fig.tight_layout()
    if path is not None:
        from srgan_keras.data.imaging import atomic_write

        atomic_write(path, lambda p: fig.savefig(p, dpi=100))
    return fig
