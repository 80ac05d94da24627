"""Which value range a generator returns: SRGAN's [-1, 1] or ESRGAN's [0, 1].

SRResNet ends in ``tanh``: its SR is in [-1, 1], the range SRGAN §3.2 gives HR images. RRDBNet
(ESRGAN §3.1) and SRVGGNetCompact (Real-ESRGAN) return [0, 1], unclipped, as the published
BasicSR / Real-ESRGAN weights do. The unit-range builders name their last layer ``sr_unit``; the
name survives ``.keras`` save/load, network interpolation and weight conversion, so it is the
one mark every stage asks through :func:`output_range` (training maps a unit-range SR to [-1, 1]
before the losses; inference and export map either range to pixels).
"""

from __future__ import annotations

import keras

OUTPUT_LAYER = "sr_unit"  # the last layer of a generator whose output is [0, 1]


def output_range(model: keras.Model) -> str:
    """``"unit"`` ([0, 1]) for RRDBNet-family and SRVGG generators, ``"signed"`` ([-1, 1]) otherwise."""
    return "unit" if model.layers[-1].name == OUTPUT_LAYER else "signed"


__all__ = ["OUTPUT_LAYER", "output_range"]
