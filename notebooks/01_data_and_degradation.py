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
# # 1 · Data and degradation: HR crops, and how the LR image is made
#
# SRGAN learns from pairs (LR, HR) where the LR image is *made* from the HR one (paper §3.1: "bicubic kernel
# with downsampling factor r = 4"). How exactly it is made matters more than it seems: the field's numbers
# come from MATLAB's `imresize`, which **antialiases** when shrinking. This notebook measures what other
# choices do, then looks at the training batches: random crops (§3.2), augmentation, and paired folders.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from _course import DATA, setup

setup()

# %% [markdown]
# ### The library's LR: MATLAB-equivalent bicubic
#
# The whole library (training, validation, evaluation, export calibration) calls this one function:

# %%
import inspect

from srgan_keras.data import degradation

print(inspect.getsource(degradation.bicubic_downscale))

# %% [markdown]
# ### Three ways to shrink an image, and the bicubic baseline each gives on Set5
#
# For each Set5 image we make LR with (a) the library's antialiased bicubic, (b) `tf.image.resize`
# bicubic **without** antialias (what many TF repositories do), (c) nearest neighbour; then we upscale
# each LR with the same bicubic and score it with the paper's protocol (Y channel, 4-pixel border, see
# notebook 06). Only (a) reproduces the 28.43 dB of the paper's Table 2. A model trained on (b) or (c)
# learns to undo a *different* degradation and is then scored on (a): the mismatch costs real dB.

# %%
import tensorflow as tf

from srgan_keras.data.degradation import bicubic_downscale, bicubic_upscale, crop_to_multiple
from srgan_keras.data.imaging import load_rgb_uint8
from srgan_keras.evaluation.metrics import evaluate_pair


def shrink(hr, method, antialias):
    size = (hr.shape[0] // 4, hr.shape[1] // 4)
    lr = tf.image.resize(hr.astype(np.float32), size, method=method, antialias=antialias)
    return tf.clip_by_value(tf.round(lr), 0, 255).numpy()

methods = {
    "bicubic, antialiased (MATLAB; library)": lambda hr: bicubic_downscale(hr, 4).numpy(),
    "bicubic, no antialias": lambda hr: shrink(hr, "bicubic", False),
    "nearest": lambda hr: shrink(hr, "nearest", False),
}
set5 = {p.stem: crop_to_multiple(load_rgb_uint8(p), 4) for p in sorted((DATA / "Set5").glob("*.png"))}
results, lrs = {}, {}
for label, fn in methods.items():
    rows = []
    for name, hr in set5.items():
        lr = fn(hr)
        lrs[(label, name)] = lr.astype(np.uint8)
        up = bicubic_upscale(lr, 4).numpy()
        rows.append(evaluate_pair(up, hr, border=4))
    results[label] = {k: np.mean([r[k] for r in rows]) for k in ("psnr_y", "ssim_y")}
    print(f"{label:<40} PSNR {results[label]['psnr_y']:.2f} dB   SSIM {results[label]['ssim_y']:.4f}")

# %%
# Barbara's trousers and tablecloth: stripes a few HR pixels apart, the pattern aliasing hits first
barbara = crop_to_multiple(load_rgb_uint8(DATA / "Set14" / "barbara.png"), 4)
y, x, s = 424, 440, 96  # a 96x96 HR square of the striped trousers (24x24 LR pixels)
fig, axes = plt.subplots(1, 4, figsize=(12, 3.6))
axes[0].imshow(barbara[y:y + s, x:x + s], interpolation="nearest")
axes[0].set_title("HR, 96x96", fontsize=9)
for ax, label in zip(axes[1:], methods):
    lr = np.asarray(methods[label](barbara)).astype(np.uint8)[y // 4:(y + s) // 4, x // 4:(x + s) // 4]
    ax.imshow(lr, interpolation="nearest")
    ax.set_title(f"LR 24x24: {label}\n(Set5 baseline {results[label]['psnr_y']:.2f} dB)", fontsize=9)
for ax in axes:
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("Set14 barbara: one striped region shrunk x4 three ways (LR drawn with nearest pixels)",
             fontsize=10)
fig.tight_layout(rect=(0, 0, 1, 0.93))  # room for the suptitle above the two-line titles
plt.show()

# %% [markdown]
# Without antialiasing, a 4x bicubic shrink weighs only the 4 input pixels nearest each output pixel
# in each direction, out of the 16 MATLAB's stretched kernel reads: stripes finer than the LR grid
# cannot be represented, and instead of averaging to grey they **alias** into false, coarser stripes at
# other angles (compare the middle panels with the first LR). Nearest neighbour keeps one pixel in 16
# and aliases worst. A network trained on one of these LR kinds learns to undo *that* kind.
#
# ### Training batches: random HR crops, and their LR cut from the whole photo's LR
#
# §3.2: "For each mini-batch we crop 16 random 96x96 HR sub images of distinct training images".
# `training_dataset(cfg)` yields `(lr, hr, target)`: LR in [0, 1], HR in [-1, 1] (§3.2 scales the LR input
# to [0, 1] and the HR images to [-1, 1]); `target` is what the losses compare with (HR itself, unless
# Real-ESRGAN's sharpened ground truth is on).
#
# Where does the 24x24 LR come from? When the photos fit in memory, each one is downscaled **once, whole**,
# with the MATLAB-equivalent bicubic above: exactly the LR the evaluation makes. A training pair is then a
# 96x96 HR crop and the 24x24 LR crop at the matching place (HR offsets on multiples of 4). Downscaling the
# 96x96 crop by itself would be wrong near its edges: the antialiased kernel reaches 2 LR pixels inward, so
# about 30 % of the LR crop would be an extrapolation the network never meets at test time (the paired-folder
# cell at the end of this notebook measures that difference). Streamed folders (too large for memory),
# colour jitter and Real-ESRGAN's degradations make LR per crop. The choice, and the pair:

# %%
from srgan_keras.data import batches, pipeline, sources

print(inspect.getsource(sources.whole_image_lr))
print(inspect.getsource(pipeline.make_pair))

# %% [markdown]
# ⏱ *Loading the built-in photos (scikit-image's, no download) and one batch: a few seconds.*

# %%
from srgan_keras.data.pipeline import training_dataset
from srgan_keras.training.config import get_config

cfg = get_config("paper", batch_size=8)  # the paper's 96x96 crops; data="builtin"
lr, hr, target = next(iter(training_dataset(cfg)))
print("LR", lr.shape, f"[{float(tf.reduce_min(lr)):.2f}, {float(tf.reduce_max(lr)):.2f}]",
      "| HR", hr.shape, f"[{float(tf.reduce_min(hr)):.2f}, {float(tf.reduce_max(hr)):.2f}]")

def batch_figure(lr, hr, title):
    n = lr.shape[0]
    fig, axes = plt.subplots(2, n, figsize=(1.3 * n, 2.9))
    for i in range(n):
        axes[0, i].imshow((hr[i].numpy() + 1) / 2)
        axes[1, i].imshow(lr[i].numpy(), interpolation="nearest")
        for ax in axes[:, i]:
            ax.set_xticks([]), ax.set_yticks([])
    axes[0, 0].set_ylabel("HR 96x96", fontsize=8)
    axes[1, 0].set_ylabel("LR 24x24", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    plt.show()

batch_figure(lr, hr, "One training batch: random crops of distinct photos, flipped/rotated at random")

# %% [markdown]
# ### Augmentation
#
# Random horizontal flips and 90° rotations (the paper is silent on augmentation: **our choice**, as in most
# SR code since EDSR). The same transform is applied to HR and to a paired LR crop:

# %%
print(inspect.getsource(batches._augment_numpy))

# %% [markdown]
# Optional colour jitter (`--color-jitter`, **our option**, after seed 001): ±10 % brightness and saturation
# of the HR crop, before its LR is made from it (per crop, so LR and HR stay consistent). The dataset is seeded, so the same crops come out with and without it:

# %%
print(inspect.getsource(pipeline._color_jitter))
cfg_j = get_config("paper", batch_size=8, color_jitter=True)
lr_j, hr_j, _ = next(iter(training_dataset(cfg_j)))
batch_figure(lr_j, hr_j, "The same batch with --color-jitter (brightness and saturation ±10 %)")
print("mean |HR difference| caused by jitter:", float(tf.reduce_mean(tf.abs(hr_j - hr))) * 127.5, "grey levels")

# %% [markdown]
# ### Paired folders: your own LR images
#
# When LR images come from elsewhere (a camera, another degradation), put them in a second folder with the
# same file names: `--data HR_DIR --lr-data LR_DIR` (layouts: [data/README.md](../data/README.md)). Crops are
# then taken at matching positions. We build such a pair of folders in a temporary directory from Set5 and
# check that every LR crop is exactly the library's bicubic of its HR crop, i.e. the pairing is aligned.

# %%
import tempfile

from PIL import Image

from srgan_keras.data.degradation import make_lr_numpy

with tempfile.TemporaryDirectory() as tmp:
    (Path(tmp) / "HR").mkdir(), (Path(tmp) / "LR").mkdir()
    for name, img in set5.items():
        Image.fromarray(img).save(Path(tmp) / "HR" / f"{name}.png")
        Image.fromarray(make_lr_numpy(img, 4)).save(Path(tmp) / "LR" / f"{name}.png")
    cfg_p = get_config("paper", data=str(Path(tmp) / "HR"), lr_data=str(Path(tmp) / "LR"), batch_size=4)
    lr_p, hr_p, _ = next(iter(training_dataset(cfg_p)))
hr255 = tf.round((hr_p + 1) * 127.5)
err = tf.abs(bicubic_downscale(hr255, 4) - lr_p * 255).numpy()  # (4, 24, 24, 3) grey levels
print("paired batch", lr_p.shape, hr_p.shape)
print(f"|LR crop - bicubic(HR crop)|: max {err.max():.0f} grey levels over the whole crop, "
      f"{err[:, 3:-3, 3:-3].max():.0f} inside (3 LR pixels from the edges)")

# %% [markdown]
# Inside the crop they agree to the grey level: the pairs are aligned. At the crop's edges they differ,
# because the LR file was made from the *whole* image, whose antialiasing kernel (16 HR pixels wide at x4)
# saw pixels outside this crop, while the crop's own bicubic has to extrapolate there.
#
# **Real-ESRGAN's second-order degradations** (blur, resize, noise, JPEG, twice) are the other way to make
# LR images (`--degradation realesrgan`); [notebook 09](09_realesrgan.ipynb) shows them stage by
# stage.
#
# ### Exercises
#
# 1. *(recall)* In which ranges do the LR input and the HR target of a training batch live, and which
#    section of the paper says so?
# 2. *(understand)* MATLAB's bicubic kernel, stretched by 4 to antialias, is 16 HR pixels wide. How many
#    LR pixels at each edge of a 24x24 LR crop made from the 96x96 HR crop alone are affected by the
#    missing context? What fraction of the crop is that?
# 3. *(apply)* Measure the bicubic baseline on Set14 for the three shrinking methods (change `set5` to
#    load `DATA / "Set14"`). Does the ranking change?
# 4. *(experiment)* Train the `tiny` preset twice for 200 steps, once on the library's LR and once on LR
#    made without antialias (`shrink(hr, "bicubic", False)` in a paired folder, `--lr-data`), and
#    evaluate both on Set5. Which one wins, and why?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. LR in [0, 1], HR in [-1, 1] (§3.2); the first cell of the batch section prints both ranges.
# 2. The kernel reaches 8 HR pixels = 2 LR pixels beyond each output pixel's centre, so the outer 2 LR
#    pixels on each side see padding instead of image: (24² − 20²) / 24² ≈ 31 % of the crop.
# 3. The ranking stays (antialiased > no antialias > nearest): the baseline protocol is the same, only
#    the absolute numbers are lower, Set14 having more fine texture.
# 4. The model trained on the library's LR: the evaluation makes its LR the same way, so the other model
#    learned to undo a degradation it never meets at test time (it sharpens aliasing that is not there).
#
# </details>
#
# Next: [02 · the networks](02_networks.ipynb).
