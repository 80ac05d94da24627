"""The field's quality metrics: PSNR and SSIM on the Y channel, border cropped (SRGAN §3.1).

Protocol (SRGAN Table 2, BasicSR's ``calculate_psnr``/``calculate_ssim``): images as 8-bit
values; Y of ITU-R BT.601 in its studio range 16..235; ``scale`` pixels removed at every border;
SSIM of Wang et al. 2004 with an 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, L = 255,
which is what ``tf.image.ssim`` computes. Training's validation and the evaluate CLI share these.
"""

from __future__ import annotations

import numpy as np

from srgan_keras.data.ranges import PIXEL_MAX

# ITU-R BT.601 luma for RGB in [0, 1], studio range: Y = 16 + 65.481 R + 128.553 G + 24.966 B
# (MATLAB's rgb2ycbcr; BasicSR's bgr2ycbcr with y_only=True).
BT601_Y_WEIGHTS = (65.481, 128.553, 24.966)
BT601_Y_OFFSET = 16.0
SSIM_WINDOW = 11  # Wang et al. 2004, §III-C
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03

# The columns of an evaluation report: the full-reference metrics (Y and RGB), and
METRICS = ("psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb")
# --artifacts: a fixed s x s tile repeated over the output (the pixel-shuffle checkerboard), and
# steps at the LR-pixel boundaries (an uncorrected nearest-neighbour base), and how much fine
# texture against HR (1 = as much as HR; blur below, invented texture or noise above); metrics.py
ARTIFACTS = ("pattern", "lr_grid", "hf_ratio")


def rgb_to_y(rgb255) -> np.ndarray:
    """BT.601 Y (16..235) of RGB given as 0..255 values, float64, shape (..., H, W)."""
    rgb = np.asarray(rgb255, dtype=np.float64) / PIXEL_MAX
    w = np.asarray(BT601_Y_WEIGHTS)
    return rgb @ w + BT601_Y_OFFSET


def shave(x: np.ndarray, border: int) -> np.ndarray:
    """Remove ``border`` pixels at each side of the H and W axes (the first two of x's last 2-3)."""
    if border <= 0:
        return x
    if x.ndim == 2 or (x.ndim == 3 and x.shape[-1] not in (1, 3)):
        return x[..., border:-border, border:-border]
    return x[..., border:-border, border:-border, :]


def psnr(a, b, max_val: float = PIXEL_MAX) -> float:
    """PSNR in dB of two same-shape arrays on a 0..max_val scale (inf when identical)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(max_val**2 / mse))


def ssim(a, b, max_val: float = PIXEL_MAX) -> float:
    """SSIM (Wang et al. 2004) of two (H, W) or (H, W, C) arrays; channels averaged."""
    import tensorflow as tf  # here, not at the top: the evaluate CLI's --help runs without it

    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    if min(a.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got {a.shape[:2]}")
    val = tf.image.ssim(a, b, max_val=max_val, filter_size=SSIM_WINDOW, filter_sigma=SSIM_SIGMA,
                        k1=SSIM_K1, k2=SSIM_K2)
    return float(val.numpy())


def ssim_rgb(a, b, max_val: float = PIXEL_MAX) -> float:
    """SSIM computed on each of R, G, B and averaged (the variant some SR papers report)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    return float(np.mean([ssim(a[..., c], b[..., c], max_val) for c in range(3)]))


def blockiness(rgb255, block: int = 8) -> float:
    """How much of a JPEG's block grid an (H, W, 3) 0..255 image shows: the mean absolute Y step
    across the boundaries of a ``block``-pixel grid anchored at the top-left corner, over the
    mean step across the middle of the blocks (columns, then rows, pooled).

    Not from the SR papers: our measure, in the spirit of Wang, Sheikh and Bovik's (ICIP 2002)
    blockiness, for issue 12's "the 8x8 blocks are gone". About 1 when nothing repeats every
    ``block`` pixels, above 1 where block edges stand out. For a JPEG upscaled x``s`` pass
    ``block = 8 * s``: both steps then fall between input pixels (columns ``block*k - 1|block*k``
    and ``block*k + block/2 - 1|block*k + block/2``), so a generator's own s-pixel periodicity
    (pixel shuffle, a nearest-neighbour base) is in both and cancels in the ratio.
    """
    y = rgb_to_y(rgb255)
    if block < 2 or block % 2 or min(y.shape) < 2 * block:
        raise ValueError(f"blockiness needs an even block of at least 2 and an image of two "
                         f"blocks a side; got block {block} on {y.shape[1]}x{y.shape[0]}")
    edge = mid = 0.0
    for d in (np.abs(np.diff(y, axis=1)), np.abs(np.diff(y, axis=0)).T):  # (H, W-1), (W, H-1)
        j = np.arange(d.shape[1])
        edge += d[:, j % block == block - 1].mean()
        mid += d[:, j % block == block // 2 - 1].mean()
    return float(edge / mid) if mid > 0 else float("inf") if edge > 0 else 1.0


def periodic_pattern(rgb255, period: int = 4) -> float:
    """How strongly one fixed ``period`` x ``period`` tile repeats over an (H, W, 3) 0..255 image.

    The fine structure (Y minus its (2 ``period`` + 1)-pixel box mean) is averaged over all
    ``period`` x ``period`` cells, phase by phase; the RMS of those ``period**2`` phase means,
    times the square root of the number of cells, is divided by the RMS of the fine structure.
    Content that does not repeat averages out: about 1 for white noise, 0.5 to 1.9 for Set14's HR
    photos. A pattern added to every cell does not: a +-1 grey-level checkerboard on a 256x256 crop
    of scikit-image's coffee photo takes it from 0.6 to 4.2.

    Not from the SR papers: our measure, for the pixel-shuffle checkerboard a generator with an
    x``s`` pixel shuffle can learn (the same tile in every s x s output cell; Odena et al., Distill
    2016, on the artifact). Pass ``period = s``. Phase-free, unlike :func:`blockiness`, which
    sees edges at one grid position (the LR-pixel boundaries of a nearest-neighbour base).
    """
    from scipy.ndimage import uniform_filter

    if period < 2:
        raise ValueError(f"periodic_pattern needs a period of at least 2, got {period}")
    y = rgb_to_y(rgb255)
    h, w = (y.shape[0] // period) * period, (y.shape[1] // period) * period
    if h < 4 * period or w < 4 * period:
        raise ValueError(f"periodic_pattern needs at least 4 periods a side; got "
                         f"{y.shape[1]}x{y.shape[0]} for period {period}")
    fine = (y - uniform_filter(y, 2 * period + 1, mode="reflect"))[:h, :w]
    cells = fine.reshape(h // period, period, w // period, period)
    phase_means = cells.mean(axis=(0, 2))
    spread = np.sqrt(np.mean(fine**2))
    if spread < 1e-6:  # flat (up to the box filter's rounding): nothing to measure
        return 1.0
    n_cells = (h // period) * (w // period)
    return float(np.sqrt(np.mean(phase_means**2) * n_cells) / spread)


def hf_ratio(sr255, hr255) -> float:
    """How much fine texture an SR image has against its HR: the mean absolute second difference
    of Y along rows and columns (a discrete Laplacian's energy: edges and fine texture) in SR over
    the same in HR, both (H, W, 3) 0..255 of one size.

    1.0 = as much fine detail as the original; blur pushes it below 1 (x4 bicubic near 0.2-0.4),
    invented texture or noise above. It measures *how much* texture, not whether it is right, so
    it is read beside PSNR/SSIM and NIQE. Not from the SR papers: our offline stand-in for the
    texture half of the perception-distortion plane (Blau and Michaeli 2018).
    """

    def energy(img) -> float:
        y = rgb_to_y(np.asarray(img, np.float64))
        return float(np.abs(np.diff(y, 2, axis=0))[:, 1:-1].mean()
                     + np.abs(np.diff(y, 2, axis=1))[1:-1].mean())

    ref = energy(hr255)
    return energy(sr255) / ref if ref > 0 else float("nan")


def evaluate_pair(sr255, hr255, border: int) -> dict[str, float]:
    """All metrics of one SR image against its HR, both (H, W, 3) 0..255 (SR already rounded).

    Returns ``psnr_y``, ``ssim_y`` (the paper's), ``psnr_rgb`` and ``ssim_rgb`` (for comparing
    with papers that report those), each with ``border`` pixels shaved.
    """
    sr, hr = np.asarray(sr255, np.float64), np.asarray(hr255, np.float64)
    if sr.shape != hr.shape:
        raise ValueError(f"SR {sr.shape} and HR {hr.shape} differ in shape")
    sr_y, hr_y = shave(rgb_to_y(sr), border), shave(rgb_to_y(hr), border)
    sr_c, hr_c = shave(sr, border), shave(hr, border)
    return {
        "psnr_y": psnr(sr_y, hr_y),
        "ssim_y": ssim(sr_y, hr_y),
        "psnr_rgb": psnr(sr_c, hr_c),
        "ssim_rgb": ssim_rgb(sr_c, hr_c),
    }

