"""srgan_keras: SRGAN (Ledig et al., CVPR 2017), ESRGAN and Real-ESRGAN in Keras 3 / TensorFlow.

Importing the package registers its custom layers, so ``.keras`` files saved by it load with
``keras.saving.load_model(path, safe_mode=True)``.
"""

from srgan_keras import startup as _startup

_startup.guard_start_up()  # first: Ctrl-C while a CLI starts is one line and 130 (issue 17.9)
_startup.import_tensorflow()  # every CLI starts quiet (issue 16.1; --verbose shows it)

from srgan_keras import _compat  # noqa: E402
from srgan_keras.inference.runners import load_generator  # noqa: E402
from srgan_keras.inference.tiling import upscale_image  # noqa: E402
from srgan_keras.nn import layers as layers  # noqa: F401, E402  (registers the custom layers)
from srgan_keras.nn.discriminator import build_discriminator  # noqa: E402
from srgan_keras.nn.srresnet import build_srresnet  # noqa: E402
from srgan_keras.training.config import PRESETS, TrainConfig, get_config  # noqa: E402

_compat.install()  # the 0.1 flat module names (srgan_keras.generator, ...) stay importable for now

__version__ = "0.1.0"

__all__ = ["TrainConfig", "PRESETS", "get_config", "build_srresnet", "build_discriminator",
           "load_generator", "upscale_image"]
