"""Exporting a trained generator for serving (SavedModel) and mobile (TFLite), with a parity report.

Deployment, not the paper: SRGAN (Ledig et al. 2017) stops at the generator of Fig. 4. Its ranges
(paper §3.2: LR input in [0, 1], SR output in [-1, 1]) are converted *inside* every exported graph,
so that a serving stack in another language feeds pixels and gets pixels back:

* SavedModel: ``serving_default`` maps uint8 ``(N, H, W, 3)`` to uint8 ``(N, sH, sW, 3)`` (divide
  by 255, generator, ``(y + 1) / 2``, clip, round); ``upscale_float`` maps float32 [0, 1] to
  float32 [0, 1] (clipped, not rounded) for callers that want the unrounded output.
* TFLite: one float32 [0, 1] -> float32 [0, 1] signature (``serving_default``), as float32,
  float16 weights, dynamic-range int8 weights, or full integer (int8 weights and activations,
  int8 input/output: ``q = round(x / s) + z``, with ``s`` about 1/255 and ``z = -128`` once
  calibrated on photos).

Full-integer quantization needs a representative dataset: LR crops (our choice: ``CALIB_CROP``
pixels, ``CALIB_SAMPLES`` of them) cut from photos downscaled the way training makes LR images
(:func:`srgan_keras.data.degradation.make_lr_numpy`).

Every export writes into a temporary folder beside the destination and is renamed into place
only once it converted *and* its parity report ran, so a failure leaves nothing behind. The
report (PSNR of the exported output against the Keras output, max abs difference in grey levels,
file size, median latency) is printed and saved as ``<output>.parity.json``.

CLI::

    python -m srgan_keras.export --model run/generator.keras --to tflite --quantize int8 -o g.tflite
    python -m srgan_keras.export --model realesr --to saved_model -o realesr_savedmodel
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from srgan_keras.data.degradation import make_lr_numpy
from srgan_keras.data.imaging import (
    BUILTIN_TRAIN,
    BUILTIN_VAL,
    builtin_images,
    list_images,
    read_images,
)
from srgan_keras.data.ranges import pixels_to_unit, signed_to_unit, unit_to_pixels
from srgan_keras.errors import SrganKerasError
from srgan_keras.evaluation.metrics import evaluate_pair, psnr
from srgan_keras.startup import add_verbose_flag

if TYPE_CHECKING:  # Keras and TensorFlow are imported by the functions that use them, so --help is quick
    import keras

FORMATS = ("saved_model", "tflite", "onnx")  # onnx: optional extra, pip install -e .[onnx]
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
# Parity minimums of issue 4 (PSNR in dB of the exported output against the Keras output).
MIN_PSNR_DB = {"saved_model": 60.0, "onnx": 60.0, "none": 60.0, "float16": 45.0, "dynamic": 35.0,
               "int8": 28.0}
CALIB_CROP = 48  # our choice: LR crop side for int8 calibration (the paper trains on 24x24 LR)
CALIB_SAMPLES = 64  # our choice: small, so that int8 conversion stays fast on a CPU
CHECK_MAX_LR = 128  # our choice: parity images are centre crops of at most 128x128 LR pixels
LATENCY_SIZES = (128,)  # LR sides timed by the parity report (issue 4: "128x128 input")
LATENCY_RUNS = 5  # timed runs after one warm-up; the report gives their median
ONNX_OPSET = 17  # our choice: supported by current onnxruntime and by tf2onnx 1.17


class ExportError(SrganKerasError, ValueError):
    """A bad export request; the message is one sentence that says what to do."""


# ---------------------------------------------------------------------------------------------
# The generator and its in-graph range conversions


def keras_model_path(path_or_name: str | os.PathLike) -> Path:
    """The ``.keras`` file a ``--model`` names: a path, a bundled name (``realesr``, ``srresnet``,
    ``srgan``) or a zoo name (:func:`srgan_keras.inference.runners.resolve_model_path`); else
    ExportError.

    Only a ``.keras`` model is exported: the other kinds are exports already, ``bicubic`` is no
    network, and a ``.pth`` is converted first (the error names the command).
    """
    from srgan_keras.inference.runners import ModelNotFoundError, convert_hint, resolve_model_path

    if Path(path_or_name).suffix.lower() == ".keras":
        return Path(path_or_name)  # load_keras says it in one line if it is missing
    if str(path_or_name) == "bicubic":
        raise ExportError("--model bicubic is a resize, not a network: there is nothing to export")
    try:
        path = resolve_model_path(path_or_name)
    except ModelNotFoundError as e:
        raise ExportError(str(e)) from None
    if path.is_dir() or path.suffix.lower() != ".keras":
        raise ExportError(convert_hint(path) or (
            f"{path}: export takes a .keras generator (a path, or realesr, srresnet, srgan); "
            "a SavedModel, .tflite or .onnx file is an export already"))
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


def _spec(input_size: tuple[int, int] | None, dtype, name: str, batch: int | None = None):
    import tensorflow as tf

    h, w = input_size or (None, None)
    return tf.TensorSpec([batch, h, w, 3], dtype, name=name)


def _write_saved_model(model: keras.Model, path: Path, input_size, with_uint8: bool) -> None:
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
    the caller reports it as the one line of :func:`srgan_keras.data.files.write_failure`.
    """
    from srgan_keras.data.files import WRITE_ERRNOS

    message = str(e)
    for code in WRITE_ERRNOS:
        if os.strerror(code) in message:
            return OSError(code, os.strerror(code))
    return None


# ---------------------------------------------------------------------------------------------
# Images for calibration and parity checks


def _hr_images(source: str | os.PathLike | None,
               names: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 HR) pairs from a folder/file/glob; the built-in photos if ``source`` is None."""
    if source is None:
        return builtin_images(names)
    skipped: list[str] = []
    try:
        out = read_images(source, skipped)
    except FileNotFoundError as e:
        raise ExportError(f"{e} (looked for .png, .jpg, .bmp, .webp, .tif); point to a folder of "
                          "photos") from None
    if not out and len(skipped) == 1:  # the one file's own line is the error
        raise ExportError(skipped[0])
    for message in skipped:  # one line each, the other images still used
        print(f"skipped: {message}", file=sys.stderr)
    if not out:
        raise ExportError(f"{source}: none of the {len(skipped)} files could be read as an image")
    return out


def calibration_crops(source: str | os.PathLike | None, scale: int, crop: int = CALIB_CROP,
                      samples: int = CALIB_SAMPLES, seed: int = 0) -> list[np.ndarray]:
    """LR float32 (1, crop, crop, 3) crops in [0, 1] for int8 calibration, cycling over images."""
    rng = np.random.default_rng(seed)
    lrs = [make_lr_numpy(hr, scale) for _, hr in _hr_images(source, BUILTIN_TRAIN)]
    lrs = [lr for lr in lrs if min(lr.shape[:2]) >= 1]
    crops = []
    for i in range(samples):
        lr = lrs[i % len(lrs)]
        ch, cw = min(crop, lr.shape[0]), min(crop, lr.shape[1])
        y = rng.integers(0, lr.shape[0] - ch + 1)
        x = rng.integers(0, lr.shape[1] - cw + 1)
        crops.append(pixels_to_unit(lr[None, y : y + ch, x : x + cw]))
    return crops


def check_images(source: str | os.PathLike | None, scale: int, max_lr: int = CHECK_MAX_LR
                 ) -> list[dict]:
    """Parity images: ``{"name", "lr" float (H, W, 3) [0, 1], "hr" uint8 (sH, sW, 3)}``.

    Each HR photo (default: the built-in validation photos) is centre-cropped to at most
    ``max_lr * scale`` pixels a side, a multiple of ``scale``, then downscaled like training data.
    """
    out = []
    for name, hr in _hr_images(source, BUILTIN_VAL):
        h = min(hr.shape[0], max_lr * scale) // scale * scale
        w = min(hr.shape[1], max_lr * scale) // scale * scale
        if h == 0 or w == 0:
            continue
        y0, x0 = (hr.shape[0] - h) // 2, (hr.shape[1] - w) // 2
        hr = hr[y0 : y0 + h, x0 : x0 + w]
        out.append({"name": name, "lr": pixels_to_unit(make_lr_numpy(hr, scale)),
                    "hr": hr})
    if not out:
        raise ExportError(f"{source}: every image is smaller than the scale {scale}")
    return out


# ---------------------------------------------------------------------------------------------
# Exporters


@contextmanager
def _staged(path: Path, overwrite: bool, extra: Sequence[Path] = (),
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


def _model_files(model: keras.Model | str | os.PathLike) -> list[str | os.PathLike]:
    """The input file among ``model`` (a path or a bundled name), which no output may replace."""
    return [keras_model_path(model)] if isinstance(model, (str, os.PathLike)) else []


def _as_model(model: keras.Model | str | os.PathLike) -> keras.Model:
    import keras

    if isinstance(model, keras.Model):
        check_generator(model, source=model.name)
        return model
    return load_keras_generator(model)


def _parse_size(input_size) -> tuple[int, int] | None:
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
    inputs, model, path = _model_files(model), _as_model(model), Path(path)
    with _staged(path, overwrite, inputs=inputs) as staged:
        _write_saved_model(model, staged, _parse_size(input_size), with_uint8=True)
    return path


def tflite_bytes(model: keras.Model, quantize: str = "none",
                 calibration: str | os.PathLike | None = None,
                 input_size: tuple[int, int] | str | None = None,
                 work_dir: str | os.PathLike | None = None) -> bytes:
    """Convert ``model`` to a TFLite flatbuffer (see :func:`export_tflite`)."""
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ExportError(f"--quantize {quantize!r}: choose one of {', '.join(QUANTIZATIONS)}")
    size = _parse_size(input_size)
    scale = check_generator(model, source=model.name)
    crops = calibration_crops(calibration, scale) if quantize == "int8" else None
    with tempfile.TemporaryDirectory(prefix=".tflite-src.", dir=work_dir) as tmp:
        # The converter reads a SavedModel: variables are frozen and ops lowered from there.
        _write_saved_model(model, Path(tmp) / "float", size, with_uint8=False)
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
    inputs, model, path = _model_files(model), _as_model(model), Path(path)
    with _staged(path, overwrite, inputs=inputs) as staged:
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

    spec = _spec(_parse_size(input_size), tf.float32, "lr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto, _ = tf2onnx.convert.from_function(upscale_float, input_signature=[spec],
                                                 opset=ONNX_OPSET)
    return proto.SerializeToString()


def export_onnx(model: keras.Model | str | os.PathLike, path: str | os.PathLike,
                input_size: tuple[int, int] | str | None = None, overwrite: bool = False) -> Path:
    """Write an ``.onnx`` file (optional extra): float32 [0, 1] in, float32 [0, 1] out."""
    inputs, model, path = _model_files(model), _as_model(model), Path(path)
    with _staged(path, overwrite, inputs=inputs) as staged:
        staged.write_bytes(onnx_bytes(model, input_size))
    return path


# ---------------------------------------------------------------------------------------------
# Parity report


def _load_runner(path: Path, fmt: str | None = None):
    from srgan_keras.inference.exported import OnnxRunner, SavedModelRunner, TFLiteRunner

    runner = {"saved_model": SavedModelRunner, "onnx": OnnxRunner, "tflite": TFLiteRunner}
    return runner[fmt or _format_of(path)](path)


def _format_of(path: Path) -> str:
    return "saved_model" if path.is_dir() else "onnx" if path.suffix == ".onnx" else "tflite"


def _size_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def median_latency_ms(fn: Callable[[np.ndarray], np.ndarray], size: int,
                      runs: int = LATENCY_RUNS) -> float:
    """Median wall time of ``fn`` on one random ``size`` x ``size`` LR image, after a warm-up."""
    x = np.random.default_rng(0).random((1, size, size, 3), dtype=np.float32)
    fn(x)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.median(times))


def parity_report(keras_model: keras.Model, exported_path: str | os.PathLike,
                  images: Sequence, latency_sizes: Sequence[int] = LATENCY_SIZES,
                  kind: str | None = None, fmt: str | None = None) -> dict:
    """Compare an exported model with its Keras source on ``images``; returns a JSON-able dict.

    ``images``: LR arrays (H, W, 3) in [0, 1] (or uint8), or dicts from :func:`check_images`
    (then the PSNR-Y against HR of both models is reported too, border = scale, as evaluate).
    PSNR and max abs difference are measured on the unrounded outputs in grey levels (0..255).
    ``fmt`` (saved_model, tflite, onnx) defaults to what the path looks like; ``kind`` names the
    row of :data:`MIN_PSNR_DB` (the quantization for TFLite).
    """
    import tensorflow as tf

    path = Path(exported_path)
    fmt = fmt or _format_of(path)
    runner = _load_runner(path, fmt)
    keras_fn = tf.function(lambda x: unit_output(keras_model, x), reduce_retracing=True)

    def keras_run(x):
        return keras_fn(tf.constant(x)).numpy()

    rows = []
    for i, item in enumerate(images):
        item = item if isinstance(item, dict) else {"name": f"image{i}", "lr": item}
        lr = np.asarray(item["lr"])
        lr = pixels_to_unit(lr) if lr.dtype == np.uint8 else lr.astype(np.float32)
        ref, got = unit_to_pixels(keras_run(lr[None])[0]), unit_to_pixels(runner(lr[None])[0])
        row = {"name": item["name"], "lr_size": list(lr.shape[:2]),
               "psnr_vs_keras_db": psnr(got, ref),
               "max_abs_diff_grey": float(np.abs(got - ref).max())}
        if item.get("hr") is not None:
            border = runner.scale
            row["psnr_y_keras_db"] = evaluate_pair(np.round(ref), item["hr"], border)["psnr_y"]
            row["psnr_y_exported_db"] = evaluate_pair(np.round(got), item["hr"], border)["psnr_y"]
        rows.append(row)
    kind = kind or fmt
    report = {
        "path": str(path), "format": fmt, "kind": kind,
        "scale": runner.scale,
        "input_size": list(runner.fixed_size) if runner.fixed_size else "dynamic",
        "size_mb": _size_bytes(path) / 1e6,
        "psnr_vs_keras_db": float(np.mean([r["psnr_vs_keras_db"] for r in rows])),
        "min_psnr_vs_keras_db": float(min(r["psnr_vs_keras_db"] for r in rows)),
        "max_abs_diff_grey": float(max(r["max_abs_diff_grey"] for r in rows)),
        "required_psnr_db": MIN_PSNR_DB.get(kind),
    }
    if all("psnr_y_keras_db" in r for r in rows):
        report["psnr_y_vs_hr_keras_db"] = float(np.mean([r["psnr_y_keras_db"] for r in rows]))
        report["psnr_y_vs_hr_exported_db"] = float(np.mean([r["psnr_y_exported_db"] for r in rows]))
    report["latency_ms"] = {f"{s}x{s}": median_latency_ms(runner, s) for s in latency_sizes}
    report["keras_latency_ms"] = {f"{s}x{s}": median_latency_ms(keras_run, s)
                                  for s in latency_sizes}
    report["meets_minimum"] = (report["required_psnr_db"] is None
                               or report["min_psnr_vs_keras_db"] >= report["required_psnr_db"])
    report["images"] = rows
    report["tensorflow"] = tf.__version__
    return report


def _jsonable(x):
    """inf (identical outputs) is not JSON: write it as the string "inf"."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_jsonable(v) for v in x]
    return x


def report_path(output: str | os.PathLike) -> Path:
    """Where the parity JSON of ``output`` goes: beside it, ``<name>.parity.json``."""
    output = Path(output)
    return output.with_name(output.name + ".parity.json")


def format_report(r: dict) -> str:
    lat = ", ".join(f"{k} {v:.1f} ms" for k, v in r["latency_ms"].items())
    klat = ", ".join(f"{k} {v:.1f} ms" for k, v in r["keras_latency_ms"].items())
    lines = [
        f"exported  {r['path']}  ({r['kind']}, x{r['scale']}, input {r['input_size']})",
        f"size      {r['size_mb']:.2f} MB",
        f"parity    PSNR vs Keras {r['psnr_vs_keras_db']:.2f} dB (worst image "
        f"{r['min_psnr_vs_keras_db']:.2f}, minimum {r['required_psnr_db']}), "
        f"max abs diff {r['max_abs_diff_grey']:.2f} grey levels",
    ]
    if "psnr_y_vs_hr_keras_db" in r:
        lines.append(f"vs HR     PSNR-Y {r['psnr_y_vs_hr_exported_db']:.2f} dB exported, "
                     f"{r['psnr_y_vs_hr_keras_db']:.2f} dB Keras")
    lines.append(f"latency   {lat} (median; Keras {klat})")
    if not r["meets_minimum"]:
        lines.append("WARNING   below the parity minimum for this format")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# CLI


def export(model_path: str | os.PathLike, to: str, output: str | os.PathLike,
           quantize: str = "none", calibration: str | os.PathLike | None = None,
           input_size: str | tuple[int, int] | None = None,
           check_data: str | os.PathLike | None = None, overwrite: bool = False) -> dict:
    """The CLI's work: export, check parity on the staged file, then move both into place."""
    if to not in FORMATS:
        raise ExportError(f"--to {to!r}: choose one of {', '.join(FORMATS)}")
    if quantize not in QUANTIZATIONS:
        raise ExportError(f"--quantize {quantize!r}: choose one of {', '.join(QUANTIZATIONS)}")
    if to != "tflite" and quantize != "none":
        raise ExportError(f"--quantize applies to --to tflite only; {to} stays float32")
    if calibration is not None and quantize != "int8":
        raise ExportError("--calibration is used by --quantize int8 only")
    if calibration is not None and not list_images(calibration):
        raise ExportError(f"{calibration}: no images found for calibration "
                          "(looked for .png, .jpg, .bmp, .webp, .tif)")
    size = _parse_size(input_size)
    output = Path(output)
    json_path = report_path(output)
    model_path = keras_model_path(model_path)  # a bundled name -> its file, which is an input
    model = load_keras_generator(model_path)
    images = check_images(check_data, check_generator(model, source=str(model_path)))
    kind = quantize if to == "tflite" else to
    with _staged(output, overwrite, extra=[json_path], inputs=[model_path]) as staged:
        if to == "saved_model":
            _write_saved_model(model, staged, size, with_uint8=True)
        elif to == "onnx":
            staged.write_bytes(onnx_bytes(model, size))
        else:
            staged.write_bytes(tflite_bytes(model, quantize, calibration, size,
                                            work_dir=staged.parent))
        report = parity_report(model, staged, images, kind=kind, fmt=to)
        report["path"] = str(output)
        (staged.parent / json_path.name).write_text(json.dumps(_jsonable(report), indent=2) + "\n")
    return report


def build_parser() -> argparse.ArgumentParser:
    from srgan_keras.inference.zoo import add_list_models_flag

    p = argparse.ArgumentParser(
        prog="python -m srgan_keras.export",
        description="Export a trained generator to a SavedModel or TFLite file and check its "
                    "parity with the Keras model (report printed and saved beside the output).")
    add_verbose_flag(p)
    p.add_argument("--model", required=True,
                   help="the generator's .keras file, a bundled model (realesr, srresnet, srgan) "
                        "or a zoo name (RealESRGAN_x4plus, ...: downloaded on first use)")
    add_list_models_flag(p)
    p.add_argument("--to", required=True, choices=FORMATS, help="output format")
    p.add_argument("--quantize", default="none", choices=QUANTIZATIONS,
                   help="TFLite only: none (float32), float16, dynamic (int8 weights) or int8 "
                        "(full integer, calibrated)")
    p.add_argument("--calibration", default=None,
                   help="folder of photos for int8 calibration (default: built-in photos)")
    p.add_argument("--input-size", default=None, metavar="HxW",
                   help="fix the LR input size (default: any size)")
    p.add_argument("--check-data", default=None, metavar="DIR",
                   help="HR photos for the parity report (default: built-in photos)")
    p.add_argument("-o", "--output", required=True,
                   help="output path: a folder for saved_model, a .tflite / .onnx file otherwise")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = export(args.model, args.to, args.output, args.quantize, args.calibration,
                        args.input_size, args.check_data, args.overwrite)
    except SrganKerasError as e:  # the model, the check images, the output: one line
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(format_report(report))
    print(f"report    {report_path(args.output)}")
    return 0
