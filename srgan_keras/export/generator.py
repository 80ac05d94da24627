"""The generator an export starts from: found by path or name, loaded, checked to be one.

:func:`check_generator` refuses what is not an image-to-image network of any input size (the SRGAN
discriminator, a classifier); :func:`unit_output` is the generator's output in [0, 1], the range
every exported graph returns (SRGAN §3.2: G's own range is [-1, 1]). :class:`ExportError` is the
one error of the export stage.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from srgan_keras.data.ranges import signed_to_unit
from srgan_keras.errors import SrganKerasError

if TYPE_CHECKING:  # Keras and TensorFlow are imported by the functions that use them, so --help is quick
    import keras


class ExportError(SrganKerasError, ValueError):
    """A bad export request; the message is one sentence that says what to do."""

def keras_model_path(path_or_name: str | os.PathLike) -> Path:
    """The ``.keras`` file a ``--model`` names: a path, a bundled name (``realesr``, ``srresnet``,
    ``srgan``) or a zoo name (:func:`srgan_keras.inference.runners.resolve_model_path`); else
    ExportError.

    Only a ``.keras`` model is exported: the other kinds are exports already, ``bicubic`` is no
    network; a ``.pth`` is converted on first use (:mod:`srgan_keras.inference.converted`).
    """
    from srgan_keras.inference.runners import ModelNotFoundError, resolve_model_path

    if Path(path_or_name).suffix.lower() == ".keras":
        return Path(path_or_name)  # load_keras says it in one line if it is missing
    if str(path_or_name) == "bicubic":
        raise ExportError("--model bicubic is a resize, not a network: there is nothing to export")
    try:
        path = resolve_model_path(path_or_name)
    except ModelNotFoundError as e:
        raise ExportError(str(e)) from None
    if path.is_dir() or path.suffix.lower() != ".keras":
        raise ExportError(
            f"{path}: export takes a .keras generator (a path, or realesr, srresnet, srgan) or "
            "PyTorch weights (.pth); a SavedModel, .tflite or .onnx file is an export already")
    return path


def load_keras_generator(path: str | os.PathLike) -> keras.Model:
    """Load a ``.keras`` generator (a path or a bundled name; safe mode) and check that it is one,
    or raise ExportError."""
    from srgan_keras.nn.saving import ModelFileError, load_keras

    path = keras_model_path(path)
    try:
        model = load_keras(path)
    except ModelFileError as e:
        raise ExportError(str(e)) from None
    check_generator(model, source=str(path))
    return model


def check_generator(model: keras.Model, source: str = "model") -> int:
    """Return the upscaling factor of an image-to-image generator, or raise ExportError.

    A generator takes one (N, H, W, 3) input of any size and returns (N, sH, sW, 3); the SRGAN
    discriminator (fixed 96x96 input, one logit out) and other models are refused.
    """
    import keras

    hint = "export the generator (run/generator.keras), not the discriminator or another model"
    try:  # a subclassed model that was never called has no symbolic inputs
        inputs, outputs = list(model.inputs or []), list(model.outputs or [])
    except (AttributeError, ValueError):
        inputs, outputs = [], []
    if not isinstance(model, keras.Model) or len(inputs) != 1 or len(outputs) != 1:
        raise ExportError(f"{source}: not an SR generator (needs one image input and one image "
                          f"output); {hint}")
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(in_shape) != 4 or in_shape[-1] != 3 or len(out_shape) != 4 or out_shape[-1] != 3:
        raise ExportError(f"{source}: not an SR generator (input {in_shape}, output {out_shape}); "
                          f"{hint}")
    if in_shape[1] is not None or in_shape[2] is not None:
        raise ExportError(f"{source}: input size is fixed at {in_shape[1]}x{in_shape[2]}, "
                          f"so this is not a fully convolutional SR generator; {hint}")
    probe = np.zeros((1, 8, 8, 3), np.float32)
    out = model(probe, training=False).shape
    scale = out[1] // 8
    if out[1] % 8 or out[2] != 8 * scale or scale < 1:
        raise ExportError(f"{source}: output {tuple(out)} for an 8x8 input is not an upscaled "
                          f"image; {hint}")
    return int(scale)


def unit_output(model: keras.Model, lr):
    """Generator output in [0, 1]: ``(G(lr) + 1) / 2`` clipped (G's range is [-1, 1], §3.2);
    RRDBNet's (ESRGAN, last layer ``sr_unit``) is [0, 1] already and only clipped."""
    import tensorflow as tf

    from srgan_keras.nn.outputs import output_range

    sr = tf.cast(model(lr, training=False), tf.float32)
    if output_range(model) == "signed":
        sr = signed_to_unit(sr)
    return tf.clip_by_value(sr, 0.0, 1.0)


def model_files(model: keras.Model | str | os.PathLike) -> list[str | os.PathLike]:
    """The input file among ``model`` (a path or a bundled name), which no output may replace."""
    return [keras_model_path(model)] if isinstance(model, (str, os.PathLike)) else []


def as_model(model: keras.Model | str | os.PathLike) -> keras.Model:
    """``model`` checked (:func:`check_generator`), or loaded from its path or name and checked."""
    import keras

    if isinstance(model, keras.Model):
        check_generator(model, source=model.name)
        return model
    return load_keras_generator(model)
