"""The SRResNet generator of SRGAN (Ledig et al. 2017, Fig. 4, top).

Notation of Fig. 4: ``k9n64s1`` is a 9x9 convolution with 64 filters and stride 1.

Ranges: the input LR image is in [0, 1] and the output SR image in [-1, 1] (paper §3.2: "we
scaled the range of the LR input images to [0, 1] and for the HR images to [-1, 1]").
The final ``tanh`` is **our choice**: the paper does not name the output activation.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from srgan_keras.nn.icnr import ICNR
from srgan_keras.nn.layers import BatchNormalization, BicubicUpsample, PixelShuffle, PReLU, Rescale

UPSAMPLERS = ("pixel_shuffle", "nearest_conv", "transpose")


def residual_block(x, filters: int, name: str):
    """[k3n64s1, BN, PReLU, k3n64s1, BN] + identity (Fig. 4, the B residual blocks)."""
    h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(x)  # k3n64s1
    h = BatchNormalization(name=f"{name}_bn1")(h)
    h = PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(h)  # one slope per channel
    h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(h)  # k3n64s1
    h = BatchNormalization(name=f"{name}_bn2")(h)
    return layers.Add(name=f"{name}_add")([x, h])


def upsample_block(x, filters: int, kind: str, name: str, icnr: bool = True):
    """One x2 step. ``pixel_shuffle`` is the paper's [k3n256s1, PixelShuffler x2, PReLU]; with
    ``icnr`` its convolution starts as convolution + nearest x2 (:mod:`srgan_keras.nn.icnr`, by the
    paper's authors, 2017), so no checkerboard exists at initialisation.

    ``nearest_conv`` (nearest x2 then k3n64s1, as ESRGAN) and ``transpose`` (a 4x4 stride-2
    transposed convolution, prone to checkerboard artefacts; Odena et al. 2016) are
    alternatives for teaching; the paper uses pixel shuffle.
    """
    if kind == "pixel_shuffle":
        init = ICNR(2) if icnr else "glorot_uniform"
        h = layers.Conv2D(filters * 4, 3, padding="same", kernel_initializer=init,
                          name=f"{name}_conv")(x)  # (B, H, W, 256)
        h = PixelShuffle(2, name=f"{name}_shuffle")(h)  # (B, 2H, 2W, 64)
    elif kind == "nearest_conv":
        h = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_nearest")(x)
        h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(h)
    elif kind == "transpose":
        h = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", name=f"{name}_deconv")(x)
    else:
        raise ValueError(f"upsampler must be one of {UPSAMPLERS}, got {kind!r}")
    return PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(h)


def build_srresnet(
    scale: int = 4,
    num_blocks: int = 16,
    num_filters: int = 64,
    upsampler: str = "pixel_shuffle",
    global_residual: bool = False,
    icnr: bool = True,
    name: str = "srresnet",
) -> keras.Model:
    """SRResNet, the SRGAN generator (Fig. 4). Defaults are the paper's: B=16 blocks of 64 filters.

    Args:
        scale: 2, 4 (paper) or 8; one x2 upsampling block per factor of two.
        num_blocks: residual blocks B (paper: 16).
        num_filters: feature channels (paper: 64).
        upsampler: ``pixel_shuffle`` (paper), ``nearest_conv`` or ``transpose``.
        global_residual: our option, not the paper's: add bicubic(LR) to the output, start the
            last convolution at zero and drop the tanh, so training starts *at* bicubic. The
            demo preset uses it to beat bicubic within minutes on a CPU.
        icnr: ICNR initialisation of the sub-pixel convolutions (Aitken et al. 2017, the same
            group; the 2017 paper used Glorot's). On by default; off for the ablation.

    Input ``(None, None, None, 3)`` in [0, 1]; output ``(None, s H, s W, 3)`` in [-1, 1].
    """
    if scale not in (2, 4, 8):
        raise ValueError(f"scale must be 2, 4 or 8 (x2 sub-pixel blocks), got {scale}")
    lr = keras.Input(shape=(None, None, 3), name="lr")  # [0, 1]
    x = layers.Conv2D(num_filters, 9, padding="same", name="head_conv")(lr)  # k9n64s1
    x = skip = PReLU(shared_axes=[1, 2], name="head_prelu")(x)
    for b in range(num_blocks):
        x = residual_block(x, num_filters, name=f"block{b}")
    x = layers.Conv2D(num_filters, 3, padding="same", name="body_conv")(x)  # k3n64s1
    x = BatchNormalization(name="body_bn")(x)
    x = layers.Add(name="long_skip")([skip, x])  # the elementwise sum after the B blocks
    for u in range(int(math.log2(scale))):
        x = upsample_block(x, num_filters, upsampler, name=f"up{u}", icnr=icnr)
    if global_residual:
        x = layers.Conv2D(3, 9, padding="same", kernel_initializer="zeros", name="tail_conv",
                          dtype="float32")(x)
        base = BicubicUpsample(scale, name="bicubic", dtype="float32")(lr)  # [0, 1]
        base = Rescale(2.0, -1.0, name="to_signed", dtype="float32")(base)  # [-1, 1]
        sr = layers.Add(name="sr", dtype="float32")([base, x])
    else:
        x = layers.Conv2D(3, 9, padding="same", name="tail_conv", dtype="float32")(x)  # k9n3s1
        sr = layers.Activation("tanh", name="sr", dtype="float32")(x)  # our choice: [-1, 1]
    return keras.Model(lr, sr, name=name)
