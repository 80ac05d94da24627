"""A generator's colour shift, measured, and removed from its last bias (issue 24.3).

A colour cast is a per-channel offset: a flat grey comes out a little red, green or blue, and so
does the mean of every photo. Two measurements, both in grey levels (0-255) per RGB channel:

- :func:`flat_shift`: a flat field of one grey in, its output's mean (away from the borders) minus
  that grey out;
- :func:`mean_shift`: over a set of LR images, the mean of the output minus the mean of the plain
  bicubic upscale of the same input (bicubic keeps the input's colours; an SR model should too).

:func:`remove_offset` subtracts a measured offset from the bias of the convolution that feeds the
pixel shuffle of a unit-range generator (SRVGGNetCompact: conv -> pixel shuffle -> + nearest
upsampled LR, ``nn/srvgg.py``). That bias reaches every output pixel of its channel unchanged,
so an offset that does not depend on the image is removed exactly; one that does is removed on
average. It is a calibration of a trained file (our choice, for the bundled real-world models,
whose cast came from a training-data bias: ``data/realesrgan_degradation.jpeg``), not a training
method; the cure for a new model is training on unbiased data.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from srgan_keras.inference.runners import BicubicRunner, Runner

PIXEL_MAX = 255.0
BORDER = 8  # output pixels left out of flat_shift: zero padding darkens the edges


def flat_shift(runner: Runner, grey: float = 128.0, size: int = 32) -> np.ndarray:
    """Output mean minus ``grey`` per channel, for a ``size`` x ``size`` LR field of ``grey``."""
    lr = np.full((1, size, size, 3), grey / PIXEL_MAX, np.float32)
    sr = runner(lr)[0, BORDER:-BORDER, BORDER:-BORDER]
    return sr.reshape(-1, 3).mean(0) * PIXEL_MAX - grey


def mean_shift(runner: Runner, lr_images: Iterable[np.ndarray]) -> np.ndarray:
    """Mean over ``lr_images`` ((H, W, 3) in [0, 1]) of mean(SR) - mean(bicubic), per channel."""
    bicubic = BicubicRunner(runner.scale)
    shifts = []
    for lr in lr_images:
        batch = np.asarray(lr, np.float32)[None]
        shifts.append((runner(batch)[0].reshape(-1, 3).mean(0)
                       - bicubic(batch)[0].reshape(-1, 3).mean(0)) * PIXEL_MAX)
    if not shifts:
        raise ValueError("mean_shift needs at least one image")
    return np.mean(shifts, axis=0)


def shuffle_conv(model):
    """The convolution feeding the pixel shuffle of a unit-range SRVGG-style generator."""
    from srgan_keras.nn.layers import PixelShuffle
    from srgan_keras.nn.outputs import output_range

    shuffles = [layer for layer in model.layers if isinstance(layer, PixelShuffle)]
    if output_range(model) != "unit" or len(shuffles) != 1:
        raise ValueError(f"{model.name}: remove_offset needs a unit-range generator with one pixel "
                         "shuffle before its output (SRVGGNetCompact)")
    feeding = [layer for layer in model.layers if layer.output is shuffles[0].input]
    conv = feeding[0] if feeding else None
    if getattr(conv, "bias", None) is None:
        raise ValueError(f"{model.name}: the layer before the pixel shuffle has no bias")
    return conv


def remove_offset(model, offset: np.ndarray) -> None:
    """Subtract ``offset`` (grey levels per RGB channel) from every output pixel, in place.

    ``depth_to_space`` takes output channel ``c`` of phase ``k`` from input channel
    ``3 k + c``, so channel ``c``'s bias entries are ``c::3``.
    """
    conv = shuffle_conv(model)
    bias = conv.bias.numpy()
    step = np.asarray(offset, np.float32) / PIXEL_MAX
    for c in range(3):
        bias[c::3] -= step[c]
    conv.bias.assign(bias)


__all__ = ["flat_shift", "mean_shift", "remove_offset", "shuffle_conv"]
