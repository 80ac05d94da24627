"""Custom layers shared by the networks: sub-pixel convolution and a fixed bicubic upsampler.

Every layer here is a registered ``keras.layers.Layer`` subclass with ``get_config`` (never a
``Lambda``), so ``.keras`` files load with ``safe_mode=True`` in any process that imported
``srgan_keras``, and the graph exports to SavedModel and TFLite.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

PACKAGE = "srgan_keras"


@keras.saving.register_keras_serializable(package=PACKAGE)
class PixelShuffle(keras.layers.Layer):
    """Sub-pixel convolution's rearrangement (Shi et al. 2016; SRGAN Fig. 4 "PixelShuffler x2").

    ``(B, H, W, C * r * r) -> (B, r H, r W, C)``: channel ``(i * r + j) * C + c`` of an input pixel
    becomes output pixel ``(r y + i, r x + j)``, channel ``c`` (TensorFlow's ``depth_to_space``
    order, which differs from PyTorch's ``PixelShuffle``: see ``convert.py`` for weight loading).
    """

    def __init__(self, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        return tf.nn.depth_to_space(x, self.factor)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        r = self.factor
        return (b, None if h is None else h * r, None if w is None else w * r, c // (r * r))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PixelUnshuffle(keras.layers.Layer):
    """The inverse rearrangement: ``(B, r H, r W, C) -> (B, H, W, C r r)`` (``space_to_depth``).

    Real-ESRGAN feeds x2 and x1 models through it so that one x4 body serves every scale.
    """

    def __init__(self, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        return tf.nn.space_to_depth(x, self.factor)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        r = self.factor
        return (b, None if h is None else h // r, None if w is None else w // r, c * r * r)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def keys_cubic(t: np.ndarray, a: float = -0.5) -> np.ndarray:
    """Keys' cubic convolution kernel (Keys 1981), ``a = -0.5`` as in MATLAB's ``imresize``."""
    t = np.abs(t)
    return np.where(
        t <= 1,
        (a + 2) * t**3 - (a + 3) * t**2 + 1,
        np.where(t < 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0),
    )


def bicubic_phase_kernel(scale: int, channels: int) -> np.ndarray:
    """Conv kernel ``(5, 5, C, s*s*C)`` whose output, after ``depth_to_space(s)``, is bicubic x s.

    With half-pixel centres, output pixel ``s*i + p`` samples input position
    ``i + (p + 0.5) / s - 0.5``, so every phase ``p`` needs input taps ``i-2 .. i+2`` only: bicubic
    upsampling *is* a sub-pixel convolution with fixed weights.
    """
    taps = np.arange(-2, 3, dtype=np.float64)
    w1 = np.zeros((scale, 5))
    for p in range(scale):
        offset = (p + 0.5) / scale - 0.5
        w1[p] = keys_cubic(taps - offset)
        w1[p] /= w1[p].sum()
    kernel = np.zeros((5, 5, channels, scale * scale * channels), dtype=np.float32)
    for py in range(scale):
        for px in range(scale):
            w2 = np.outer(w1[py], w1[px])
            for c in range(channels):
                kernel[:, :, c, (py * scale + px) * channels + c] = w2
    return kernel


@keras.saving.register_keras_serializable(package=PACKAGE)
class BicubicUpsample(keras.layers.Layer):
    """Fixed bicubic x``scale`` upsampling written as a convolution + pixel shuffle.

    Equals ``tf.image.resize(x, (sH, sW), "bicubic")`` (Keys a=-0.5, half-pixel centres, taps
    outside the image dropped and the rest renormalised) but, unlike the ``ResizeBicubic`` op,
    compiles under XLA and converts to TFLite. Used for the optional global residual (our
    option, not the paper's).
    """

    def __init__(self, scale: int = 4, channels: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)
        self.channels = int(channels)
        self._kernel = bicubic_phase_kernel(self.scale, self.channels)  # numpy, (5, 5, C, s*s*C)

    def call(self, x):
        # Taps that fall outside the image are dropped and the remaining weights renormalised,
        # as tf.image.resize does: convolve the zero-padded image and a zero-padded mask of ones.
        # Made here, not in __init__: traced, it is a constant of the graph (an eager tensor
        # captured from __init__ would become an extra input of exported ONNX graphs).
        kernel = tf.constant(self._kernel, dtype=x.dtype)
        pad = [[0, 0], [2, 2], [2, 2], [0, 0]]
        y = tf.nn.conv2d(tf.pad(x, pad), kernel, strides=1, padding="VALID")  # (B, H, W, s*s*C)
        ones = tf.pad(tf.ones_like(x[:1]), pad)
        norm = tf.nn.conv2d(ones, kernel, strides=1, padding="VALID")  # (1, H, W, s*s*C)
        return tf.nn.depth_to_space(y / norm, self.scale)  # (B, sH, sW, C)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        s = self.scale
        return (b, None if h is None else h * s, None if w is None else w * s, c)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "channels": self.channels}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Rescale(keras.layers.Layer):
    """``y = x * multiplier + offset``: moves images between the [0,1] and [-1,1] ranges."""

    def __init__(self, multiplier: float = 1.0, offset: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.multiplier = float(multiplier)
        self.offset = float(offset)

    def call(self, x):
        return x * tf.cast(self.multiplier, x.dtype) + tf.cast(self.offset, x.dtype)

    def get_config(self):
        return {**super().get_config(), "multiplier": self.multiplier, "offset": self.offset}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PadToMultiple(keras.layers.Layer):
    """Reflect-pad the bottom and right of ``(B, H, W, C)`` up to multiples of ``factor``.

    Real-ESRGAN's x2/x1 models pixel-unshuffle their input, so its inference code pads the same
    way (``mod_pad``) and :class:`CropToInput` removes the padding from the output.
    """

    def __init__(self, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        r = self.factor
        pad_h, pad_w = (-tf.shape(x)[1]) % r, (-tf.shape(x)[2]) % r
        y = tf.pad(x, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode="REFLECT")
        # Dynamic paddings hide the channel count from the TFLite converter: restate it with a
        # reshape (TFLite has no EnsureShape), or the next conv falls back to TF Select ops.
        shape = tf.shape(y)
        return tf.reshape(y, [shape[0], shape[1], shape[2], x.shape[-1]])

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        r = self.factor
        return (b, None if h is None else -(-h // r) * r, None if w is None else -(-w // r) * r, c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CropToInput(keras.layers.Layer):
    """``[sr, lr] -> sr[:, :scale * H_lr, :scale * W_lr]``: drop what :class:`PadToMultiple` added."""

    def __init__(self, scale: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, inputs):
        sr, lr = inputs
        return sr[:, : tf.shape(lr)[1] * self.scale, : tf.shape(lr)[2] * self.scale, :]

    def compute_output_shape(self, input_shapes):
        (b, _, _, c), (_, h, w, _) = input_shapes
        s = self.scale
        return (b, None if h is None else h * s, None if w is None else w * s, c)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class NearestUpsample(keras.layers.Layer):
    """Nearest-neighbour x``factor`` as ``depth_to_space`` of ``factor**2`` copies of the input.

    Equals ``UpSampling2D(interpolation="nearest")`` exactly, but keeps the channel count static
    through TFLite conversion (``UpSampling2D``'s repeat/reshape does not, so the next conv
    needs TF Select ops) and compiles under XLA.
    """

    def __init__(self, factor: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        return tf.nn.depth_to_space(tf.concat([x] * self.factor**2, axis=-1), self.factor)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        r = self.factor
        return (b, None if h is None else h * r, None if w is None else w * r, c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package=PACKAGE)
class BatchNormalization(keras.layers.BatchNormalization):
    """Keras' batch normalisation (Ioffe & Szegedy 2015) whose training step is one fused kernel.

    Same variables, arithmetic and ``get_config`` as ``keras.layers.BatchNormalization`` (a
    checkpoint of either restores into the other). In training mode, on float32 or bfloat16
    (``mixed_bfloat16``) NHWC input, the forward pass is TensorFlow's ``FusedBatchNormV3`` and
    its gradient one ``FusedBatchNormGradV3``, where Keras 3 runs ``moments`` and a chain of
    elementwise ops (about a dozen kernels each way). Measured on the paper's SRResNet MSE
    step (batch 16, HR 96, 2 CPU cores): 0.78 -> 0.68 s. The moving variance is updated with
    the biased batch variance, as Keras does (the kernel returns the Bessel-corrected one).
    Inference, float16, masks and renorm take Keras' own path, which the TFLite converter
    folds into the preceding convolution.
    """

    def call(self, inputs, training=None, mask=None):
        fusable = (training and self.trainable and mask is None and not self.renorm
                   and self.scale and self.center and len(inputs.shape) == 4
                   and self.axis in (-1, 3) and inputs.dtype in (tf.float32, tf.bfloat16))
        if not fusable:
            return super().call(inputs, training=training, mask=mask)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma, self.beta, epsilon=self.epsilon, data_format="NHWC",
            is_training=True)
        n = tf.cast(tf.reduce_prod(tf.shape(inputs)[:3]), tf.float32)
        variance = variance * (n - 1.0) / tf.maximum(n, 2.0)  # back to the biased variance
        m = self.momentum
        self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
        self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
        return y


@keras.saving.register_keras_serializable(package=PACKAGE)
class PReLU(keras.layers.PReLU):
    """Parametric ReLU (He et al. 2015), ``x if x >= 0 else alpha * x``, trained as one select.

    Keras computes ``relu(x) - alpha * relu(-x)``: four elementwise kernels forward and more
    backward, over every activation of the 16 residual blocks. In training a single ``where``
    gives the same values and gradients (tests/test_networks.py) with fewer passes over memory;
    measured on the SRResNet MSE step (batch 16, HR 96): 0.78 -> 0.75 s, and 0.68 -> 0.66 s with
    the fused :class:`BatchNormalization`. Inference keeps Keras' expression, which the TFLite
    converter turns into its native PRELU op (a select there quantizes worse in int8). Weights
    and config are Keras' own.
    """

    def call(self, inputs, training=None):
        if not training:
            return super().call(inputs)
        alpha = tf.cast(self.alpha, inputs.dtype)
        return tf.where(inputs >= 0, inputs, alpha * inputs)
