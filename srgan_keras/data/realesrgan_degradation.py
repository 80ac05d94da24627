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
``add_poisson_noise``, ``jpeg``, ``usm_sharpen``) plus a sampler of those parameters, so each is
testable on its own.

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

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from srgan_keras.data.ranges import PIXEL_MAX, pixels_to_unit, quantize_unit, unit_to_pixels
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


# ----------------------------------------------------------------------------------------------
# Random numbers: one stateless seed per image, folded with a stage number for each draw.
# ----------------------------------------------------------------------------------------------
def seed_for(base_seed: int, index) -> tf.Tensor:
    """The seed of element ``index`` of a dataset: use with ``Dataset.enumerate()``."""
    return tf.stack([tf.cast(base_seed, tf.int64), tf.cast(index, tf.int64)])


class _Seeds:
    """Hands out independent stateless seeds: ``fold_in(seed, 1)``, ``fold_in(seed, 2)``, ..."""

    def __init__(self, seed):
        self.seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        self.count = 0

    def __call__(self):
        self.count += 1
        return tf.random.experimental.stateless_fold_in(self.seed, self.count)


def _uniform(seed, lo, hi, shape=()):
    return tf.random.stateless_uniform(shape, seed, float(lo), float(hi))


def _chance(seed, p) -> tf.Tensor:
    """True with probability ``p``."""
    return tf.random.stateless_uniform((), seed) < p


def _choice(seed, probs) -> tf.Tensor:
    """An index drawn with the given probabilities (int32 scalar)."""
    logits = tf.math.log(tf.constant([probs], tf.float32))
    return tf.cast(tf.random.stateless_categorical(logits, 1, seed)[0, 0], tf.int32)


# ----------------------------------------------------------------------------------------------
# Blur kernels (BasicSR degradations.py), computed on a 21x21 grid, zero outside the k x k window.
# ----------------------------------------------------------------------------------------------
def _grid():
    ax = tf.range(-(MAX_KERNEL // 2), MAX_KERNEL // 2 + 1, dtype=tf.float32)
    return tf.meshgrid(ax, ax)  # xx varies along columns, yy along rows


def _window(ksize):
    """1 inside the centred ``ksize`` x ``ksize`` window of the 21x21 grid, else 0."""
    xx, yy = _grid()
    half = tf.cast(ksize // 2, tf.float32)
    return tf.cast((tf.abs(xx) <= half) & (tf.abs(yy) <= half), tf.float32)


def _normalise(kernel, ksize):
    kernel = kernel * _window(ksize)
    return kernel / tf.reduce_sum(kernel)


def mixed_kernel(family, ksize, sigma_x, sigma_y, theta, beta):
    """A normalised 21x21 kernel of a ``family`` (0 Gaussian, 1 generalized Gaussian, 2 plateau).

    With the quadratic form ``Q = p^T S^-1 p`` of the rotated covariance ``S = R diag(sx^2, sy^2)
    R^T`` (``R`` rotates by ``theta``): Gaussian ``exp(-Q/2)``, generalized Gaussian
    ``exp(-Q^beta/2)``, plateau ``1 / (1 + Q^beta)``. Isotropic kernels have ``sx == sy``.
    """
    xx, yy = _grid()
    c, s = tf.cos(theta), tf.sin(theta)
    # S^-1 = R diag(1/sx^2, 1/sy^2) R^T
    a, d = 1.0 / sigma_x**2, 1.0 / sigma_y**2
    inv00, inv11, inv01 = c * c * a + s * s * d, s * s * a + c * c * d, c * s * (a - d)
    q = inv00 * xx * xx + 2.0 * inv01 * xx * yy + inv11 * yy * yy
    qb = tf.pow(q, beta)
    kernels = tf.stack([tf.exp(-0.5 * q), tf.exp(-0.5 * qb), 1.0 / (qb + 1.0)])
    return _normalise(tf.gather(kernels, family), ksize)


def sinc_kernel(omega_c, ksize):
    """Circular low-pass (2-D sinc) kernel with cut-off ``omega_c``: ``wc J1(wc r) / (2 pi r)``.

    Models ringing and overshoot artefacts (Real-ESRGAN §3.2). Sums to 1; has negative lobes.
    """
    xx, yy = _grid()
    r = tf.sqrt(xx * xx + yy * yy)
    safe_r = tf.where(r > 0, r, 1.0)
    kernel = omega_c * tf.math.special.bessel_j1(omega_c * safe_r) / (2.0 * math.pi * safe_r)
    kernel = tf.where(r > 0, kernel, omega_c**2 / (4.0 * math.pi))  # the limit at r = 0
    return _normalise(kernel, ksize)


def pulse_kernel():
    """The identity kernel (official: used when the final sinc filter is skipped)."""
    return tf.constant(np.pad([[1.0]], MAX_KERNEL // 2), tf.float32)


def _beta(seed, lo, hi):
    """Official rule: beta in [lo, 1) or [1, hi) with odds 1:1 (for plateau, lo = 1 makes the
    first half always 1, as in BasicSR -- its code marks this "TODO: this may be not proper")."""
    seeds = _Seeds(seed)
    return tf.where(_chance(seeds(), 0.5), _uniform(seeds(), lo, 1.0), _uniform(seeds(), 1.0, hi))


def random_blur_kernel(seed, kernel_prob, sinc_prob, sigma_range, betag_range, betap_range,
                       kernel_sizes=DEFAULT.kernel_sizes):
    """One first- or second-order kernel as in ``RealESRGANDataset.__getitem__``: a random odd
    size 7..21, then a sinc kernel with probability ``sinc_prob``, else one of the six
    ``KERNEL_TYPES`` drawn with ``kernel_prob``. Returns ``(21, 21)`` float32, summing to 1."""
    seeds = _Seeds(seed)
    ksize = tf.gather(tf.constant(kernel_sizes), tf.random.stateless_uniform(
        (), seeds(), 0, len(kernel_sizes), dtype=tf.int32))
    kind = _choice(seeds(), kernel_prob)  # index into KERNEL_TYPES
    iso = kind % 2 == 0
    sigma_x = _uniform(seeds(), *sigma_range)
    sigma_y = tf.where(iso, sigma_x, _uniform(seeds(), *sigma_range))
    theta = tf.where(iso, 0.0, _uniform(seeds(), -math.pi, math.pi))
    family = kind // 2  # 0 Gaussian, 1 generalized, 2 plateau
    beta = tf.gather(tf.stack([tf.constant(1.0), _beta(seeds(), *betag_range),
                               _beta(seeds(), *betap_range)]), family)
    blur = mixed_kernel(family, ksize, sigma_x, sigma_y, theta, beta)
    # official: the sinc cut-off range widens for kernels of 13 px and more
    omega = _uniform(seeds(), 0.0, 1.0)
    lo = tf.where(ksize < 13, math.pi / 3, math.pi / 5)
    ringing = sinc_kernel(lo + omega * (math.pi - lo), ksize)
    return tf.where(_chance(seeds(), sinc_prob), ringing, blur)


def random_final_sinc_kernel(seed, prob=DEFAULT.final_sinc_prob,
                             kernel_sizes=DEFAULT.kernel_sizes):
    """The final sinc filter (cut-off in [pi/3, pi]) with probability ``prob``, else the pulse."""
    seeds = _Seeds(seed)
    ksize = tf.gather(tf.constant(kernel_sizes), tf.random.stateless_uniform(
        (), seeds(), 0, len(kernel_sizes), dtype=tf.int32))
    ringing = sinc_kernel(_uniform(seeds(), math.pi / 3, math.pi), ksize)
    return tf.where(_chance(seeds(), prob), ringing, pulse_kernel())


def sample_kernels(seed, cfg: DegradationConfig = DEFAULT):
    """The three kernels of one image: first-order blur, second-order blur, final sinc/pulse."""
    seeds = _Seeds(seed)
    return (random_blur_kernel(seeds(), cfg.kernel_prob, cfg.sinc_prob, cfg.blur_sigma,
                               cfg.betag_range, cfg.betap_range, cfg.kernel_sizes),
            random_blur_kernel(seeds(), cfg.kernel_prob2, cfg.sinc_prob2, cfg.blur_sigma2,
                               cfg.betag_range2, cfg.betap_range2, cfg.kernel_sizes),
            random_final_sinc_kernel(seeds(), cfg.final_sinc_prob, cfg.kernel_sizes))


# ----------------------------------------------------------------------------------------------
# The stages, each a plain function of its parameters.
# ----------------------------------------------------------------------------------------------
def _trim(kernel):
    """The smallest centred square holding every non-zero tap (a 7x7 blur padded to 21x21 ->
    7x7): the same filter at a fraction of the cost."""
    centre = tf.shape(kernel)[0] // 2
    nonzero = tf.cast(tf.where(tf.not_equal(kernel, 0.0)), tf.int32)  # (N, 2) indices
    r = tf.reduce_max(tf.abs(nonzero - centre))
    return kernel[centre - r:centre + r + 1, centre - r:centre + r + 1]


def filter2d(img, kernel):
    """Convolve ``(H, W, C)`` with a ``(k, k)`` kernel, reflection padding (BasicSR ``filter2D``).

    Zero borders are trimmed first; a depthwise conv was ~1.8x faster than a conv2d with the
    channels moved to the batch axis for these single-channel kernels (measured here). Needs
    H, W > k // 2.
    """
    kernel = _trim(tf.cast(kernel, img.dtype))
    p = tf.shape(kernel)[0] // 2
    x = tf.pad(img[None], [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")
    weights = tf.tile(kernel[:, :, None, None], [1, 1, tf.shape(img)[-1], 1])  # (k, k, C, 1)
    return tf.nn.depthwise_conv2d(x, weights, [1, 1, 1, 1], "VALID")[0]


def resize(img, size, mode):
    """Resize to ``size`` (h, w) by ``mode``: an index into ``RESIZE_MODES`` (area, bilinear,
    bicubic), no antialiasing, as PyTorch's ``F.interpolate``."""
    size = tf.maximum(tf.cast(size, tf.int32), MIN_SIZE)
    branches = [lambda m=m: tf.image.resize(img, size, method=m) for m in RESIZE_MODES]
    return tf.switch_case(mode, branches)


def random_scale(seed, resize_prob, resize_range):
    """Up (in [1, max]), down (in [min, 1]) or keep (1), with the odds ``resize_prob``."""
    seeds = _Seeds(seed)
    updown = _choice(seeds(), resize_prob)
    up, down = _uniform(seeds(), 1.0, resize_range[1]), _uniform(seeds(), resize_range[0], 1.0)
    return tf.gather(tf.stack([up, down, tf.constant(1.0)]), updown)


def random_mode(seed):
    return tf.random.stateless_uniform((), seed, 0, len(RESIZE_MODES), dtype=tf.int32)


def add_gaussian_noise(img, sigma, gray, seed):
    """``img + N(0, (sigma/255)^2)``, per channel or (``gray``) one map for all; clipped."""
    shape = tf.shape(img)
    channels = tf.where(gray, 1, shape[-1])
    noise = tf.random.stateless_normal(tf.stack([shape[0], shape[1], channels]), seed)
    return tf.clip_by_value(img + noise * (sigma / PIXEL_MAX), 0.0, 1.0)


def _poisson(img8, seed):
    """Poisson noise of an 8-bit-valued image with ``vals`` = 2^ceil(log2(#distinct levels))
    photon levels (BasicSR ``generate_poisson_noise_pt``)."""
    levels = tf.math.bincount(tf.cast(tf.round(unit_to_pixels(img8)), tf.int32), minlength=256,
                              maxlength=256)
    distinct = tf.cast(tf.math.count_nonzero(levels), tf.float32)
    vals = tf.pow(2.0, tf.math.ceil(tf.math.log(distinct) / math.log(2.0)))
    out = tf.random.stateless_poisson(tf.shape(img8), seed, img8 * vals, dtype=tf.float32) / vals
    return out - img8


def add_poisson_noise(img, scale, gray, seed):
    """``img + scale * Poisson noise``, from the colour image or (``gray``) its luma, clipped."""
    luma = tf.reduce_sum(img * tf.constant([0.299, 0.587, 0.114]), axis=-1, keepdims=True)
    noise = tf.cond(gray,
                    lambda: tf.broadcast_to(_poisson(quantize_unit(luma), seed), tf.shape(img)),
                    lambda: _poisson(quantize_unit(img), seed))
    return tf.clip_by_value(img + noise * scale, 0.0, 1.0)


class NoiseDraw(NamedTuple):
    gaussian: tf.Tensor  # bool: Gaussian, else Poisson
    gray: tf.Tensor  # bool: one noise map for all channels
    sigma: tf.Tensor  # Gaussian sigma in 0..255 units
    scale: tf.Tensor  # Poisson scale
    seed: tf.Tensor

    def describe(self) -> str:
        kind = f"Gaussian sigma {float(self.sigma):.1f}" if bool(self.gaussian) else \
            f"Poisson x{float(self.scale):.2f}"
        return kind + (", gray" if bool(self.gray) else "")


def random_noise_draw(seed, gaussian_prob, noise_range, poisson_range, gray_prob) -> NoiseDraw:
    """Gaussian (prob ``gaussian_prob``, sigma in ``noise_range``) or Poisson (scale in
    ``poisson_range``), gray with probability ``gray_prob``."""
    seeds = _Seeds(seed)
    return NoiseDraw(_chance(seeds(), gaussian_prob), _chance(seeds(), gray_prob),
                     _uniform(seeds(), *noise_range), _uniform(seeds(), *poisson_range), seeds())


def add_noise(img, draw: NoiseDraw):
    return tf.cond(draw.gaussian,
                   lambda: add_gaussian_noise(img, draw.sigma, draw.gray, draw.seed),
                   lambda: add_poisson_noise(img, draw.scale, draw.gray, draw.seed))


def jpeg(img, quality):
    """JPEG-compress and decode at an integer ``quality`` (libjpeg, 4:2:0 chroma), as Pillow and
    OpenCV do.

    Decoding uses libjpeg's accurate integer IDCT (``INTEGER_ACCURATE``, Pillow's and OpenCV's
    default). ``tf.image.adjust_jpeg_quality`` decodes with TensorFlow's default fast IDCT, which
    darkens red and blue by about 1.2 grey levels per pass on photos (green by ~0; measured on
    scikit-image's astronaut, coffee and chelsea at quality 30-90, against Pillow's +-0.3). Two
    JPEG stages per training pair taught the bundled real-world model to add it back: its
    magenta cast (issue 24.3; saved_models/MODEL_CARD.md).
    """
    q = tf.cast(tf.round(quality), tf.int32)
    img8 = tf.cast(tf.round(tf.clip_by_value(img, 0.0, 1.0) * PIXEL_MAX), tf.uint8)
    encoded = tf.raw_ops.EncodeJpegVariableQuality(images=img8, quality=q)
    decoded = tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE")
    decoded.set_shape(img.shape)  # the static shape adjust_jpeg_quality kept
    return tf.cast(decoded, tf.float32) / PIXEL_MAX


def gaussian_kernel_1d(size: int, sigma: float = 0.0) -> np.ndarray:
    """OpenCV's ``getGaussianKernel``: sigma <= 0 means ``0.3 ((size - 1) / 2 - 1) + 0.8``."""
    if sigma <= 0:
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8
    x = np.arange(size) - (size - 1) / 2
    k = np.exp(-(x**2) / (2 * sigma**2))
    return (k / k.sum()).astype(np.float32)


def _separable_blur(img, k1d):
    """Blur ``(B, H, W, C)`` by the outer product of ``k1d`` with itself, reflection padding."""
    p, c = len(k1d) // 2, img.shape[-1]
    x = tf.pad(img, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")
    k = np.tile(k1d[:, None, None, None], [1, 1, c, 1])  # (k, 1, C, 1): along rows
    x = tf.nn.depthwise_conv2d(x, k, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(x, k.transpose(1, 0, 2, 3), [1, 1, 1, 1], "VALID")


def usm_sharpen(img01, weight=DEFAULT.usm_weight, radius=DEFAULT.usm_radius,
                threshold=DEFAULT.usm_threshold):
    """Unsharp masking (BasicSR ``USMSharp``): Real-ESRGAN's sharpened ground truth.

    ``sharp = clip(img + weight (img - blur(img)))``, blended in only where the residual exceeds
    ``threshold``/255 (a blurred mask). ``(H, W, C)`` or ``(B, H, W, C)``; sides > radius / 2.
    """
    img = tf.convert_to_tensor(img01, tf.float32)
    batched = img.shape.rank == 4
    x = img if batched else img[None]
    k1d = gaussian_kernel_1d(radius + 1 - radius % 2)
    residual = x - _separable_blur(x, k1d)
    mask = tf.cast(unit_to_pixels(tf.abs(residual)) > threshold, tf.float32)
    soft = _separable_blur(mask, k1d)
    sharp = tf.clip_by_value(x + weight * residual, 0.0, 1.0)
    out = soft * sharp + (1.0 - soft) * x
    return out if batched else out[0]


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
    seeds = _Seeds(seed)

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
    q1 = _uniform(seeds(), *cfg.jpeg_range)
    x = record("JPEG 1", jpeg(x, q1), f"quality {float(q1):.0f}" if eager else "")

    # ----- second order: blur (p 0.8), resize relative to the LR size, noise -----
    blur2 = _chance(seeds(), cfg.second_blur_prob)
    x = record("blur 2", tf.cond(blur2, lambda: filter2d(x, kernel2), lambda: x),
               "" if not eager or bool(blur2) else "skipped")
    s2, mode2 = random_scale(seeds(), cfg.resize_prob2, cfg.resize_range2), random_mode(seeds())
    x = record("resize 2", resize(x, size_at(s2 / scale), mode2),
               f"{RESIZE_MODES[int(mode2)]} x{float(s2):.2f} of H/{scale}" if eager else "")
    n2 = random_noise_draw(seeds(), cfg.gaussian_noise_prob2, cfg.noise_range2,
                           cfg.poisson_scale_range2, cfg.gray_noise_prob2)
    x = record("noise 2", add_noise(x, n2), n2.describe() if eager else "")

    # ----- last: [resize to H/s + sinc] and JPEG, in either order (p 0.5 each) -----
    q2, mode3 = _uniform(seeds(), *cfg.jpeg_range2), random_mode(seeds())

    note = ""
    if eager:
        pulse = float(sinc[MAX_KERNEL // 2, MAX_KERNEL // 2]) == 1.0
        note = f"{RESIZE_MODES[int(mode3)]} to H/{scale}" + (", no sinc" if pulse else "")

    def resize_sinc(y):
        return record("resize + sinc", filter2d(resize(y, lr_size, mode3), sinc), note)

    def jpeg2(y):
        return record("JPEG 2", jpeg(y, q2), f"quality {float(q2):.0f}" if eager else "")

    x = tf.cond(_chance(seeds(), 0.5), lambda: jpeg2(resize_sinc(x)),
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
                  sample_kernels(_Seeds(seed)(), cfg))  # degrade_image's first draw
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
