"""Validation during training: Y-PSNR/SSIM (border = scale) against bicubic, and a sample grid.

Scores come from the evaluation protocol itself (:func:`srgan_keras.evaluation.protocol.evaluate_image`:
the whole-image bicubic LR, rounding, Y, border = scale), so training and evaluate agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from srgan_keras.data.degradation import bicubic_downscale, bicubic_upscale
from srgan_keras.data.ranges import pixels_to_unit, signed_to_uint8, to_uint8
from srgan_keras.data.sources import validation_images
from srgan_keras.evaluation.protocol import evaluate_image
from srgan_keras.inference.runners import as_runner
from srgan_keras.training.config import TrainConfig
from srgan_keras.training.srgan import super_resolve

# The columns of the sample grid (samples.png and TensorBoard's image), written above them.
SAMPLE_COLUMNS = ("LR (nearest)", "bicubic", "SR", "HR")
LABEL_HEIGHT = 18  # px of the title strip: a 12 px font and its margins


def grid(rows: list[list[np.ndarray]], labels: Sequence[str] | None = None) -> np.ndarray:
    """Tile uint8 images (all the same size) into one picture with 4-pixel white gutters,
    ``labels`` (one per column) written in black on a white strip above the columns."""
    h, w = rows[0][0].shape[:2]
    gap = 4
    top = LABEL_HEIGHT if labels else 0
    out = np.full((top + len(rows) * (h + gap) - gap, len(rows[0]) * (w + gap) - gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            y = top + r * (h + gap)
            out[y:y + h, c * (w + gap):c * (w + gap) + w] = img
    if labels:
        out[:top] = _column_titles(labels, w, gap, out.shape[1])
    return out


def _column_titles(labels: Sequence[str], width: int, gap: int, total: int) -> np.ndarray:
    """A white (LABEL_HEIGHT, total, 3) strip with each label centred over its column."""
    from PIL import Image, ImageDraw, ImageFont

    strip = Image.new("RGB", (total, LABEL_HEIGHT), "white")
    draw = ImageDraw.Draw(strip)
    try:
        font = ImageFont.load_default(size=12)  # Pillow's bundled font: no file to find
    except (TypeError, ImportError, OSError):  # an old Pillow, or one without FreeType
        font = ImageFont.load_default()
    for c, text in enumerate(labels):
        left, _, right, _ = draw.textbbox((0, 0), text, font=font)
        x = c * (width + gap) + max(0, (width - (right - left)) // 2)
        draw.text((x, 2), text, fill="black", font=font)
    return np.asarray(strip)


class Validation:
    """The validation images of ``cfg`` with their LR and bicubic baseline, made once."""

    def __init__(self, cfg: TrainConfig):
        self.scale = cfg.scale
        self.images = []  # (name, HR uint8, LR float [0, 1], bicubic uint8)
        for name, hr in validation_images(cfg):
            lr = bicubic_downscale(hr, cfg.scale).numpy()
            bic = bicubic_upscale(lr, cfg.scale).numpy().astype(np.uint8)
            self.images.append((name, hr, pixels_to_unit(lr), bic))

    def __len__(self) -> int:
        return len(self.images)

    def __iter__(self):
        return iter(self.images)

    def scores(self, generator: keras.Model) -> dict[str, float]:
        """Mean Y-PSNR/SSIM of ``generator`` and of bicubic over the validation images."""
        model_rows, bic_rows = [], []
        runner = as_runner(generator)  # one traced function per generator for the whole run
        for name, hr, _, _ in self.images:
            result = evaluate_image(runner, hr, self.scale, name=name)
            model_rows.append(result.metrics)
            bic_rows.append(result.bicubic)

        def mean(rows, k):
            return float(np.mean([r[k] for r in rows]))

        return {"psnr": mean(model_rows, "psnr_y"), "ssim": mean(model_rows, "ssim_y"),
                "bicubic_psnr": mean(bic_rows, "psnr_y"), "bicubic_ssim": mean(bic_rows, "ssim_y")}

    def sample_grid(self, generator: keras.Model) -> np.ndarray:
        """LR (nearest) | bicubic | SR | HR of a centre crop of each validation image (2 at most),
        each column titled (:data:`SAMPLE_COLUMNS`)."""
        rows, s = [], self.scale
        for _, hr, lr01, bic in self.images[:2]:
            size = min(128, hr.shape[0] // s * s, hr.shape[1] // s * s)
            y, x = (hr.shape[0] - size) // 2 // s * s, (hr.shape[1] - size) // 2 // s * s
            lr_c = lr01[y // s:(y + size) // s, x // s:(x + size) // s]
            sr8 = signed_to_uint8(super_resolve(generator, lr_c[None])[0].numpy())
            lr8 = to_uint8(lr_c).repeat(s, 0).repeat(s, 1)
            rows.append([lr8, bic[y:y + size, x:x + size], sr8, hr[y:y + size, x:x + size]])
        return grid(rows, labels=SAMPLE_COLUMNS)
