"""NIQE, the "completely blind" image quality score (Mittal, Soundararajan & Bovik 2013).

A no-reference metric for photos that have no ground truth (real LR inputs, upscaled): lower is
more natural. Mittal et al., IEEE Signal Processing Letters 20(3), "Making a 'Completely Blind'
Image Quality Analyzer":

1. normalise the luminance by its local mean and contrast (MSCN coefficients, Eq. 1; a 7x7
   Gaussian window, sigma 7/6);
2. cut the image into 96x96 blocks; in each, fit a generalized Gaussian to the coefficients and
   an asymmetric generalized Gaussian (AGGD, Eq. 7-8) to the products of horizontal, vertical
   and both diagonal neighbours: 18 features, at two scales (the image and its bicubic half) = 36;
3. fit a multivariate Gaussian (MVG) to the blocks' features and take its distance to the MVG of
   pristine natural images (Eq. 10): ``sqrt((mu_p - mu)^T ((S_p + S)/2)^+ (mu_p - mu))``.

The pristine model (``mu_pris_param``, ``cov_pris_param``) and the window are the NIQE
authors' MATLAB release (``niqe_release.zip``, LIVE, UT Austin), as redistributed by BasicSR
1.4.2 (Apache-2.0) in ``basicsr/metrics/niqe_pris_params.npz``; the copy shipped beside this
module is that file, unchanged; ``niqe_pris_params.NOTICE`` beside it gives its origin, checksum
and the release's copyright notice (UT Austin: use and redistribution for any purpose with the
notice kept and the source acknowledged). The computation follows the MATLAB
release as BasicSR's ``niqe.py`` ports it (its own check: baboon 5.7296 in MATLAB R2021a), and
is checked against that port in ``tests/test_niqe.py`` (within 0.01).

How BasicSR and this module prepare the image (``calculate_niqe`` with ``convert_to="y"``): RGB
-> BT.601 Y (16..235, :func:`srgan_keras.evaluation.metrics.rgb_to_y`), ``border`` pixels cropped, rounded
to integers, cropped to whole 96x96 blocks. Our one difference: arithmetic in float64 (as
MATLAB), where BasicSR's port works in float32.

**What NIQE measures.** It rewards the local statistics of sharp natural photos: noise, grain
and invented texture can score *better* than a clean but soft image, and it knows nothing of
the true scene. Read it beside full-reference numbers (PSNR/SSIM on degraded benchmarks), never
alone.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.ndimage import convolve
from scipy.special import gamma

from srgan_keras.evaluation.metrics import rgb_to_y

NIQE_PARAMS = Path(__file__).with_name("niqe_pris_params.npz")
NIQE_NOTICE = NIQE_PARAMS.with_suffix(".NOTICE")
BLOCK = 96  # the release's (and the paper's) block size, no overlap
MIN_BLOCKS = 2  # a covariance needs two blocks: images under 96x192 px cannot be scored
# AGGD shape search grid of the MATLAB release: alpha in 0.2:0.001:10
_ALPHAS = np.arange(0.2, 10.001, 0.001)


@lru_cache(maxsize=1)
def pristine_model() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mu (36,), covariance (36, 36), 7x7 Gaussian window) of the pristine-image MVG."""
    with np.load(NIQE_PARAMS) as p:
        return (p["mu_pris_param"].reshape(-1).astype(np.float64),
                p["cov_pris_param"].astype(np.float64), p["gaussian_window"].astype(np.float64))


@lru_cache(maxsize=1)
def _aggd_ratio_table() -> np.ndarray:
    """r(alpha) = Gamma(2/alpha)^2 / (Gamma(1/alpha) Gamma(3/alpha)) on the search grid."""
    inv = 1.0 / _ALPHAS
    return gamma(2 * inv) ** 2 / (gamma(inv) * gamma(3 * inv))


def aggd_fit(x: np.ndarray) -> tuple[float, float, float]:
    """Moment-matching fit of an AGGD (Eq. 7): (shape alpha, left scale, right scale).

    The MATLAB release's estimator: the ratio of the mean absolute value squared to the mean
    square, corrected for the left/right asymmetry, is matched to ``r(alpha)`` on a grid.
    """
    x = np.asarray(x, np.float64).ravel()
    left = math.sqrt(np.mean(x[x < 0] ** 2)) if np.any(x < 0) else float("nan")
    right = math.sqrt(np.mean(x[x > 0] ** 2)) if np.any(x > 0) else float("nan")
    g = left / right
    r_hat = np.mean(np.abs(x)) ** 2 / np.mean(x**2)
    r_norm = r_hat * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
    alpha = float(_ALPHAS[np.argmin((_aggd_ratio_table() - r_norm) ** 2)])
    k = math.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left * k, right * k


def block_features(mscn: np.ndarray) -> list[float]:
    """The 18 features of one block of MSCN coefficients (Mittal et al. 2013, §II-C)."""
    alpha, bl, br = aggd_fit(mscn)
    feats = [alpha, (bl + br) / 2]  # the coefficients: a symmetric GGD (shape, scale)
    # neighbour products: right, below, below-right, below-left (circular shifts, as MATLAB's
    # circshift in the release)
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        prod = mscn * np.roll(mscn, shift, axis=(0, 1))
        alpha, bl, br = aggd_fit(prod)
        mean = (br - bl) * gamma(2 / alpha) / gamma(1 / alpha)  # Eq. 8
        feats += [alpha, mean, bl, br]
    return feats


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic with a = -0.5, MATLAB's ``imresize`` kernel."""
    ax = np.abs(x)
    return np.where(ax <= 1, 1.5 * ax**3 - 2.5 * ax**2 + 1,
                    np.where(ax <= 2, -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2, 0.0))


def _resize_axis(img: np.ndarray, scale: float, axis: int) -> np.ndarray:
    """MATLAB ``imresize(..., 'bicubic')`` along one axis: antialiased when shrinking,
    symmetric (half-sample mirror) padding at the edges."""
    n = img.shape[axis]
    out = math.ceil(n * scale)
    width = 4.0 / scale if scale < 1 else 4.0  # the kernel stretched by 1/scale to antialias
    u = np.arange(1, out + 1) / scale + 0.5 * (1 - 1 / scale)  # output centres, 1-based input
    left = np.floor(u - width / 2)
    taps = math.ceil(width) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # (out, taps), 1-based
    weights = (scale * _cubic(scale * (u[:, None] - idx)) if scale < 1
               else _cubic(u[:, None] - idx))
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(n), np.arange(n)[::-1]])  # symmetric extension
    src = mirror[np.mod(idx.astype(np.int64) - 1, 2 * n)]
    moved = np.moveaxis(img, axis, 0)  # (n, ...)
    res = np.einsum("ot,ot...->o...", weights, moved[src])
    return np.moveaxis(res, 0, axis)


def imresize_matlab(img: np.ndarray, scale: float) -> np.ndarray:
    """MATLAB's default ``imresize(img, scale)`` (bicubic, antialiased) of a 2-D float array."""
    return _resize_axis(_resize_axis(np.asarray(img, np.float64), scale, 0), scale, 1)


def niqe_of_y(y: np.ndarray) -> float:
    """NIQE of a 2-D luminance image with values in 0..255 (already rounded, as the release)."""
    mu_p, cov_p, window = pristine_model()
    img = np.asarray(y, np.float64)
    nh, nw = img.shape[0] // BLOCK, img.shape[1] // BLOCK
    if nh * nw < MIN_BLOCKS:
        raise ValueError(f"NIQE needs at least {MIN_BLOCKS} blocks of {BLOCK}x{BLOCK} px, got an "
                         f"image of {img.shape[1]}x{img.shape[0]}")
    img = img[: nh * BLOCK, : nw * BLOCK]
    per_scale = []
    for factor in (1, 2):
        mu = convolve(img, window, mode="nearest")
        var = convolve(img * img, window, mode="nearest") - mu * mu
        mscn = (img - mu) / (np.sqrt(np.abs(var)) + 1)  # Eq. 1, C = 1
        b = BLOCK // factor
        per_scale.append([block_features(mscn[i * b:(i + 1) * b, j * b:(j + 1) * b])
                          for j in range(nw) for i in range(nh)])
        img = imresize_matlab(img, 0.5)
    feats = np.concatenate([np.asarray(f) for f in per_scale], axis=1)  # (blocks, 36)
    mu_d = np.nanmean(feats, axis=0)
    cov_d = np.cov(feats[~np.isnan(feats).any(axis=1)], rowvar=False)
    d = mu_p - mu_d
    return float(np.sqrt(d @ np.linalg.pinv((cov_p + cov_d) / 2) @ d))


def niqe(rgb255, border: int = 0) -> float:
    """NIQE of an RGB (H, W, 3) or gray (H, W) image in 0..255: BT.601 Y, ``border`` px cropped.

    Lower is more natural. Needs at least two 96x96 blocks after the crop.
    """
    arr = np.asarray(rgb255, np.float64)
    h, w = arr.shape[:2]
    if max(h - 2 * border, 0) // BLOCK * (max(w - 2 * border, 0) // BLOCK) < MIN_BLOCKS:
        inside = f" inside the {border} px border" if border > 0 else ""
        raise ValueError(f"NIQE needs at least {MIN_BLOCKS} blocks of {BLOCK}x{BLOCK} px{inside}, "
                         f"got an image of {w}x{h}")
    y = rgb_to_y(arr) if arr.ndim == 3 else arr
    if border > 0:
        y = y[border:-border, border:-border]
    return niqe_of_y(np.round(y))
