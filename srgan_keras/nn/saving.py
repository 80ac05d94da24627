"""Loading a saved network: one ``.keras`` loader for every stage, safe and with a one-line error.

``.keras`` files load with ``safe_mode=True`` (a ``Lambda`` layer's pickled code is refused,
not run) and ``compile=False`` (no optimizer state is needed to run or fine-tune a generator).
Our own layers are registered by :mod:`srgan_keras.nn.layers`, which ``import srgan_keras``
imports.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras


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
