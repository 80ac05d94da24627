"""The three export formats: SavedModel, TFLite (float32, float16, dynamic, int8) and ONNX.

Each writer stages its file in a temporary folder beside the destination
(:func:`staged_output`) and renames it into place only once it is complete, so a failure (a full
disk included: TensorFlow says so with its own error type, :func:`os_error_named_in`) leaves
nothing behind. The ranges are converted inside every graph
(:func:`srgan_keras.export.generator.unit_output`); the signatures are those the docstring of
:mod:`srgan_keras.export.export` lists.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from srgan_keras.data.ranges import pixels_to_unit, unit_to_pixels
from srgan_keras.export.generator import (
    ExportError,
    as_model,
    check_generator,
    model_files,
    unit_output,
)
from srgan_keras.export.images import calibration_crops

if TYPE_CHECKING:  # Keras and TensorFlow are imported by the functions that use them, so --help is quick
    import keras

FORMATS = ("saved_model", "tflite", "onnx")  # onnx: optional extra, pip install -e .[onnx]
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
ONNX_OPSET = 17  # our choice: supported by current onnxruntime and by tf2onnx 1.17


def _spec(input_size: tuple[int, int] | None, dtype, name: str, batch: int | None = None):
    import tensorflow as tf

    h, w = input_size or (None, None)
    return tf.TensorSpec([batch, h, w, 3], dtype, name=name)


def write_saved_model(model: keras.Model, path: Path, input_size, with_uint8: bool) -> None:
    """Write a SavedModel with the float signature (and the uint8 one) to ``path``."""
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)

    def upscale_float(lr):  # float32 [0, 1] -> float32 [0, 1]
        return {"sr": unit_output(model, lr)}

    def upscale_uint8(images):  # uint8 0..255 -> uint8 0..255, rounded
        sr = unit_output(model, pixels_to_unit(images))
        return {"sr": tf.cast(tf.round(unit_to_pixels(sr)), tf.uint8)}

    if with_uint8:
        archive.add_endpoint("serving_default", upscale_uint8,
                             input_signature=[_spec(input_size, tf.uint8, "images")])
        archive.add_endpoint("upscale_float", upscale_float,
                             input_signature=[_spec(input_size, tf.float32, "lr")])
    else:  # the TFLite converter's input: one float signature
        archive.add_endpoint("serving_default", upscale_float,
                             input_signature=[_spec(input_size, tf.float32, "lr", batch=1
                                                    if input_size else None)])
    # TF logs "Assets written to: <staging path>" at INFO: a temp path the user never sees.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        archive.write_out(str(path), verbose=False)
    except tf.errors.OpError as e:  # a full disk is TF's ResourceExhaustedError, not an OSError
        cause = os_error_named_in(e)
        if cause is None:
            raise
        raise cause from None
    finally:
        logger.setLevel(level)


def os_error_named_in(e: Exception) -> OSError | None:
    """The :class:`OSError` that a TensorFlow error reports in its message, or None.

    TensorFlow's file writers turn a failed write into its own error type, with the C library's
    text at the end: a SavedModel written to a full disk raises ``ResourceExhaustedError`` with
    ``... variables_temp/part-00000-of-00001.data-00000-of-00001.tempstate...; No space left on
    device [Op:SaveV2]`` (or ``saved_model.pb.tmp...; No space left on device`` once the variables
    fit; seen here on TF 2.21 with a 300 KB and a 4950 KB tmpfs). Recognised by
    ``os.strerror(code)`` for the write errors of :data:`srgan_keras.data.files.WRITE_ERRNOS`, so
    the caller reports it as the one line of :func:`srgan_keras.data.outputs.write_failure`.
    """
    from srgan_keras.data.outputs import WRITE_ERRNOS

    message = str(e)
    for code in WRITE_ERRNOS:
        if os.strerror(code) in message:
            return OSError(code, os.strerror(code))
    return None

@contextmanager
def staged_output(path: Path, overwrite: bool, extra: Sequence[Path] = (),
            inputs: Sequence[str | os.PathLike] = ()) -> Iterator[Path]:
    """Yield a temporary path for ``path``; move it (and ``extra`` files) into place on success.

    :func:`srgan_keras.data.files.check_output` first: an existing output needs ``overwrite``,
    and even then an input, a folder holding one, or a folder that is not a SavedModel is never
    replaced (issue 27.1). The work happens in a staging folder of ours beside ``path``
    (:func:`srgan_keras.data.files.staging_dir`), so the final renames are atomic, a failure (or
    Ctrl-C) removes everything that was written, and a kill leaves a folder the next command
    writing there removes. Files for ``extra`` paths are written by the caller into the same
    temporary folder under their final names.
    """
    from srgan_keras.data.files import (
        OutputExistsError,
        OutputIsInputError,
        check_output,
        is_saved_model_dir,
        publish,
        staging_dir,
        write_failure,
    )

    try:
        for p in (path, *extra):
            check_output(p, overwrite, inputs, flag="", folder_ok=is_saved_model_dir)
    except (OutputExistsError, OutputIsInputError) as e:
        raise ExportError(str(e)) from None
    stack = ExitStack()
    try:
        tmp_dir = stack.enter_context(staging_dir(path))
    except OSError as e:
        raise ExportError(write_failure(path, e) or f"cannot write to {path.parent} "
                          f"({e.strerror or e}); choose a writable output path") from None
    with stack:  # the staging folder is removed on the way out, whatever happened
        staged = tmp_dir / path.name
        try:
            yield staged
            publish(staged, path, overwrite)
            for p in extra:
                if (tmp_dir / p.name).exists():
                    publish(tmp_dir / p.name, p, overwrite)
        except OutputExistsError as e:
            raise ExportError(str(e)) from None
        except OSError as e:  # a full disk while writing or renaming: one line, nothing kept
            line = write_failure(path, e)
            if line is None:
                raise
            raise ExportError(line) from None

def parse_size(input_size) -> tuple[int, int] | None:
    if input_size is None or input_size == "":
        return None
    if isinstance(input_size, str):
        try:
            h, w = (int(v) for v in input_size.lower().split("x"))
        except ValueError:
            raise ExportError(f"--input-size {input_size!r}: expected HxW, e.g. 128x128") from None
    else:
        h, w = (int(v) for v in input_size)
    if h < 1 or w < 1:
        raise ExportError(f"--input-size {h}x{w}: both sides must be positive")
    return h, w


def export_saved_model(model: keras.Model | str | os.PathLike, path: str | os.PathLike,
                       input_size: tuple[int, int] | str | None = None,
                       overwrite: bool = False) -> Path:
    """Write a SavedModel folder with the uint8 ``serving_default`` and ``upscale_float``.

    ``input_size`` (H, W) fixes the LR size of both signatures (the batch stays dynamic).
    """
    inputs, model, path = model_files(model), as_model(model), Path(path)
    with staged_output(path, overwrite, inputs=inputs) as staged:
        write_saved_model(model, staged, parse_size(input_size), with_uint8=True)
    return path


def tflite_bytes(model: keras.Model, quantize: str = "none",
                 calibration: str | os.PathLike | None = None,
                 input_size: tuple[int, int] | str | None = None,
                 work_dir: str | os.PathLike | None = None) -> bytes:
    """Convert ``model`` to a TFLite flatbuffer (see :func:`export_tflite`)."""
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ExportError(f"--quantize {quantize!r}: choose one of {', '.join(QUANTIZATIONS)}")
    size = parse_size(input_size)
    scale = check_generator(model, source=model.name)
    crops = calibration_crops(calibration, scale) if quantize == "int8" else None
    with tempfile.TemporaryDirectory(prefix=".tflite-src.", dir=work_dir) as tmp:
        # The converter reads a SavedModel: variables are frozen and ops lowered from there.
        write_saved_model(model, Path(tmp) / "float", size, with_uint8=False)
        conv = tf.lite.TFLiteConverter.from_saved_model(str(Path(tmp) / "float"))
        if quantize != "none":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":  # without optimizations=[DEFAULT] the file stays float32
            conv.target_spec.supported_types = [tf.float16]
        if quantize == "int8":
            conv.representative_dataset = lambda: ({"lr": c} for c in crops)
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        with warnings.catch_warnings():  # calibration runs the deprecated tf.lite.Interpreter
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
            return conv.convert()


def export_tflite(model: keras.Model | str | os.PathLike, path: str | os.PathLike,
                  quantize: str = "none", calibration: str | os.PathLike | None = None,
                  input_size: tuple[int, int] | str | None = None,
                  overwrite: bool = False) -> Path:
    """Write a ``.tflite`` file: float32 [0, 1] in, float32 [0, 1] out (int8 I/O for ``int8``).

    ``quantize``: ``none`` (float32), ``float16`` (fp16 weights), ``dynamic`` (int8 weights,
    float activations) or ``int8`` (full integer, calibrated on LR crops of ``calibration``,
    a folder of photos; default the built-in photos). The input is ``(-1, -1, -1, 3)`` unless
    ``input_size`` fixes it to ``(1, H, W, 3)``.
    """
    inputs, model, path = model_files(model), as_model(model), Path(path)
    with staged_output(path, overwrite, inputs=inputs) as staged:
        staged.write_bytes(tflite_bytes(model, quantize, calibration, input_size,
                                        work_dir=staged.parent))
    return path


def onnx_bytes(model: keras.Model, input_size: tuple[int, int] | str | None = None) -> bytes:
    """Convert ``model`` to ONNX (float32 [0, 1] ``lr`` -> float32 [0, 1] ``sr``) with tf2onnx."""
    import tensorflow as tf

    try:
        import tf2onnx
    except ImportError:
        raise ExportError("ONNX export needs the optional extra: pip install -e .[onnx] "
                          "(onnx, tf2onnx, onnxruntime)") from None

    @tf.function(autograph=False)
    def upscale_float(lr):
        return {"sr": unit_output(model, lr)}

    spec = _spec(parse_size(input_size), tf.float32, "lr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto, _ = tf2onnx.convert.from_function(upscale_float, input_signature=[spec],
                                                 opset=ONNX_OPSET)
    return proto.SerializeToString()


def export_onnx(model: keras.Model | str | os.PathLike, path: str | os.PathLike,
                input_size: tuple[int, int] | str | None = None, overwrite: bool = False) -> Path:
    """Write an ``.onnx`` file (optional extra): float32 [0, 1] in, float32 [0, 1] out."""
    inputs, model, path = model_files(model), as_model(model), Path(path)
    with staged_output(path, overwrite, inputs=inputs) as staged:
        staged.write_bytes(onnx_bytes(model, input_size))
    return path
