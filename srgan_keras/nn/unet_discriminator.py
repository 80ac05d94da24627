"""Real-ESRGAN's U-Net discriminator with spectral normalization (Wang et al. 2021, §3, Fig. 6).

A per-pixel discriminator: instead of one real/fake score per image it returns a logit for every
pixel, which gives the generator detailed feedback on local textures (§3). Spectral
normalization (Miyato et al. 2018) keeps its training stable against the stronger, noisier
inputs of the second-order degradations.

    conv0 k3n64s1 -> lrelu                                                   x0  (H,   W,   64)
    conv1..3 k4s2 (SN, no bias) -> lrelu: 64 -> 128 -> 256 -> 512            x1..x3 (H/2 .. H/8)
    3 x [bilinear x2 -> k3s1 SN conv -> lrelu (+ skip x2, x1, x0)]:   512 -> 256 -> 128 -> 64
    conv7, conv8 k3n64s1 (SN) -> lrelu; conv9 k3n1s1 -> per-pixel logits     (H, W, 1)

Layer names follow BasicSR's ``UNetDiscriminatorSN`` (conv0 .. conv9). 4,376,897 trainable
parameters at ``num_feat=64`` -- the number PyTorch reports, where ``weight_u``/``weight_v`` are
buffers. Keras' ``SpectralNormalization`` adds a non-trainable ``vector_u`` per wrapped conv
(1,472 values at 64 features), so ``count_params()`` is 4,378,369.

**Call it with ``training=True`` when training**: the power iteration (which updates ``vector_u``)
runs only in training mode. Spectral normalisation is PyTorch's (spectral_norm.py): the forward
pass convolves with ``W / sigma(W)``, the gradient flowing through sigma, and the stored kernel
stays the un-normalised ``weight_orig``.

Input range: [-1, 1], the same tensors the SRGAN discriminator gets (Real-ESRGAN feeds [0, 1];
the two differ by an affine map of the input that conv0 absorbs, and no published discriminator
weights are loaded here). Any input size divisible by 8 (three stride-2 convs).
"""

from __future__ import annotations

import keras
from keras import layers

from srgan_keras.nn.spectral_norm import SpectralNorm

LEAKY_SLOPE = 0.2  # Real-ESRGAN: F.leaky_relu(negative_slope=0.2)


def sn_conv(filters: int, kernel: int, stride: int, name: str):
    """A bias-free conv wrapped in spectral normalization (BasicSR: ``spectral_norm(Conv2d(..,
    bias=False))``). 'same' padding equals PyTorch's padding 1 for k4s2 on even sizes."""
    conv = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                         name=f"{name}_conv")
    return SpectralNorm(conv, power_iterations=1, name=name)


def build_unet_discriminator(num_feat: int = 64, skip_connection: bool = True,
                             name: str = "unet_discriminator") -> keras.Model:
    """U-Net SN discriminator: ``(B, H, W, 3)`` in [-1, 1] -> per-pixel logits ``(B, H, W, 1)``."""
    img = keras.Input(shape=(None, None, 3), name="hr")
    x0 = layers.Conv2D(num_feat, 3, padding="same", name="conv0")(img)  # k3n64s1, no SN
    x0 = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu0")(x0)
    # Downsampling: (H, W, 64) -> (H/2, W/2, 128) -> (H/4, W/4, 256) -> (H/8, W/8, 512)
    x1 = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu1")(sn_conv(num_feat * 2, 4, 2, "conv1")(x0))
    x2 = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu2")(sn_conv(num_feat * 4, 4, 2, "conv2")(x1))
    x3 = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu3")(sn_conv(num_feat * 8, 4, 2, "conv3")(x2))
    # Upsampling back to (H, W, 64), with the U-Net's skip additions.
    h = x3
    for i, (filters, skip) in enumerate(((num_feat * 4, x2), (num_feat * 2, x1), (num_feat, x0)),
                                        start=4):
        # bilinear x2 with half-pixel centres = PyTorch's align_corners=False
        h = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{i}")(h)
        h = layers.LeakyReLU(LEAKY_SLOPE, name=f"lrelu{i}")(sn_conv(filters, 3, 1, f"conv{i}")(h))
        if skip_connection:
            h = layers.Add(name=f"skip{i}")([h, skip])
    # Two extra convolutions, then one logit per pixel.
    h = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu7")(sn_conv(num_feat, 3, 1, "conv7")(h))
    h = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu8")(sn_conv(num_feat, 3, 1, "conv8")(h))
    logits = layers.Conv2D(1, 3, padding="same", name="conv9", dtype="float32")(h)
    return keras.Model(img, logits, name=name)
