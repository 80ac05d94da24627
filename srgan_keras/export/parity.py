"""The parity report of an export: its outputs against the Keras model's, its size and latency.

PSNR of the exported output against the Keras output and the max abs difference in grey levels
(on the unrounded outputs), PSNR-Y of both against HR when the images have one, file size, median
latency; printed by the CLI and saved as ``<output>.parity.json``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from srgan_keras.data.ranges import pixels_to_unit, unit_to_pixels
from srgan_keras.evaluation.metrics import evaluate_pair, psnr
from srgan_keras.export.generator import unit_output

if TYPE_CHECKING:  # Keras and TensorFlow are imported by the functions that use them, so --help is quick
    import keras

# Parity minimums of issue 4 (PSNR in dB of the exported output against the Keras output).
MIN_PSNR_DB = {"saved_model": 60.0, "onnx": 60.0, "none": 60.0, "float16": 45.0, "dynamic": 35.0,
               "int8": 28.0}
LATENCY_SIZES = (128,)  # LR sides timed by the parity report (issue 4: "128x128 input")
LATENCY_RUNS = 5  # timed runs after one warm-up; the report gives their median


def load_runner(path: Path, fmt: str | None = None):
    from srgan_keras.inference.exported import OnnxRunner, SavedModelRunner, TFLiteRunner

    runner = {"saved_model": SavedModelRunner, "onnx": OnnxRunner, "tflite": TFLiteRunner}
    return runner[fmt or format_of(path)](path)


def format_of(path: Path) -> str:
    return "saved_model" if path.is_dir() else "onnx" if path.suffix == ".onnx" else "tflite"


def size_bytes(path: Path) -> int:
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
    fmt = fmt or format_of(path)
    runner = load_runner(path, fmt)
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
        "size_mb": size_bytes(path) / 1e6,
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


def jsonable(x):
    """inf (identical outputs) is not JSON: write it as the string "inf"."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [jsonable(v) for v in x]
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
