"""Real-ESRGAN's blur kernels (Wang et al. 2021, §3.1-3.2; BasicSR ``degradations.py``), in TF ops.

Gaussian, generalized Gaussian and plateau kernels, isotropic or not (:func:`mixed_kernel`), the
2-D sinc of ringing artefacts (:func:`sinc_kernel`) and the pulse, each normalised on a 21x21 grid
and zero outside its k x k window; the samplers draw them with the official odds
(:func:`random_blur_kernel`, :func:`random_final_sinc_kernel`, :func:`sample_kernels`). The
stateless draws here (:class:`Seeds`, :func:`uniform`, :func:`chance`, :func:`choice`) are the ones
every stage of :mod:`srgan_keras.data.realesrgan_degradation` uses: one seed per image, folded
with a draw number.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from srgan_keras.data.realesrgan_config import DEFAULT, MAX_KERNEL, DegradationConfig


# ----------------------------------------------------------------------------------------------
# Random numbers: one stateless seed per image, folded with a stage number for each draw.
# ----------------------------------------------------------------------------------------------
class Seeds:
    """Hands out independent stateless seeds: ``fold_in(seed, 1)``, ``fold_in(seed, 2)``, ..."""

    def __init__(self, seed):
        self.seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        self.count = 0

    def __call__(self):
        self.count += 1
        return tf.random.experimental.stateless_fold_in(self.seed, self.count)


def uniform(seed, lo, hi, shape=()):
    return tf.random.stateless_uniform(shape, seed, float(lo), float(hi))


def chance(seed, p) -> tf.Tensor:
    """True with probability ``p``."""
    return tf.random.stateless_uniform((), seed) < p


def choice(seed, probs) -> tf.Tensor:
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
    seeds = Seeds(seed)
    return tf.where(chance(seeds(), 0.5), uniform(seeds(), lo, 1.0), uniform(seeds(), 1.0, hi))


def random_blur_kernel(seed, kernel_prob, sinc_prob, sigma_range, betag_range, betap_range,
                       kernel_sizes=DEFAULT.kernel_sizes):
    """One first- or second-order kernel as in ``RealESRGANDataset.__getitem__``: a random odd
    size 7..21, then a sinc kernel with probability ``sinc_prob``, else one of the six
    ``KERNEL_TYPES`` drawn with ``kernel_prob``. Returns ``(21, 21)`` float32, summing to 1."""
    seeds = Seeds(seed)
    ksize = tf.gather(tf.constant(kernel_sizes), tf.random.stateless_uniform(
        (), seeds(), 0, len(kernel_sizes), dtype=tf.int32))
    kind = choice(seeds(), kernel_prob)  # index into KERNEL_TYPES
    iso = kind % 2 == 0
    sigma_x = uniform(seeds(), *sigma_range)
    sigma_y = tf.where(iso, sigma_x, uniform(seeds(), *sigma_range))
    theta = tf.where(iso, 0.0, uniform(seeds(), -math.pi, math.pi))
    family = kind // 2  # 0 Gaussian, 1 generalized, 2 plateau
    beta = tf.gather(tf.stack([tf.constant(1.0), _beta(seeds(), *betag_range),
                               _beta(seeds(), *betap_range)]), family)
    blur = mixed_kernel(family, ksize, sigma_x, sigma_y, theta, beta)
    # official: the sinc cut-off range widens for kernels of 13 px and more
    omega = uniform(seeds(), 0.0, 1.0)
    lo = tf.where(ksize < 13, math.pi / 3, math.pi / 5)
    ringing = sinc_kernel(lo + omega * (math.pi - lo), ksize)
    return tf.where(chance(seeds(), sinc_prob), ringing, blur)


def random_final_sinc_kernel(seed, prob=DEFAULT.final_sinc_prob,
                             kernel_sizes=DEFAULT.kernel_sizes):
    """The final sinc filter (cut-off in [pi/3, pi]) with probability ``prob``, else the pulse."""
    seeds = Seeds(seed)
    ksize = tf.gather(tf.constant(kernel_sizes), tf.random.stateless_uniform(
        (), seeds(), 0, len(kernel_sizes), dtype=tf.int32))
    ringing = sinc_kernel(uniform(seeds(), math.pi / 3, math.pi), ksize)
    return tf.where(chance(seeds(), prob), ringing, pulse_kernel())


def sample_kernels(seed, cfg: DegradationConfig = DEFAULT):
    """The three kernels of one image: first-order blur, second-order blur, final sinc/pulse."""
    seeds = Seeds(seed)
    return (random_blur_kernel(seeds(), cfg.kernel_prob, cfg.sinc_prob, cfg.blur_sigma,
                               cfg.betag_range, cfg.betap_range, cfg.kernel_sizes),
            random_blur_kernel(seeds(), cfg.kernel_prob2, cfg.sinc_prob2, cfg.blur_sigma2,
                               cfg.betag_range2, cfg.betap_range2, cfg.kernel_sizes),
            random_final_sinc_kernel(seeds(), cfg.final_sinc_prob, cfg.kernel_sizes))
