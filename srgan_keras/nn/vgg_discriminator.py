"""ESRGAN's discriminator: BasicSR's ``VGGStyleDiscriminator`` (Wang et al. 2018, §3; BasicSR
``basicsr/archs/discriminator_arch.py``), the network the ESRGAN weights were trained against.

    conv0_0 k3n64s1 (bias) -> lrelu
    conv0_1 k4n64s2 -> BN -> lrelu                                           (H/2)
    block i = 1 .. n-1:  k3 s1 -> BN -> lrelu, k4 s2 -> BN -> lrelu,  width min(64 * 2^i, 512)
    flatten (4 x 4 x 512) -> Dense(100) -> lrelu -> Dense(1) logits

Against SRGAN's discriminator (nn/srgan_discriminator.py) it downsamples with 4x4 stride-2 convolutions
without bias, ends at 4x4 rather than H/16, and its dense head has 100 units instead of 1024:
14.5 M parameters at 128 px against SRGAN's 38.2 M. BasicSR builds it for 128 px (5 stride-2
blocks) and 256 px (6); here the number of blocks follows the size, log2(size / 4), so any
power-of-two size works (tiny tests use 32 px) -- our generalisation, equal to BasicSR's at 128
and 256. Inputs in [-1, 1] like the project's other discriminators (BasicSR feeds [0, 1]; an
affine map of the input that conv0_0 absorbs, and no published discriminator weights are loaded).
"""

from __future__ import annotations

import math

import keras
from keras import layers

from srgan_keras.nn.layers import BatchNormalization

LEAKY_SLOPE = 0.2  # BasicSR: nn.LeakyReLU(negative_slope=0.2)
HEAD_UNITS = 100  # BasicSR: nn.Linear(num_feat * 8 * 4 * 4, 100)


def _conv_bn_lrelu(x, filters: int, kernel: int, stride: int, name: str):
    # 'same' padding = PyTorch's padding 1 for k3s1, and for k4s2 on even sizes
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                      name=f"conv{name}")(x)
    x = BatchNormalization(name=f"bn{name}")(x)
    return layers.LeakyReLU(LEAKY_SLOPE, name=f"lrelu{name}")(x)


def build_vgg_discriminator(hr_size: int = 128, num_filters: int = 64,
                            name: str = "vgg_discriminator") -> keras.Model:
    """``(B, hr_size, hr_size, 3)`` in [-1, 1] -> one logit per image; ``hr_size`` a power of 2."""
    if hr_size < 8 or hr_size & (hr_size - 1):
        raise ValueError(f"hr_size must be a power of two >= 8 (stride-2 blocks down to 4x4), "
                         f"got {hr_size}")
    blocks = int(math.log2(hr_size // 4))  # 5 at 128 px, 6 at 256 px, as BasicSR
    img = keras.Input(shape=(hr_size, hr_size, 3), name="hr")
    x = layers.Conv2D(num_filters, 3, padding="same", name="conv0_0")(img)  # k3n64s1, bias
    x = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu0_0")(x)
    x = _conv_bn_lrelu(x, num_filters, 4, 2, "0_1")  # (H/2, W/2, 64)
    for i in range(1, blocks):
        width = num_filters * min(2 ** i, 8)  # 128, 256, 512, 512, ...
        x = _conv_bn_lrelu(x, width, 3, 1, f"{i}_0")
        x = _conv_bn_lrelu(x, width, 4, 2, f"{i}_1")  # (H / 2^(i+1), ...)
    x = layers.Flatten(name="flatten")(x)  # (B, 4 * 4 * 512)
    x = layers.Dense(HEAD_UNITS, name="linear1")(x)
    x = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu_linear1")(x)
    logits = layers.Dense(1, name="linear2", dtype="float32")(x)
    return keras.Model(img, logits, name=name)
