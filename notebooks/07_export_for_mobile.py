# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7 · Export for serving and mobile: SavedModel, TFLite float16/int8, parity and latency
#
# Deployment is not in the paper (it stops at Fig. 4's generator). The library exports the generator with
# its value ranges converted *inside* the graph (§3.2's LR [0, 1] → SR [-1, 1] becomes pixels in, pixels
# out), and measures every export against the Keras model: PSNR of the exported output vs the Keras output,
# the largest grey-level difference, file size and median latency.

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import srgan_keras
from _course import DATA, FAST, setup, srresnet_model

setup()

# %% [markdown]
# ⏱ *The model: the bundled SRResNet if present, else the demo SRResNet of notebook 04 (trained here if
# missing: 4–5 minutes). With `SRGAN_FAST=1` the tiny fast-mode demo model is exported instead.*

# %%
import keras

import srgan_keras.nn.saving  # noqa: F401 -- registers our layers: keras.saving.load_model reads the file

bundled = Path("saved_models/srresnet_x4.keras")
# SRGAN_FAST=1 (CI): the tiny demo model of notebook 04 instead: the same steps, seconds instead of minutes
model_path = bundled if bundled.exists() and not FAST else srresnet_model()
model = keras.saving.load_model(model_path, safe_mode=True, compile=False)
print(f"{model_path}: {model.count_params():,} parameters")

# %% [markdown]
# ### SavedModel with an image-in/image-out signature
#
# `serving_default` takes uint8 (N, H, W, 3) and returns uint8 (N, 4H, 4W, 3): a serving stack in another
# language (TF Serving, C++, Java) feeds pixels and gets pixels back. `upscale_float` is the float [0, 1]
# version. ⏱ *about 10 s.*

# %%
import tempfile

import tensorflow as tf

from srgan_keras.export import formats, parity
from srgan_keras.export.images import check_images

tf.get_logger().setLevel("ERROR")  # TensorFlow's INFO lines name temporary folders
out = Path(tempfile.mkdtemp(prefix="srgan_export_"))  # not printed: a machine path
sm_path = formats.export_saved_model(model, out / "srresnet_savedmodel")
loaded = tf.saved_model.load(str(sm_path))
for name, fn in loaded.signatures.items():
    (arg, spec), = fn.structured_input_signature[1].items()
    print(f"{name:<16} input {arg}: {spec.dtype.name} {spec.shape} -> "
          + ", ".join(f"{k}: {v.dtype.name} {v.shape}" for k, v in fn.structured_outputs.items()))
lr_u8 = np.random.default_rng(0).integers(0, 256, (1, 20, 30, 3), dtype=np.uint8)
(sr_u8,) = loaded.signatures["serving_default"](tf.constant(lr_u8)).values()
print("uint8 (1, 20, 30, 3) ->", sr_u8.dtype.name, tuple(sr_u8.shape))

# %% [markdown]
# ### TFLite: float32, float16, dynamic-range int8, full int8
#
# * **float16**: weights stored as fp16 (half the file); needs `optimizations=[DEFAULT]` as well as
#   `supported_types=[tf.float16]`, or the converter silently keeps float32.
# * **dynamic**: int8 weights, float activations.
# * **int8**: weights *and* activations int8, calibrated on LR crops of photos made the way training makes
#   them (`calibration_crops`); int8 input and output.
#
# Every file keeps a dynamic H x W input. The parity report runs each on the built-in validation photos
# (centre crops, at most 128x128 LR) and times a 128x128 input with LiteRT (`ai_edge_litert`, XNNPACK).
# ⏱ *Without `SRGAN_FAST`: about 5 minutes on a quiet 2-core CPU (four conversions, each with its parity
# check: 51–109 s apiece in the committed run; int8 calibration is the slowest).*

# %%
images = check_images(None, scale=4)  # built-in validation photos: LR, HR
reports = {"saved_model": parity.parity_report(model, sm_path, images)}
for q in ("none", "float16", "dynamic", "int8"):
    t0 = time.perf_counter()
    path = formats.export_tflite(model, out / f"srresnet_{q}.tflite", quantize=q)
    reports[q] = parity.parity_report(model, path, images, kind=q)
    print(f"{q:<8} converted and checked in {time.perf_counter() - t0:.0f} s")

print(f"\n{'format':<12}{'size MB':>9}{'PSNR vs Keras':>15}{'required':>10}{'max diff':>10}"
      f"{'PSNR-Y vs HR':>14}{'latency 128² ms':>17}")
for name, r in reports.items():
    print(f"{name:<12}{r['size_mb']:>9.2f}{r['psnr_vs_keras_db']:>12.2f} dB{r['required_psnr_db']:>10}"
          f"{r['max_abs_diff_grey']:>10.2f}{r['psnr_y_vs_hr_exported_db']:>11.2f} dB"
          f"{r['latency_ms']['128x128']:>17.1f}")
r = reports["none"]
print(f"Keras model: PSNR-Y vs HR {r['psnr_y_vs_hr_keras_db']:.2f} dB, latency {r['keras_latency_ms']['128x128']:.1f} ms")

# %%
names = list(reports)
fig, axes = plt.subplots(1, 3, figsize=(11, 2.8))
axes[0].bar(names, [reports[n]["size_mb"] for n in names])
axes[0].set_ylabel("size (MB)"), axes[0].set_title("file size", fontsize=9)
psnrs = [min(reports[n]["psnr_vs_keras_db"], 100) for n in names]
axes[1].bar(names, psnrs)
axes[1].scatter(names, [reports[n]["required_psnr_db"] for n in names], color="red", marker="_", s=300,
                label="required minimum", zorder=3)
axes[1].set_ylabel("PSNR vs Keras output (dB)"), axes[1].set_title("parity (inf shown as 100)", fontsize=9)
axes[1].legend(fontsize=7)
axes[2].bar(names, [reports[n]["latency_ms"]["128x128"] for n in names])
axes[2].axhline(reports["none"]["keras_latency_ms"]["128x128"], color="grey", ls="--", label="Keras")
axes[2].set_ylabel("median latency (ms)"), axes[2].set_title("128x128 LR -> 512x512, this CPU", fontsize=9)
axes[2].legend(fontsize=7)
for ax in axes:
    ax.set_xlabel("format")
    ax.tick_params(axis="x", labelsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# Latencies are on this shared 2-core machine, not a phone: compare formats with each other, not with a
# device. On a phone the same files run through LiteRT's GPU or NPU delegates, where fp16 and int8 matter most.
#
# ### The exported files are models like any other
#
# `load_generator` (the loader of the upscale and evaluate CLIs) accepts a SavedModel folder and a `.tflite`
# file, with tiling included:

# %%
from srgan_keras.data.degradation import bicubic_upscale, crop_to_multiple, make_lr_numpy
from srgan_keras.data.imaging import load_rgb_uint8
from srgan_keras.evaluation.metrics import evaluate_pair
from srgan_keras.inference.runners import load_generator

hr = crop_to_multiple(load_rgb_uint8(DATA / "Set5" / "head.png"), 4)
lr = make_lr_numpy(hr, 4)
for q in ("none", "int8"):
    runner = load_generator(out / f"srresnet_{q}.tflite")
    sr = srgan_keras.upscale_image(lr, runner, tile=None, pre_pad=0)
    print(f"{q:<5} tflite on Set5 head: PSNR-Y {evaluate_pair(sr, hr, 4)['psnr_y']:.2f} dB "
          f"(bicubic {evaluate_pair(bicubic_upscale(lr, 4).numpy(), hr, 4)['psnr_y']:.2f})")

# %% [markdown]
# From the command line:
#
# ```bash
# python -m srgan_keras.export --model run/generator.keras --to tflite --quantize float16 -o srresnet_fp16.tflite
# python -m srgan_keras.evaluate --model srresnet_fp16.tflite --data ../shared/data/Set5
# ```

# %%
import shutil

shutil.rmtree(out)  # the exports were temporary

# %% [markdown]
# ### Exercises
#
# 1. *(recall)* Which two converter settings does a float16 TFLite file need, and what happens with only one?
# 2. *(understand)* Why does the int8 model need calibration images while the dynamic-range model does not?
# 3. *(apply)* Export the bundled SRGAN (`saved_models/srgan_x4.keras`) to float16 and check its parity with
#    `parity.parity_report`. Is the required PSNR met?
# 4. *(experiment)* Time the float16 file at 64x64, 128x128 and 256x256 LR with `load_generator`. Does the
#    latency grow with the number of pixels?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. `optimizations=[tf.lite.Optimize.DEFAULT]` and `target_spec.supported_types=[tf.float16]`; with the
#    second alone the file silently stays float32.
# 2. Int8 activations need a scale and zero point per tensor, fitted to the range of values real inputs
#    produce; dynamic range quantises only the weights, whose range is known from the file.
# 3. Yes: float16 weights change the output by well under a grey level, far above the required PSNR.
# 4. Nearly linearly in the number of pixels (4x per doubling of the side), plus a fixed overhead that
#    dominates at small sizes.
#
# </details>
#
# Next: [08 · ESRGAN](08_esrgan.ipynb), then [09 · Real-ESRGAN](09_realesrgan.ipynb).
