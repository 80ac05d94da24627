"""srgan_keras: SRGAN (Ledig et al., CVPR 2017), ESRGAN and Real-ESRGAN in Keras 3 / TensorFlow.

Importing the package registers its custom layers, so ``.keras`` files saved by it load with
``keras.saving.load_model(path, safe_mode=True)``.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TF's C++ start-up chatter

from srgan_keras import _compat
from srgan_keras.inference.runners import load_generator
from srgan_keras.inference.tiling import upscale_image
from srgan_keras.nn import layers as layers  # noqa: F401  (registers the custom layers)
from srgan_keras.nn.discriminator import build_discriminator
from srgan_keras.nn.srresnet import build_srresnet
from srgan_keras.training.config import PRESETS, TrainConfig, get_config

_compat.install()  # the 0.1 flat module names (srgan_keras.generator, ...) stay importable for now

__version__ = "0.1.0"

__all__ = ["TrainConfig", "PRESETS", "get_config", "build_srresnet", "build_discriminator",
           "load_generator", "upscale_image"]
