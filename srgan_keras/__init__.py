"""srgan_keras: SRGAN (Ledig et al., CVPR 2017), ESRGAN and Real-ESRGAN in Keras 3 / TensorFlow.

Importing the package defines names and does nothing else: no TensorFlow, no stderr or signal
changes (the CLIs do their process-wide setup in :func:`srgan_keras.startup.run_cli`). The names
below load their module, and with it TensorFlow, on first use (PEP 562).

Saved ``.keras`` files: :func:`srgan_keras.nn.saving.load_keras` (or :func:`load_generator`)
loads them; to call ``keras.saving.load_model(path, safe_mode=True)`` yourself, first
``import srgan_keras.nn.saving``, which registers every custom layer and initialiser a saved
network names.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_PUBLIC = {
    "TrainConfig": "srgan_keras.training.config",
    "PRESETS": "srgan_keras.training.config",
    "get_config": "srgan_keras.training.config",
    "build_srresnet": "srgan_keras.nn.srresnet",
    "build_discriminator": "srgan_keras.nn.srgan_discriminator",
    "load_generator": "srgan_keras.inference.runners",
    "upscale_image": "srgan_keras.inference.tiling",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str) -> object:
    """A public name, imported from its module on first use (and kept in this module's globals)."""
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
