"""The paper's evaluation protocol for one image: crop, LR, SR, Y-channel PSNR/SSIM, bicubic beside.

SRGAN §3.1 (protocol) and §3.3 / Table 2 (the numbers); BasicSR's. Each HR image is cropped to a
multiple of the scale; its LR is the MATLAB-equivalent bicubic downscale that training uses
(:func:`srgan_keras.data.degradation.bicubic_downscale`), saved as 8-bit values, or, with
``degrade``, Real-ESRGAN's second-order pipeline seeded per image
(:mod:`srgan_keras.evaluation.degraded`); SR is the model's output rounded to 8 bits; PSNR and
SSIM (Wang et al. 2004: 11x11 Gaussian, sigma 1.5) are computed on BT.601 Y (16..235) with
``scale`` pixels removed at every border (:func:`srgan_keras.evaluation.metrics.evaluate_pair`).
:func:`evaluate_image` is that protocol; :mod:`srgan_keras.evaluation.folders` runs it over a
folder, training's validation on its photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from srgan_keras.data.degradation import crop_to_multiple, make_lr_numpy
from srgan_keras.data.realesrgan_config import DegradationConfig
from srgan_keras.evaluation import degraded
from srgan_keras.evaluation.metrics import SSIM_WINDOW, evaluate_pair
from srgan_keras.inference.runners import BicubicRunner, Runner, as_runner
from srgan_keras.inference.tiling import DEFAULT_TILE, upscale_image

# Receptive-field radius of the paper's SRResNet in LR pixels: 4 (k9 head) + 33 (k3 body
# convolutions) + 1 (k3 at 1x) + 0.5 (k3 at 2x) + 1 (k9 at 4x), rounded up. Tiles with this
# much context give the whole-image result, so tiling never changes a reported number.
EVAL_OVERLAP = 40
AUTO_TILE_PIXELS = 200 * 200  # our choice: larger LR inputs are tiled (memory; see tiling.py)
PROTOCOL = ("HR cropped to a multiple of scale; LR = MATLAB-equivalent bicubic (antialiased), "
            "8-bit; metrics on BT.601 Y (16-235) with `scale` border pixels removed; SSIM "
            "11x11 Gaussian sigma 1.5; psnr_rgb/ssim_rgb on R,G,B (SSIM averaged over channels)")
DEGRADED_PROTOCOL = ("HR cropped to a multiple of scale; LR = Real-ESRGAN second-order "
                     "degradation of the HR (preset and parameters in `degrade`), stateless seed "
                     "(seed, first 8 bytes of SHA-256 of the image name), 8-bit; metrics as the "
                     "bicubic protocol: BT.601 Y (16-235), `scale` border pixels removed, SSIM "
                     "11x11 Gaussian sigma 1.5")
NO_REFERENCE_PROTOCOL = ("no HR: the input photos are upscaled whole (tiled when large); NIQE "
                         "(Mittal et al. 2013, the authors' pristine model, 96x96 blocks) on "
                         "BT.601 Y rounded, `scale` border pixels removed; lower is more natural")


@dataclass
class ImageResult:
    """One image's metrics, and the arrays a figure needs (all uint8, HR geometry but ``lr``)."""

    name: str
    metrics: dict[str, float]
    bicubic: dict[str, float] | None
    lr: np.ndarray
    sr: np.ndarray
    bicubic_sr: np.ndarray | None
    hr: np.ndarray


def upscale_lr(lr: np.ndarray, runner: Runner, tile: int | None) -> np.ndarray:
    """SR of an 8-bit LR array with no border padding (the paper's whole-image convention)."""
    if tile is None and lr.shape[0] * lr.shape[1] > AUTO_TILE_PIXELS:
        tile = DEFAULT_TILE
    return upscale_image(lr, runner, tile=tile, tile_overlap=EVAL_OVERLAP, pre_pad=0)


def min_hr_side(scale: int, degrade: str | DegradationConfig | None = None) -> tuple[int, str]:
    """(the smallest HR side that can be scored at ``scale``, why): after cropping to a multiple
    of ``scale`` and removing ``scale`` pixels at each border, SSIM's 11x11 window must fit (20 px
    at x4); the Real-ESRGAN degradations need an LR of 11 px (44 px at x4)."""
    need = -(-(SSIM_WINDOW + 2 * scale) // scale) * scale  # a multiple of scale >= 2s + 11
    why = f"SSIM's {SSIM_WINDOW} px window inside the {scale} px border"
    if degrade is not None and degraded.min_hr_side(scale) > need:
        need, why = degraded.min_hr_side(scale), "the Real-ESRGAN degradations' 21x21 kernels"
    return need, why


def make_lr(hr: np.ndarray, scale: int, degrade: str | DegradationConfig | None = None,
            seed: int = 0, name: str = "image") -> np.ndarray:
    """The benchmark LR of a uint8 HR cropped to a multiple of ``scale``: bicubic (the paper's)
    or, with ``degrade``, the Real-ESRGAN pipeline seeded by ``(seed, name)``."""
    if degrade is None:
        return make_lr_numpy(hr, scale)  # (H/s, W/s, 3) uint8
    return degraded.degraded_lr(hr, scale, degrade, seed, name)


def evaluate_image(runner: Runner, hr: np.ndarray, scale: int | None = None,
                   tile: int | None = None, bicubic: bool = True,
                   name: str = "image", degrade: str | DegradationConfig | None = None,
                   seed: int = 0, niqe: bool = False, artifacts: bool = False) -> ImageResult:
    """Metrics of one uint8 HR image (H, W, 3): crop, LR, SR by ``runner``, compare.

    ``runner``: anything :func:`srgan_keras.inference.runners.as_runner` takes (a runner or a Keras
    generator). ``scale`` defaults to the runner's and must equal it. ``tile=None`` runs small
    images whole and tiles large ones with enough context to give the same numbers.
    ``bicubic=True`` also scores the bicubic baseline on the same LR. ``degrade`` (a preset name
    of :data:`srgan_keras.evaluation.degraded.PRESETS` or a config) replaces the bicubic LR by the
    Real-ESRGAN pipeline's, seeded by ``(seed, name)``. ``niqe=True`` adds the no-reference
    ``niqe`` of each output (None when it is too small for two 96x96 blocks), to read beside the
    full-reference numbers. ``artifacts=True`` adds :func:`artifact_metrics` of each output. An
    image too small to score raises ``ValueError`` saying so (:func:`min_hr_side`).
    """
    runner = as_runner(runner)
    s = runner.scale if scale is None else int(scale)
    if s != runner.scale:
        raise ValueError(f"--scale {s} does not match the model's scale {runner.scale}")
    hr = np.asarray(hr, dtype=np.uint8)[..., :3]
    need, why = min_hr_side(s, degrade)
    if min(hr.shape[:2]) < need:
        raise ValueError(f"{hr.shape[1]}x{hr.shape[0]} px is too small to evaluate at x{s} "
                         f"(at least {need} px per side, for {why})")
    hr = crop_to_multiple(hr, s)
    lr = make_lr(hr, s, degrade, seed, name)
    sr = upscale_lr(lr, runner, tile)
    metrics = evaluate_pair(sr, hr, border=s)
    if niqe:
        metrics["niqe"] = niqe_or_none(sr, s)
    if artifacts:
        metrics |= artifact_metrics(sr, s, hr)
    bic_sr = bic = None
    if bicubic and not isinstance(runner, BicubicRunner):
        bic_sr = upscale_lr(lr, BicubicRunner(s), tile)
        bic = evaluate_pair(bic_sr, hr, border=s)
        if niqe:
            bic["niqe"] = niqe_or_none(bic_sr, s)
        if artifacts:
            bic |= artifact_metrics(bic_sr, s, hr)
    return ImageResult(name, metrics, bic, lr, sr, bic_sr, hr)


def artifact_metrics(img: np.ndarray, scale: int, hr: np.ndarray) -> dict[str, float]:
    """``pattern``: :func:`~srgan_keras.evaluation.metrics.periodic_pattern` at period ``scale``
    (about 1 when no s x s tile repeats; Set14's HR photos 0.5-1.9); ``lr_grid``:
    :func:`~srgan_keras.evaluation.metrics.blockiness` at block ``scale`` (Y steps across the
    LR-pixel boundaries over those inside; Set14's HR 1.02 on average); ``hf_ratio``:
    :func:`~srgan_keras.evaluation.metrics.hf_ratio` of ``img`` against ``hr`` (1 for HR itself).
    Our measures, not the papers': read them beside the HR's, which the report gives as
    ``hr_artifacts_mean``."""
    from srgan_keras.evaluation.metrics import blockiness, hf_ratio, periodic_pattern

    return {"pattern": periodic_pattern(img, scale), "lr_grid": blockiness(img, scale),
            "hf_ratio": hf_ratio(img, hr)}


def niqe_or_none(img: np.ndarray, border: int) -> float | None:
    """NIQE of ``img`` without ``border`` pixels, or None when fewer than two 96x96 blocks remain."""
    from srgan_keras.evaluation.niqe import niqe

    try:
        return niqe(img, border=border)
    except ValueError:  # fewer than two 96x96 blocks: NIQE is undefined
        return None
