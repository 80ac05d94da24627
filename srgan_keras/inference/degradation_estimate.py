"""How degraded is this photo? Its noise and JPEG quality, read from the image itself (issue 24.1).

``--denoise-strength auto`` (the CLI's and the web page's default for a model with a
weak-denoise twin) blends the real-world model with its twin per image, Real-ESRGAN's ``-dn``
chosen from two estimates instead of by hand:

- :func:`noise_sigma`: the noise standard deviation in grey levels (0-255), by the wavelet
  estimator of Donoho & Johnstone (1994): the median absolute deviation of the finest diagonal
  wavelet coefficients / 0.6745, per channel, averaged -- what
  ``skimage.restoration.estimate_sigma(..., average_sigmas=True)`` computes, written here in
  NumPy with the Haar wavelet (skimage's needs PyWavelets, not a dependency of this package, and
  uses Daubechies-2). Fine texture reads as noise too, so a clean photo gives 1-3, not 0.
- :func:`jpeg_quality`: for a JPEG file, the IJG quality 1-100 its luminance quantisation
  table was made with (libjpeg's ``jpeg_quality_scaling`` inverted); ``None`` for other files.

:func:`auto_strength` maps (sigma, quality) to a strength in [0, 1] by a clipped linear rule whose
constants were fitted by ``benchmarks/calibrate_denoise.py`` on training photos only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from srgan_keras.data.ranges import PIXEL_MAX_16, pixels_to_unit, unit_to_pixels

# libjpeg's standard luminance table (ITU-T T.81, Annex K.1), the base every IJG quality scales.
STD_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
# Our choice: the noise is estimated on at most this many pixels (a centre crop), so a 12 MP photo
# costs what a 1 MP one does; noise is stationary enough that the crop speaks for the whole.
MAX_ESTIMATE_PIXELS = 1024 * 1024
# auto blends are cached per strength rounded to this step (our choice): a folder of photos
# builds at most 21 blends, and 0.05 of strength moves the output by well under a grey level.
# ``denoise_strength="auto"``: the strength chosen per image from this module's estimate (issue 24.1).
AUTO = "auto"
STRENGTH_STEP = 0.05


def ijg_table(quality: int) -> np.ndarray:
    """The luminance table libjpeg writes at ``quality`` (``jpeg_quality_scaling`` + baseline)."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return np.clip((np.array(STD_LUMINANCE) * scale + 50) // 100, 1, 255)


def jpeg_quality(source) -> int | None:
    """The IJG quality (1-100) of a JPEG file or open Pillow image; ``None`` if not a JPEG.

    The file's luminance table (Pillow's ``quantization[0]``) is compared with libjpeg's table at
    every quality; the closest wins. Sorted values are compared, so the answer does not depend
    on the order (natural or zigzag) the tables come in. Exact for files written by libjpeg
    (Pillow, OpenCV, most cameras' software); for an encoder with tables of its own it is the
    nearest IJG equivalent.
    """
    from PIL import Image

    def from_image(im) -> int | None:
        tables = getattr(im, "quantization", None)
        if im.format != "JPEG" or not tables:
            return None
        luma = np.sort(np.asarray(tables[min(tables)], dtype=np.int64).ravel())
        if luma.size != 64:
            return None
        errors = [np.abs(np.sort(ijg_table(q)) - luma).sum() for q in range(1, 101)]
        return int(np.argmin(errors)) + 1

    if isinstance(source, (str, os.PathLike)):
        try:
            with Image.open(source) as im:
                return from_image(im)
        except OSError:
            return None
    return from_image(source)


def noise_sigma(rgb) -> float:
    """Noise standard deviation in grey levels (0-255) of an RGB or gray image.

    ``rgb``: uint8 / uint16 / float in [0, 1], (H, W), (H, W, 1) or (H, W, 3). Wavelet MAD on
    the centre ``MAX_ESTIMATE_PIXELS`` crop, per channel, averaged over the channels.
    """
    a = np.asarray(rgb)
    if a.dtype == np.uint8:
        a = a.astype(np.float64)
    elif a.dtype == np.uint16:
        a = np.asarray(unit_to_pixels(pixels_to_unit(a, PIXEL_MAX_16)), np.float64)
    else:
        a = np.asarray(unit_to_pixels(a.astype(np.float64)), np.float64)
    if a.ndim == 2:
        a = a[..., None]
    h, w = a.shape[:2]
    if h * w > MAX_ESTIMATE_PIXELS:
        side = int(MAX_ESTIMATE_PIXELS ** 0.5)
        ch, cw = min(h, side), min(w, side)
        y, x = (h - ch) // 2, (w - cw) // 2
        a = a[y:y + ch, x:x + cw]
    h2, w2 = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    if h2 == 0 or w2 == 0:
        return 0.0
    a = a[:h2, :w2, :3]
    # orthonormal Haar, level 1, the diagonal band: (p00 - p01 - p10 + p11) / 2 per 2x2 block;
    # for white noise of deviation sigma its coefficients have deviation sigma
    hh = (a[0::2, 0::2] - a[0::2, 1::2] - a[1::2, 0::2] + a[1::2, 1::2]) / 2.0
    mad = np.median(np.abs(hh.reshape(-1, hh.shape[-1])), axis=0)
    return float(np.mean(mad / 0.6744897501960817))  # the MAD of N(0, 1) is 0.6745


# The rule: strength = clip(A + B * sigma + C * (100 - quality) / 100, 0, 1), a JPEG-free input
# counting as quality 100. Fitted by ``python -m benchmarks.calibrate_denoise --photos 24`` (grid
# search, the least mean PSNR-Y lost against each crop's best measured strength): 24 photos of
# ../shared/data/train (every sub-folder), 48 px LR centre crops, 30 degradation levels (clean
# bicubic, the light preset, light with noise 0-30 and JPEG files at quality 90/60/30 or PNG),
# realesr_x4.keras + realesr_x4_wdn.keras, AMD EPYC (2 shared cores), 2026-12-07, 17 min.
# Mean PSNR-Y lost: auto 0.058 dB; always 1 (the model as trained) 0.495, always 0.5 0.205,
# always 0 0.257. Clean bicubic crops are best at strength 0 (26.49 dB against 25.43 at 1).
AUTO_A = -0.9
AUTO_B = 0.07
AUTO_C = 1.4


def auto_strength(sigma: float, quality: int | None,
                  constants: tuple[float, float, float] | None = None) -> float:
    """The calibrated strength in [0, 1] for noise ``sigma`` (grey levels) and JPEG ``quality``
    (``None``: not a JPEG); monotone: more noise or a lower quality never lowers it."""
    a, b, c = constants or (AUTO_A, AUTO_B, AUTO_C)
    q = 100 if quality is None else min(max(int(quality), 1), 100)
    return float(np.clip(a + b * max(float(sigma), 0.0) + c * (100 - q) / 100, 0.0, 1.0))


def quantise_strength(strength: float, step: float = STRENGTH_STEP) -> float:
    """``strength`` rounded to ``step`` (the cache key of the auto blends)."""
    return round(round(float(strength) / step) * step, 2)


@dataclass(frozen=True)
class Estimate:
    """What :func:`estimate` read from one image and the strength it chose."""

    sigma: float  # noise, grey levels
    quality: int | None  # IJG quality, None when the input is not a JPEG
    strength: float  # quantised to STRENGTH_STEP

    def describe(self) -> str:
        """``denoise 0.35 (noise 4.1, JPEG q 72)``: the CLI's and the page's wording."""
        jpeg = "" if self.quality is None else f", JPEG q {self.quality}"
        return f"denoise {self.strength:.2f} (noise {self.sigma:.1f}{jpeg})"


def estimate(rgb, source=None) -> Estimate:
    """Noise of ``rgb`` (any layout :func:`noise_sigma` takes, or a ``LoadedImage``), JPEG quality
    of ``source`` (a path or Pillow image; ``None``: not known), and the auto strength."""
    pixels = getattr(rgb, "rgb", rgb)
    sigma = noise_sigma(pixels)
    quality = None if source is None else jpeg_quality(source)
    return Estimate(sigma, quality, quantise_strength(auto_strength(sigma, quality)))
