"""Running a trained generator on images: one loader for every saved form of the model.

The runner protocol (shared by ``upscale``, ``evaluate`` and ``export``): a runner has
``.scale: int``, ``.name: str`` and ``__call__(lr) -> sr`` taking float32 ``(N, H, W, 3)`` in
[0, 1] and returning float32 ``(N, sH, sW, 3)`` in [0, 1], clipped. The generator's own output
range is [-1, 1] (SRGAN §3.2); the conversion to [0, 1] lives inside the runner, so callers
never see the signed range.

:func:`load_generator` picks the runner by path: a ``.keras`` file, a SavedModel folder, a
``.tflite`` or ``.onnx`` file, the names ``realesr`` / ``srresnet`` / ``srgan`` (bundled models in
``saved_models/``), a zoo name (Real-ESRGAN's and ESRGAN's published weights, downloaded and
converted on first use: :mod:`srgan_keras.inference.zoo`), or ``bicubic`` (the baseline row of
SRGAN Table 2). With no model at all it is
``realesr``, the real-world model (issue 12.6): what users upscale are phone photos and web JPEGs,
and the paper's bicubic-trained models sharpen their noise and JPEG blocks.

TensorFlow is imported when a runner is made or run, not with this module, so the CLIs built on
it answer ``--help`` without it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from srgan_keras.data.ranges import pixels_to_unit, signed_to_unit, unit_to_pixels
from srgan_keras.inference.bundled import MODEL_NAMES
from srgan_keras.inference.degradation_estimate import AUTO
from srgan_keras.inference.errors import ModelNotFoundError
from srgan_keras.inference.resolve import resolve_model_path


@runtime_checkable
class Runner(Protocol):
    """What upscale/evaluate/export call: LR (N, H, W, 3) [0, 1] -> SR (N, sH, sW, 3) [0, 1]."""

    scale: int
    name: str

    def __call__(self, lr: np.ndarray) -> np.ndarray: ...


class _Inference:
    """``model(x, training=False)`` as a callable object. TensorFlow counts retracing by the traced
    function's code, so with a lambda every runner's first trace counted against one warning ("5
    out of the last 13 calls ... triggered tf.function retracing") when several models ran in a
    row (network interpolation's blends); an object is counted on its own."""

    def __init__(self, model):
        self.model = model

    def __call__(self, x):
        return self.model(x, training=False)


class KerasRunner:
    """A Keras generator (output in [-1, 1]; [0, 1] for RRDBNet) wrapped as a runner.

    The model runs in inference mode (BatchNorm uses its moving statistics) inside one
    ``tf.function`` whose input signature has free H and W, so tiles of any size share a trace.
    """

    def __init__(self, model, name: str | None = None, precision: str = "float32",
                 source: str | None = None):
        import tensorflow as tf

        from srgan_keras.nn.outputs import output_range

        self.model = model
        self.name = name or model.name
        self.precision = precision  # what the trunk computes in (informational)
        spec = tf.TensorSpec([None, None, None, 3], tf.float32)
        self._fn = tf.function(_Inference(model), input_signature=[spec])
        self.scale = _measure_scale(self._fn, source or self.name)  # source: the file, in errors
        self.unit_output = output_range(model) == "unit"  # RRDBNet (ESRGAN): [0, 1] already

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        sr = tf.cast(self._fn(tf.convert_to_tensor(np.asarray(lr, dtype=np.float32))), tf.float32)
        sr = sr.numpy() if self.unit_output else signed_to_unit(sr.numpy())
        return np.clip(sr, 0.0, 1.0)


class BicubicRunner:
    """Bicubic interpolation as a runner: the baseline of SRGAN Table 2 (``--model bicubic``).

    Same resize as :func:`srgan_keras.data.degradation.bicubic_upscale` (Keys a=-0.5, antialiased),
    on 0..255 values, computed in NumPy (:mod:`srgan_keras.inference.bicubic`, equal to
    TensorFlow's to float32 rounding; no TensorFlow needed); the output is *not* rounded here,
    ``upscale_image`` rounds once when it writes 8-bit pixels. Works on any number of channels
    (the tiler uses it for alpha too).
    """

    def __init__(self, scale: int = 4):
        if int(scale) < 1:
            raise ValueError(f"scale must be a positive integer, got {scale}")
        self.scale = int(scale)
        self.name = "bicubic"

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        from srgan_keras.inference.bicubic import resize_bicubic

        lr = np.asarray(lr, dtype=np.float32)
        size = (lr.shape[-3] * self.scale, lr.shape[-2] * self.scale)
        up = resize_bicubic(unit_to_pixels(lr), size)
        return np.clip(pixels_to_unit(up), 0.0, 1.0)


def _measure_scale(fn, name: str) -> int:
    """Upscaling factor of a generator: run an 8x8 input once and compare sizes.

    A model that is no image-to-image generator (a classifier, a dict of outputs, a fixed input
    size) fails here with one line naming it (:class:`srgan_keras.nn.saving.ModelFileError`,
    a ValueError), before any image is read (issue 27.10).
    """
    import tensorflow as tf

    from srgan_keras.nn.saving import ModelFileError

    need = "needs one (N, H, W, 3) image in and one (N, sH, sW, 3) image out"
    try:
        out = fn(tf.zeros([1, 8, 8, 3], tf.float32))
    except Exception as e:  # noqa: BLE001 -- whatever the model raises on an image: one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise ModelFileError(f"{name}: not an image-to-image generator (an 8x8 RGB input fails: "
                             f"{first}); {need}") from None
    if not hasattr(out, "shape") or len(out.shape) != 4 or out.shape[-1] != 3:
        got = (f"a {type(out).__name__} of {len(out)} outputs" if isinstance(out, (dict, list, tuple))
               else f"shape {tuple(out.shape)}")
        raise ModelFileError(f"{name}: not an image-to-image generator (an 8x8 RGB input gives "
                             f"{got}); {need}")
    h, w = int(out.shape[1]), int(out.shape[2])
    if h % 8 or w % 8 or h != w or h < 8:
        raise ModelFileError(f"{name}: an 8x8 input gave {h}x{w}; not an integer-scale generator")
    return h // 8


def load_generator(path_or_name: str | os.PathLike | None = None, scale: int = 4,
                   denoise_strength: float | str | None = None,
                   wdn: str | os.PathLike | None = None, precision: str = "float32",
                   runtime: str = "keras") -> Runner:
    """A runner for a model path or name (see the module docstring).

    ``scale`` is used by ``bicubic`` only; other runners read their scale from the model.
    ``.keras`` files load with ``safe_mode=True`` (no arbitrary code) and ``compile=False``.

    ``denoise_strength`` ``s`` in [0, 1] (Real-ESRGAN's ``-dn``): the weights become
    ``s W_model + (1 - s) W_wdn`` at load time, ``W_wdn`` those of the model's weak-denoise twin:
    ``wdn``, else ``NAME_wdn.keras`` beside ``NAME.keras`` (``realesr_x4_wdn.keras`` for the
    bundled ``realesr_x4.keras``), else Real-ESRGAN's name for it (``realesr-general-x4v3`` ->
    ``realesr-general-wdn-x4v3``), see :func:`srgan_keras.nn.interpolation.find_wdn_twin`. As in
    Real-ESRGAN, ``s = 1`` needs no twin. ``None`` (the default) uses the model as trained;
    Real-ESRGAN's script defaults to 0.5, but the model cards here measure the model itself.
    ``"auto"`` (the CLI's and the web page's default) returns an :class:`AutoDenoiseRunner`
    that chooses the strength per image from its noise and JPEG quality; for a model without a
    twin (or not a ``.keras`` file) ``"auto"`` is ignored and the model runs as trained.

    ``precision``: ``float32`` (the default, what the model cards measure), ``bfloat16`` (the
    trunk of a ``.keras`` generator in bfloat16) or ``auto`` (bfloat16 where the CPU computes it
    natively, else float32); see :mod:`srgan_keras.inference.precision`. The runner's
    ``precision`` attribute says what it runs. Other formats run as they were exported: ``auto``
    keeps them, ``bfloat16`` raises ``ValueError``.

    ``runtime``: ``keras`` (the default here: the model as trained, what evaluate and the model
    card measure; a ``.tflite`` file still runs on LiteRT), ``auto`` (what the upscale CLI, the
    Python API :func:`as_runner` and the web page use: a bundled model's TFLite export on LiteRT,
    without importing TensorFlow, where it matches and was measured faster) or ``litert`` (the
    twin, or ``ValueError``); see :mod:`srgan_keras.inference.litert`. The runner's
    ``runtime_choice`` says which ran and why.
    """
    from srgan_keras.inference.precision import PRECISIONS

    if precision not in PRECISIONS:  # resolve_precision("auto") would import TensorFlow here
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if runtime != "keras":
        return _load_by_runtime(path_or_name, scale, denoise_strength, wdn, precision, runtime)
    if denoise_strength == AUTO:
        return _load_auto(path_or_name, scale, wdn, precision)
    if denoise_strength is not None or wdn is not None:
        runner = _load_denoise_blend(path_or_name, denoise_strength, wdn)
    else:
        runner = _load_plain(path_or_name, scale)
    return _with_precision(runner, precision)


def _load_by_runtime(path_or_name, scale: int, denoise_strength, wdn, precision: str,
                     runtime: str) -> Runner:
    """:func:`load_generator` for ``runtime`` auto or litert (srgan_keras.inference.litert)."""
    from srgan_keras.inference.litert import choose_runtime, load_litert, with_activation_estimate

    choice = choose_runtime(path_or_name, runtime, denoise_strength, wdn, precision)
    if choice.runtime == "litert" and choice.tflite is not None:
        path = resolve_model_path(path_or_name)
        return load_litert(choice, _runner_name(path), denoise_strength)
    runner = load_generator(path_or_name, scale, denoise_strength, wdn, precision)
    if choice.runtime == "litert":  # a .tflite file given as the model
        with_activation_estimate(runner)
    runner.runtime_choice = choice
    return runner


def _runner_name(path: Path) -> str:
    """A ``.keras`` runner's name: its stem; train.py's ``<run>/generator.keras``, its run."""
    return path.parent.name if path.stem == "generator" and path.parent.name else path.stem


def _with_precision(runner: Runner, precision: str) -> Runner:
    """``runner`` with its trunk in the arithmetic ``precision`` names (see load_generator)."""
    from srgan_keras.inference.precision import resolve_precision

    if precision == "auto" and not isinstance(runner, KerasRunner):
        return runner  # exported and bicubic runners run as they are (no TensorFlow to ask)
    if resolve_precision(precision) != "bfloat16":
        return runner
    if not isinstance(runner, KerasRunner):
        if precision == "auto":
            return runner
        raise ValueError(f"precision bfloat16 applies to .keras models; {runner.name} is "
                         f"not one (run it as exported, or pass precision float32)")
    from srgan_keras.inference.precision import bfloat16_copy

    try:
        copy = bfloat16_copy(runner.model)
    except ValueError:
        if precision == "auto":  # not a functional generator: as loaded, in float32
            return runner
        raise
    return KerasRunner(copy, name=runner.name, precision="bfloat16")




class AutoDenoiseRunner:
    """A model and its weak-denoise twin, blended per image at the strength its degradation asks
    for (``denoise_strength="auto"``; :mod:`srgan_keras.inference.degradation_estimate`).

    :meth:`for_image` estimates the image's noise and JPEG quality and returns the blended runner
    and the :class:`~srgan_keras.inference.degradation_estimate.Estimate`; blends are cached per
    strength rounded to ``STRENGTH_STEP`` (0.05), so a folder builds each blend once.
    :func:`~srgan_keras.inference.tiling.upscale_image` calls it by itself. Called directly (a
    batch, as ``evaluate`` does), it is the model as trained, strength 1.
    """

    def __init__(self, model, twin, name: str, precision: str = "float32"):
        self._model, self._twin, self._precision = model, twin, precision
        self._blends: dict[float, Runner] = {}
        self.name = name
        self.strong = self.at(1.0)
        self.scale = self.strong.scale
        self.precision = getattr(self.strong, "precision", "float32")
        self.model = self.strong.model  # what bytes_per_pixel measures: every blend is alike

    def at(self, strength: float) -> Runner:
        """The runner blended at ``strength`` (rounded to STRENGTH_STEP), built once."""
        from srgan_keras.inference.degradation_estimate import quantise_strength
        from srgan_keras.nn.interpolation import denoise_blend

        s = quantise_strength(strength)
        if s not in self._blends:
            model = self._model if s == 1.0 else denoise_blend(self._model, self._twin, s)
            self._blends[s] = _with_precision(
                KerasRunner(model, name=f"{self.name}_dn{s:g}"), self._precision)
        return self._blends[s]

    def for_image(self, image, source=None):
        """(runner, estimate) for one image (array or ``LoadedImage``); ``source``, its file or
        Pillow image, gives the JPEG quality (``None``: not known, counted as no JPEG)."""
        from srgan_keras.inference.degradation_estimate import estimate

        est = estimate(image, source)
        return self.at(est.strength), est

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        return self.strong(lr)


def supports_denoise_strength(path_or_name) -> bool:
    """True when ``path_or_name`` is a ``.keras`` model with a weak-denoise twin beside it."""
    from srgan_keras.inference.zoo import ZooError
    from srgan_keras.nn.interpolation import wdn_candidates

    if str(path_or_name) == "bicubic":
        return False
    try:
        path = resolve_model_path(path_or_name)
    except ZooError:
        raise  # a zoo model that cannot be had: the load would say the same, say it once
    except ModelNotFoundError:
        return False
    return (path.is_file() and path.suffix.lower() == ".keras"
            and any(c.is_file() for c in wdn_candidates(path)))


def _load_auto(path_or_name, scale: int, wdn, precision: str) -> Runner:
    """An AutoDenoiseRunner where the model has a twin (or ``wdn`` is given); else, silently,
    the model as trained: the strength does not apply to it."""
    if wdn is None and not supports_denoise_strength(path_or_name):
        return _with_precision(_load_plain(path_or_name, scale), precision)
    base = _load_denoise_blend(path_or_name, 1.0, None)  # the checks: a .keras model
    path = resolve_model_path(path_or_name)
    from srgan_keras.nn.interpolation import find_wdn_twin

    twin = Path(wdn).expanduser() if wdn is not None else find_wdn_twin(path)
    if not twin.is_file():
        raise ModelNotFoundError(f"--wdn-model {twin}: no such file")
    if twin.suffix.lower() != ".keras":
        raise ValueError(f"--wdn-model {twin}: the weak-denoise twin must be a .keras model")
    return AutoDenoiseRunner(base.model, load_generator(twin).model, base.name, precision)


def _load_plain(path_or_name: str | os.PathLike | None, scale: int) -> Runner:
    """:func:`load_generator` without a blend, in float32."""
    if str(path_or_name) == "bicubic":
        return BicubicRunner(scale)
    path = resolve_model_path(path_or_name)
    if path.is_dir():
        if not (path / "saved_model.pb").exists():
            raise ModelNotFoundError(f"{path}: a folder without saved_model.pb is not a SavedModel")
        from srgan_keras.inference.exported import SavedModelRunner  # lazily: owned by the export issue

        return SavedModelRunner(str(path))
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        from srgan_keras.inference.exported import TFLiteRunner

        return TFLiteRunner(str(path))
    if suffix == ".onnx":
        from srgan_keras.inference.exported import OnnxRunner  # needs the [onnx] extra

        return OnnxRunner(str(path))
    if suffix == ".keras":
        from srgan_keras.nn.saving import load_keras

        model = load_keras(path)  # ModelFileError (a ValueError): one line
        return KerasRunner(model, name=_runner_name(path), source=str(path))
    raise ValueError(
        f"{path}: unknown model format; expected a .keras file, a SavedModel folder, a .tflite, "
        f".onnx or PyTorch .pth file, or one of the names {', '.join(MODEL_NAMES)}")


def _load_denoise_blend(path_or_name, strength: float | None, wdn) -> Runner:
    """A KerasRunner of the model blended with its weak-denoise twin (Real-ESRGAN's ``-dn``)."""
    from srgan_keras.nn.interpolation import check_denoise_strength, denoise_blend, find_wdn_twin

    if strength is None:
        raise ValueError("--wdn-model needs --denoise-strength S (0 = the weak-denoise twin, "
                         "1 = the model as trained)")
    check_denoise_strength(strength)
    path = None if str(path_or_name) == "bicubic" else resolve_model_path(path_or_name)
    if path is None or path.is_dir() or path.suffix.lower() != ".keras":
        raise ValueError(f"--denoise-strength blends weights at load time, so it needs a .keras "
                         f"model; {path or 'bicubic'} is not one")
    runner = load_generator(path)
    if strength == 1.0 and wdn is None:  # as Real-ESRGAN: the model alone, no twin needed
        return runner
    twin = Path(wdn).expanduser() if wdn is not None else find_wdn_twin(path)
    if not twin.is_file():
        raise ModelNotFoundError(f"--wdn-model {twin}: no such file")
    if twin.suffix.lower() != ".keras":
        raise ValueError(f"--wdn-model {twin}: the weak-denoise twin must be a .keras model")
    blended = denoise_blend(runner.model, load_generator(twin).model, strength)
    return KerasRunner(blended, name=f"{runner.name}_dn{strength:g}")


# Where as_runner keeps an in-memory Keras model's runner, reused while the model lives: a new
# KerasRunner per call traced its function again each time (TensorFlow warned after five).
_RUNNER_ATTRIBUTE = "_srgan_keras_runner"


def as_runner(model) -> Runner:
    """Accept a runner, an in-memory Keras generator, or anything :func:`load_generator` takes
    (loaded with ``runtime="auto"``: a bundled model on LiteRT, without TensorFlow)."""
    if isinstance(model, (str, os.PathLike)) or model is None:
        return load_generator(model, runtime="auto")  # the Python API: TensorFlow only if needed
    if hasattr(model, "scale") and callable(model) and hasattr(model, "name") \
            and not hasattr(model, "layers"):
        return model
    import keras

    if isinstance(model, keras.Model):
        runner = getattr(model, _RUNNER_ATTRIBUTE, None)
        if runner is None:  # one runner (one traced function) per model, however often it is passed
            runner = KerasRunner(model)
            # kept on the model itself, past Keras' attribute tracking: the model and its runner go
            # together (a weak-keyed table would keep every model alive, its runner holding it)
            object.__setattr__(model, _RUNNER_ATTRIBUTE, runner)
        return runner
    raise TypeError(f"expected a runner, a keras.Model or a model path, got {type(model).__name__}")
