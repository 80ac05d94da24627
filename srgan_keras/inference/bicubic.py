"""Bicubic resizing in NumPy, equal to TensorFlow's ``tf.image.resize(..., "bicubic", antialias=True)``.

The baseline of SRGAN Table 2 and the reference image of the colour fix
(:mod:`srgan_keras.inference.colorfix`), without importing TensorFlow, so that a model run on
LiteRT (:mod:`srgan_keras.inference.litert`) needs no TensorFlow for them either (issue 29.1).

TensorFlow's antialiased resize is ``ScaleAndTranslate`` (its ``scale_and_translate_op.cc``) with
the Keys cubic kernel, a = -0.5 (Keys 1981, as MATLAB's ``imresize``): output pixel ``x`` is
centred at ``(x + 0.5) n_in / n_out`` in input coordinates; the kernel is widened by
``n_in / n_out`` when shrinking (the antialiasing) and taps outside the image are dropped, the
others renormalised to sum to 1 (no edge padding). One weight matrix per axis, so the resize is
two matrix products; ``tests/test_litert.py`` checks it against TensorFlow.
"""

from __future__ import annotations

import functools

import numpy as np

KEYS_A = -0.5  # Keys (1981) cubic convolution parameter; TensorFlow's "keyscubic" kernel
RADIUS = 2.0  # the cubic kernel's support, in input pixels (before widening)


def keys_cubic(x: np.ndarray) -> np.ndarray:
    """The Keys cubic kernel at distances ``x`` (a = -0.5)."""
    x = np.abs(x)
    a = KEYS_A
    near = ((a + 2) * x - (a + 3)) * x * x + 1  # |x| < 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # 1 <= |x| < 2
    return np.where(x < 1, near, np.where(x < RADIUS, far, 0.0))


@functools.lru_cache(maxsize=64)
def resize_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) float64 matrix: output sample ``i`` = ``weights[i] @ input``."""
    inv_scale = n_in / n_out
    widen = max(inv_scale, 1.0)  # antialias: the kernel stretched over the input when shrinking
    radius = RADIUS * widen
    weights = np.zeros((n_out, n_in))
    for i in range(n_out):
        centre = (i + 0.5) * inv_scale
        lo = min(max(int(np.ceil(centre - radius - 0.5)), 0), n_in - 1)
        hi = min(max(int(np.floor(centre + radius - 0.5)), 0), n_in - 1) + 1
        w = keys_cubic((np.arange(lo, hi) + 0.5 - centre) / widen)
        total = w.sum()
        weights[i, lo:hi] = w / total if abs(total) >= 1000 * np.finfo(np.float32).tiny else w
    weights.setflags(write=False)
    return weights


def resize_bicubic(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``x`` (..., H, W, C) resized to ``size`` = (height, width); float32, not clipped."""
    x = np.asarray(x)
    wh = resize_weights(x.shape[-3], int(size[0]))
    ww = resize_weights(x.shape[-2], int(size[1]))
    out = np.einsum("oh,...hwc,pw->...opc", wh, x.astype(np.float64), ww, optimize=True)
    return out.astype(np.float32)
