"""Size, parity and latency of every export format (issue 4's table), on this machine.

    python benchmarks/bench_export.py                      # untrained paper SRResNet (B=16, 64)
    python benchmarks/bench_export.py --model run/generator.keras --set5 ../shared/data/Set5

Prints a markdown table: format, size MB, PSNR vs Keras (dB, built-in validation photos),
PSNR-Y against HR on Set5 (if given), median latency for 128x128 and 256x256 LR inputs.
An untrained model is fine for size and latency; its PSNR columns say little about a trained one.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from srgan_keras.evaluation.metrics import evaluate_pair
from srgan_keras.export.formats import QUANTIZATIONS, export_onnx, export_saved_model, export_tflite
from srgan_keras.export.generator import check_generator, load_keras_generator, unit_output
from srgan_keras.export.images import check_images
from srgan_keras.export.parity import load_runner, median_latency_ms, parity_report, size_bytes
from srgan_keras.nn.srresnet import build_srresnet


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help=".keras generator (default: untrained SRResNet)")
    p.add_argument("--set5", default=None, help="HR folder for the PSNR-Y column (e.g. Set5)")
    p.add_argument("--sizes", default="128,256", help="LR sides to time")
    p.add_argument("--runs", type=int, default=3, help="timed runs per size (median)")
    p.add_argument("--formats", default="keras,saved_model,onnx,none,float16,dynamic,int8")
    args = p.parse_args()

    if args.model:
        model = load_keras_generator(args.model)
    else:
        keras.utils.set_random_seed(0)
        model = build_srresnet()  # paper defaults: x4, 16 blocks, 64 filters
    scale = check_generator(model)
    sizes = [int(s) for s in args.sizes.split(",")]
    images = check_images(None, scale)
    set5 = check_images(args.set5, scale, max_lr=10_000) if args.set5 else None
    keras_fn = tf.function(lambda x: unit_output(model, x), reduce_retracing=True)

    def keras_run(x: np.ndarray) -> np.ndarray:
        return keras_fn(tf.constant(x)).numpy()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "g.keras"
        model.save(model_file)
        for fmt in args.formats.split(","):
            if fmt == "keras":
                path, run, psnr_k = model_file, keras_run, float("inf")
            else:
                path = Path(tmp) / {"saved_model": "sm", "onnx": "g.onnx"}.get(fmt, f"g_{fmt}.tflite")
                if fmt == "saved_model":
                    export_saved_model(model, path)
                elif fmt == "onnx":  # optional extra: pip install -e .[onnx]
                    export_onnx(model, path)
                else:
                    export_tflite(model, path, quantize=fmt)
                run = load_runner(path, "tflite" if fmt in QUANTIZATIONS else fmt)
                psnr_k = parity_report(model, path, images, latency_sizes=(), kind=fmt,
                                          fmt=None if fmt in QUANTIZATIONS else fmt
                                          )["psnr_vs_keras_db"]
            row = {"format": fmt, "size_mb": size_bytes(path) / 1e6, "psnr_vs_keras": psnr_k}
            if set5:
                vals = []
                for item in set5:
                    sr = np.round(run(item["lr"][None])[0] * 255.0)
                    vals.append(evaluate_pair(sr, item["hr"], scale)["psnr_y"])
                row["set5_psnr_y"] = float(np.mean(vals))
            for s in sizes:
                row[f"ms_{s}"] = median_latency_ms(run, s, runs=args.runs)
            rows.append(row)
            print(row, flush=True)

    cols = ["format", "size MB", "PSNR vs Keras (dB)"] + (["Set5 PSNR-Y (dB)"] if set5 else []) \
        + [f"median ms {s}x{s}" for s in sizes]
    print("\n| " + " | ".join(cols) + " |\n|" + " --- |" * len(cols))
    for r in rows:
        vals = [r["format"], f"{r['size_mb']:.2f}", f"{r['psnr_vs_keras']:.1f}"]
        vals += [f"{r['set5_psnr_y']:.2f}"] if set5 else []
        vals += [f"{r[f'ms_{s}']:.0f}" for s in sizes]
        print("| " + " | ".join(vals) + " |")


if __name__ == "__main__":
    main()
