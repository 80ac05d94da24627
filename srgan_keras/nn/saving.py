"""Loading a saved network: one ``.keras`` loader for every stage, safe and with a one-line error.

``.keras`` files load with ``safe_mode=True`` (a ``Lambda`` layer's pickled code is refused,
not run) and ``compile=False`` (no optimizer state is needed to run or fine-tune a generator).

Importing this module registers every class of ours that a saved network names -- the layers
(:mod:`.layers`), the ICNR initialiser (:mod:`.icnr`) and spectral norm (:mod:`.spectral_norm`)
-- so after ``import srgan_keras.nn.saving``, ``keras.saving.load_model(path, safe_mode=True)``
loads our files as well as :func:`load_keras` does. (``import srgan_keras`` alone imports nothing.)
"""

from __future__ import annotations

import os
from pathlib import Path

import keras

# registered on import (keras.saving.register_keras_serializable): what a .keras file names
from srgan_keras.nn import icnr as icnr
from srgan_keras.nn import layers as layers
from srgan_keras.nn import spectral_norm as spectral_norm


class ModelFileError(ValueError):
    """A ``.keras`` file that cannot be loaded; the message is one line naming the file and why."""


def load_keras(path: str | os.PathLike) -> keras.Model:
    """The model in a ``.keras`` file, or :class:`ModelFileError` with one line saying why not."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as e:  # noqa: BLE001 - corrupt zip, unknown layer, unsafe Lambda ...: one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        if "Could not locate class" in str(e):
            raise ModelFileError(f"{path}: uses a layer that is not registered ({first[:200]}); "
                                 "import the module that defines it first") from None
        raise ModelFileError(f"{path}: not a loadable Keras model file ({first[:200]})") from None


__all__ = ["ModelFileError", "load_keras"]
