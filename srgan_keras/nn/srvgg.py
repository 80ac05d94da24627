"""Real-ESRGAN's compact generator, ``SRVGGNetCompact`` (Wang et al. 2021, Real-ESRGAN repository,
``realesrgan/archs/srvgg_arch.py``; the network behind ``realesr-general-x4v3`` and
``realesr-animevideov3``).

A plain VGG-style stack at LR resolution, no residual blocks and no normalisation; the only
upsampling is one pixel shuffle at the end, and the input upsampled by nearest neighbour is added
to the output, so the convolutions learn a residual:

    conv3x3 3->64, PReLU -> num_conv x [conv3x3 64->64, PReLU] -> conv3x3 64->3 s^2
        -> pixel shuffle x s -> + nearest_upsample_s(LR)

Every convolution works on LR pixels, which makes it several times cheaper than RRDBNet
(16.7 M parameters) or SRResNet: at x4, ``num_conv=16`` has 621,424 parameters
(``realesr-animevideov3``) and ``num_conv=32`` 1,213,296 (``realesr-general-x4v3``).

Layer names are the reference state dict's (``body.N``) with dots as underscores, so
:mod:`srgan_keras.nn.torch_weights` loads published weights by name. Ranges: input LR and output SR in
[0, 1] (unclipped), as the published weights expect; the last layer is named ``sr_unit`` (see
:func:`srgan_keras.nn.outputs.output_range`).

Two details differ from the PyTorch module, neither changes what the network computes:
- the last convolution's output channels are in TensorFlow's ``depth_to_space`` order, not
  PyTorch's ``PixelShuffle`` order; the converter permutes them when it loads weights;
- the weights start from Keras' default initialisers (Glorot uniform, zero bias) where the
  reference uses PyTorch's; the PReLU slopes start at PyTorch's 0.25 (Keras' default is 0);
- the last convolution, which feeds the pixel shuffle, starts by ICNR (``nn/icnr.py``: every
  output phase the same, so no checkerboard at initialisation; our choice, ``icnr=False`` for
  the reference's independent draws). Trained or converted weights replace it either way.
"""

from __future__ import annotations

import keras
from keras import layers

from srgan_keras.nn.icnr import ICNR
from srgan_keras.nn.layers import NearestUpsample, PixelShuffle, PReLU
from srgan_keras.nn.outputs import OUTPUT_LAYER

SCALES = (2, 3, 4)  # the reference supports any upscale; the published weights are x2 and x4
PRELU_INIT = 0.25  # PyTorch nn.PReLU(num_parameters=num_feat) default slope


def conv_prelu(x, num_feat: int, conv_name: str, act_name: str):
    """One ``body`` pair: 3x3 convolution (stride 1, same padding) and a per-channel PReLU."""
    x = layers.Conv2D(num_feat, 3, padding="same", name=conv_name)(x)
    return PReLU(alpha_initializer=keras.initializers.Constant(PRELU_INIT), shared_axes=[1, 2],
                 name=act_name)(x)


def build_srvgg(scale: int = 4, num_feat: int = 64, num_conv: int = 32, icnr: bool = True,
                name: str = "srvgg_compact") -> keras.Model:
    """SRVGGNetCompact with PReLU activations (the reference's ``act_type='prelu'``).

    Args:
        scale: 2, 3 or 4.
        num_feat: feature channels (64 in every published model).
        num_conv: 3x3 convolutions between the first and the last (32: ``realesr-general-x4v3``;
            16: ``realesr-animevideov3``).
        icnr: ICNR initialisation of the last convolution (module doc).

    Input ``(None, None, None, 3)`` in [0, 1]; output ``(None, s H, s W, 3)`` in [0, 1].
    Parameters: 1,213,296 (x4, 32 convs), 621,424 (x4, 16), 600,652 (x2, 16).
    """
    if scale not in SCALES:
        raise ValueError(f"SRVGGNetCompact scale must be 2, 3 or 4, got {scale}")
    if num_conv < 1:
        raise ValueError(f"SRVGGNetCompact needs num_conv >= 1, got {num_conv}")
    lr = keras.Input(shape=(None, None, 3), name="lr")  # [0, 1]
    x = conv_prelu(lr, num_feat, "body_0", "body_1")  # (B, H, W, 64)
    for k in range(num_conv):  # body.2 / body.3, body.4 / body.5, ...
        x = conv_prelu(x, num_feat, f"body_{2 * k + 2}", f"body_{2 * k + 3}")
    init = ICNR(scale) if icnr else "glorot_uniform"
    x = layers.Conv2D(3 * scale * scale, 3, padding="same", kernel_initializer=init,
                      name=f"body_{2 * num_conv + 2}", dtype="float32")(x)  # (B, H, W, 3 s^2)
    x = PixelShuffle(scale, name="upsampler", dtype="float32")(x)  # (B, s H, s W, 3)
    base = NearestUpsample(scale, name="base_nearest", dtype="float32")(lr)  # the residual's base
    sr = layers.Add(name=OUTPUT_LAYER, dtype="float32")([x, base])
    return keras.Model(lr, sr, name=name)


__all__ = ["build_srvgg", "SCALES"]
