"""Spectral normalisation as PyTorch computes it (Miyato et al. 2018; ``torch.nn.utils.spectral_norm``),
the one Real-ESRGAN's U-Net discriminator was trained with (§3, Fig. 6).

    sigma(W) ~ v^T W u        u, v: one power iteration per training call, without gradient
    forward:   conv(x, W / sigma(W))   with the gradient flowing through sigma into W

Keras' ``SpectralNormalization`` differs in one point: in training it *assigns* ``W / sigma`` to
the stored kernel and convolves with that variable, so the optimiser steps on the projected
kernel and no gradient flows through sigma. :class:`SpectralNorm` keeps Keras' variables (the
wrapped layer's kernel, now PyTorch's ``weight_orig``, and ``vector_u``), so checkpoints of
either restore into the other, and changes only ``call``: the kernel is never overwritten and
``W / sigma`` is computed in the graph on every call. In inference it uses the stored u without
iterating (PyTorch also keeps v; here v = normalize(u W^T), our choice, equal once u has
converged). Checked against PyTorch in tests/test_unet_discriminator.py.
"""

from __future__ import annotations

import keras
from keras import ops


def _normalize(x, eps: float = 1e-12):
    return x / ops.maximum(ops.sqrt(ops.sum(ops.square(x))), eps)  # PyTorch's F.normalize eps


@keras.saving.register_keras_serializable(package="srgan_keras")
class SpectralNorm(keras.layers.SpectralNormalization):
    """``SpectralNorm(Conv2D(..))``: the conv with ``W / sigma(W)``, PyTorch's forward and gradient."""

    def _sigma(self, training: bool):
        weights = ops.reshape(self.kernel, [-1, self.kernel_shape[-1]])  # (kh kw in, out)
        u = ops.stop_gradient(self.vector_u.value)
        iterations = self.power_iterations if training else 0
        for _ in range(iterations):  # PyTorch's order: v = normalize(W^T u), u = normalize(W v)
            v = ops.stop_gradient(_normalize(ops.matmul(u, ops.transpose(weights))))
            u = ops.stop_gradient(_normalize(ops.matmul(v, weights)))
        if iterations:
            self.vector_u.assign(ops.cast(u, self.vector_u.dtype))
        else:  # inference: v from the stored u
            v = ops.stop_gradient(_normalize(ops.matmul(u, ops.transpose(weights))))
        # sigma = u^T W v, with the gradient flowing into W
        return ops.matmul(ops.matmul(v, weights), ops.transpose(u))[0, 0]

    def sigma_estimate(self) -> float:
        """The estimate sigma = u^T W v that inference divides by (from the stored u, no iteration)."""
        return float(self._sigma(False))

    def applied_kernel(self):
        """The kernel the convolution applies in inference, ``W / sigma_estimate()``: its largest
        singular value is 1 once the power iteration has converged (notebook 09 prints it)."""
        return self.kernel / self._sigma(False)

    def call(self, inputs, training=False):
        conv = self.layer
        kernel = ops.cast(self.kernel / self._sigma(bool(training)), conv.compute_dtype)
        x = ops.cast(inputs, conv.compute_dtype)
        out = conv.convolution_op(x, kernel)
        if conv.use_bias:
            out = out + ops.cast(conv.bias, conv.compute_dtype)
        if conv.activation is not None:
            out = conv.activation(out)
        return ops.cast(out, inputs.dtype)
