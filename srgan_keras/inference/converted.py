"""PyTorch weights given by path (``--model x.pth``), converted once and cached (issue 28.3).

    python -m srgan_keras.upscale photo.jpg --model RealESRGAN_x4plus.pth

A ``.pth``/``.pt`` file is read with the safe reader (:mod:`srgan_keras.data.torch_pickle`: no torch,
no code from the file run), its architecture recognised and its weights copied into our network
(:func:`srgan_keras.nn.torch_weights.convert_state_dict`, what ``python -m srgan_keras.convert``
does), and the result saved as ``.keras`` in the user cache, under a folder named by the file's
SHA-256: a later run with the same file loads the ``.keras`` at once, and a changed file (same
name, other bytes) is converted again. Nothing is written beside the user's file.

A weak-denoise twin beside the file (``NAME_wdn.pth``, or Real-ESRGAN's ``realesr-general-wdn-x4v3``
beside ``realesr-general-x4v3``: :func:`~srgan_keras.nn.interpolation.wdn_candidates`) is converted
into the same folder, and the folder's name hashes both files, so ``--denoise-strength`` works as it
does for the zoo's copy. The cache (:func:`cache_dir`) is the one the zoo downloads into, here
under ``converted/``. Importing this module imports no TensorFlow.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

from srgan_keras.data.download import sha256_of
from srgan_keras.errors import first_line
from srgan_keras.inference.errors import ModelNotFoundError

HOME_ENV = "SRGAN_KERAS_HOME"
TORCH_SUFFIXES = (".pth", ".pt")  # PyTorch checkpoints: BasicSR's, Real-ESRGAN's, ESRGAN's


class PthConversionError(ModelNotFoundError):
    """A ``.pth`` that cannot be read or converted: one sentence naming the file."""


def cache_dir() -> Path:
    """Where downloaded and converted models live (our choice; pip's and torch hub's habit):
    ``$SRGAN_KERAS_HOME/models``, else ``$XDG_CACHE_HOME/srgan_keras/models``, else
    ``~/.cache/srgan_keras/models``."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser() / "models"
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return root / "srgan_keras" / "models"


def is_torch_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in TORCH_SUFFIXES


def twin_of(pth: Path) -> Path | None:
    """The weak-denoise twin ``.pth`` beside ``pth``, if there is one."""
    from srgan_keras.nn.interpolation import WDN_SUFFIX, wdn_candidates

    if pth.stem.endswith(WDN_SUFFIX):
        return None
    return next((c for c in wdn_candidates(pth) if c != pth and c.is_file()), None)


@functools.lru_cache(maxsize=32)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return sha256_of(path)


def file_digest(path: Path) -> str:
    """SHA-256 of ``path``, hashed once per process while its size and mtime stay the same (a
    command resolves its ``--model`` several times; a 67 MB ``.pth`` takes a fraction of a second)."""
    st = path.stat()
    return _digest(str(path.resolve()), st.st_size, st.st_mtime_ns)


def cache_folder(pth: Path, twin: Path | None) -> Path:
    """``<cache>/converted/<16 hex digits>``: of the file's SHA-256, and its twin's if it has one."""
    digest = file_digest(pth)
    if twin is not None:
        digest = hashlib.sha256(f"{digest} {file_digest(twin)}".encode()).hexdigest()
    return cache_dir() / "converted" / digest[:16]


def cache_write(target: Path, write_fn, label: str, error: type[ModelNotFoundError]) -> None:
    """``atomic_write`` into the model cache; a full or read-only cache folder is ``error``, one
    line naming ``label`` (the zoo's downloads and every conversion write through here)."""
    from srgan_keras.data.files import atomic_write, write_failure

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, write_fn)
    except OSError as e:
        if isinstance(e, ModelNotFoundError):  # the writer's own one line (a refused download)
            raise
        line = write_failure(target, e, flag="")
        if line is None:
            raise
        raise error(f"{label}: {line} (or set {HOME_ENV} to another cache folder)") from None


def convert_into(pth: Path, target: Path, label: str, error: type[ModelNotFoundError]) -> None:
    """Convert ``pth`` (safe reader, our network) and save it at ``target`` atomically; a file
    that cannot be read or converted, or a cache that cannot be written, is ``error``, one line."""
    from srgan_keras.data.torch_pickle import TorchFileError, load_state_dict
    from srgan_keras.nn.torch_weights import ConversionError, convert_state_dict

    try:
        model = convert_state_dict(load_state_dict(pth))
    except (TorchFileError, ConversionError) as e:
        raise error(f"{label}: cannot be converted: {first_line(e)}") from None
    cache_write(target, model.save, label, error)
    # said once it is done, so a file that cannot be converted is one line, the error's
    print(f"converted {label} once -> {target}", file=sys.stderr, flush=True)


def resolve_pth(pth: str | os.PathLike) -> Path:
    """The cached ``.keras`` of the PyTorch file ``pth`` (and its twin's), converted on first use."""
    pth = Path(pth)
    if not pth.is_file():
        raise PthConversionError(f"{pth}: not a file")
    twin = twin_of(pth)
    folder = cache_folder(pth, twin)
    target = folder / f"{pth.stem}.keras"
    if not target.is_file():
        convert_into(pth, target, f"--model {pth}", PthConversionError)
    if twin is not None and not (folder / f"{twin.stem}.keras").is_file():
        try:
            convert_into(twin, folder / f"{twin.stem}.keras", f"its twin {twin}",
                         PthConversionError)
        except PthConversionError as e:  # the model still runs as trained
            print(f"note: without its weak-denoise twin, {pth.name} runs as trained "
                  f"(no --denoise-strength): {e}", file=sys.stderr)
    return target
