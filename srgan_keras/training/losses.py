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

Two VGG19s (``vgg_weights``): Keras' ``imagenet`` (Caffe weights: BGR 0-255 minus the ImageNet
means), for which SRGAN's 1/12.75 was set, and ``torchvision`` (torchvision's ``vgg19-dcbb9e9d
.pth``: RGB in [0, 1] normalised by the ImageNet mean/std), the network BasicSR's
``VGGFeatureExtractor`` loads and on which ESRGAN's and Real-ESRGAN's weights were tuned. A
``.pth`` path selects the torchvision network, an ``.h5`` path Keras'.

A third needs no download: ``random`` (or ``random:SEED``), VGG19's architecture with seeded random
weights (:func:`random_vgg19`). Liu et al., "Generic Perceptual Loss for Modeling Structured Output
Dependencies" (CVPR 2021, arXiv 2103.10571) show that a deep CNN's *structure*, untrained, carries
a perceptual loss for super-resolution on par with ImageNet VGG's; Ustyuzhaninov et al. (2016) and
He, Wang and Hopcroft (2016) show the same for texture statistics. It is **our departure** from
SRGAN, which used ImageNet VGG19: we use it where those weights cannot be downloaded, and every
model trained with it says so.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from srgan_keras.data.ranges import signed_to_pixels, signed_to_unit

ADV_WEIGHT = 1e-3  # Eq. 3
VGG_RESCALE = 1.0 / 12.75  # §3.2: "rescaled the VGG feature maps by a factor of 1/12.75"
# random VGG19 (``--vgg-weights random``): features are multiplied by this so that its VGG54 loss
# is on the pixel MSE's scale, which is what the paper's 1/12.75 did for ImageNet VGG ("VGG losses
# of a scale that is comparable to the MSE loss", §3.2). Measured on x4 bicubic/HR pairs of 96
# crops of ../shared/data/train: 1/112, 1/130, 1/137 for seeds 0, 1, 2
# (benchmarks/calibrate_random_vgg.py). Our choice, applied to every random-VGG content loss.
RANDOM_VGG_RESCALE = 1.0 / 130

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


# The file keras.applications.VGG19(include_top=False, weights="imagenet") downloads, and its MD5
# (Keras Applications, keras/src/applications/vgg19.py), fetched here so a failed download and a
# file that does not load are told apart.
VGG19_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19_NOTOP_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                   + VGG19_NOTOP_FILE)
VGG19_NOTOP_MD5 = "253f8cb515780f3b799900260a226db6"


class VGGWeightsError(RuntimeError):
    """The VGG19 weights a VGG content loss needs cannot be used (one sentence, for the CLIs)."""


class VGGWeightsUnavailable(VGGWeightsError):
    """The weights are not there: the ImageNet download failed (offline), or no such file."""


class VGGWeightsInvalid(VGGWeightsError):
    """A weights file is there but does not load into VGG19: not HDF5, truncated, other shapes."""

TORCHVISION_VGG19_FILE = "vgg19-dcbb9e9d.pth"  # torchvision's VGG19, the one BasicSR loads
TORCHVISION_VGG19_URL = "https://download.pytorch.org/models/" + TORCHVISION_VGG19_FILE
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # torchvision's normalisation, RGB in [0, 1]
IMAGENET_STD = (0.229, 0.224, 0.225)
# VGG19 ("E") block sizes: torchvision numbers every conv, ReLU and pool in ``features``.
VGG19_BLOCKS = (2, 2, 4, 4, 4)


def _one_line(e: Exception, limit: int) -> str:
    """``Type: message`` of an exception on one line, at most ``limit`` characters of message."""
    return f"{type(e).__name__}: {' '.join(str(e).split())[:limit]}"


def _vgg19_weights_file(weights: str | None) -> str | None:
    """The local ``.h5`` for ``weights`` (``imagenet``: Keras' cached download), or None."""
    if weights in (None, "none", "None"):
        return None
    hint = ("pass --vgg-weights PATH to a local vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5, "
            "--vgg-weights random for the offline random VGG19, or train with --content-loss mse")
    if weights == "imagenet":
        try:
            return keras.utils.get_file(VGG19_NOTOP_FILE, VGG19_NOTOP_URL, cache_subdir="models",
                                        file_hash=VGG19_NOTOP_MD5)
        except Exception as e:  # offline: "URL fetch failure ..."; a download failing its MD5
            raise VGGWeightsUnavailable(
                f"could not load VGG19 weights {weights!r} ({_one_line(e, 120)}); "
                f"{hint}") from None
    if not os.path.isfile(weights):
        raise VGGWeightsUnavailable(f"could not load VGG19 weights {weights!r} (no such file); {hint}")
    return weights


def random_seed(weights: str | None) -> int | None:
    """The seed of a ``random`` / ``random:SEED`` weights name, or None for any other name."""
    w = str(weights)
    if w == "random":
        return 0
    if w.startswith("random:"):
        seed = w.removeprefix("random:")
        if not seed.isdigit():
            raise VGGWeightsUnavailable(f"--vgg-weights {w!r}: the seed after 'random:' must be a "
                                        "non-negative integer, e.g. random:0")
        return int(seed)
    return None


def vgg_flavour(weights: str | None) -> str:
    """``torch`` for torchvision's VGG19 (``torchvision`` or a ``.pth`` path), ``random`` for the
    seeded random network, else ``caffe``."""
    w = str(weights)
    if random_seed(w) is not None:
        return "random"
    return "torch" if w == "torchvision" or w.endswith(".pth") else "caffe"


def random_vgg19(seed: int = 0) -> keras.Model:
    """VGG19's convolutional part with random weights drawn from ``seed``, the same on every machine.

    Each kernel is He-normal (He et al. 2015: standard deviation sqrt(2 / fan_in), fan_in = 3 * 3 *
    input channels), drawn in layer order by NumPy's PCG64 from ``seed`` (not TensorFlow's
    generators, whose streams are not promised across versions); biases are zero. He's scale keeps
    each ReLU layer's second moment equal to its input's, so features neither vanish nor explode
    down the 16 layers: the property Liu et al. (2021) ask of their random networks' init (our
    reading; their init code could not be checked offline). With zero biases the network is
    positively homogeneous (f(a x) = a f(x), a > 0), so the input's scale only scales the loss.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    for layer in vgg.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            std = np.sqrt(2.0 / (kh * kw * c_in))
            kernel = (rng.standard_normal((kh, kw, c_in, c_out)) * std).astype("float32")
            layer.set_weights([kernel, np.zeros((c_out,), "float32")])
    return vgg


def torchvision_layer_names() -> dict[str, str]:
    """torchvision ``features.N`` index -> Keras' VGG19 layer name (``features.34`` = block5_conv4)."""
    names, index = {}, 0
    for block, convs in enumerate(VGG19_BLOCKS, start=1):
        for conv in range(1, convs + 1):
            names[f"features.{index}"] = f"block{block}_conv{conv}"
            index += 2  # the conv, then its ReLU
        index += 1  # the max-pool
    return names


def load_torchvision_vgg19(weights: str) -> keras.Model:
    """Keras' VGG19 layers carrying torchvision's weights (``torchvision``: its download; or a
    ``.pth`` path), read by the safe reader. Unavailable / invalid as :func:`load_vgg19`."""
    from srgan_keras.export.torch_pickle import load_state_dict

    hint = ("pass --vgg-weights PATH to a local vgg19-dcbb9e9d.pth, --vgg-weights random for the "
            "offline random VGG19, or train with --content-loss mse")
    path = weights
    if weights == "torchvision":
        try:
            path = keras.utils.get_file(TORCHVISION_VGG19_FILE, TORCHVISION_VGG19_URL,
                                        cache_subdir="models")
        except Exception as e:  # offline: "URL fetch failure ..."
            raise VGGWeightsUnavailable(f"could not load VGG19 weights {weights!r} "
                                        f"({_one_line(e, 120)}); {hint}") from None
    if not os.path.isfile(path):
        raise VGGWeightsUnavailable(f"could not load VGG19 weights {weights!r} (no such file); {hint}")
    try:
        sd = load_state_dict(path)
        vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
        for prefix, name in torchvision_layer_names().items():
            w, b = sd.get(f"{prefix}.weight"), sd.get(f"{prefix}.bias")
            if w is None or b is None:
                raise ValueError(f"no {prefix}.weight/bias")
            vgg.get_layer(name).set_weights([w.transpose(2, 3, 1, 0), b])  # OIHW -> HWIO
    except Exception as e:  # the reader's TorchFileError, missing keys, other shapes
        raise VGGWeightsInvalid(f"VGG19 weights {path!r} are not torchvision's VGG19 "
                                f"({_one_line(e, 160)})") from e
    return vgg


def load_vgg19(weights: str | None = "imagenet") -> keras.Model:
    """VGG19 convolutional part with ``weights``: ``imagenet`` (Keras download, Caffe), a ``.h5``
    path, ``torchvision`` / a ``.pth`` path (:func:`load_torchvision_vgg19`), or None.

    Offline, the ImageNet download fails, and a path may not exist: both raise
    :class:`VGGWeightsUnavailable` with one sentence naming the two ways out instead of a
    traceback. A file that exists but does not load (corrupt, or another network's weights)
    raises :class:`VGGWeightsInvalid`, which says so and keeps the loader's error as its cause.
    """
    if weights not in (None, "none", "None") and vgg_flavour(weights) == "random":
        return random_vgg19(random_seed(weights))
    if weights not in (None, "none", "None") and vgg_flavour(weights) == "torch":
        return load_torchvision_vgg19(weights)
    path = _vgg19_weights_file(weights)
    try:
        return keras.applications.VGG19(include_top=False, weights=path, input_shape=(None, None, 3))
    except Exception as e:  # h5py's OSError for a non-HDF5 file, Keras' ValueError for other layouts
        raise VGGWeightsInvalid(
            f"VGG19 weights {path!r} do not load into VGG19 without its classifier "
            f"({_one_line(e, 160)}); the file is damaged or holds another network"
        ) from e


def vgg_feature_extractor(layer_names, weights: str | None = "imagenet",
                          before_activation: bool = False) -> keras.Model:
    """A frozen model from VGG19 input (see :func:`vgg_preprocess`) to the named layers' outputs.

    ``before_activation`` (ESRGAN): each named conv is rebuilt as a *new* layer with a linear
    activation and the same weights, applied to the same input, so the shared VGG layers stay
    untouched.
    """
    vgg = load_vgg19(weights)
    vgg.trainable = False
    outputs = []
    for name in layer_names:
        layer = vgg.get_layer(name)
        if before_activation:
            cfg = layer.get_config() | {"activation": "linear", "name": f"{name}_preact"}
            linear = keras.layers.Conv2D.from_config(cfg)
            linear.build(layer.input.shape)
            linear.set_weights(layer.get_weights())
            linear.trainable = False
            outputs.append(linear(layer.input))
        else:
            outputs.append(layer.output)
    return keras.Model(vgg.input, outputs, name="vgg19_features")


def vgg_preprocess(signed, flavour: str = "caffe"):
    """[-1, 1] RGB -> the input the VGG19 was trained on.

    ``caffe`` (Keras' weights): 0..255 -> ``keras.applications.vgg19.preprocess_input`` (BGR,
    minus the means). ``torch`` (torchvision's, BasicSR ``use_input_norm``): [0, 1] RGB minus
    the ImageNet mean, divided by its std.
    """
    signed = tf.cast(signed, tf.float32)
    if flavour == "torch":
        return (signed_to_unit(signed) - tf.constant(IMAGENET_MEAN)) / tf.constant(IMAGENET_STD)
    return keras.applications.vgg19.preprocess_input(signed_to_pixels(signed))


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
    adds to every cell does not. The training-time twin of
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
