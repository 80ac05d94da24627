"""How an LR image is made from an HR image: the field's MATLAB-equivalent bicubic downscaling.

SRGAN §3.1: "We obtained the LR images by downsampling the HR images (BGR, C = 3) using bicubic
kernel with downsampling factor r = 4". The benchmark numbers of the field are computed with
MATLAB's ``imresize``, which antialiases (widens the kernel by the scale) when shrinking.
``tf.image.resize(..., "bicubic", antialias=True)`` on 0..255 floats, rounded and clipped to
uint8, equals it away from the borders; without ``antialias`` the Set5 bicubic baseline comes
out 0.4-0.7 dB lower. Training and evaluation both call :func:`bicubic_downscale`. TensorFlow is
imported by the functions that resize, not by this module (the CLIs import it for their ``--help``).
"""

from __future__ import annotations

import numpy as np


def crop_to_multiple(hr, scale: int):
    """Crop H and W (the last-but-one two axes) down to multiples of ``scale`` (top-left kept)."""
    h, w = hr.shape[-3], hr.shape[-2]
    return hr[..., : h - h % scale, : w - w % scale, :]


def bicubic_downscale(hr, scale: int):
    """MATLAB-equivalent bicubic x1/scale of uint8-valued HR: (..., H, W, C) 0..255 -> uint8-valued.

    Works on numpy arrays and tensors, with or without a batch axis; H and W must be multiples
    of ``scale``. Returns float32 0..255 values that are whole numbers (rounded and clipped), i.e.
    what saving the LR image as an 8-bit PNG would give.
    """
    import tensorflow as tf

    hr = tf.convert_to_tensor(hr)
    h, w = hr.shape[-3], hr.shape[-2]
    if h is not None and w is not None and (h % scale or w % scale):
        raise ValueError(f"HR size {h}x{w} is not a multiple of the scale {scale}; "
                         "crop it first (crop_to_multiple)")
    size = tf.shape(hr)[-3:-1] // scale
    lr = tf.image.resize(tf.cast(hr, tf.float32), size, method="bicubic", antialias=True)
    return tf.clip_by_value(tf.round(lr), 0.0, 255.0)


def bicubic_upscale(lr, scale: int):
    """Bicubic x``scale`` of 0..255 values, rounded and clipped: the baseline row of Table 2."""
    import tensorflow as tf

    lr = tf.convert_to_tensor(lr)
    size = tf.shape(lr)[-3:-1] * scale
    up = tf.image.resize(tf.cast(lr, tf.float32), size, method="bicubic", antialias=True)
    return tf.clip_by_value(tf.round(up), 0.0, 255.0)


def make_lr_numpy(hr_uint8: np.ndarray, scale: int) -> np.ndarray:
    """Convenience for numpy callers: uint8 HR (cropped here to a multiple of scale) -> uint8 LR."""
    hr = crop_to_multiple(np.asarray(hr_uint8), scale)
    return bicubic_downscale(hr, scale).numpy().astype(np.uint8)
