"""The stages of Real-ESRGAN's degradation model (Wang et al. 2021, §3.1), each a plain function.

Blur by a kernel (:func:`filter2d`), resize (:func:`resize`, with its random scale and mode),
Gaussian or Poisson noise (:func:`add_noise` and its draw), JPEG (:func:`jpeg`), and the unsharp
mask of the sharpened ground truth (:func:`usm_sharpen`). Each takes its parameters explicitly, so
each is testable on its own; :mod:`srgan_keras.data.realesrgan_degradation` chains them.
Images are float32 RGB in [0, 1], ``(H, W, 3)``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from srgan_keras.data.ranges import PIXEL_MAX, quantize_unit, unit_to_pixels
from srgan_keras.data.realesrgan_config import DEFAULT, MIN_SIZE, RESIZE_MODES
from srgan_keras.data.realesrgan_kernels import Seeds, chance, choice, uniform


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
    seeds = Seeds(seed)
    updown = choice(seeds(), resize_prob)
    up, down = uniform(seeds(), 1.0, resize_range[1]), uniform(seeds(), resize_range[0], 1.0)
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
    seeds = Seeds(seed)
    return NoiseDraw(chance(seeds(), gaussian_prob), chance(seeds(), gray_prob),
                     uniform(seeds(), *noise_range), uniform(seeds(), *poisson_range), seeds())


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
