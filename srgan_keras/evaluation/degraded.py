"""Benchmark LR images degraded the way real photos are (Real-ESRGAN §3), the same on every run.

The paper's benchmark (SRGAN §3.1) makes LR by clean bicubic downscaling; real inputs are also
blurred, noisy and JPEG-compressed. ``python -m srgan_keras.evaluate --degrade PRESET --seed N``
makes each LR from its HR by the project's second-order pipeline
(:func:`srgan_keras.data.realesrgan_degradation.degrade_image`) and scores the result against the HR
with the usual protocol, so a model trained for real inputs is measured on a fixed, shareable
test set.

Reproducibility: every random draw of the pipeline is a stateless TF op keyed by one seed pair
per image, ``(N, h(name))`` with ``h`` the first 8 bytes of SHA-256 of the image's name (the
file stem) as a signed int64 (:func:`image_seed`). The LR therefore depends only on the HR
pixels, the preset, ``N`` and the name -- not on the order of the files, on other images, or on
global random state -- and the degradation runs eagerly, op by op. ``--save-lr DIR`` writes the
LRs as 8-bit PNGs (the preset and seed in a text chunk) for other tools; each report row carries
the LR's SHA-256 (``lr_sha256``) so two machines can compare their test sets byte for byte.

Our choices, not Real-ESRGAN's: the *plain* HR is degraded (training degrades the USM-sharpened
HR, a training device; the metrics compare with the plain HR), and the presets below.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path

import numpy as np

from srgan_keras.data.ranges import pixels_to_unit, to_uint8

# PRESETS (and LIGHT in it) are the pipeline's, which training uses too (--degradation light)
from srgan_keras.data.realesrgan_config import MIN_SIZE, PRESETS, DegradationConfig


def preset(degrade: str | DegradationConfig) -> tuple[str, DegradationConfig]:
    """(label, config) of a preset name or a config of one's own (labelled ``custom``)."""
    if isinstance(degrade, DegradationConfig):
        return next((k for k, v in PRESETS.items() if v == degrade), "custom"), degrade
    if degrade not in PRESETS:
        raise ValueError(f"unknown degradation preset {degrade!r}; choose one of "
                         f"{', '.join(PRESETS)}")
    return degrade, PRESETS[degrade]


def image_seed(seed: int, name: str) -> tuple[int, int]:
    """The stateless seed pair of image ``name`` under run seed ``seed``: ``(seed, h(name))``."""
    h = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)
    return int(seed), h


def min_hr_side(scale: int) -> int:
    """The smallest HR side the pipeline takes at ``scale``: the LR must be >= 11 px so the
    21x21 kernels' reflection padding fits (``realesrgan_degradation.MIN_SIZE``)."""
    return MIN_SIZE * scale


def degraded_lr(hr: np.ndarray, scale: int, degrade: str | DegradationConfig, seed: int,
                name: str) -> np.ndarray:
    """uint8 LR (H/s, W/s, 3) of a uint8 HR already cropped to a multiple of ``scale``."""
    import tensorflow as tf

    from srgan_keras.data.realesrgan_degradation import degrade_image

    _, cfg = preset(degrade)
    h, w = hr.shape[:2]
    if min(h, w) < min_hr_side(scale):
        raise ValueError(f"{w}x{h} px is too small for the Real-ESRGAN degradations at x{scale} "
                         f"(at least {min_hr_side(scale)} px per side)")
    hr01 = tf.constant(pixels_to_unit(hr))
    lr01 = degrade_image(hr01, scale, cfg, tf.constant(image_seed(seed, name), tf.int64))
    return to_uint8(lr01.numpy())  # already 8-bit valued


def describe(degrade: str | DegradationConfig, seed: int) -> dict:
    """The ``degrade`` block of a report: preset label, run seed, every parameter."""
    label, cfg = preset(degrade)
    return {"preset": label, "seed": int(seed), "config": asdict(cfg)}


def lr_digest(lr: np.ndarray) -> str:
    """SHA-256 of an LR's shape and pixel bytes: equal digests mean identical test images."""
    arr = np.ascontiguousarray(lr, np.uint8)
    return hashlib.sha256(f"{arr.shape}".encode() + arr.tobytes()).hexdigest()


def save_lr(path: str | Path, lr: np.ndarray, note: str) -> None:
    """Write an LR as an 8-bit RGB PNG (atomically) with ``note`` in a ``srgan_keras`` text chunk."""
    from PIL import Image, PngImagePlugin

    from srgan_keras.data.imaging import atomic_write

    info = PngImagePlugin.PngInfo()
    info.add_text("srgan_keras", note)
    atomic_write(path, lambda tmp: Image.fromarray(np.asarray(lr, np.uint8)).save(
        tmp, format="PNG", pnginfo=info))
