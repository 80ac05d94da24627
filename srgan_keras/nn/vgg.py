"""VGG19's convolutional part as a frozen feature network, for the perceptual losses.

SRGAN (Ledig et al. 2017, §2.2.1) compares feature maps phi_i,j of VGG19 (Simonyan & Zisserman
2015): phi_2,2 is Keras' ``block2_conv2``, phi_5,4 is ``block5_conv4``. ESRGAN (§3.4) takes them
before the activation; Real-ESRGAN weights five layers. The losses built on these features are
:mod:`srgan_keras.training.losses`'.

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
from srgan_keras.errors import SrganKerasError, first_line

VGG_RESCALE = 1.0 / 12.75  # §3.2: "rescaled the VGG feature maps by a factor of 1/12.75"
# random VGG19 (``--vgg-weights random``): features are multiplied by this so that its VGG54 loss
# is on the pixel MSE's scale, which is what the paper's 1/12.75 did for ImageNet VGG ("VGG losses
# of a scale that is comparable to the MSE loss", §3.2). Measured on x4 bicubic/HR pairs of 96
# crops of ../shared/data/train: 1/112, 1/130, 1/137 for seeds 0, 1, 2
# (benchmarks/calibrate_random_vgg.py). Our choice, applied to every random-VGG content loss.
RANDOM_VGG_RESCALE = 1.0 / 130

# The file keras.applications.VGG19(include_top=False, weights="imagenet") downloads, and its MD5
# (Keras Applications, keras/src/applications/vgg19.py), fetched here so a failed download and a
# file that does not load are told apart.
VGG19_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19_NOTOP_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                   + VGG19_NOTOP_FILE)
VGG19_NOTOP_MD5 = "253f8cb515780f3b799900260a226db6"


class VGGWeightsError(SrganKerasError, RuntimeError):
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
                f"could not load VGG19 weights {weights!r} ({first_line(e, 120, with_type=True)}); "
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
    from srgan_keras.data.torch_pickle import load_state_dict

    hint = ("pass --vgg-weights PATH to a local vgg19-dcbb9e9d.pth, --vgg-weights random for the "
            "offline random VGG19, or train with --content-loss mse")
    path = weights
    if weights == "torchvision":
        try:
            path = keras.utils.get_file(TORCHVISION_VGG19_FILE, TORCHVISION_VGG19_URL,
                                        cache_subdir="models")
        except Exception as e:  # offline: "URL fetch failure ..."
            raise VGGWeightsUnavailable(f"could not load VGG19 weights {weights!r} "
                                        f"({first_line(e, 120, with_type=True)}); {hint}") from None
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
                                f"({first_line(e, 160, with_type=True)})") from e
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
            f"({first_line(e, 160, with_type=True)}); the file is damaged or holds another network"
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
