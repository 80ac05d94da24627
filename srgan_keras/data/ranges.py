"""The value ranges images live in, and the one conversion between each pair of them.

    pixels    uint8 0..255 in files (uint16 0..65535 for 16-bit PNG/TIFF), or floats on that scale
    LR        float [0, 1]   the generator's input   (SRGAN §3.2: "we scaled the range of the LR
    HR, SR    float [-1, 1]  targets, SRResNet's output   input images to [0, 1] and for the HR
                                                          images to [-1, 1]")
    unit SR   float [0, 1]   RRDBNet's and SRVGG's output (ESRGAN, Real-ESRGAN: BasicSR works in
                             [0, 1]; :func:`srgan_keras.nn.outputs.output_range` tells which)

Every stage converts through these functions; none writes ``/ 255`` or ``* 2 - 1`` itself. They
work on numpy arrays and TensorFlow tensors alike; numpy results are float32 (for whole-number
pixels that equals dividing in float64 and casting, checked for every uint8 and uint16 value).
Importing this module does not import TensorFlow: reading and writing image files do not need it.
"""

from __future__ import annotations

import sys

import numpy as np

PIXEL_MAX = 255.0  # uint8
PIXEL_MAX_16 = 65535.0  # uint16 (16-bit PNG and TIFF)


def _float(x):
    """``x`` as floats: numpy as float32; integer tensors cast to float32, float tensors unchanged."""
    tf = sys.modules.get("tensorflow")  # without TensorFlow imported, x cannot be a tensor
    if tf is not None and tf.is_tensor(x):
        return x if x.dtype.is_floating else tf.cast(x, tf.float32)
    return np.asarray(x, dtype=np.float32)


def pixels_to_unit(x, max_value: float = PIXEL_MAX):
    """Pixels 0..``max_value`` (uint8, uint16 with :data:`PIXEL_MAX_16`, or floats) -> [0, 1]."""
    return _float(x) / max_value


def unit_to_pixels(x, max_value: float = PIXEL_MAX):
    """[0, 1] -> floats on the 0..``max_value`` scale, neither rounded nor clipped."""
    return x * max_value


def to_pixels(x, dtype=np.uint8) -> np.ndarray:
    """[0, 1] floats -> uint8 (or uint16) pixels, rounded and clipped (numpy)."""
    top = float(np.iinfo(dtype).max)
    return np.clip(np.round(np.asarray(x, dtype=np.float32) * top), 0, top).astype(dtype)


def to_uint8(x) -> np.ndarray:
    """[0, 1] floats -> uint8 pixels, rounded and clipped (numpy)."""
    return to_pixels(x, np.uint8)


def uint16_to_uint8(x) -> np.ndarray:
    """16-bit pixels -> 8-bit, rounded (65535 / 255 = 257 exactly)."""
    return ((np.asarray(x).astype(np.uint32) + 128) // 257).astype(np.uint8)


def quantize_unit(x):
    """[0, 1] floats rounded to the 256 levels an 8-bit file holds, still in [0, 1] (TensorFlow)."""
    import tensorflow as tf

    return tf.clip_by_value(tf.round(x * PIXEL_MAX), 0.0, PIXEL_MAX) / PIXEL_MAX


def unit_to_signed(x):
    """[0, 1] (LR, unit SR) -> [-1, 1] (HR/SR, SRGAN §3.2)."""
    return x * 2.0 - 1.0


def signed_to_unit(x):
    """[-1, 1] (HR/SR, SRGAN §3.2) -> [0, 1]."""
    return (x + 1.0) * 0.5


def pixels_to_signed(x):
    """Pixels 0..255 -> [-1, 1] (an HR crop becomes a target)."""
    return _float(x) / 127.5 - 1.0


def signed_to_pixels(x):
    """[-1, 1] -> floats on the 0..255 scale, neither rounded nor clipped (VGG's input, SSIM's)."""
    return (x + 1.0) * 127.5


def signed_to_uint8(x) -> np.ndarray:
    """[-1, 1] (an SR image) -> uint8 pixels, rounded and clipped (numpy)."""
    return np.clip(np.round(signed_to_pixels(np.asarray(x))), 0, 255).astype(np.uint8)


__all__ = ["PIXEL_MAX", "PIXEL_MAX_16", "pixels_to_unit", "unit_to_pixels", "to_pixels", "to_uint8",
           "uint16_to_uint8", "quantize_unit",
           "unit_to_signed", "signed_to_unit", "pixels_to_signed", "signed_to_pixels", "signed_to_uint8"]
