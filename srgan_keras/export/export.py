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

This module is the command; the rooms it walks through are :mod:`.generator` (find, load and
check the generator), :mod:`.images` (calibration crops, parity images), :mod:`.formats` (the
writers, staged) and :mod:`.parity` (the report).

CLI::

    python -m srgan_keras.export --model run/generator.keras --to tflite --quantize int8 -o g.tflite
    python -m srgan_keras.export --model realesr --to saved_model -o realesr_savedmodel
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

from srgan_keras.data.imaging import list_images
from srgan_keras.errors import command
from srgan_keras.export.formats import (
    FORMATS,
    QUANTIZATIONS,
    onnx_bytes,
    parse_size,
    staged_output,
    tflite_bytes,
    write_saved_model,
)
from srgan_keras.export.generator import (
    ExportError,
    check_generator,
    keras_model_path,
    load_keras_generator,
)
from srgan_keras.export.images import check_images
from srgan_keras.export.parity import format_report, jsonable, parity_report, report_path
from srgan_keras.startup import add_verbose_flag


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
    size = parse_size(input_size)
    output = Path(output)
    json_path = report_path(output)
    model_path = keras_model_path(model_path)  # a bundled name -> its file, which is an input
    model = load_keras_generator(model_path)
    images = check_images(check_data, check_generator(model, source=str(model_path)))
    kind = quantize if to == "tflite" else to
    with staged_output(output, overwrite, extra=[json_path], inputs=[model_path]) as staged:
        if to == "saved_model":
            write_saved_model(model, staged, size, with_uint8=True)
        elif to == "onnx":
            staged.write_bytes(onnx_bytes(model, size))
        else:
            staged.write_bytes(tflite_bytes(model, quantize, calibration, size,
                                            work_dir=staged.parent))
        report = parity_report(model, staged, images, kind=kind, fmt=to)
        report["path"] = str(output)
        (staged.parent / json_path.name).write_text(json.dumps(jsonable(report), indent=2) + "\n")
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


@command  # an ExportError (the model, the check images, the output) is its one line and 2
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report = export(args.model, args.to, args.output, args.quantize, args.calibration,
                    args.input_size, args.check_data, args.overwrite)
    print(format_report(report))
    print(f"report    {report_path(args.output)}")
    return 0
