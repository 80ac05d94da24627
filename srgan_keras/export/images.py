"""The photos an export reads: LR crops for int8 calibration, and the parity-check images.

Both are cut from HR photos (a folder, a file, a glob; default the built-in photos) and downscaled
the way training makes LR images (:func:`srgan_keras.data.degradation.make_lr_numpy`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import numpy as np

from srgan_keras.data.degradation import make_lr_numpy
from srgan_keras.data.imaging import BUILTIN_TRAIN, BUILTIN_VAL, builtin_images, read_images
from srgan_keras.data.ranges import pixels_to_unit
from srgan_keras.export.generator import ExportError

CALIB_CROP = 48  # our choice: LR crop side for int8 calibration (the paper trains on 24x24 LR)
CALIB_SAMPLES = 64  # our choice: small, so that int8 conversion stays fast on a CPU
CHECK_MAX_LR = 128  # our choice: parity images are centre crops of at most 128x128 LR pixels


def _hr_images(source: str | os.PathLike | None,
               names: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 HR) pairs from a folder/file/glob; the built-in photos if ``source`` is None."""
    if source is None:
        return builtin_images(names)
    skipped: list[str] = []
    try:
        out = read_images(source, skipped)
    except FileNotFoundError as e:
        raise ExportError(f"{e} (looked for .png, .jpg, .bmp, .webp, .tif); point to a folder of "
                          "photos") from None
    if not out and len(skipped) == 1:  # the one file's own line is the error
        raise ExportError(skipped[0])
    for message in skipped:  # one line each, the other images still used
        print(f"skipped: {message}", file=sys.stderr)
    if not out:
        raise ExportError(f"{source}: none of the {len(skipped)} files could be read as an image")
    return out


def calibration_crops(source: str | os.PathLike | None, scale: int, crop: int = CALIB_CROP,
                      samples: int = CALIB_SAMPLES, seed: int = 0) -> list[np.ndarray]:
    """LR float32 (1, crop, crop, 3) crops in [0, 1] for int8 calibration, cycling over images."""
    rng = np.random.default_rng(seed)
    lrs = [make_lr_numpy(hr, scale) for _, hr in _hr_images(source, BUILTIN_TRAIN)]
    lrs = [lr for lr in lrs if min(lr.shape[:2]) >= 1]
    crops = []
    for i in range(samples):
        lr = lrs[i % len(lrs)]
        ch, cw = min(crop, lr.shape[0]), min(crop, lr.shape[1])
        y = rng.integers(0, lr.shape[0] - ch + 1)
        x = rng.integers(0, lr.shape[1] - cw + 1)
        crops.append(pixels_to_unit(lr[None, y : y + ch, x : x + cw]))
    return crops


def check_images(source: str | os.PathLike | None, scale: int, max_lr: int = CHECK_MAX_LR
                 ) -> list[dict]:
    """Parity images: ``{"name", "lr" float (H, W, 3) [0, 1], "hr" uint8 (sH, sW, 3)}``.

    Each HR photo (default: the built-in validation photos) is centre-cropped to at most
    ``max_lr * scale`` pixels a side, a multiple of ``scale``, then downscaled like training data.
    """
    out = []
    for name, hr in _hr_images(source, BUILTIN_VAL):
        h = min(hr.shape[0], max_lr * scale) // scale * scale
        w = min(hr.shape[1], max_lr * scale) // scale * scale
        if h == 0 or w == 0:
            continue
        y0, x0 = (hr.shape[0] - h) // 2, (hr.shape[1] - w) // 2
        hr = hr[y0 : y0 + h, x0 : x0 + w]
        out.append({"name": name, "lr": pixels_to_unit(make_lr_numpy(hr, scale)),
                    "hr": hr})
    if not out:
        raise ExportError(f"{source}: every image is smaller than the scale {scale}")
    return out
