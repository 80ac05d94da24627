"""Which file or folder a ``--model`` argument names, with the one sentence that says how to get it.

A bundled name (:mod:`.bundled`), a zoo name (:mod:`.zoo`: downloaded and converted on first use),
or a path (a ``.pth`` is converted on first use and cached: :mod:`.converted`); nothing
(``None``) is the first bundled model of ``DEFAULT_ORDER`` that exists. The loaders
(:mod:`.runners`, :mod:`.litert`), the export command and the web page all resolve here.
``bundled.SAVED_MODELS`` is read when a name is resolved, so pointing it elsewhere (a test, a
checkout without the files) takes effect at once.
"""

from __future__ import annotations

import os
from pathlib import Path

from srgan_keras.inference import bundled
from srgan_keras.inference.bundled import BUNDLED, DEFAULT_ORDER, MODEL_NAMES
from srgan_keras.inference.errors import ModelNotFoundError


def _no_model_message(what: str) -> str:
    return (f"no generator found ({what}). Train one with `python -m srgan_keras.train` "
            "(it writes <run>/generator.keras) and pass it with --model PATH, "
            "or use --model bicubic for the baseline")


def _unknown_name_message(name: str) -> str:
    """A bare word that is neither a file nor a name: the names, and the closest one (difflib)."""
    from srgan_keras.inference import zoo

    close = zoo.closest(name, list(MODEL_NAMES))
    guess = f"did you mean {close}? " if close else ""
    return (f"--model {name}: no such file and not a model name; {guess}the names are "
            f"{', '.join(MODEL_NAMES)} (bundled) and {', '.join(zoo.names())} (downloaded on "
            "first use; --list-models); or give a .keras file, a SavedModel folder, "
            "a .tflite, .onnx or .pth file")


def resolve_model_path(path_or_name: str | os.PathLike | None) -> Path:
    """The file or folder a model argument refers to; raises ModelNotFoundError with a hint."""
    if path_or_name is None:
        for key in DEFAULT_ORDER:
            candidate = bundled.SAVED_MODELS / BUNDLED[key]
            if candidate.exists():
                return candidate
        names = ", ".join(f"saved_models/{BUNDLED[k]}" for k in DEFAULT_ORDER)
        raise ModelNotFoundError(_no_model_message(f"no --model given and none of {names} exists"))
    key = str(path_or_name)
    if key in BUNDLED:
        candidate = bundled.SAVED_MODELS / BUNDLED[key]
        if not candidate.exists():
            raise ModelNotFoundError(_no_model_message(f"the bundled model {candidate} is missing"))
        return candidate
    path = Path(path_or_name).expanduser()
    if not path.exists():
        from srgan_keras.inference import zoo

        cached = zoo.resolve(key)  # a zoo name: downloaded and converted on first use
        if cached is not None:
            return cached
        if not path.suffix and len(path.parts) == 1:  # a word, not a path: a mistyped name?
            raise ModelNotFoundError(_unknown_name_message(key))
        raise ModelNotFoundError(_no_model_message(f"{path} does not exist"))
    from srgan_keras.inference import converted

    if converted.is_torch_file(path):  # PyTorch weights: converted once, cached (issue 28.3)
        return converted.resolve_pth(path)
    return path
