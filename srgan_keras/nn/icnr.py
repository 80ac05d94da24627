"""ICNR: sub-pixel convolution initialised to convolution + nearest-neighbour resize.

Aitken, Ledig, Theis, Caballero, Wang and Shi, "Checkerboard artifact free sub-pixel convolution"
(arXiv 1707.02937, 2017; the SRGAN authors). A convolution with ``C * r * r`` output channels
followed by a pixel shuffle by ``r`` computes ``r * r`` sub-kernels, one per output phase. Drawn
independently (Glorot, He), the phases differ at initialisation, and the shuffle tiles that
difference over the output: a checkerboard of period ``r`` that training must first undo, and that
an adversarial loss can grow back. ICNR draws *one* sub-kernel ``W0`` of ``C`` output channels and
copies it to every phase, so at initialisation the layer is "convolve, then nearest-neighbour
upsample": every ``r x r`` output cell is constant and there is no checkerboard to start from.

Channel order: TensorFlow's ``depth_to_space`` sends input channel ``(i * r + j) * C + c`` to
output pixel ``(r y + i, r x + j)``, channel ``c`` (``nn/layers.py``), so the phase index is the
slow one and the copies are ``np.tile(W0, r * r)`` along the last axis. (PyTorch's
``PixelShuffle`` is channel-major, ``c * r * r + phase``, which is why the paper's code repeats
each channel instead.)

:func:`icnr_project` does the same to a *trained* kernel: each channel's ``r * r`` sub-kernels are
replaced by their mean. It is our tool, not the paper's, for starting a fine-tune (the GAN phase
from a trained SRResNet) from a pixel shuffle whose phases agree.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

PACKAGE = "srgan_keras"


@keras.saving.register_keras_serializable(package=PACKAGE)
class ICNR(keras.initializers.Initializer):
    """Kernel initialiser for a convolution that feeds ``PixelShuffle(factor)``.

    Args:
        factor: the pixel shuffle's factor ``r``; the kernel's last axis must be ``C * r * r``.
        initializer: how ``W0`` (the kernel of ``C`` outputs) is drawn: the layer's usual
            initialiser, Glorot uniform as Keras' ``Conv2D`` default. Its fans are those of ``W0``,
            as in the paper.
    """

    def __init__(self, factor: int = 2, initializer="glorot_uniform"):
        self.factor = int(factor)
        self.initializer = keras.initializers.get(initializer)

    def __call__(self, shape, dtype=None):
        *spatial, c_in, c_out = shape
        phases = self.factor * self.factor
        if c_out % phases:
            raise ValueError(f"ICNR with factor {self.factor} needs output channels divisible by "
                             f"{phases}; got {c_out}")
        w0 = self.initializer((*spatial, c_in, c_out // phases), dtype=dtype)  # one phase
        return ops.tile(w0, [1] * (len(spatial) + 1) + [phases])  # every phase the same

    def get_config(self):
        return {"factor": self.factor,
                "initializer": keras.initializers.serialize(self.initializer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["initializer"] = keras.initializers.deserialize(config["initializer"])
        return cls(**config)


def phase_spread(kernel: np.ndarray, factor: int) -> float:
    """How far a sub-pixel kernel's ``r * r`` phases are from one another: the RMS of each phase's
    difference from the phase mean, over the kernel's RMS (0 for an ICNR kernel)."""
    k = np.asarray(kernel, np.float64)
    phases = factor * factor
    split = k.reshape(*k.shape[:-1], phases, k.shape[-1] // phases)  # (..., phase, C)
    rms = np.sqrt(np.mean(k**2))
    return float(np.sqrt(np.mean((split - split.mean(axis=-2, keepdims=True)) ** 2)) / rms) if rms else 0.0


def icnr_project(kernel: np.ndarray, bias: np.ndarray | None, factor: int):
    """A trained sub-pixel kernel (and bias) with each channel's phases replaced by their mean."""
    phases = factor * factor
    k = np.asarray(kernel)
    split = k.reshape(*k.shape[:-1], phases, k.shape[-1] // phases)
    k = np.broadcast_to(split.mean(axis=-2, keepdims=True), split.shape).reshape(k.shape)
    if bias is not None:
        b = np.asarray(bias).reshape(phases, -1)
        bias = np.broadcast_to(b.mean(axis=0, keepdims=True), b.shape).reshape(-1)
    return k.astype(kernel.dtype), None if bias is None else bias.astype(np.asarray(kernel).dtype)


def subpixel_convolutions(model: keras.Model) -> list[tuple[keras.layers.Layer, int]]:
    """Every ``Conv2D`` of ``model`` whose output goes straight into a ``PixelShuffle``, with the
    shuffle's factor (SRResNet's upsampling blocks, SRVGGNetCompact's last convolution)."""
    from srgan_keras.nn.layers import PixelShuffle

    found = []
    for layer in model.layers:
        if not isinstance(layer, PixelShuffle):
            continue
        for node in layer._inbound_nodes:  # the layers whose outputs feed this shuffle
            for tensor in node.input_tensors:
                source = tensor._keras_history.operation
                if isinstance(source, keras.layers.Conv2D):
                    found.append((source, layer.factor))
    return found


def project_model(model: keras.Model) -> list[str]:
    """Apply :func:`icnr_project` in place to every sub-pixel convolution; returns their names."""
    names = []
    for conv, factor in subpixel_convolutions(model):
        weights = conv.get_weights()
        kernel, bias = icnr_project(weights[0], weights[1] if len(weights) > 1 else None, factor)
        conv.set_weights([kernel] + ([bias] if bias is not None else []))
        names.append(conv.name)
    return names


__all__ = ["ICNR", "icnr_project", "phase_spread", "project_model", "subpixel_convolutions"]
