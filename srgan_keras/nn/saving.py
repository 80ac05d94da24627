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
import zipfile
from pathlib import Path

import keras

# registered on import (keras.saving.register_keras_serializable): what a .keras file names
from srgan_keras.errors import SrganKerasError, first_line
from srgan_keras.nn import icnr as icnr
from srgan_keras.nn import layers as layers
from srgan_keras.nn import spectral_norm as spectral_norm

# Bounds on what a .keras file (a zip) may unpack to, checked from its directory before Keras
# reads a byte of it (issue 27.7: a 7.6 MB file whose config.json unpacks to 3 GB took 10 GB).
# Our choices: a generator's config.json is 64-117 KB (the bundled ones) and a few MB for any
# network we know, so 64 MiB is far above any model's settings and far below what hurts; Keras
# stores the weights uncompressed, and float weights barely compress, so a weights file may
# unpack to at most 4 times its stored size (plus that 64 MiB for runs of zeros).
MAX_SETTINGS_BYTES = 64 * 2**20
MAX_WEIGHTS_EXPANSION = 4
WEIGHTS_SUFFIXES = (".h5", ".npz")


class ModelFileError(SrganKerasError, ValueError):
    """A ``.keras`` file that cannot be loaded; the message is one line naming the file and why."""


def check_archive(path: str | os.PathLike) -> None:
    """Refuse a ``.keras`` file whose members would unpack beyond :data:`MAX_SETTINGS_BYTES`
    (``config.json``, ``metadata.json``, assets) or :data:`MAX_WEIGHTS_EXPANSION` times their
    stored size (the weights), from the zip's directory: nothing is decompressed.

    A file that is no zip is left to Keras (its own one-line error follows). Python's zip reader
    stops at a member's declared size, so the declared sizes bound what Keras can read.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return
    mib = 2**20
    for info in infos:
        if info.filename.endswith(WEIGHTS_SUFFIXES):
            bound = MAX_WEIGHTS_EXPANSION * info.compress_size + MAX_SETTINGS_BYTES
            what = f"{MAX_WEIGHTS_EXPANSION} times its stored {info.compress_size / mib:.1f} MiB"
        else:
            bound = MAX_SETTINGS_BYTES
            what = f"the {MAX_SETTINGS_BYTES // mib} MiB a model's settings can need"
        if info.file_size > bound:
            raise ModelFileError(f"{path}: refused: its {info.filename} unpacks to "
                                 f"{info.file_size / mib:,.0f} MiB, more than {what} (a zip "
                                 "bomb, or not a model file of ours)")


def load_keras(path: str | os.PathLike) -> keras.Model:
    """The model in a ``.keras`` file, or :class:`ModelFileError` with one line saying why not.

    The zip's declared sizes are checked first (:func:`check_archive`), so a bomb is refused
    before anything is unpacked.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    check_archive(path)
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as e:  # noqa: BLE001 - corrupt zip, unknown layer, unsafe Lambda ...: one line
        first = first_line(e)
        if "Could not locate class" in str(e):
            raise ModelFileError(f"{path}: uses a layer that is not registered ({first[:200]}); "
                                 "import the module that defines it first") from None
        raise ModelFileError(f"{path}: not a loadable Keras model file ({first[:200]})") from None


__all__ = ["MAX_SETTINGS_BYTES", "MAX_WEIGHTS_EXPANSION", "ModelFileError", "check_archive",
           "load_keras"]
