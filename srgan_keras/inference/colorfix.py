"""Colour fix: the output keeps the input's low-frequency colour (issue 16.5, ``--color-fix``).

GAN generators shift colour a little (a tint, a brighter or duller patch) and users see it as a
colour cast. The wavelet colour fix of StableSR (Wang et al. 2023, "Exploiting Diffusion Prior
for Real-World Image Super-Resolution", its ``wavelet_reconstruction``) removes it: split both
the network's output and a plain bicubic upscale of the input into high and low frequencies
with an a-trous wavelet (``LEVELS`` blurs by a 3x3 binomial kernel dilated 1, 2, 4, ...), and
keep the output's high frequencies (the detail the network adds) over the bicubic image's low
frequencies (the input's colour). A flat grey input therefore stays exactly that grey.

It works per tile: the low-pass reaches ``2**LEVELS - 1`` output pixels, i.e. 31 / scale LR
pixels, within the tiler's context of 16 LR pixels at x2 and x4, so the fixed tiles join like
the unfixed ones. The borders are extended by replication, as StableSR does.
"""

from __future__ import annotations

import numpy as np

from srgan_keras.inference.runners import BicubicRunner, Runner

LEVELS = 5  # StableSR's wavelet_reconstruction default


def _blur(x: np.ndarray, d: int) -> np.ndarray:
    """(N, H, W, C) blurred by the 3x3 kernel [1, 2, 1]^T [1, 2, 1] / 16 dilated by ``d``."""
    for axis in (1, 2):
        n = x.shape[axis]
        p = [(0, 0)] * 4
        p[axis] = (d, d)
        xp = np.pad(x, p, mode="edge")
        lo = np.take(xp, range(0, n), axis=axis)
        mid = np.take(xp, range(d, d + n), axis=axis)
        hi = np.take(xp, range(2 * d, 2 * d + n), axis=axis)
        x = (lo + 2.0 * mid + hi) * 0.25
    return x


def low_frequency(x: np.ndarray, levels: int = LEVELS) -> np.ndarray:
    """The a-trous wavelet's residual low band after ``levels`` blurs (dilations 1, 2, 4, ...)."""
    x = np.asarray(x, dtype=np.float32)
    for i in range(levels):
        x = _blur(x, 2**i)
    return x


def wavelet_color_fix(sr: np.ndarray, reference: np.ndarray, levels: int = LEVELS) -> np.ndarray:
    """``sr``'s high frequencies over ``reference``'s low ones; both (N, H, W, C) in [0, 1]."""
    sr = np.asarray(sr, dtype=np.float32)
    fixed = sr - low_frequency(sr, levels) + low_frequency(reference, levels)
    return np.clip(fixed, 0.0, 1.0)


class ColorFixRunner:
    """A runner whose output gets the colour of the bicubic upscale of its input."""

    def __init__(self, runner: Runner, levels: int = LEVELS):
        self.runner = runner
        self.scale = runner.scale
        self.name = f"{runner.name}+colorfix"
        self.levels = levels
        self._bicubic = BicubicRunner(runner.scale)

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        return wavelet_color_fix(self.runner(lr), self._bicubic(lr), self.levels)
