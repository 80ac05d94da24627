"""The RRDBNet generator of ESRGAN (Wang et al. 2018, §3.1, Fig. 3-4), also Real-ESRGAN's generator.

SRResNet (SRGAN Fig. 4) with three changes: no batch norm, the residual block replaced by the
Residual-in-Residual Dense Block (RRDB), and residual scaling by 0.2 (§3.1, "residual scaling").

    RDB(x)  = x + 0.2 * conv5([x, x1, x2, x3, x4])       x_k = lrelu(conv_k([x, x1, .., x_{k-1}]))
    RRDB(x) = x + 0.2 * RDB3(RDB2(RDB1(x)))

    conv_first -> 23 RRDBs -> conv_body -> (+ conv_first) -> 2 x [nearest x2, conv, lrelu]
               -> conv_hr -> lrelu -> conv_last

Layer names are BasicSR's state-dict names with dots as underscores (``body.3.rdb2.conv5`` ->
``body_3_rdb2_conv5``), so :mod:`srgan_keras.nn.torch_weights` loads the published weights by name. The
model's last layer, ``sr_unit``, marks the [0, 1] output range (see :mod:`srgan_keras.nn.outputs`).

Ranges: input LR in [0, 1] and output SR in [0, 1] (not clipped), as the published ESRGAN and
Real-ESRGAN weights expect -- unlike SRResNet here, whose output is in [-1, 1].
Scales x2 and x1 (Real-ESRGAN) pixel-unshuffle the input by 2 or 4 and reuse the x4 body; inputs
whose sides are not multiples of 2 or 4 are reflect-padded and the output cropped back, as
Real-ESRGAN's inference code does (``mod_pad``), so any input size works.
"""

from __future__ import annotations

import keras
from keras import layers

from srgan_keras.nn.layers import CropToInput, NearestUpsample, PadToMultiple, PixelUnshuffle
from srgan_keras.nn.outputs import OUTPUT_LAYER, output_range  # noqa: F401  (output_range: old home)

LEAKY_SLOPE = 0.2  # ESRGAN §3.1 / BasicSR: LeakyReLU(negative_slope=0.2)
RESIDUAL_SCALE = 0.2  # ESRGAN §3.1: "residual scaling ... multiplying 0.2"
UNSHUFFLE = {4: 1, 2: 2, 1: 4}  # scale -> pixel-unshuffle factor of the input (Real-ESRGAN x2, x1)


def rdb_initializer():
    """He-normal scaled by 0.1 (ESRGAN §3.1 "smaller initialization"; BasicSR default_init_weights).

    Scaling the weights by 0.1 scales their variance by 0.01: He's 2/fan_in becomes 0.02/fan_in.
    Untruncated, like PyTorch's ``kaiming_normal_``.
    """
    return keras.initializers.VarianceScaling(scale=2.0 * 0.1**2, mode="fan_in",
                                              distribution="untruncated_normal")


def conv3x3(filters: int, name: str, **kwargs):
    return layers.Conv2D(filters, 3, padding="same", name=name, **kwargs)


def residual_dense_block(x, num_feat: int, num_grow_ch: int, name: str):
    """RDB (Fig. 4): five 3x3 convs, each seeing the concatenation of all earlier outputs."""
    feats = [x]  # (B, H, W, 64), then + 32 channels per conv
    for j in range(1, 5):
        h = layers.Concatenate(name=f"{name}_cat{j}")(feats) if j > 1 else x
        h = conv3x3(num_grow_ch, f"{name}_conv{j}", kernel_initializer=rdb_initializer())(h)
        feats.append(layers.LeakyReLU(LEAKY_SLOPE, name=f"{name}_lrelu{j}")(h))
    h = layers.Concatenate(name=f"{name}_cat5")(feats)  # (B, H, W, 64 + 4 * 32)
    h = conv3x3(num_feat, f"{name}_conv5", kernel_initializer=rdb_initializer())(h)  # no lrelu
    h = layers.Rescaling(RESIDUAL_SCALE, name=f"{name}_scale")(h)
    return layers.Add(name=f"{name}_add")([x, h])


def rrdb(x, num_feat: int, num_grow_ch: int, name: str):
    """RRDB (Fig. 4): three RDBs in a row, their sum scaled by 0.2, plus the block input."""
    h = x
    for k in (1, 2, 3):
        h = residual_dense_block(h, num_feat, num_grow_ch, name=f"{name}_rdb{k}")
    h = layers.Rescaling(RESIDUAL_SCALE, name=f"{name}_scale")(h)
    return layers.Add(name=f"{name}_add")([x, h])


def build_rrdbnet(scale: int = 4, num_feat: int = 64, num_block: int = 23, num_grow_ch: int = 32,
                  name: str = "rrdbnet") -> keras.Model:
    """ESRGAN's RRDBNet. Defaults are the paper's: 23 RRDBs, 64 features, growth 32.

    Args:
        scale: 4 (ESRGAN), or 2 and 1 by pixel-unshuffling the input (Real-ESRGAN x2plus).
        num_feat: feature channels (64).
        num_block: number of RRDBs (23).
        num_grow_ch: channels each dense conv adds (32).

    Input ``(None, None, None, 3)`` in [0, 1]; output ``(None, s H, s W, 3)`` in [0, 1].
    Parameters at the defaults: 16,697,987 (x4), 16,703,171 (x2), 16,723,907 (x1).
    """
    if scale not in UNSHUFFLE:
        raise ValueError(f"RRDBNet scale must be 1, 2 or 4 (the body always upsamples x4), "
                         f"got {scale}")
    lr = keras.Input(shape=(None, None, 3), name="lr")  # [0, 1]
    x = lr
    if UNSHUFFLE[scale] > 1:  # (B, H, W, 3) -> (B, H/r, W/r, 3 r^2)
        x = PadToMultiple(UNSHUFFLE[scale], name="pad_to_multiple")(x)
        x = PixelUnshuffle(UNSHUFFLE[scale], name="pixel_unshuffle")(x)
    feat = conv3x3(num_feat, "conv_first")(x)  # Keras' default init elsewhere (BasicSR: PyTorch's)
    h = feat
    for b in range(num_block):
        h = rrdb(h, num_feat, num_grow_ch, name=f"body_{b}")
    h = conv3x3(num_feat, "conv_body")(h)
    h = layers.Add(name="global_add")([feat, h])  # the long skip over all RRDBs
    for u in (1, 2):  # (B, H, W, 64) -> (B, 2H, 2W, 64), twice: x4
        h = NearestUpsample(2, name=f"up{u}_nearest")(h)
        h = conv3x3(num_feat, f"conv_up{u}")(h)
        h = layers.LeakyReLU(LEAKY_SLOPE, name=f"up{u}_lrelu")(h)
    h = conv3x3(num_feat, "conv_hr")(h)
    h = layers.LeakyReLU(LEAKY_SLOPE, name="hr_lrelu")(h)
    sr = conv3x3(3, "conv_last", dtype="float32")(h)  # [0, 1], unclipped
    sr = CropToInput(scale, name=OUTPUT_LAYER, dtype="float32")([sr, lr])  # x4: a no-op
    return keras.Model(lr, sr, name=name)

