"""The perceptual loss of SRGAN (Ledig et al. 2017, §2.2, Eqs. 3-7), and ESRGAN's variants.

    l_SR = l_X (content) + 10^-3 * l_Gen (adversarial)                              (Eq. 3)
    l_MSE = mean over pixels of (I_HR - G(I_LR))^2                                   (Eq. 4)
    l_VGG/i,j = mean over the feature map of (phi_ij(I_HR) - phi_ij(G(I_LR)))^2    (Eq. 5)
    l_Gen = sum over the batch of -log D(G(I_LR))                                    (Eq. 6)

phi_ij is the feature map after the j-th convolution (and its ReLU) before the i-th max-pool of
VGG19: phi_2,2 is Keras' ``block2_conv2``, phi_5,4 is ``block5_conv4``. Losses use batch means
(not sums), as every public implementation does; the 1e-3 weight is the paper's.

Every loss is a serializable ``keras.losses.Loss``, so it goes into ``compile(loss=...)``:

    PixelLoss("mse" | "l1")        Eq. 4 / ESRGAN's L1, in whatever range it is given
    ContentLoss(kind)              l_X: a pixel loss or a VGG19 feature loss (Eq. 5, ESRGAN §3.4)
    VanillaGAN(), RelativisticAverageGAN()
                                   called as ``loss(real_logits, fake_logits)`` they give the
                                   *generator's* adversarial loss; ``.discriminator_loss(real,
                                   fake)`` gives D's.

The VGG19 networks (ImageNet/Keras, torchvision, or seeded random weights: ``vgg_weights``) are
:mod:`srgan_keras.nn.vgg`'s.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from srgan_keras.nn.vgg import (
    RANDOM_VGG_RESCALE,
    VGG_RESCALE,
    vgg_feature_extractor,
    vgg_flavour,
    vgg_preprocess,
)

ADV_WEIGHT = 1e-3  # Eq. 3
# Content-loss names -> (VGG19 layers, their weights, criterion, before activation?, feature scale)
VGG_LOSSES = {
    "vgg22": ((("block2_conv2", 1.0),), "mse", False, VGG_RESCALE),  # SRGAN-VGG22
    "vgg54": ((("block5_conv4", 1.0),), "mse", False, VGG_RESCALE),  # SRGAN-VGG54, the SRGAN
    # ESRGAN §3.3: features before activation, L1 criterion; the 1/12.75 is SRGAN's alone
    # (ESRGAN and BasicSR compare the raw features).
    "vgg54_preact": ((("block5_conv4", 1.0),), "l1", True, 1.0),
    # Real-ESRGAN: conv1_2, 2_2, 3_4, 4_4, 5_4 weighted 0.1, 0.1, 1, 1, 1, before activation, L1.
    "multi_preact": ((("block1_conv2", 0.1), ("block2_conv2", 0.1), ("block3_conv4", 1.0),
                      ("block4_conv4", 1.0), ("block5_conv4", 1.0)), "l1", True, 1.0),
}


def pixel_loss(kind: str, a, b):
    """Mean squared (``mse``, Eq. 4) or absolute (``l1``) difference, in the range given."""
    diff = tf.cast(a, tf.float32) - tf.cast(b, tf.float32)
    return tf.reduce_mean(tf.square(diff)) if kind == "mse" else tf.reduce_mean(tf.abs(diff))


@keras.saving.register_keras_serializable(package="srgan_keras")
class PixelLoss(keras.losses.Loss):
    """``mse`` (SRGAN Eq. 4) or ``l1`` (ESRGAN), the batch mean over every pixel and channel.

    It computes in the range it is given: the trainer feeds a generator's own output range
    ([-1, 1] for SRResNet, [0, 1] for the unit-range RRDBNet and SRVGGNetCompact, as BasicSR).
    """

    def __init__(self, kind: str = "mse", name: str | None = None, **kwargs):
        if kind not in ("mse", "l1"):
            raise ValueError(f"unknown pixel loss {kind!r}; use mse or l1")
        super().__init__(name=name or f"pixel_{kind}", **kwargs)
        self.kind = kind

    def call(self, y_true, y_pred):
        return pixel_loss(self.kind, y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}


@keras.saving.register_keras_serializable(package="srgan_keras")
class ContentLoss(keras.losses.Loss):
    """l_X of Eq. 3: ``mse``/``l1`` on pixels, or a VGG feature loss (Eq. 5, ESRGAN §3.4) by name.

    Images are in [-1, 1]. SRGAN's VGG features are multiplied by 1/12.75 (§3.2) before the
    criterion; ESRGAN's (``*_preact``) are not. ``vgg_weights`` picks the VGG19 (module doc).
    """

    def __init__(self, kind: str = "vgg54", vgg_weights: str | None = "imagenet",
                 name: str | None = None, **kwargs):
        super().__init__(name=name or f"content_{kind}", **kwargs)
        self.kind, self.vgg_weights = kind, vgg_weights
        self.extractor = None
        self.feature_scale = 1.0
        self.flavour = vgg_flavour(vgg_weights)
        if kind in VGG_LOSSES:
            layers_weights, self.criterion, preact, self.feature_scale = VGG_LOSSES[kind]
            if self.flavour == "random":  # the paper's 1/12.75 was set for ImageNet VGG's features
                self.feature_scale = RANDOM_VGG_RESCALE
            self.layer_names = [n for n, _ in layers_weights]
            self.layer_weights = [w for _, w in layers_weights]
            self.extractor = vgg_feature_extractor(self.layer_names, vgg_weights, preact)
        elif kind not in ("mse", "l1"):
            raise ValueError(f"unknown content loss {kind!r}")

    def features(self, signed):
        feats = self.extractor(vgg_preprocess(signed, self.flavour), training=False)
        feats = feats if isinstance(feats, (list, tuple)) else [feats]
        return [f * self.feature_scale for f in feats]

    def call(self, y_true, y_pred):
        if self.extractor is None:
            return pixel_loss(self.kind, y_true, y_pred)
        total = 0.0
        for w, fh, fs in zip(self.layer_weights, self.features(y_true), self.features(y_pred)):
            total += w * pixel_loss(self.criterion, tf.stop_gradient(fh), fs)
        return total

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "vgg_weights": self.vgg_weights}


def box_mean(x, size: int):
    """Mean over each ``size`` x ``size`` cell: (B, H, W, C) -> (B, H/size, W/size, C)."""
    return tf.nn.avg_pool2d(tf.cast(x, tf.float32), size, size, "VALID")


@keras.saving.register_keras_serializable(package="srgan_keras")
class LowFrequencyLoss(keras.losses.Loss):
    """MSE between the ``scale`` x ``scale`` cell means of SR and HR: that the SR image, averaged
    back to LR pixels, keeps HR's colours and low frequencies, whatever texture it invents inside
    each cell.

    Not SRGAN's: **our choice**, for content losses that do not anchor colour (the random VGG19
    let a GAN phase drift blue by 10 grey levels in our probe). It is the LR-consistency idea of
    Bahat and Michaeli (CVPR 2020) and PULSE's downscaling loss (Menon et al., CVPR 2020), with a
    box filter; unlike a full pixel loss it does not pull the texture towards the blurred mean.
    """

    def __init__(self, scale: int = 4, name: str = "lowfreq_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.scale = int(scale)

    def call(self, y_true, y_pred):
        return pixel_loss("mse", box_mean(y_true, self.scale), box_mean(y_pred, self.scale))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def shuffle_tile(x, period: int):
    """The ``period`` x ``period`` tile repeated over each image: the fine structure (image minus
    its (2 period + 1)-pixel box mean) averaged over all cells, phase by phase -> (B, p, p, C).

    Content that does not repeat averages out (by 1/sqrt(cells)); a pattern that a pixel shuffle
    adds to every cell does not. The training-time counterpart of
    :func:`srgan_keras.evaluation.metrics.periodic_pattern`.
    """
    x = tf.cast(x, tf.float32)
    k = 2 * period + 1
    fine = x - tf.nn.avg_pool2d(x, k, 1, "SAME")  # TF's SAME average ignores the padding
    h, w = tf.shape(x)[1] // period * period, tf.shape(x)[2] // period * period
    fine = fine[:, :h, :w]
    c = x.shape[-1]
    cells = tf.reshape(fine, (tf.shape(x)[0], h // period, period, w // period, period, c))
    return tf.reduce_mean(cells, axis=(1, 3))


@keras.saving.register_keras_serializable(package="srgan_keras")
class ShuffleTileLoss(keras.losses.Loss):
    """Squared difference between the repeated ``period`` x ``period`` tiles of SR and HR
    (:func:`shuffle_tile`), times the number of cells.

    The factor makes content that does not repeat cost about what its high-pass energy costs under
    MSE, while a tile added to every cell (the pixel-shuffle checkerboard) costs that many times
    more: the penalty lands on the artifact, not on the texture. Not from the papers: **our
    choice**, aimed at the artifact ICNR (Aitken et al. 2017) removes at initialisation and a GAN
    phase brings back (issue 23's probe: pattern 0.60 -> 3.32 on Set5 in 125 steps).
    """

    def __init__(self, period: int = 4, name: str = "shuffle_tile", **kwargs):
        super().__init__(name=name, **kwargs)
        self.period = int(period)

    def call(self, y_true, y_pred):
        t_true, t_pred = shuffle_tile(y_true, self.period), shuffle_tile(y_pred, self.period)
        cells = tf.cast(tf.shape(y_pred)[1] // self.period * (tf.shape(y_pred)[2] // self.period),
                        tf.float32)
        return tf.reduce_mean(tf.square(t_pred - t_true)) * cells

    def get_config(self):
        return {**super().get_config(), "period": self.period}


def _bce_logits(labels_value: float, logits):
    logits = tf.cast(logits, tf.float32)
    labels = tf.fill(tf.shape(logits), labels_value)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


class AdversarialLoss(keras.losses.Loss):
    """A GAN formulation: ``loss(real_logits, fake_logits)`` is the generator's adversarial loss
    (so ``compile(loss=...)`` trains G with it), :meth:`discriminator_loss` is D's."""

    needs_real_for_generator = False  # does the generator's loss look at D(HR)?

    def call(self, y_true, y_pred):
        return self.generator_loss(y_true, y_pred)

    def generator_loss(self, real_logits, fake_logits):
        raise NotImplementedError

    def discriminator_loss(self, real_logits, fake_logits):
        raise NotImplementedError


@keras.saving.register_keras_serializable(package="srgan_keras")
class VanillaGAN(AdversarialLoss):
    """The paper's GAN (Goodfellow et al. 2014, SRGAN Eq. 2 and 6), with logits.

    D maximises log D(x_r) + log(1 - D(G(z))): binary cross-entropy with targets 1 and 0.
    G minimises -log D(G(z)) (Eq. 6, the non-saturating form).
    """

    def __init__(self, name: str = "vanilla_gan", **kwargs):
        super().__init__(name=name, **kwargs)

    def discriminator_loss(self, real_logits, fake_logits):
        return _bce_logits(1.0, real_logits) + _bce_logits(0.0, fake_logits)

    def generator_loss(self, real_logits, fake_logits):
        return _bce_logits(1.0, fake_logits)


@keras.saving.register_keras_serializable(package="srgan_keras")
class RelativisticAverageGAN(AdversarialLoss):
    """ESRGAN §3.2 (Jolicoeur-Martineau 2018): D_Ra(x_r, x_f) = sigma(C(x_r) - E[C(x_f)]).

    L_D = -E[log D_Ra(x_r, x_f)] - E[log(1 - D_Ra(x_f, x_r))]                       (Eq. 1)
    L_G = -E[log(1 - D_Ra(x_r, x_f))] - E[log D_Ra(x_f, x_r)]                       (Eq. 2)
    """

    needs_real_for_generator = True

    def __init__(self, name: str = "ragan", **kwargs):
        super().__init__(name=name, **kwargs)

    def discriminator_loss(self, real_logits, fake_logits):
        real, fake = tf.cast(real_logits, tf.float32), tf.cast(fake_logits, tf.float32)
        return (_bce_logits(1.0, real - tf.reduce_mean(fake))
                + _bce_logits(0.0, fake - tf.reduce_mean(real)))

    def generator_loss(self, real_logits, fake_logits):
        real, fake = tf.cast(real_logits, tf.float32), tf.cast(fake_logits, tf.float32)
        return (_bce_logits(0.0, real - tf.reduce_mean(fake))
                + _bce_logits(1.0, fake - tf.reduce_mean(real)))


def adversarial_loss(kind: str) -> AdversarialLoss:
    """``vanilla`` (SRGAN) or ``ragan`` (ESRGAN)."""
    if kind == "vanilla":
        return VanillaGAN()
    if kind == "ragan":
        return RelativisticAverageGAN()
    raise ValueError(f"unknown adversarial loss {kind!r}")
