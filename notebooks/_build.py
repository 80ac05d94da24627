# ruff: noqa: E501  (cell texts: long lines are notebook code and prose)
"""The course's cell texts, and how the .ipynb files are made from them (not library code).

    python notebooks/_build.py                 # write every notebook (no outputs)
    python notebooks/_build.py --execute 04    # write and execute notebooks whose name starts 04
    python notebooks/_build.py --markdown-only  # update the prose of executed notebooks only

``--execute`` runs a notebook in a fresh kernel (``SRGAN_FAST`` as in the environment), then
tidies its outputs for GitHub: progress-bar redraws are collapsed to their last state and
TensorFlow's start-up chatter on stderr is dropped. It prints the wall-clock time.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''\
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's C++ start-up messages
import matplotlib.pyplot as plt
import numpy as np

import srgan_keras

FAST = os.environ.get("SRGAN_FAST") == "1"  # CI sets SRGAN_FAST=1: training cells become tiny
REPO = Path(srgan_keras.__file__).resolve().parents[1]
if (REPO / "pyproject.toml").exists():
    os.chdir(REPO)  # work from the repository root, like the README's commands
DATA = Path("../shared/data")  # Set5, Set14, Urban100 beside the checkout (read-only, never copied)
RUNS = Path(os.environ.get("SRGAN_COURSE_RUNS", "saved_models/course")) / ("fast" if FAST else "full")
plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})
print(f"srgan_keras {srgan_keras.__version__} | FAST={FAST} | benchmark sets found: {DATA.exists()}")'''

# Extra training flags under SRGAN_FAST=1: a 2-block, 16-filter model, no XLA (compiling costs
# more than it saves for a few steps), one validation image.
TINY = '''\
TINY = ["--num-blocks", "2", "--num-filters", "16", "--disc-filters", "16", "--batch-size", "2",
        "--no-jit-compile", "--val-images", "1", "--log-every", "1"] if FAST else []'''

# The demo SRResNet: trained by notebook 00 (or 04, whichever runs first; the other resumes and
# finishes at once), reused by 05, 06 and 07 (trained there if missing).
SRRESNET_RUN = '''\
from srgan_keras import train

# The README's demo pre-training: the preset's own schedule (1,000 steps), GAN phase left to
# notebook 05; validation every 100 steps instead of 250, for the curves of notebook 04.
SRRESNET_ARGS = ["--preset", "demo", "--out", str(RUNS / "srresnet"), "--gan-steps", "0",
                 "--val-every", "2" if FAST else "100", *(["--pretrain-steps", "6"] if FAST else []),
                 *TINY]

def srresnet_model() -> Path:
    """The demo SRResNet of notebooks 00 and 04; trained here (same command) if it is not there yet."""
    path = RUNS / "srresnet" / "generator.keras"
    if not path.exists():
        assert train.main(SRRESNET_ARGS) == 0
    return path'''

SRGAN_RUN = '''\
def srgan_args(init_from: Path) -> list[str]:
    return ["--preset", "demo", "--out", str(RUNS / "srgan"), "--phase", "gan",
            "--init-from", str(init_from), "--gan-steps", "4" if FAST else "120", "--gan-lr", "1e-4",
            "--val-every", "2" if FAST else "40", "--ckpt-every", "100", *TINY]

def srgan_model() -> Path:
    """Notebook 05's SRGAN; trained here (same command) if it is not there yet."""
    path = RUNS / "srgan" / "generator.keras"
    if not path.exists():
        assert train.main(srgan_args(srresnet_model())) == 0
    return path'''

SHOW = '''\
from srgan_keras.evaluate import detail_box

def show_row(panels: dict, hr: np.ndarray, title: str, zoom: float = 0.2):
    """Images of HR size side by side, each with the same zoomed inset (the HR's busiest square)."""
    by, bx, side = detail_box(hr, zoom)
    h, w = hr.shape[:2]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.6 * h / w + 0.5))
    for ax, (name, img) in zip(np.atleast_1d(axes), panels.items()):
        ax.imshow(img, interpolation="nearest", extent=(0, w, h, 0))
        ax.set_title(name, fontsize=8)
        ax.set_xticks([]), ax.set_yticks([])
        inset = ax.inset_axes([0.55, 0.0, 0.45, 0.45])
        inset.imshow(img, interpolation="nearest", extent=(0, w, h, 0))
        inset.set_xlim(bx, bx + side), inset.set_ylim(by + side, by)
        inset.set_xticks([]), inset.set_yticks([])
        ax.indicate_inset_zoom(inset, edgecolor="red")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    plt.show()'''

NB: dict[str, list[tuple[str, str]]] = {}


def md(text: str) -> tuple[str, str]:
    return ("md", text.strip("\n"))


def code(text: str) -> tuple[str, str]:
    return ("code", text.strip("\n"))


# =============================================================================================
NB["00_quickstart"] = [
    md("""
# 0 · Quickstart: upscale a photo, bicubic vs SRGAN

SRGAN (Ledig et al., CVPR 2017) makes a 4x larger image from a small one. This notebook upscales a
photo with a trained generator, puts it beside bicubic interpolation, and asks what PSNR says and what
the eye says. Every later notebook opens one part of this pipeline.

**The model.** `saved_models/srresnet_x4.keras` is the bundled SRResNet: the paper's network (Fig. 4),
trained by this library on the 100 photos of Urban100 for 30,000 steps on a 2-core CPU (4.1 hours;
`saved_models/MODEL_CARD.md` gives the recipe and where it departs from the paper's). It measures
30.80 dB on Set5, 2.37 dB above bicubic; the paper's SRResNet, trained for 10^6 steps on
ImageNet, 32.05 dB. In a checkout without it, this notebook trains the README's **demo** SRResNet
itself: the `demo` preset's pre-training, 1,000 steps (8 residual blocks and a global bicubic residual instead of the paper's 16
blocks, learning rate 1e-3 with warm-up and cosine decay instead of the paper's 1e-4; see the README's
demo section). That is 1/1000 of the paper's 10^6 steps: the demo network starts *exactly* at bicubic
(notebook 04 explains why) and in a few minutes learns a correction worth about 1.7 dB on Set5. Notebook
04 trains this very run (same folder, same command; when this notebook trained it, 04 resumes and
finishes at once) and 05 starts the GAN phase from it.
"""),
    code(SETUP),
    code(TINY),
    code(SRRESNET_RUN),
    md("""
### A generator: bundled, or trained now

⏱ *With the bundled model: a second. Without it, and without `SRGAN_FAST`: about 4–5 minutes on a quiet 2-core CPU (1,000 demo steps with XLA at about
4 steps/s, plus validation every 100 steps; 4.4 minutes in the committed run, longer when other jobs
share the cores); with `SRGAN_FAST=1`: a few seconds (a tiny model, 6 steps). A second run of
the cell — or notebook 04's — resumes from the run folder's checkpoint and finishes at once.*
"""),
    code('''
from srgan_keras.inference import load_generator

BUNDLED = Path("saved_models/srresnet_x4.keras")
t0 = time.perf_counter()
if BUNDLED.exists():
    model_path = BUNDLED
    print(f"using the bundled model {model_path}")
else:
    print("no bundled model here: training the demo SRResNet (the README's demo preset, pre-training)")
    rc = train.main(SRRESNET_ARGS)  # = python -m srgan_keras.train --preset demo --gan-steps 0 ...
    assert rc == 0, f"training failed with exit code {rc}"
    model_path = RUNS / "srresnet" / "generator.keras"
print(f"model ready in {time.perf_counter() - t0:.0f} s")
runner = load_generator(model_path)  # LR [0, 1] -> SR [0, 1]; the same loader the CLIs use
print(f"runner {runner.name!r}, scale x{runner.scale}")
'''),
    md("""
### Upscale one image

We take the *butterfly* of Set5, make its low-resolution (LR) version exactly as the paper does
(bicubic x1/4, §3.1), and upscale it back two ways: bicubic interpolation, and the generator through
`srgan_keras.upscale_image` (the function behind `python -m srgan_keras.upscale`; it tiles large images).
"""),
    code(SHOW),
    code('''
from srgan_keras.degradation import bicubic_upscale, crop_to_multiple, make_lr_numpy
from srgan_keras.imaging import load_rgb_uint8
from srgan_keras.metrics import evaluate_pair

hr = crop_to_multiple(load_rgb_uint8(DATA / "Set5" / "butterfly.png"), 4)  # (256, 256, 3) uint8
lr = make_lr_numpy(hr, 4)                                                 # (64, 64, 3) uint8
bic = bicubic_upscale(lr, 4).numpy().astype(np.uint8)
sr = srgan_keras.upscale_image(lr, runner)                                # (256, 256, 3) uint8
m_bic, m_sr = evaluate_pair(bic, hr, border=4), evaluate_pair(sr, hr, border=4)
show_row({"LR 64x64 (nearest)": np.repeat(np.repeat(lr, 4, 0), 4, 1),
          f"bicubic  {m_bic['psnr_y']:.2f} dB": bic,
          f"{runner.name}  {m_sr['psnr_y']:.2f} dB": sr,
          "HR (original)": hr}, hr, "Set5 butterfly x4 (PSNR on Y, border 4)")
'''),
    md("""
### What PSNR says and what the eye says

PSNR (peak signal-to-noise ratio) compares pixel by pixel: $\\mathrm{PSNR} = 10 \\log_{10}(255^2 / \\mathrm{MSE})$.
It rewards the *average* of all plausible answers, which is smooth. Two quick experiments show how
little it knows about what looks right:

* the HR image **shifted by one pixel** looks exactly like the original, yet scores far below bicubic;
* a **blurred** HR image and a **noisy** one can have the same PSNR and look completely different.

This is why the paper adds a perceptual loss and a mean-opinion-score study (§3.4, Table 1):
SRGAN's images score *lower* PSNR than SRResNet's and look better.
"""),
    code('''
import tensorflow as tf

shifted = np.roll(hr, 1, axis=1)
blurred = tf.image.resize(tf.image.resize(hr[None].astype(np.float32), (128, 128), "area"),
                          (256, 256), "bilinear")[0].numpy().round().clip(0, 255).astype(np.uint8)
noise = np.random.default_rng(0).normal(0, 1, hr.shape[:2])[..., None]  # grey noise, std 1

def with_noise(sigma):
    return (hr + sigma * noise).round().clip(0, 255).astype(np.uint8)

target, sigma = evaluate_pair(blurred, hr, border=4)["psnr_y"], 10.0
for _ in range(4):  # scale the noise until its PSNR equals the blurred image's
    sigma *= 10 ** ((evaluate_pair(with_noise(sigma), hr, border=4)["psnr_y"] - target) / 20)
noisy = with_noise(sigma)
panels = {"HR": hr, "shifted 1 px": shifted, "blurred": blurred, "noisy": noisy}
scores = {k: evaluate_pair(v, hr, border=4)["psnr_y"] for k, v in panels.items()}
show_row({f"{k}  {scores[k]:.1f} dB" if np.isfinite(scores[k]) else f"{k}  (inf dB)": v
          for k, v in panels.items()},
         hr, "Same pixels, different PSNR: the eye and the metric disagree")
print({k: round(v, 2) for k, v in scores.items()}, "| bicubic:", round(m_bic["psnr_y"], 2))
'''),
    md("""
### The whole of Set5, as in the paper's Table 2

`evaluate_folder` is the Python side of `python -m srgan_keras.evaluate`; it prints a bicubic row beside
the model's. The paper reports bicubic 28.43 dB on Set5 x4; our bicubic row reproduces it. A model that
has learned something sits above it: the bundled SRResNet, 2.37 dB above (30.80 dB, the table
below); the demo run of a checkout without it, 1.7 dB above (30.12 dB); the paper's SRResNet, after
10^6 steps on a GPU, 3.6 dB above (32.05 dB).
"""),
    code('''
from srgan_keras.evaluate import evaluate_folder, format_table

report = evaluate_folder(runner, DATA / "Set5")
print(format_table(report))
'''),
    md("""
### From the command line

```bash
python -m srgan_keras.upscale photo.jpg -o upscaled/              # the bundled SRResNet
python -m srgan_keras.upscale photo.jpg --model srgan -o upscaled/ # the bundled SRGAN-MSE
python -m srgan_keras.evaluate --model bicubic --data ../shared/data/Set5
python -m srgan_keras.train            # the full demo run (pre-training, then a short GAN phase)
```

Next: [01 · data and degradation](01_data_and_degradation.ipynb).
"""),
]

# =============================================================================================
NB["01_data_and_degradation"] = [
    md("""
# 1 · Data and degradation: HR crops, and how the LR image is made

SRGAN learns from pairs (LR, HR) where the LR image is *made* from the HR one (paper §3.1: "bicubic kernel
with downsampling factor r = 4"). How exactly it is made matters more than it seems: the field's numbers
come from MATLAB's `imresize`, which **antialiases** when shrinking. This notebook measures what other
choices do, then looks at the training batches: random crops (§3.2), augmentation, and paired folders.
"""),
    code(SETUP),
    md("""
### The library's LR: MATLAB-equivalent bicubic

The whole library (training, validation, evaluation, export calibration) calls this one function:
"""),
    code('''
import inspect

from srgan_keras import degradation

print(inspect.getsource(degradation.bicubic_downscale))
'''),
    md("""
### Three ways to shrink an image, and the bicubic baseline each gives on Set5

For each Set5 image we make LR with (a) the library's antialiased bicubic, (b) `tf.image.resize`
bicubic **without** antialias (what many TF repositories do), (c) nearest neighbour; then we upscale
each LR with the same bicubic and score it with the paper's protocol (Y channel, 4-pixel border, see
notebook 06). Only (a) reproduces the 28.43 dB of the paper's Table 2. A model trained on (b) or (c)
learns to undo a *different* degradation and is then scored on (a): the mismatch costs real dB.
"""),
    code('''
import tensorflow as tf

from srgan_keras.degradation import bicubic_downscale, bicubic_upscale, crop_to_multiple
from srgan_keras.imaging import load_rgb_uint8
from srgan_keras.metrics import evaluate_pair

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
'''),
    code('''
name = "baby"
hr = set5[name]
y, x, s = 150, 190, 96  # an eye: fine detail
fig, axes = plt.subplots(1, 4, figsize=(10, 2.9))
axes[0].imshow(hr[y:y + s, x:x + s])
axes[0].set_title("HR crop", fontsize=8)
for ax, label in zip(axes[1:], methods):
    lr = lrs[(label, name)]
    ax.imshow(lr[y // 4:(y + s) // 4, x // 4:(x + s) // 4], interpolation="nearest")
    ax.set_title(f"LR: {label}\\nbaseline {results[label]['psnr_y']:.2f} dB", fontsize=8)
for ax in axes:
    ax.set_xlabel("x (pixels of that image)")
axes[0].set_ylabel("y")
fig.suptitle("Set5 baby, 96x96 HR region and its 24x24 LR made three ways", fontsize=9)
fig.tight_layout()
plt.show()
'''),
    md("""
Without antialiasing, a 4x bicubic shrink reads only 4 of every 16 pixels in each direction:
fine patterns alias into false textures (visible in the eyelashes), and the LR is sharper and noisier
than MATLAB's. Nearest neighbour keeps one pixel in 16.

### Training batches: random HR crops, and their LR cut from the whole photo's LR

§3.2: "For each mini-batch we crop 16 random 96x96 HR sub images of distinct training images".
`training_dataset(cfg)` yields `(lr, hr, target)`: LR in [0, 1], HR in [-1, 1] (§3.2 scales the LR input
to [0, 1] and the HR images to [-1, 1]); `target` is what the losses compare with (HR itself, unless
Real-ESRGAN's sharpened ground truth is on).

Where does the 24x24 LR come from? When the photos fit in memory, each one is downscaled **once, whole**,
with the MATLAB-equivalent bicubic above: exactly the LR the evaluation makes. A training pair is then a
96x96 HR crop and the 24x24 LR crop at the matching place (HR offsets on multiples of 4). Downscaling the
96x96 crop by itself would be wrong near its edges: the antialiased kernel reaches 2 LR pixels inward, so
about 30 % of the LR crop would be an extrapolation the network never meets at test time (the paired-folder
cell at the end of this notebook measures that difference). Streamed folders (too large for memory),
colour jitter and Real-ESRGAN's degradations make LR per crop. The choice, and the pair:
"""),
    code('''
from srgan_keras import data

print(inspect.getsource(data.whole_image_lr))
print(inspect.getsource(data.make_pair))
'''),
    md("""
⏱ *Loading the built-in photos (scikit-image's, no download) and one batch: a few seconds.*
"""),
    code('''
from srgan_keras.config import get_config
from srgan_keras.data import training_dataset

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
'''),
    md("""
### Augmentation

Random horizontal flips and 90° rotations (the paper is silent on augmentation: **our choice**, as in most
SR code since EDSR). The same transform is applied to HR and to a paired LR crop:
"""),
    code('''
print(inspect.getsource(data._augment_numpy))
'''),
    md("""
Optional colour jitter (`--color-jitter`, **our option**, after seed 001): ±10 % brightness and saturation
of the HR crop, before its LR is made from it (per crop, so LR and HR stay consistent). The dataset is seeded, so the same crops come out with and without it:
"""),
    code('''
cfg_j = get_config("paper", batch_size=8, color_jitter=True)
lr_j, hr_j, _ = next(iter(training_dataset(cfg_j)))
batch_figure(lr_j, hr_j, "The same batch with --color-jitter (brightness and saturation ±10 %)")
print("mean |HR difference| caused by jitter:", float(tf.reduce_mean(tf.abs(hr_j - hr))) * 127.5, "grey levels")
'''),
    md("""
### Paired folders: your own LR images

When LR images come from elsewhere (a camera, another degradation), put them in a second folder with the
same file names: `--data HR_DIR --lr-data LR_DIR` (layouts: [data/README.md](../data/README.md)). Crops are
then taken at matching positions. We build such a pair of folders in a temporary directory from Set5 and
check that every LR crop is exactly the library's bicubic of its HR crop, i.e. the pairing is aligned.
"""),
    code('''
import tempfile

from PIL import Image

from srgan_keras.degradation import make_lr_numpy

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
'''),
    md("""
Inside the crop they agree to the grey level: the pairs are aligned. At the crop's edges they differ,
because the LR file was made from the *whole* image, whose antialiasing kernel (16 HR pixels wide at x4)
saw pixels outside this crop, while the crop's own bicubic has to extrapolate there.

**Real-ESRGAN's second-order degradations** (blur, resize, noise, JPEG, twice) are the other way to make
LR images (`--degradation realesrgan`); [notebook 08](08_esrgan_and_realesrgan.ipynb) shows them stage by
stage.

Next: [02 · the networks](02_networks.ipynb).
"""),
]

# =============================================================================================
NB["02_networks"] = [
    md("""
# 2 · The networks of Fig. 4: SRResNet and the discriminator

The paper's Figure 4 draws both networks. Notation: `k9n64s1` is a convolution with a 9x9 kernel, 64
filters, stride 1. This notebook builds them with the library, counts their parameters, measures the
generator's receptive field, opens the pixel shuffle, and compares three upsamplers for checkerboard
artefacts.
"""),
    code(SETUP),
    md("""
### The generator (Fig. 4, top)

`k9n64s1` + PReLU; B = 16 residual blocks `[k3n64s1, BN, PReLU, k3n64s1, BN] + skip`; `k3n64s1` + BN + the
long skip; two x2 sub-pixel blocks `[k3n256s1, PixelShuffle x2, PReLU]`; `k9n3s1`. The final `tanh` (output
in [-1, 1]) is **our choice**: the paper does not name the output activation.
"""),
    code('''
import inspect

from srgan_keras import build_discriminator, build_srresnet, generator

print(inspect.getsource(generator.residual_block))
print(inspect.getsource(generator.upsample_block).split('    """')[0] + "    ...")
'''),
    code('''
G = build_srresnet()  # the paper's defaults: scale 4, B=16, 64 filters, pixel shuffle
print(f"SRResNet parameters: {G.count_params():,} (trainable {sum(int(np.prod(w.shape)) for w in G.trainable_weights):,})")
for layer in G.layers:  # every layer outside blocks 1..15 (they repeat block0)
    if layer.name.startswith("block") and not layer.name.startswith("block0_"):
        continue
    print(f"  {layer.name:<16} {str(layer.output.shape):<22} {layer.count_params():>9,}")
'''),
    md("""
1,550,659 trainable parameters: PReLU learns one slope per channel, shared over height and width
(`shared_axes=[1, 2]`); the 256 batch-norm moving statistics per block are not trainable.

`BatchNormalization` and `PReLU` in the code above come from `srgan_keras.layers`: they *are* Keras' layers
(same weights, same config, same numbers; a checkpoint of one loads into the other), with a faster training
step. Keras 3 writes batch norm as `moments` plus a dozen elementwise ops and PReLU as `relu(x) - alpha *
relu(-x)`; ours call TensorFlow's fused batch-norm kernel and a single `where`. On the paper's step (batch
16, 96 px, 2 CPU cores) that took 0.78 s down to about 0.66 s ([BENCHMARKS.md](../BENCHMARKS.md)). The
tests compare values, gradients and moving statistics with Keras' own layers:
"""),
    code('''
import keras
import tensorflow as tf

from srgan_keras.layers import BatchNormalization, PReLU

x = tf.random.normal((4, 12, 12, 8), seed=1)
for ours, theirs in ((BatchNormalization(), keras.layers.BatchNormalization()),
                     (PReLU(shared_axes=[1, 2]), keras.layers.PReLU(shared_axes=[1, 2]))):
    ours.build(x.shape), theirs.build(x.shape)
    for a, b in zip(ours.weights, theirs.weights):
        a.assign(b)  # same starting weights
    diff = float(tf.reduce_max(tf.abs(ours(x, training=True) - theirs(x, training=True))))
    print(f"{type(ours).__name__:<20} is a keras.layers.{type(theirs).__name__}: "
          f"{isinstance(ours, type(theirs))};  max |difference| in training mode: {diff:.1e}")
'''),
    md("""

### The discriminator (Fig. 4, bottom)

Eight 3x3 convolutions, 64 → 512 filters, stride 2 whenever the count doubles, LeakyReLU(0.2), BN everywhere
but the first; then Dense(1024), LeakyReLU, Dense(1). It returns **logits**: the sigmoid of Fig. 4 is
inside the loss (`from_logits`), the same function computed more stably.
"""),
    code('''
D = build_discriminator(96)
print(f"discriminator parameters at 96x96: {D.count_params():,} (trainable "
      f"{sum(int(np.prod(w.shape)) for w in D.trainable_weights):,})")
for layer in D.layers:
    if layer.name.startswith(("conv", "dense", "logits", "flatten")):
        print(f"  {layer.name:<10} {str(layer.output.shape):<22} {layer.count_params():>11,}")
'''),
    code('''
def groups(model, rules):
    out = {}
    for layer in model.layers:
        key = next((g for g, f in rules if f(layer.name)), "other")
        out[key] = out.get(key, 0) + sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
    return out

g = groups(G, [("head k9", lambda n: n.startswith("head")), ("16 residual blocks", lambda n: n.startswith("block")),
               ("body + skip", lambda n: n.startswith("body")), ("2 x2 upsamplers", lambda n: n.startswith("up")),
               ("tail k9", lambda n: n.startswith("tail"))])
d = groups(D, [("8 convs + BN", lambda n: n.startswith(("conv", "bn"))), ("Dense(1024)", lambda n: n == "dense1024"),
               ("Dense(1)", lambda n: n == "logits")])
fig, axes = plt.subplots(1, 2, figsize=(10, 2.6))
for ax, (title, parts) in zip(axes, [("SRResNet (1.55 M)", g), ("discriminator at 96x96 (23.6 M)", d)]):
    ax.barh(list(parts), [v / 1e6 for v in parts.values()], color="tab:blue")
    ax.set_xlabel("trainable parameters (millions)")
    ax.set_title(title)
    ax.invert_yaxis()
fig.tight_layout()
plt.show()
'''),
    md("""
Most of the discriminator is its first dense layer: 6x6x512 = 18,432 inputs x 1024 at 96x96. That is
also why it accepts only the size it was built for; the generator is fully convolutional and takes any size.

### Receptive field of the generator

How many LR pixels can one output pixel see? Count it: the 9x9 head (radius 4), 33 3x3 convolutions at LR
resolution (16 blocks x 2 + body: 33), one 3x3 before the first shuffle (1), one at 2x (0.5 LR pixels), the
9x9 tail at 4x (1): a radius of about 39.5 LR pixels, an 80x80 window. We measure it: the gradient of one
output pixel with respect to the input is non-zero exactly where that pixel looks.
⏱ *a few seconds.*
"""),
    code('''
import tensorflow as tf

x = tf.Variable(tf.random.uniform((1, 128, 128, 3), seed=0))
with tf.GradientTape() as tape:
    y = G(x, training=False)
    pixel = tf.reduce_sum(y[0, 256, 256])  # one output pixel, the centre (LR position 64, 64)
grad = tf.reduce_sum(tf.abs(tape.gradient(pixel, x)[0]), axis=-1).numpy()
ys, xs = np.nonzero(grad)
print(f"non-zero gradient rows {ys.min()}..{ys.max()}, columns {xs.min()}..{xs.max()} "
      f"-> receptive field {ys.max() - ys.min() + 1} x {xs.max() - xs.min() + 1} LR pixels")
fig, ax = plt.subplots(figsize=(3.8, 3.2))
im = ax.imshow(np.log10(grad + 1e-12), cmap="magma", vmin=np.log10(grad.max()) - 8)
ax.set_title("log10 |d output(256,256) / d input|", fontsize=8)
ax.set_xlabel("LR x (pixels)"), ax.set_ylabel("LR y (pixels)")
fig.colorbar(im, ax=ax)
plt.show()
'''),
    md("""
The tiled upscaler and the evaluator use this number: tiles with 40 LR pixels of context
(`srgan_keras.evaluate.EVAL_OVERLAP`) give exactly the whole-image result.

### What pixel shuffle does to a tensor

Sub-pixel convolution (Shi et al. 2016): a convolution makes r² = 4 times the channels at low resolution, and
`PixelShuffle(2)` rearranges each pixel's 4 channel groups into a 2x2 block. Below, a (1, 2, 2, 4) tensor
whose values name (channel, pixel) becomes (1, 4, 4, 1); colours mark the channel each output value came from.
"""),
    code('''
from srgan_keras.layers import PixelShuffle

print(inspect.getsource(PixelShuffle.call))
t = np.zeros((1, 2, 2, 4), np.float32)
for yy in range(2):
    for xx in range(2):
        for c in range(4):
            t[0, yy, xx, c] = 10 * c + (2 * yy + xx)  # tens digit = channel, units = input pixel
out = PixelShuffle(2)(t).numpy()[0, :, :, 0]
print("input", t.shape, "-> output", out.shape)

fig, axes = plt.subplots(1, 5, figsize=(10, 2.3), gridspec_kw={"width_ratios": [1, 1, 1, 1, 2]})
cmap = plt.get_cmap("tab10")
for c in range(4):
    axes[c].imshow(np.full((2, 2, 3), cmap(c)[:3]), alpha=0.5)
    for yy in range(2):
        for xx in range(2):
            axes[c].text(xx, yy, f"{int(t[0, yy, xx, c])}", ha="center", va="center")
    axes[c].set_title(f"input channel {c}", fontsize=8)
colours = np.array([[cmap(int(v) // 10)[:3] for v in row] for row in out])
axes[4].imshow(colours, alpha=0.5)
for yy in range(4):
    for xx in range(4):
        axes[4].text(xx, yy, f"{int(out[yy, xx]):02d}", ha="center", va="center")
axes[4].set_title("PixelShuffle(2) output (4x4, 1 channel)", fontsize=8)
for ax in axes:
    ax.set_xlabel("x"), ax.set_ylabel("y")
    ax.set_xticks(range(ax.get_images()[0].get_array().shape[1])), ax.set_yticks(range(ax.get_images()[0].get_array().shape[0]))
fig.tight_layout()
plt.show()
'''),
    md("""
Each 2x2 output block is one input pixel; within it, position (i, j) is channel i·2 + j. (TensorFlow's
`depth_to_space` order; PyTorch's `PixelShuffle` orders channels differently, which matters only when
loading PyTorch weights, see `convert.py`.)

### Checkerboard artefacts: transposed convolution vs pixel shuffle vs nearest + conv

Odena et al. (2016) traced the checkerboard patterns of many generators to the upsampling layer. Feed a
**flat grey** image to three untrained generators that differ only in the upsampler (`build_srresnet(upsampler=...)`,
2 blocks) and look at the output minus its mean: pixel shuffle and transposed convolution compute each of
the r x r output phases with *different* weights, so even a flat input comes out with a periodic pattern
(period 2 per x2 step, 4 after two); nearest + conv computes every phase with the same weights and stays flat.
Training can learn to hide the pattern, but has to; ICNR initialisation (Aitken et al. 2017) starts pixel
shuffle without it (not used here: the paper's initialisation is the default).
"""),
    code('''
flat = np.full((1, 32, 32, 3), 0.5, np.float32)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, kind in zip(axes, ("transpose", "pixel_shuffle", "nearest_conv")):
    tf.keras.utils.set_random_seed(1)
    model = build_srresnet(num_blocks=2, upsampler=kind)
    out = model(flat, training=False).numpy()[0, 48:80, 48:80].mean(-1) * 127.5  # grey levels, centre
    out -= out.mean()
    phase = np.array([[out[i::4, j::4].mean() for j in range(4)] for i in range(4)])
    lim = max(np.abs(out).max(), 1e-3)
    ax.imshow(out, cmap="coolwarm", vmin=-lim, vmax=lim)
    ax.set_title(f"{kind}\\nperiod-4 pattern amplitude {phase.std():.3f} grey levels", fontsize=8)
    ax.set_xlabel("x (HR pixels)"), ax.set_ylabel("y (HR pixels)")
fig.suptitle("Untrained generators on a flat grey LR image: output minus its mean (32x32 centre)", fontsize=9)
fig.tight_layout()
plt.show()
'''),
    md("""
Next: [03 · the losses](03_losses.ipynb).
"""),
]

# =============================================================================================
NB["03_losses"] = [
    md("""
# 3 · The losses: MSE, VGG content, adversarial (Eqs. 3–6), and ESRGAN's relativistic GAN

The paper's perceptual loss (Eq. 3) is a content loss plus a small adversarial loss:

$$ l^{SR} = l^{SR}_X + 10^{-3}\\, l^{SR}_{Gen} $$

with the content loss either pixel-wise MSE (Eq. 4) or a distance between VGG19 feature maps (Eq. 5):

$$ l^{SR}_{MSE} = \\frac{1}{r^2WH}\\sum_{x,y}\\big(I^{HR}_{x,y} - G(I^{LR})_{x,y}\\big)^2 \\qquad
   l^{SR}_{VGG/i,j} = \\frac{1}{W_{i,j}H_{i,j}}\\sum_{x,y}\\big(\\phi_{i,j}(I^{HR})_{x,y} - \\phi_{i,j}(G(I^{LR}))_{x,y}\\big)^2 $$

and the adversarial loss (Eq. 6) $l^{SR}_{Gen} = \\sum_n -\\log D(G(I^{LR}))$. The library uses batch
*means* rather than sums (as every public implementation does); $\\phi_{2,2}$ is Keras' `block2_conv2`,
$\\phi_{5,4}$ is `block5_conv4`.

**Offline here:** VGG19's ImageNet weights cannot be downloaded on this machine, so VGG cells use
`vgg_weights=None` (random weights): the *mechanics* are right, the feature maps are not the trained
ones. With a network, set `SRGAN_VGG_WEIGHTS=imagenet` (or a path to a `.h5`) before starting Jupyter.
"""),
    code(SETUP),
    code('''
import inspect

import tensorflow as tf

from srgan_keras import losses

VGG_WEIGHTS = os.environ.get("SRGAN_VGG_WEIGHTS")  # None = random VGG19 weights (offline)
print("VGG weights:", VGG_WEIGHTS or "none (random; offline)")
print("ADV_WEIGHT =", losses.ADV_WEIGHT, "(Eq. 3) | VGG_RESCALE = 1/12.75 =", losses.VGG_RESCALE, "(§3.2)")
print(inspect.getsource(losses.ContentLoss))
'''),
    md("""
### Why MSE blurs: regression to the mean (the idea of the paper's Fig. 3)

An LR patch is compatible with many HR patches. The MSE-optimal answer is the **pixel-wise average** of all
of them, and an average of sharp, slightly different textures is a blurred texture. Below, eight plausible
HR versions of a fur patch (the same texture shifted by up to 3 pixels: after x4 downscaling they are
nearly indistinguishable) and their mean. The mean has the *lowest* average MSE to the candidates — the
MSE criterion prefers it to every one of the real, sharp answers.
"""),
    code('''
from srgan_keras.degradation import bicubic_downscale
from srgan_keras.imaging import load_rgb_uint8

baboon = load_rgb_uint8(DATA / "Set14" / "baboon.png").astype(np.float32)
rng = np.random.default_rng(0)
shifts = [(0, 0)] + [tuple(rng.integers(0, 4, 2)) for _ in range(7)]
cands = np.stack([baboon[300 + dy:364 + dy, 200 + dx:264 + dx] for dy, dx in shifts])  # (8, 64, 64, 3)
mean = cands.mean(0)
lr_spread = np.std(bicubic_downscale(cands, 4).numpy(), axis=0).mean()
mse_to_cands = lambda img: np.mean([(img - c) ** 2 for c in cands])  # noqa: E731
print(f"LR of the 8 candidates differ by {lr_spread:.1f} grey levels (std), their HR by {cands.std(0).mean():.1f}")
print(f"mean MSE to the candidates: average image {mse_to_cands(mean):.0f}; "
      f"each sharp candidate {np.mean([mse_to_cands(c) for c in cands]):.0f} on average")

fig, axes = plt.subplots(1, 5, figsize=(10, 2.3))
for i, ax in enumerate(axes[:4]):
    ax.imshow(cands[i].astype(np.uint8))
    ax.set_title(f"candidate {i} (shift {shifts[i]})", fontsize=8)
axes[4].imshow(mean.astype(np.uint8))
axes[4].set_title("pixel-wise mean = MSE optimum", fontsize=8)
for ax in axes:
    ax.set_xlabel("x (px)"), ax.set_ylabel("y (px)")
fig.tight_layout()
plt.show()
'''),
    md("""
### VGG feature maps at φ2,2 and φ5,4

The VGG content loss compares images after a pretrained classifier's layers: φ2,2 (`block2_conv2`, half
resolution, 128 channels: edges and simple textures) or φ5,4 (`block5_conv4`, 1/16 resolution, 512 channels:
object parts). Images go from [-1, 1] to 0..255 and through VGG's own preprocessing (`vgg_preprocess`), and
the features are multiplied by 1/12.75 (§3.2, so that the VGG loss has a magnitude comparable to MSE with
the ImageNet weights). ⏱ *a few seconds (VGG19 built without weights).*
"""),
    code('''
print(inspect.getsource(losses.vgg_preprocess))
hr = load_rgb_uint8(DATA / "Set5" / "butterfly.png")[None].astype(np.float32) / 127.5 - 1.0  # [-1, 1]
extractor = losses.vgg_feature_extractor(["block2_conv2", "block5_conv4"], VGG_WEIGHTS)
f22, f54 = extractor(losses.vgg_preprocess(hr), training=False)
for name, f in (("phi_2,2 block2_conv2", f22), ("phi_5,4 block5_conv4", f54)):
    print(f"{name}: shape {tuple(f.shape)}, mean activation {float(tf.reduce_mean(f)):.3g}, "
          f"after 1/12.75: {float(tf.reduce_mean(f)) * losses.VGG_RESCALE:.3g}")

fig, axes = plt.subplots(2, 5, figsize=(10, 4.4))
axes[0, 0].imshow((hr[0] + 1) / 2)
axes[0, 0].set_title("input 256x256", fontsize=8)
axes[1, 0].axis("off")
for row, (name, f) in enumerate((("phi2,2", f22), ("phi5,4", f54))):
    strongest = np.argsort(-f[0].numpy().mean((0, 1)))[:4]
    for k, c in enumerate(strongest):
        axes[row, k + 1].imshow(f[0, :, :, c], cmap="viridis")
        axes[row, k + 1].set_title(f"{name} channel {c} ({f.shape[1]}x{f.shape[2]})", fontsize=8)
for ax in axes.flat:
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("The most active feature maps (random VGG19 weights offline: the mechanics, not the trained features)",
             fontsize=9)
fig.tight_layout()
plt.show()
'''),
    md("""
### The content losses on degraded images

Same butterfly, four distortions, three content losses (`ContentLoss("mse" | "vgg22" | "vgg54")`).
MSE scores blur and noise by their pixel energy alone; a feature loss weighs them by what the network's
filters respond to. (With random weights the VGG numbers show the mechanics only; the paper's argument —
that φ5,4 prefers plausible textures to blur — needs the ImageNet weights.)
"""),
    code('''
def degrade(kind):
    x = (hr + 1) * 127.5
    if kind == "blurred":
        x = tf.image.resize(tf.image.resize(x, (128, 128), "area"), (256, 256), "bilinear")
    elif kind == "noisy":
        x = x + np.random.default_rng(0).normal(0, 8, x.shape)
    elif kind == "shifted 1 px":
        x = np.roll(x, 1, axis=2)
    elif kind == "bicubic x4":
        x = tf.image.resize(bicubic_downscale(x, 4), (256, 256), "bicubic")
    return np.clip(np.asarray(x), 0, 255).astype(np.float32) / 127.5 - 1.0

kinds = ["blurred", "noisy", "shifted 1 px", "bicubic x4"]
table = {n: losses.ContentLoss(n, VGG_WEIGHTS) for n in ("mse", "vgg22", "vgg54")}
print(f"{'distortion':<14}" + "".join(f"{n:>12}" for n in table))
for kind in kinds:
    d = degrade(kind)
    print(f"{kind:<14}" + "".join(f"{float(loss(hr, d)):>12.4g}" for loss in table.values()))
'''),
    md("""
### The adversarial term and its 1e-3 weight

The discriminator is trained to output 1 on HR and 0 on SR (binary cross-entropy, Eq. 2). The generator
minimises $-\\log D(G(I^{LR}))$ (Eq. 6), the *non-saturating* form of Goodfellow et al.: when D confidently
rejects an SR image (D → 0), $\\log(1 - D)$ is flat and would give no gradient, while $-\\log D$ is steep.
"""),
    code('''
print(inspect.getsource(losses.VanillaGAN))
p = np.linspace(0.001, 0.999, 400)
fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
axes[0].plot(p, np.log(1 - p), label="log(1 - D)  (saturating, Eq. 2 as written)")
axes[0].plot(p, -np.log(p), label="-log D  (non-saturating, Eq. 6)")
axes[0].set_xlabel("D(G(LR)): discriminator's probability that SR is real")
axes[0].set_ylabel("generator loss")
axes[0].set_title("Generator losses", fontsize=9)
axes[0].legend(fontsize=7)
axes[1].plot(p, np.abs(-1 / (1 - p)) * p * (1 - p), label="|d log(1-D) / d logit| = D")
axes[1].plot(p, np.abs(-1 / p) * p * (1 - p), label="|d -log D / d logit| = 1 - D")
axes[1].set_xlabel("D(G(LR))"), axes[1].set_ylabel("gradient magnitude w.r.t. the logit")
axes[1].set_title("Early in training D(G(LR)) is near 0: only -log D has a gradient", fontsize=9)
axes[1].legend(fontsize=7)
fig.tight_layout()
plt.show()
'''),
    md("""
How big is 1e-3 x l_Gen? With the images in [-1, 1], a bicubic-quality SR has an MSE of about 0.01; an
undecided discriminator (D = 0.5) gives $-\\log 0.5 = 0.69$, so the adversarial term is $7\\cdot 10^{-4}$ —
a few percent of the total at the start, and it grows as D gets confident. The weight keeps the
content loss in charge (the paper tried the GAN term alone in its supplementary material).
"""),
    code('''
vanilla = losses.VanillaGAN()
sr_bic = degrade("bicubic x4")
content = float(losses.ContentLoss("mse")(hr, sr_bic))
for d_fake in (0.5, 0.1, 0.01):
    logit = np.log(d_fake / (1 - d_fake)) * np.ones((16, 1), np.float32)
    adv = float(vanilla.generator_loss(None, logit))
    total = content + losses.ADV_WEIGHT * adv
    print(f"D(SR)={d_fake:<5} content {content:.4f}  adv {adv:.3f}  1e-3*adv {losses.ADV_WEIGHT * adv:.5f}"
          f"  -> adversarial share of l_SR {losses.ADV_WEIGHT * adv / total:.1%}")
'''),
    md("""
### ESRGAN's relativistic average GAN (ESRGAN Eqs. 1–2)

ESRGAN (Wang et al. 2018, §3.2) asks a relative question: *is this real image more realistic than the
average fake one?* With $C$ the discriminator's logit,
$D_{Ra}(x_r, x_f) = \\sigma(C(x_r) - \\mathbb{E}_{x_f}[C(x_f)])$, and

$$ L_D^{Ra} = -\\mathbb{E}_{x_r}[\\log D_{Ra}(x_r, x_f)] - \\mathbb{E}_{x_f}[\\log(1 - D_{Ra}(x_f, x_r))] $$
$$ L_G^{Ra} = -\\mathbb{E}_{x_r}[\\log(1 - D_{Ra}(x_r, x_f))] - \\mathbb{E}_{x_f}[\\log D_{Ra}(x_f, x_r)] $$

The generator's loss now involves the real images too, so it gets gradients from both halves. A numpy
transcription of the equations next to the library's version:
"""),
    code('''
print(inspect.getsource(losses.RelativisticAverageGAN))
rng = np.random.default_rng(0)
real, fake = rng.normal(2, 1, (8, 1)).astype(np.float32), rng.normal(-1, 1, (8, 1)).astype(np.float32)
sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
d_rf, d_fr = sig(real - fake.mean()), sig(fake - real.mean())
np_d = -np.mean(np.log(d_rf)) - np.mean(np.log(1 - d_fr))
np_g = -np.mean(np.log(1 - d_rf)) - np.mean(np.log(d_fr))
ra = losses.RelativisticAverageGAN()
print(f"L_D: numpy {np_d:.6f}  library {float(ra.discriminator_loss(real, fake)):.6f}")
print(f"L_G: numpy {np_g:.6f}  library {float(ra.generator_loss(real, fake)):.6f}")
print(f"vanilla for comparison: L_D {float(vanilla.discriminator_loss(real, fake)):.4f}, "
      f"L_G {float(vanilla.generator_loss(real, fake)):.4f}")
'''),
    md("""
In training (`--adv-loss ragan`, the `esrgan` preset) the library's `SRGAN.train_step` passes the real
logits to the generator loss (`needs_real_for_generator`). ESRGAN also moves the VGG loss **before the
activation** (`vgg54_preact`, L1) because post-ReLU features of deep layers are sparse; both are in
[notebook 08](08_esrgan_and_realesrgan.ipynb).

Next: [04 · pre-training SRResNet](04_pretraining_srresnet.ipynb).
"""),
]

# =============================================================================================
NB["04_pretraining_srresnet"] = [
    md("""
# 4 · Pre-training SRResNet: a short run, live

The paper trains in two phases (§3.2): first SRResNet with the MSE loss (10^6 steps at learning rate
1e-4), then the GAN initialised from it, "to avoid undesired local optima". This notebook runs the first
phase for a few minutes with the **demo** preset and reads its curves and sample images back. It is the
same run as notebook 00's (same command, same folder): if 00 has run, the training cell resumes from its
last checkpoint and finishes at once, and the curves below are that run's.

**Departures from the paper** (the `demo` preset; the README's demo section says why): a global bicubic
residual (the network starts *at* bicubic and learns a correction; the paper's SRResNet needs ~10^4 GPU steps
to reach bicubic), 8 blocks instead of 16, batch 8 of 64 px crops instead of 16 of 96 px, learning rate 1e-3
with 20 warm-up steps and cosine decay, 1,000 steps instead of 10^6.
"""),
    code(SETUP),
    code(TINY),
    code('''
import inspect

from srgan_keras.config import PRESETS, get_config
from srgan_keras.srgan import SRGAN

print("demo preset = paper defaults +", PRESETS["demo"])
print(inspect.getsource(SRGAN.pretrain_step))
'''),
    md("""
### The run

`train.main` is the CLI (`python -m srgan_keras.train ...`) as a function: it prints the config, saves it as
`config.json`, trains with validation every 100 steps (PSNR/SSIM on two held-out built-in photos, bicubic
beside it), and writes TensorBoard logs, checkpoints, `samples.png` and `generator.keras`.

⏱ *Without `SRGAN_FAST`: seconds if notebook 00 has trained this run (it prints `resuming from step
1000` and only re-validates); otherwise about 4–5 minutes on a quiet 2-core CPU (1,000 steps of the demo
model with XLA; the first step compiles for ~20 s). With `SRGAN_FAST=1`: seconds. To watch a run live
here, delete `saved_models/course/full/srresnet` first.*
"""),
    code(SRRESNET_RUN),
    code('''
t0 = time.perf_counter()
rc = train.main(SRRESNET_ARGS)
print(f"exit code {rc}, {time.perf_counter() - t0:.0f} s")
'''),
    md("""
### Curves from the TensorBoard logs

The loop writes scalars (`pretrain/g_loss`, `pretrain/lr`, `pretrain/steps_per_s`, `val/psnr`,
`val/bicubic_psnr`, ...) and sample grids to `logs/`. `tensorboard --logdir saved_models/course/full/srresnet/logs`
shows them live; here we read the event files directly.
"""),
    code('''
import tensorflow as tf
from tensorboard.compat.proto.event_pb2 import Event

def read_logs(logdir: Path):
    """{tag: [(step, value)]} for scalars and {tag: [(step, png bytes)]} for images."""
    scalars, images = {}, {}
    for f in sorted(logdir.glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(f)):
            event = Event.FromString(record.numpy())
            for v in event.summary.value:
                t = tf.make_ndarray(v.tensor)
                if t.dtype == object:  # an image summary: [width, height, png, ...]
                    images.setdefault(v.tag, []).append((event.step, t[2]))
                else:
                    scalars.setdefault(v.tag, []).append((event.step, float(t)))
    return scalars, images

scalars, images = read_logs(RUNS / "srresnet" / "logs")
fig, axes = plt.subplots(1, 3, figsize=(11, 2.9))
s, v = zip(*scalars["pretrain/g_loss"])
axes[0].plot(s, v, ".-", ms=3)
axes[0].set_yscale("log"), axes[0].set_xlabel("step"), axes[0].set_ylabel("MSE on [-1, 1] (log)")
axes[0].set_title("training loss (batch MSE)", fontsize=9)
s, v = zip(*scalars["pretrain/lr"])
axes[1].plot(s, v)
axes[1].set_xlabel("step"), axes[1].set_ylabel("learning rate"), axes[1].set_title("warm-up + cosine", fontsize=9)
s, v = zip(*scalars["val/psnr"])
axes[2].plot(s, v, "o-", label="SRResNet (demo)")
s, b = zip(*scalars["val/bicubic_psnr"])
axes[2].plot(s, b, "--", label="bicubic")
axes[2].set_xlabel("step"), axes[2].set_ylabel("PSNR (dB, Y, border 4)")
axes[2].set_title("validation PSNR", fontsize=9)
axes[2].legend(fontsize=7)
fig.tight_layout()
plt.show()
sps = [v for _, v in scalars["pretrain/steps_per_s"]][1:] or [float("nan")]
print(f"median speed {np.median(sps):.2f} steps/s; final val PSNR {scalars['val/psnr'][-1][1]:.2f} dB "
      f"vs bicubic {scalars['val/bicubic_psnr'][-1][1]:.2f} dB")
'''),
    md("""
**What the committed run shows.** The demo network starts exactly at bicubic (global residual, last
convolution at zero). For the first couple of hundred steps its validation PSNR stays at bicubic's: the
correction is still near zero while the features form (+0.00 dB at step 100, +0.08 at 200). Then it
climbs, and after 1,000 steps it ends 1.3 dB above bicubic on the two validation photos (28.35 vs
27.07 dB; on Set5 30.12 vs 28.43, notebook 00), most of it gained by step 600 while the cosine schedule
still gives a large learning rate. Fewer steps are not enough: a 300-step cosine schedule ends only
0.1 dB above bicubic — its learning rate has decayed before the correction gets going. The loss
curve is noisy because each batch holds different photos: judge progress by the validation curve.

### Sample grids over time

At every validation the loop logs a grid — LR (nearest) | bicubic | SR | HR — of centre crops of the
validation photos. The corrections the network learns on top of bicubic are small; look at edges.
"""),
    code('''
import io

from PIL import Image

grids = images["samples LR|bicubic|SR|HR"]
picks = [grids[0], grids[len(grids) // 2], grids[-1]] if len(grids) >= 3 else grids
fig, axes = plt.subplots(len(picks), 1, figsize=(8, 2.4 * len(picks)))
for ax, (step, png) in zip(np.atleast_1d(axes), picks):
    ax.imshow(np.asarray(Image.open(io.BytesIO(png))))
    ax.set_title(f"step {step}: LR (nearest) | bicubic | SR | HR", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
fig.tight_layout()
plt.show()
'''),
    md("""
### Resuming

Run the same command again: the loop restores G, D, both optimizers and the step counters from the last
checkpoint, says `resuming from step N`, and stops at the same total (here: at once, as the run cell above
did if notebook 00 trained the model). Ctrl-C saves a checkpoint first; a NaN loss stops the run and keeps
the last good one; an interrupted run continues where it stopped. ⏱ *seconds.*
"""),
    code('''
rc = train.main(SRRESNET_ARGS)
print("exit code", rc)
print(sorted(p.name for p in (RUNS / "srresnet").iterdir()))
'''),
    md("""
### What the paper's schedule would take

The paper: 10^6 SRResNet steps, batch 16 of 96x96 crops, B = 16 blocks, then 2·10^5 GAN steps, on an
NVIDIA Tesla M40. On this machine class the paper's SRResNet takes about 1.8 s per step with XLA
(3.1 s without; measured by the training issue and recorded in the project's TensorFlow notes):
"""),
    code('''
paper_step_s = 1.8  # measured: the paper's SRResNet, batch 16, 96 px, XLA, 2 CPU cores
demo_steps = get_config("demo").pretrain_steps
for steps, what in ((1_000_000, "SRResNet pre-training (paper)"), (demo_steps, "the demo's steps, paper-size model")):
    print(f"{what:<45} {steps:>9,} steps x {paper_step_s} s = {steps * paper_step_s / 86400:8.2f} days")
print(f"this notebook's demo model ran at {np.median(sps):.2f} steps/s: "
      f"10^6 steps would take {1e6 / np.median(sps) / 86400:.1f} days")
'''),
    md("""
That is why the course uses the demo preset on a CPU, and why `--preset paper` is a GPU job.

Next: [05 · adversarial training](05_adversarial_training.ipynb).
"""),
]

# =============================================================================================
NB["05_adversarial_training"] = [
    md("""
# 5 · Adversarial training: the GAN phase from the SRResNet weights

The second phase (§3.2): the generator starts from the pre-trained SRResNet ("to avoid undesired local
optima") and alternates with the discriminator, one update each (k = 1, Goodfellow et al. 2014), minimising
$l^{SR} = l_X + 10^{-3} l_{Gen}$ (Eq. 3).

**Departures from the paper** (the `demo` preset): the content loss is **MSE** — the paper's SRGAN-MSE
variant — because VGG19's ImageNet weights cannot be downloaded here (with them: `--content-loss vgg54
--vgg-weights imagenet` is the paper's SRGAN); 120 GAN steps at the paper's first learning rate, 1e-4
(the paper: 10^5 steps at 1e-4, then 10^5 at 1e-5; the demo preset itself uses 40 steps at 1e-5);
the demo generator (8 blocks, global bicubic residual); 64 px crops, batch 8.
"""),
    code(SETUP),
    code(TINY),
    code('''
import inspect

from srgan_keras.srgan import SRGAN

print(inspect.getsource(SRGAN.train_step))
'''),
    md("""
The SR image is computed once; D is updated on it with the gradient stopped (1.), then G's loss goes
through the *updated* D (2.). `d_real` and `d_fake` are D's mean probabilities on HR and SR: the first
diagnostic of a GAN.

### The run, initialised from the demo SRResNet of notebooks 00 and 04

The 1,000-step demo SRResNet (1.7 dB above bicubic on Set5) is the starting point: `--init-from`
copies its weights into G; D starts from scratch.

⏱ *Without `SRGAN_FAST`: about 1.5 minutes on a quiet 2-core CPU (120 GAN steps with XLA, about 2 steps/s;
plus 4–5 minutes if the SRResNet has to be trained first). With `SRGAN_FAST=1`: seconds.*
"""),
    code(SRRESNET_RUN),
    code(SRGAN_RUN),
    code('''
init = srresnet_model()
t0 = time.perf_counter()
rc = train.main(srgan_args(init))
print(f"exit code {rc}, {time.perf_counter() - t0:.0f} s")
'''),
    md("""
### D and G losses, d_real and d_fake
"""),
    code('''
import tensorflow as tf
from tensorboard.compat.proto.event_pb2 import Event

def read_scalars(logdir: Path) -> dict:
    out = {}
    for f in sorted(logdir.glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(f)):
            event = Event.FromString(record.numpy())
            for v in event.summary.value:
                t = tf.make_ndarray(v.tensor)
                if t.dtype != object:
                    out.setdefault(v.tag, []).append((event.step, float(t)))
    return out

sc = read_scalars(RUNS / "srgan" / "logs")
fig, axes = plt.subplots(1, 3, figsize=(11, 2.9))
for tag, label in (("gan/d_real", "d_real = mean D(HR)"), ("gan/d_fake", "d_fake = mean D(G(LR))")):
    s, v = zip(*sc[tag])
    axes[0].plot(s, v, ".-", ms=3, label=label)
axes[0].set_ylim(-0.02, 1.02), axes[0].axhline(0.5, color="grey", lw=0.5)
axes[0].set_xlabel("global step"), axes[0].set_ylabel("probability"), axes[0].legend(fontsize=7)
axes[0].set_title("discriminator outputs", fontsize=9)
for tag, label in (("gan/d_loss", "d_loss (BCE real+fake)"), ("gan/adv_loss", "adv_loss = -log D(G(LR))")):
    s, v = zip(*sc[tag])
    axes[1].plot(s, v, ".-", ms=3, label=label)
axes[1].set_xlabel("global step"), axes[1].set_ylabel("loss"), axes[1].legend(fontsize=7)
axes[1].set_title("adversarial losses", fontsize=9)
s, v = zip(*sc["gan/content_loss"])
axes[2].plot(s, v, ".-", ms=3, label="content (MSE)")
s, v = zip(*sc["gan/g_loss"])
axes[2].plot(s, v, ".-", ms=3, label="g_loss = content + 1e-3 adv")
axes[2].set_xlabel("global step"), axes[2].set_ylabel("loss"), axes[2].legend(fontsize=7)
axes[2].set_title("generator losses", fontsize=9)
fig.tight_layout()
plt.show()
last = {k.split("/")[1]: v[-1][1] for k, v in sc.items() if k.startswith("gan/")}
print({k: round(last[k], 4) for k in ("d_real", "d_fake", "d_loss", "adv_loss", "content_loss")})
'''),
    md("""
### Reading these curves: a discriminator that wins too easily

* **Healthy**: `d_real` and `d_fake` stay apart but not at 1 and 0; `d_loss` hovers well above 0; the
  adversarial loss moves but does not run away. G and D keep each other busy.
* **D wins**: `d_real` → 1, `d_fake` → 0, `d_loss` → 0, `adv_loss` grows without bound. D separates
  real from fake perfectly and the generator's gradient carries little useful information (notebook 03's
  saturation picture, now for the discriminator). In a short run from a *good* SRResNet this happens fast:
  the SR images are smooth, which is the easiest tell.
* **In the committed run**: `d_real` and `d_fake` start together near 0.4 (D cannot tell the demo
  SRResNet's images from HR), then drift apart; after 120 steps `d_real` is about 0.42 and `d_fake` about
  0.23, `d_loss` stays near 1.4 (an undecided D scores $2\\log 2 = 1.39$) and the adversarial loss near
  1.7. D is beginning to separate the two, far from winning: the healthy picture, early on.
* **What to do**: lower D's learning rate or update it less often; make its job harder (label smoothing,
  instance noise, spectral normalisation as in Real-ESRGAN's U-Net D); use the relativistic loss
  (`--adv-loss ragan`, ESRGAN) whose generator gradient does not vanish the same way; check that the
  content loss is not too weak or the adversarial weight too large (a larger `--adv-weight` trades PSNR
  for texture, and eventually for artefacts).

### Before and after: SRResNet vs SRGAN on the validation photos

The GAN phase usually *lowers* PSNR: it pulls the output away from the blurry MSE optimum (notebook 03).
With 120 steps and an MSE content loss the change is small; notebook 06 measures both on Set5.
"""),
    code('''
import json

from PIL import Image

for name in ("srresnet", "srgan"):
    r = json.loads((RUNS / name / "result.json").read_text())
    print(f"{name:<9} val PSNR {r['psnr']:.2f} dB (bicubic {r['bicubic_psnr']:.2f}), SSIM {r['ssim']:.4f}")
fig, axes = plt.subplots(2, 1, figsize=(8, 4.8))
for ax, name in zip(axes, ("srresnet", "srgan")):
    ax.imshow(np.asarray(Image.open(RUNS / name / "samples.png")))
    ax.set_title(f"{name}: LR (nearest) | bicubic | SR | HR", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
fig.tight_layout()
plt.show()
'''),
    md("""
Next: [06 · evaluating like the paper](06_evaluating_like_the_paper.ipynb).
"""),
]

# =============================================================================================
NB["06_evaluating_like_the_paper"] = [
    md("""
# 6 · Evaluating like the paper, and the perception–distortion trade-off

§3.1: "All experiments are performed with a scale factor of 4x ... PSNR [dB] and SSIM are calculated on the
y-channel of center-cropped, removal of a 4-pixel wide strip from each border images." Table 2's numbers
follow that protocol. Every choice moves the number; this notebook measures by how much, then plots
MSE-trained, GAN-trained and interpolated models on the perception–distortion plane (Blau & Michaeli 2018).
"""),
    code(SETUP),
    code('''
import inspect

from srgan_keras import metrics

print(inspect.getsource(metrics.evaluate_pair))
print("BT.601 Y weights", metrics.BT601_Y_WEIGHTS, "+", metrics.BT601_Y_OFFSET,
      "| SSIM window", metrics.SSIM_WINDOW, "sigma", metrics.SSIM_SIGMA)
'''),
    md("""
### Each choice of the protocol, measured on the bicubic baseline of Set5

Starting from the paper's protocol (first row: 28.43 dB, as in Table 2), change one thing at a time.
"""),
    code('''
import tensorflow as tf

from srgan_keras.degradation import bicubic_downscale, bicubic_upscale, crop_to_multiple
from srgan_keras.imaging import load_rgb_uint8

set5 = {p.stem: crop_to_multiple(load_rgb_uint8(p), 4) for p in sorted((DATA / "Set5").glob("*.png"))}

def variant(hr, y="bt601", border=4, antialias=True, round_sr=True, ssim_on="y"):
    size = (hr.shape[0] // 4, hr.shape[1] // 4)
    lr = tf.clip_by_value(tf.round(tf.image.resize(hr.astype(np.float32), size, "bicubic",
                                                   antialias=antialias)), 0, 255)
    sr = tf.image.resize(lr, hr.shape[:2], "bicubic", antialias=True).numpy()
    sr = np.clip(np.round(sr) if round_sr else sr, 0, 255)
    if y == "bt601":
        a, b = metrics.rgb_to_y(sr), metrics.rgb_to_y(hr)
    elif y == "full":  # full-range luma, as tf.image.rgb_to_yuv
        a, b = (tf.image.rgb_to_yuv(sr / 255)[..., 0].numpy() * 255, tf.image.rgb_to_yuv(hr / 255.0)[..., 0].numpy() * 255)
    else:
        a, b = sr, hr.astype(np.float64)
    a, b = metrics.shave(a, border), metrics.shave(b, border)
    s = metrics.ssim(a, b) if ssim_on == "y" else metrics.ssim_rgb(metrics.shave(sr, border), metrics.shave(hr, border))
    return metrics.psnr(a, b), s

rows = [("paper protocol: Y (BT.601), border 4, antialiased LR", {}),
        ("no border crop", {"border": 0}),
        ("RGB instead of Y", {"y": "rgb", "ssim_on": "rgb"}),
        ("full-range Y (tf.image.rgb_to_yuv)", {"y": "full"}),
        ("SR not rounded to 8 bits", {"round_sr": False}),
        ("LR made without antialias", {"antialias": False})]
for label, kw in rows:
    vals = np.array([variant(hr, **kw) for hr in set5.values()])
    print(f"{label:<55} PSNR {vals[:, 0].mean():6.2f} dB   SSIM {vals[:, 1].mean():.4f}")
'''),
    md("""
For bicubic the border crop hardly matters (TensorFlow's resize renormalises at the edges); it matters for
networks, whose zero padding makes the outermost pixels their worst, and the field crops `scale` pixels
for every method alike. Y ignores colour errors the eye barely sees, and the studio-range BT.601 Y (16–235) compresses the
signal by 219/255, which raises PSNR by 20·log10(255/219) ≈ 1.3 dB against full-range luma on the same
error. SSIM uses the Gaussian 11x11 window with σ = 1.5 (Wang et al. 2004); `tf.image.ssim` needs images of
at least 11x11. A number from another paper is comparable only under the same protocol —
`evaluate_pair` also returns `psnr_rgb` and `ssim_rgb` for that reason.

### Models: bicubic, SRResNet (MSE), SRGAN, and their interpolations

Network interpolation (ESRGAN Eq. 4): $\\theta_{interp} = (1 - \\alpha)\\,\\theta_{PSNR} + \\alpha\\,\\theta_{GAN}$,
every weight of the two generators (same architecture; the GAN started from the PSNR model) blended.
It moves continuously between the two without retraining. `srgan_keras.interpolate.interpolate_models`
does it (the function behind `python -m srgan_keras.interpolate`, whose `--alphas` sweep writes this
section's table and plot too). The models come from notebooks 00/04 and 05 (trained here, with the
same commands, if missing).

⏱ *Without `SRGAN_FAST`: under half a minute if notebooks 00/04 and 05 have run (5 models on Set5), else
add their training times. With `SRGAN_FAST=1`: seconds.*
"""),
    code(TINY),
    code(SRRESNET_RUN),
    code(SRGAN_RUN),
    code('''
from srgan_keras import interpolate
from srgan_keras.evaluate import evaluate_image
from srgan_keras.inference import BicubicRunner, as_runner

psnr_model = interpolate.load(srresnet_model())  # keras.saving.load_model(..., safe_mode=True)
gan_model = interpolate.load(srgan_model())
print(inspect.getsource(interpolate.interpolate_models))

def hf_ratio(sr, hr):
    """Perception proxy: high-frequency energy of SR relative to HR (1 = as much detail as HR)."""
    lap = lambda x: np.abs(np.diff(metrics.rgb_to_y(x), 2, axis=0))[:, 1:-1] + \\
        np.abs(np.diff(metrics.rgb_to_y(x), 2, axis=1))[1:-1]  # noqa: E731
    return float(lap(sr).mean() / lap(hr).mean())

models = {"bicubic": BicubicRunner(4)}
for alpha in (0.0, 0.25, 0.5, 0.75, 1.0):
    models[f"alpha={alpha:g}"] = interpolate.interpolate_models(psnr_model, gan_model, alpha)
t0 = time.perf_counter()
results = {}
for name, model in models.items():
    runner = as_runner(model)
    rows = [evaluate_image(runner, hr, bicubic=False) for hr in set5.values()]
    results[name] = (np.mean([r.metrics["psnr_y"] for r in rows]), np.mean([r.metrics["ssim_y"] for r in rows]),
                     np.mean([hf_ratio(r.sr, r.hr) for r in rows]))
    print(f"{name:<10} PSNR {results[name][0]:.2f} dB  SSIM {results[name][1]:.4f}  detail ratio {results[name][2]:.3f}")
print(f"{time.perf_counter() - t0:.0f} s")
'''),
    md("""
`alpha=0` is the SRResNet of notebook 04, `alpha=1` the SRGAN of notebook 05.

**The perception axis is a stand-in.** The trade-off is usually plotted against a no-reference perceptual
index (PI: Ma et al. and NIQE, used by the PIRM 2018 challenge) or LPIPS; none of them is available offline
here. We use a crude proxy instead: the energy of second differences of Y in SR relative to HR (1.0 = as much
fine detail as the original; bicubic and MSE models sit well below 1). It says "how much texture", not
"how real".
"""),
    code('''
fig, ax = plt.subplots(figsize=(5.5, 3.6))
for name, (p, s, hf) in results.items():
    ax.plot(hf, p, "s" if name == "bicubic" else "o", color="grey" if name == "bicubic" else "tab:blue")
    ax.annotate(name, (hf, p), textcoords="offset points", xytext=(5, 4), fontsize=8)
xs = [results[k][2] for k in results if k != "bicubic"]
ys = [results[k][0] for k in results if k != "bicubic"]
ax.plot(xs, ys, "-", color="tab:blue", lw=0.8)
ax.axvline(1.0, color="green", lw=0.6, ls="--")
ax.set_xlabel("detail ratio: HF energy(SR) / HF energy(HR)   (1 = HR)")
ax.set_ylabel("PSNR on Set5 (dB, Y, border 4)")
ax.set_title("Perception-distortion plane: interpolating SRResNet -> SRGAN", fontsize=9)
fig.tight_layout()
plt.show()
'''),
    md("""
In the committed run both models sit 1.7 dB above bicubic, and moving toward the GAN model adds
high-frequency energy (the detail ratio rises from 0.35 to 0.41, bicubic's is 0.21) while PSNR and SSIM
stay within a few hundredths: 120 GAN steps with an MSE content loss have only begun to move along the
curve, and have not yet had to pay for detail with distortion. On full-length runs the trade-off is large, and
Blau & Michaeli proved it cannot be escaped: SRGAN's Table 2 reports on Set5 SRResNet 32.05 dB / 0.9019,
SRGAN 29.40 dB / 0.8472, bicubic 28.43 dB.

### The comparison figure, like the paper's Fig. 2
"""),
    code(SHOW),
    code('''
from srgan_keras.degradation import make_lr_numpy

hr = set5["bird"]
lr = make_lr_numpy(hr, 4)
panels = {"bicubic": bicubic_upscale(lr, 4).numpy().astype(np.uint8)}
for name, label in (("alpha=0", "SRResNet (alpha 0)"), ("alpha=0.5", "alpha 0.5"), ("alpha=1", "SRGAN (alpha 1)")):
    panels[label] = srgan_keras.upscale_image(lr, models[name], tile=None, pre_pad=0)
panels["HR"] = hr
show_row(panels, hr, "Set5 bird x4")
'''),
    md("""
From the command line: `python -m srgan_keras.evaluate --model PATH --data ../shared/data/Set5 --figure figs/`
writes this table and one figure per image.

Next: [07 · export for mobile](07_export_for_mobile.ipynb).
"""),
]

# =============================================================================================
NB["07_export_for_mobile"] = [
    md("""
# 7 · Export for serving and mobile: SavedModel, TFLite float16/int8, parity and latency

Deployment is not in the paper (it stops at Fig. 4's generator). The library exports the generator with
its value ranges converted *inside* the graph (§3.2's LR [0, 1] → SR [-1, 1] becomes pixels in, pixels
out), and measures every export against the Keras model: PSNR of the exported output vs the Keras output,
the largest grey-level difference, file size and median latency.
"""),
    code(SETUP),
    code(TINY),
    code(SRRESNET_RUN),
    md("""
⏱ *The model: bundled if present, else the demo SRResNet of notebooks 00 and 04 (trained here if
missing: 4–5 minutes).*
"""),
    code('''
import keras

bundled = Path("saved_models/srresnet_x4.keras")
model_path = bundled if bundled.exists() else srresnet_model()
model = keras.saving.load_model(model_path, safe_mode=True, compile=False)
print(f"{model_path}: {model.count_params():,} parameters")
'''),
    md("""
### SavedModel with an image-in/image-out signature

`serving_default` takes uint8 (N, H, W, 3) and returns uint8 (N, 4H, 4W, 3): a serving stack in another
language (TF Serving, C++, Java) feeds pixels and gets pixels back. `upscale_float` is the float [0, 1]
version. ⏱ *about 10 s.*
"""),
    code('''
import tempfile

import tensorflow as tf

from srgan_keras import export

tf.get_logger().setLevel("ERROR")  # TensorFlow's INFO lines name temporary folders
out = Path(tempfile.mkdtemp(prefix="srgan_export_"))  # not printed: a machine path
sm_path = export.export_saved_model(model, out / "srresnet_savedmodel")
loaded = tf.saved_model.load(str(sm_path))
for name, fn in loaded.signatures.items():
    (arg, spec), = fn.structured_input_signature[1].items()
    print(f"{name:<16} input {arg}: {spec.dtype.name} {spec.shape} -> "
          + ", ".join(f"{k}: {v.dtype.name} {v.shape}" for k, v in fn.structured_outputs.items()))
lr_u8 = np.random.default_rng(0).integers(0, 256, (1, 20, 30, 3), dtype=np.uint8)
(sr_u8,) = loaded.signatures["serving_default"](tf.constant(lr_u8)).values()
print("uint8 (1, 20, 30, 3) ->", sr_u8.dtype.name, tuple(sr_u8.shape))
'''),
    md("""
### TFLite: float32, float16, dynamic-range int8, full int8

* **float16**: weights stored as fp16 (half the file); needs `optimizations=[DEFAULT]` as well as
  `supported_types=[tf.float16]`, or the converter silently keeps float32.
* **dynamic**: int8 weights, float activations.
* **int8**: weights *and* activations int8, calibrated on LR crops of photos made the way training makes
  them (`calibration_crops`); int8 input and output.

Every file keeps a dynamic H x W input. The parity report runs each on the built-in validation photos
(centre crops, at most 128x128 LR) and times a 128x128 input with LiteRT (`ai_edge_litert`, XNNPACK).
⏱ *Without `SRGAN_FAST`: about 2–3 minutes (four conversions; int8 calibration is the slowest).*
"""),
    code('''
images = export.check_images(None, scale=4)  # built-in validation photos: LR, HR
reports = {"saved_model": export.parity_report(model, sm_path, images)}
for q in ("none", "float16", "dynamic", "int8"):
    t0 = time.perf_counter()
    path = export.export_tflite(model, out / f"srresnet_{q}.tflite", quantize=q)
    reports[q] = export.parity_report(model, path, images, kind=q)
    print(f"{q:<8} converted and checked in {time.perf_counter() - t0:.0f} s")

print(f"\\n{'format':<12}{'size MB':>9}{'PSNR vs Keras':>15}{'required':>10}{'max diff':>10}"
      f"{'PSNR-Y vs HR':>14}{'latency 128² ms':>17}")
for name, r in reports.items():
    print(f"{name:<12}{r['size_mb']:>9.2f}{r['psnr_vs_keras_db']:>12.2f} dB{r['required_psnr_db']:>10}"
          f"{r['max_abs_diff_grey']:>10.2f}{r['psnr_y_vs_hr_exported_db']:>11.2f} dB"
          f"{r['latency_ms']['128x128']:>17.1f}")
r = reports["none"]
print(f"Keras model: PSNR-Y vs HR {r['psnr_y_vs_hr_keras_db']:.2f} dB, latency {r['keras_latency_ms']['128x128']:.1f} ms")
'''),
    code('''
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
'''),
    md("""
Latencies are on this shared 2-core machine, not a phone: compare formats with each other, not with a
device. On a phone the same files run through LiteRT's GPU or NPU delegates, where fp16 and int8 matter most.

### The exported files are models like any other

`load_generator` (the loader of the upscale and evaluate CLIs) accepts a SavedModel folder and a `.tflite`
file, with tiling included:
"""),
    code('''
from srgan_keras.degradation import bicubic_upscale, crop_to_multiple, make_lr_numpy
from srgan_keras.imaging import load_rgb_uint8
from srgan_keras.inference import load_generator
from srgan_keras.metrics import evaluate_pair

hr = crop_to_multiple(load_rgb_uint8(DATA / "Set5" / "head.png"), 4)
lr = make_lr_numpy(hr, 4)
for q in ("none", "int8"):
    runner = load_generator(out / f"srresnet_{q}.tflite")
    sr = srgan_keras.upscale_image(lr, runner, tile=None, pre_pad=0)
    print(f"{q:<5} tflite on Set5 head: PSNR-Y {evaluate_pair(sr, hr, 4)['psnr_y']:.2f} dB "
          f"(bicubic {evaluate_pair(bicubic_upscale(lr, 4).numpy(), hr, 4)['psnr_y']:.2f})")
'''),
    md("""
From the command line:

```bash
python -m srgan_keras.export --model run/generator.keras --to tflite --quantize float16 -o srresnet_fp16.tflite
python -m srgan_keras.evaluate --model srresnet_fp16.tflite --data ../shared/data/Set5
```
"""),
    code('''
import shutil

shutil.rmtree(out)  # the exports were temporary
'''),
    md("""
Next: [08 · ESRGAN and Real-ESRGAN](08_esrgan_and_realesrgan.ipynb).
"""),
]

# =============================================================================================
NB["08_esrgan_and_realesrgan"] = [
    md("""
# 8 · ESRGAN and Real-ESRGAN: the parts that change

ESRGAN (Wang et al., ECCV Workshops 2018) and Real-ESRGAN (Wang et al., ICCV Workshops 2021) keep SRGAN's
recipe — pre-train a generator for PSNR, then fine-tune it as a GAN — and replace its parts. The library
adds them as *parts* of the same machinery (data, training loop, checkpoints, evaluation, upscaling,
export), not as a second library:

| part | SRGAN (notebooks 02–05) | ESRGAN | Real-ESRGAN | module |
| --- | --- | --- | --- | --- |
| generator | SRResNet: 16 residual blocks with BN | RRDBNet: 23 RRDBs, no BN, residual scaling 0.2 (§3.1) | RRDBNet; x2 and x1 by pixel-unshuffle | `rrdbnet.py` |
| adversarial loss | vanilla (Eqs. 2, 6) | relativistic average, Eqs. 1–2 (§3.2) | vanilla, weight 0.1 | `losses.py` |
| perceptual loss | VGG φ5,4 after ReLU, MSE, ×1/12.75 | VGG conv5_4 *before* activation, L1 (§3.3) | five layers before activation, L1 | `losses.py` |
| discriminator | VGG-style, one logit per image | the same | U-Net with spectral normalization, one logit per pixel | `unet_discriminator.py` |
| LR images | bicubic ×1/4 | bicubic ×1/4 | second-order blur, resize, noise, JPEG, sinc (§3) | `realesrgan_degradation.py` |
| after training | — | network interpolation (§3.4, Eq. 4) | — | `interpolate.py` |
| published weights | — | converted from PyTorch | converted from PyTorch | `convert.py`, `torch_pickle.py` |

**Offline here:** VGG19's ImageNet weights cannot be downloaded on this machine, so the VGG cells use
random weights (`weights=None`) and the training run uses an L1 content loss instead of the perceptual
one; with a network, set `SRGAN_VGG_WEIGHTS=imagenet` (or a path to the `.h5`) before starting Jupyter.
The published `.pth` files cannot be downloaded either: the converter section makes its own.
"""),
    code(SETUP),
    code('''
import inspect

import keras
import tensorflow as tf

from srgan_keras import losses, rrdbnet

VGG_WEIGHTS = os.environ.get("SRGAN_VGG_WEIGHTS")  # None = random VGG19 weights (offline)
print("VGG weights:", VGG_WEIGHTS or "none (random; offline)")
'''),
    md("""
## 1 · RRDBNet: residual-in-residual dense blocks (ESRGAN §3.1, Fig. 4)

ESRGAN keeps SRResNet's high-level layout — a first convolution, a deep body at LR resolution with a long
skip, upsampling, two last convolutions — and changes the block. A **residual dense block** (RDB) stacks
five 3x3 convolutions; each sees the concatenation of the block input and every earlier output (64
features, growth 32: 64, 96, 128, 160, 192 input channels), LeakyReLU(0.2) after the first four:

$$ \\mathrm{RDB}(x) = x + 0.2\\cdot \\mathrm{conv}_5([x, x_1, x_2, x_3, x_4]), \\qquad
   \\mathrm{RRDB}(x) = x + 0.2\\cdot \\mathrm{RDB}_3(\\mathrm{RDB}_2(\\mathrm{RDB}_1(x))) $$

The upsampler is nearest-neighbour x2 + conv, twice (not SRGAN's pixel shuffle). The layer names are
BasicSR's (`body.3.rdb2.conv5` → `body_3_rdb2_conv5`), so the published weights load by name.
"""),
    code('''
print(inspect.getsource(rrdbnet.residual_dense_block))
print(inspect.getsource(rrdbnet.rrdb))
'''),
    md("""
### Parameter counts at x4, x2 and x1

Real-ESRGAN's x2 and x1 models reuse the x4 body: they **pixel-unshuffle** the input by 2 or 4 (a space-to-depth
that turns (H, W, 3) into (H/2, W/2, 12) or (H/4, W/4, 48)), so only `conv_first` grows. The counts must
equal PyTorch's for the published weights to fit. ⏱ *about half a minute: three networks of ~1,000 layers.*
"""),
    code('''
t0 = time.perf_counter()
nets = {s: rrdbnet.build_rrdbnet(scale=s) for s in (4, 2, 1)}  # ESRGAN's 23 RRDBs, 64 features, growth 32
print(f"built in {time.perf_counter() - t0:.0f} s")
BASICSR = {4: 16_697_987, 2: 16_703_171, 1: 16_723_907}  # PyTorch's count for BasicSR's RRDBNet
for s, net in nets.items():
    print(f"x{s}: {net.count_params():>11,} parameters (BasicSR {BASICSR[s]:,}), {len(net.layers):,} layers")

G = nets[4]
def params(prefix: str) -> int:
    return sum(layer.count_params() for layer in G.layers if layer.name.startswith(prefix))
parts = {"conv_first": params("conv_first"), "23 RRDBs": params("body_"), "conv_body": params("conv_body"),
         "2 x (nearest x2 + conv)": params("conv_up"), "conv_hr + conv_last": params("conv_hr") + params("conv_last")}
print(f"one RDB {params('body_0_rdb1_'):,}, one RRDB {params('body_0_'):,} parameters;",
      {k: f"{v:,}" for k, v in parts.items()})
n_bn = sum(isinstance(layer, keras.layers.BatchNormalization) for layer in G.layers)
scaling = [layer.scale for layer in G.layers if isinstance(layer, keras.layers.Rescaling)]
print(f"BatchNormalization layers: {n_bn}; residual scalings: {len(scaling)} (23 RRDBs x (3 RDBs + 1)), "
      f"factors {sorted(set(scaling))}")
'''),
    code('''
x = np.zeros((1, 32, 32, 3), np.float32)  # LR in [0, 1]
for s in (2, 1):
    net = nets[s]
    probe = keras.Model(net.input, [net.get_layer("pixel_unshuffle").output, net.get_layer("conv_first").output,
                                    net.output])
    u, f, y = probe(x)
    print(f"x{s}: LR {x.shape} -> pixel-unshuffle {tuple(u.shape)} -> conv_first {tuple(f.shape)} "
          f"-> 23 RRDBs at that size -> x4 upsampling -> SR {tuple(y.shape)}")
'''),
    md("""
### Why no batch norm, and why the 0.2

ESRGAN removes batch normalization: BN normalises with batch statistics in training and with running
averages at test time, and when the two differ (other images, other sizes) it produces artefacts; without
it the network also generalises more evenly (§3.1). A 69-RDB network without BN has to be kept stable
another way: each residual branch is **scaled by 0.2** before it is added, and the dense convolutions start
from He-normal weights **scaled by 0.1** (§3.1, "residual scaling" and "smaller initialization"). We
measure what that does at initialisation, on a real LR crop: how much each RDB changes its input, and how
the trunk's features grow from block to block.
"""),
    code('''
from srgan_keras.degradation import bicubic_downscale, bicubic_upscale, crop_to_multiple, make_lr_numpy
from srgan_keras.imaging import load_rgb_uint8

baby = load_rgb_uint8(DATA / "Set5" / "baby.png")                      # (512, 512, 3) uint8
lr_crop = bicubic_downscale(baby[192:320, 192:320], 4).numpy()[None] / 255.0  # (1, 32, 32, 3) in [0, 1]
names = ["conv_first"] + [f"body_{b}_add" for b in range(23)]
probe = keras.Model(G.input, [G.get_layer(n).output for n in names]
                    + [G.get_layer(f"body_{b}_scale").output for b in range(23)])
trunk = [o.numpy() for o in probe(lr_crop.astype(np.float32))[:24]]  # conv_first, then after each RRDB
rdb_in = [f"body_{b}_rdb{k}_add" for b in range(23) for k in (1, 2, 3)]  # each RDB's output
rdb_probe = keras.Model(G.input, [G.get_layer(n).output for n in rdb_in]
                        + [G.get_layer(n.replace("_add", "_scale")).output for n in rdb_in])
outs = [o.numpy() for o in rdb_probe(lr_crop.astype(np.float32))]
rdb_out, rdb_res = outs[:69], outs[69:]
rdb_inputs = [trunk[i // 3] if i % 3 == 0 else rdb_out[i - 1] for i in range(69)]
change = [np.std(r) / np.std(x) for r, x in zip(rdb_res, rdb_inputs)]  # |0.2 conv5(..)| / |RDB input|
growth = np.std(trunk[-1]) / np.std(trunk[0])
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8))
axes[0].plot(np.arange(69) / 3, change, "o-", ms=2)
axes[0].set_xlabel("RDB (in units of RRDBs)"), axes[0].set_ylabel("std(0.2 x conv5) / std(input)")
axes[0].set_title("each RDB's change to its input, at initialisation", fontsize=9)
axes[1].semilogy(range(24), [np.std(t) for t in trunk], "o-", ms=3, label="measured")
axes[1].semilogy(range(24), np.std(trunk[0]) * 1.2 ** np.arange(24), "--", label="x 1.2 per RRDB")
axes[1].set_xlabel("after RRDB (0 = conv_first)"), axes[1].set_ylabel("std of the trunk (log)")
axes[1].set_title("the trunk through 23 RRDBs, no BN", fontsize=9)
axes[1].legend(fontsize=7)
fig.tight_layout()
plt.show()
print(f"median change per RDB: {np.median(change):.2%}; the trunk grows x{growth:.0f} over 23 RRDBs "
      f"(1.2^23 = {1.2 ** 23:.0f}; without the 0.2 it would be about 2^23 = {2 ** 23:,})")
'''),
    md("""
Each RDB changes its input by under 2 % (0.1-scaled weights, then × 0.2), so the three RDBs of an
RRDB pass their input on almost unchanged — and the RRDB's own skip adds 0.2 of *that* back:
$\\mathrm{RRDB}(x) \\approx x + 0.2x$. The trunk therefore grows by about 1.2 per RRDB, $1.2^{23} \\approx 66$
in all, exactly as in BasicSR's PyTorch model; `conv_body` and the long skip follow. Without the residual
scaling each RRDB would double its input. Training then shapes the residuals; nothing renormalises the
features in between, which is what BN used to do.
"""),
    md("""
## 2 · The relativistic average discriminator (ESRGAN §3.2, Eqs. 1–2)

SRGAN's discriminator answers "is this image real?": $D(x) = \\sigma(C(x))$ with $C$ the logit. ESRGAN's
answers "is this real image more realistic than the *average* fake one?":
$D_{Ra}(x_r, x_f) = \\sigma(C(x_r) - \\mathbb{E}_{x_f}[C(x_f)])$, with

$$ L_D^{Ra} = -\\mathbb{E}_{x_r}[\\log D_{Ra}(x_r, x_f)] - \\mathbb{E}_{x_f}[\\log(1 - D_{Ra}(x_f, x_r))] \\quad (1) $$
$$ L_G^{Ra} = -\\mathbb{E}_{x_r}[\\log(1 - D_{Ra}(x_r, x_f))] - \\mathbb{E}_{x_f}[\\log D_{Ra}(x_f, x_r)] \\quad (2) $$

The library writes both with logits (`sigmoid_cross_entropy_with_logits`, stable for large logits);
notebook 03 checks them against a numpy transcription. Here: the two losses on example logits.
"""),
    code('''
print(inspect.getsource(losses.RelativisticAverageGAN))
vanilla, ragan = losses.VanillaGAN(), losses.RelativisticAverageGAN()
rng = np.random.default_rng(0)
noise = lambda: 0.5 * rng.normal(size=(16, 1)).astype(np.float32)  # noqa: E731  (16 images, 1 logit each)
r, f = 3 + noise(), -3 + noise()
cases = {"D undecided: all logits 0": (0 * r, 0 * f),
         "D separates: real +3, fake -3": (r, f),
         "the same, every logit + 5": (r + 5, f + 5),
         "roles swapped: real -3, fake +3": (f, r)}
print(f"{'example logits':<40}{'vanilla L_D':>12}{'L_G':>8}{'RaGAN L_D':>12}{'L_G':>8}")
for name, (real, fake) in cases.items():
    print(f"{name:<40}{float(vanilla.discriminator_loss(real, fake)):>12.3f}"
          f"{float(vanilla.generator_loss(real, fake)):>8.3f}{float(ragan.discriminator_loss(real, fake)):>12.3f}"
          f"{float(ragan.generator_loss(real, fake)):>8.3f}")
'''),
    md("""
Two things to read in the table:

* **Only differences matter to RaGAN.** Adding 5 to every logit (D now calls everything "real") leaves
  both RaGAN losses unchanged, while the vanilla generator loss collapses: a vanilla G is satisfied as
  soon as D calls its images real, whatever D thinks of the real ones.
* **Mirror images.** Swap the reals' and the fakes' logits (last row) and RaGAN's $L_G$ and $L_D$ swap
  values: Eq. 2 is Eq. 1 with the roles of real and fake exchanged.

The generator's gradient shows the second argument of §3.2: in Eq. 2, G also pushes the *real* logits
down, so it "benefits from the gradients from both generated data and real data"; the vanilla G loss does
not depend on the real images at all.
"""),
    code('''
real, fake = tf.Variable(r), tf.Variable(f)
for name, loss in (("vanilla", vanilla), ("RaGAN", ragan)):
    with tf.GradientTape() as tape:
        lg = loss.generator_loss(real, fake)
    g_real, g_fake = tape.gradient(lg, [real, fake])
    g_real = 0.0 if g_real is None else float(tf.reduce_sum(tf.abs(g_real)))
    print(f"{name:<8} L_G {float(lg):.3f}: |dL_G/d real logits| {g_real:.3f}, "
          f"|dL_G/d fake logits| {float(tf.reduce_sum(tf.abs(g_fake))):.3f}")

shift = np.linspace(-8, 8, 161, dtype=np.float32)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(shift, [float(vanilla.generator_loss(None, np.full((16, 1), s))) for s in shift], label="vanilla (any real logits)")
for mean_real in (0.0, 3.0):
    real_k = np.full((16, 1), mean_real, np.float32)
    ax.plot(shift, [float(ragan.generator_loss(real_k, np.full((16, 1), s))) for s in shift], "--",
            label=f"RaGAN, real logits = {mean_real:g}")
ax.set_xlabel("logit C(G(LR)) of every fake image"), ax.set_ylabel("generator loss")
ax.set_title("L_G as the fakes improve: RaGAN measures them against the reals", fontsize=9)
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()
'''),
    md("""
In the loop, `SRGAN.train_step` passes D's logits on the real batch to the generator loss when the loss
says `needs_real_for_generator` (RaGAN does; `--adv-loss ragan`, the `esrgan` preset, weight 5e-3).

## 3 · VGG features before the activation (ESRGAN §3.3)

SRGAN compares VGG19 features *after* the ReLU of `block5_conv4` (φ5,4). ESRGAN takes them *before* it,
with an L1 criterion, for two reasons: the activated features of such a deep layer are very sparse —
few neurons are non-zero after the ReLU, so most of the image gives no supervision — and features after
the activation lead to inconsistent reconstructed brightness. Real-ESRGAN sums five layers before their
activation (conv1_2, conv2_2, conv3_4, conv4_4, conv5_4 weighted 0.1, 0.1, 1, 1, 1).

The library rebuilds each named convolution as a *new* layer with a linear activation and the same weights,
so the shared VGG layers are never modified:
"""),
    code('''
print(inspect.getsource(losses.vgg_feature_extractor))
print("multi_preact:", losses.VGG_LOSSES["multi_preact"])
'''),
    md("""
⏱ *about 20 s (two VGG19 builds). With random weights (offline) the numbers show the mechanism, not the
trained network: a trained VGG19's deep layers are far sparser after the ReLU than a random one's.*
"""),
    code('''
layer_names = [n for n, _ in losses.VGG_LOSSES["multi_preact"][0]]
keras.utils.set_random_seed(0)  # the same random weights for both extractors (irrelevant with imagenet)
before = losses.vgg_feature_extractor(layer_names, VGG_WEIGHTS, before_activation=True)
keras.utils.set_random_seed(0)
after = losses.vgg_feature_extractor(layer_names, VGG_WEIGHTS, before_activation=False)
butterfly = load_rgb_uint8(DATA / "Set5" / "butterfly.png")[None].astype(np.float32) / 127.5 - 1.0  # [-1, 1]
x_vgg = losses.vgg_preprocess(butterfly)
fb = [t.numpy() for t in before(x_vgg, training=False)]
fa = [t.numpy() for t in after(x_vgg, training=False)]
for name, b, a in zip(layer_names, fb, fa):
    print(f"{name:<13} {str(b.shape[1:]):<16} before: {np.mean(b > 0):6.1%} positive | after ReLU: "
          f"{np.mean(a == 0):6.1%} exactly zero | max |relu(before) - after| {np.abs(np.maximum(b, 0) - a).max():.2g}")

fig, axes = plt.subplots(1, 2, figsize=(10, 2.8))
b54, a54 = fb[-1].ravel(), fa[-1].ravel()
bins = np.linspace(b54.min(), b54.max(), 80)
axes[0].hist(b54, bins, alpha=0.6, label="before activation (ESRGAN)")
axes[0].hist(a54, bins, alpha=0.6, label="after ReLU (SRGAN phi5,4)")
axes[0].set_yscale("log"), axes[0].set_xlabel("block5_conv4 feature value"), axes[0].set_ylabel("count (log)")
axes[0].set_title("the same features, before and after the ReLU", fontsize=9)
axes[0].legend(fontsize=7)
channel = int(np.argmax(fb[-1][0].std((0, 1))))
axes[1].imshow(np.concatenate([fb[-1][0, :, :, channel], fa[-1][0, :, :, channel]], 1), cmap="viridis")
axes[1].set_title(f"block5_conv4 channel {channel}: before | after (16x16 each)", fontsize=9)
axes[1].set_xlabel("x (feature cells)"), axes[1].set_ylabel("y")
fig.tight_layout()
plt.show()
'''),
    md("""
After the ReLU every negative response is exactly 0: wherever the SR and HR images both give a negative
response, the loss sees no difference at all, however different the responses are. Before the activation
the loss sees all of them. `ContentLoss("vgg54_preact")` (ESRGAN) and `ContentLoss("multi_preact")`
(Real-ESRGAN) use these features with L1 and without SRGAN's 1/12.75 rescaling.

## 4 · The U-Net discriminator with spectral normalization (Real-ESRGAN)

Real-ESRGAN's degradations produce a much wider range of artefacts, and its discriminator has to judge
local texture: a U-Net that returns a **logit per pixel** — "this pixel looks real" — instead of one per
image, so the generator gets detailed, local feedback. Spectral normalization (Miyato et al. 2018) divides
each convolution's kernel by its largest singular value, which keeps this stronger discriminator's training
stable. Fully convolutional: any input size divisible by 8 (three stride-2 convolutions).
"""),
    code('''
from srgan_keras import unet_discriminator

print(inspect.getsource(unet_discriminator.sn_conv))
D = unet_discriminator.build_unet_discriminator()  # num_feat 64, as Real-ESRGAN
trainable = sum(int(np.prod(w.shape)) for w in D.trainable_weights)
print(f"trainable parameters {trainable:,} (Real-ESRGAN/BasicSR: 4,376,897); count_params {D.count_params():,} "
      "(+ one power-iteration vector u per SN conv)")
for size in (64, 128, 200):
    print(f"input (1, {size}, {size}, 3) -> logits {tuple(D(np.zeros((1, size, size, 3), np.float32)).shape)}")
'''),
    md("""
### What a per-pixel discriminator learns

A small experiment (a 16-feature U-Net, for speed): train it to tell HR crops of the built-in photos from
their bicubic x4 reconstructions — the "generator" here is plain bicubic — then look at its logit map on
Set5's butterfly, which it has never seen. The loss is the vanilla GAN's, averaged over every pixel.
`training=True` matters: Keras' `SpectralNormalization` runs its power iteration and rescales the kernel
only in training mode. ⏱ *Without `SRGAN_FAST`: about half a minute (300 steps of batch 8 at 64x64); with
it, seconds.*
"""),
    code('''
from srgan_keras.imaging import builtin_images

photos = [img for _, img in builtin_images()]
rng = np.random.default_rng(0)

def crops(n: int, size: int = 64):
    """n random HR crops and their bicubic x4 reconstructions, both in [-1, 1] (the D's range)."""
    hr = []
    for _ in range(n):
        img = photos[rng.integers(len(photos))]
        y, x = rng.integers(0, img.shape[0] - size), rng.integers(0, img.shape[1] - size)
        hr.append(img[y:y + size, x:x + size])
    hr = np.stack(hr).astype(np.float32)                               # (n, 64, 64, 3), 0..255
    lr = np.clip(np.round(bicubic_downscale(hr, 4).numpy()), 0, 255)  # (n, 16, 16, 3), 8-bit
    bic = np.clip(np.round(bicubic_upscale(lr, 4).numpy()), 0, 255)
    return hr / 127.5 - 1, bic.astype(np.float32) / 127.5 - 1

D16 = unet_discriminator.build_unet_discriminator(num_feat=16)
opt = keras.optimizers.Adam(2e-4, beta_1=0.9, beta_2=0.99)  # betas as Real-ESRGAN; lr 2x its 1e-4
opt.build(D16.trainable_variables)

@tf.function
def d_step(real, fake):
    with tf.GradientTape() as tape:
        loss = vanilla.discriminator_loss(D16(real, training=True), D16(fake, training=True))
    opt.apply(tape.gradient(loss, D16.trainable_variables), D16.trainable_variables)
    return loss

t0, history = time.perf_counter(), []
for step in range(5 if FAST else 300):
    history.append(float(d_step(*crops(8))))
print(f"{len(history)} steps in {time.perf_counter() - t0:.0f} s; D loss {history[0]:.3f} -> "
      f"{np.mean(history[-20:]):.3f} (mean of the last 20)")
sigmas = {name: np.linalg.svd(D16.get_layer(name).layer.kernel.numpy().reshape(-1, D16.get_layer(name).layer.filters),
                              compute_uv=False)[0] for name in ("conv1", "conv4", "conv8")}
print("largest singular value of the SN kernels after training:", {k: round(float(v), 3) for k, v in sigmas.items()})
'''),
    code('''
hr_b = load_rgb_uint8(DATA / "Set5" / "butterfly.png")                     # (256, 256, 3)
bic_b = np.clip(np.round(bicubic_upscale(make_lr_numpy(hr_b, 4), 4).numpy()), 0, 255).astype(np.uint8)
logit_maps = {name: D16(img[None].astype(np.float32) / 127.5 - 1, training=False)[0, :, :, 0].numpy()
              for name, img in (("HR", hr_b), ("bicubic x4", bic_b))}
lo, hi = np.percentile(np.concatenate([m.ravel() for m in logit_maps.values()]), [1, 99])
fig, axes = plt.subplots(1, 4, figsize=(11, 2.9))
axes[0].imshow(hr_b), axes[0].set_title("HR", fontsize=8)
axes[1].imshow(bic_b), axes[1].set_title("bicubic x4", fontsize=8)
for ax, (name, m) in zip(axes[2:], logit_maps.items()):
    im = ax.imshow(m, cmap="viridis", vmin=lo, vmax=hi)  # one colour scale for both maps
    ax.set_title(f"D's logits on {name} (mean {m.mean():.2f})", fontsize=8)
fig.colorbar(im, ax=axes[2:], fraction=0.03, label="logit (higher = more real)")
for ax in axes:
    ax.set_xlabel("x (px)"), ax.set_ylabel("y (px)")
fig.suptitle("A per-pixel discriminator's verdict on an image it has not seen", fontsize=9)
plt.show()
'''),
    md("""
The map is a verdict per pixel. On HR the logits are highest exactly at sharp edges and fine texture —
the wing's veins and borders: that is where D has learned to recognise real detail. On the bicubic image
the same places score low, while smooth regions score alike in both images: bicubic reproduces flat
areas well, so nothing there tells real from fake. (After 300 steps D is still biased toward "real" —
even bicubic averages a positive logit — the contrast between the maps is what it has learned.) A
VGG-style discriminator would have given one number for the whole image, and the generator would not
know *where* it failed.

## 5 · Second-order degradations (Real-ESRGAN §3)

Bicubic downscaling is a clean, known degradation; real photos are blurred, resized, noisy and JPEG-compressed,
often several times (a photo taken, resized, shared, screenshotted...). Real-ESRGAN synthesises LR images by
applying the classical model $x = [(y \\circledast k)\\downarrow_r + n]_{\\mathrm{JPEG}}$ **twice**, with random
blur kernels (isotropic/anisotropic Gaussian, generalized Gaussian, plateau, sinc), random resizing
(area, bilinear, bicubic; up, down or kept), Gaussian or Poisson noise (colour or grey), JPEG quality 30–95,
and a final sinc filter for ringing and overshoot artefacts. Every probability and range is the official
default, in one frozen dataclass:
"""),
    code('''
from srgan_keras import realesrgan_degradation as red

for field in ("kernel_sizes", "kernel_prob", "sinc_prob", "blur_sigma", "resize_prob", "resize_range",
              "noise_range", "poisson_scale_range", "jpeg_range", "second_blur_prob", "resize_range2",
              "final_sinc_prob", "usm_weight"):
    print(f"{field:<20} {getattr(red.DEFAULT, field)}")
'''),
    md("""
One image through every stage. The degradation is applied to the **unsharp-masked** HR (Real-ESRGAN
trains on sharpened targets: `usm_gt`), and each panel is drawn at the same display size, so the resizes
show as changes of pixel size. The three kernels drawn for this seed are in the last panels.
⏱ *a few seconds.*
"""),
    code('''
eye = baby[128:320, 160:352]  # (192, 192, 3): the baby's eye, fine detail
fig = red.degradation_grid_figure(eye, scale=4, seed=(0, 3))
fig.set_dpi(50)  # keeps the committed PNG small
plt.show()
'''),
    code('''
seeds = [(0, k) for k in range(5)]
eye01 = red.usm_sharpen((eye / 255.0).astype(np.float32))  # Real-ESRGAN degrades the sharpened HR
lrs = [red.degrade_image(eye01, 4, red.DEFAULT, seed).numpy() for seed in seeds]
fig, axes = plt.subplots(1, 6, figsize=(11, 2.2))
axes[0].imshow(bicubic_downscale(eye, 4).numpy().astype(np.uint8), interpolation="nearest")
axes[0].set_title("bicubic LR (SRGAN)", fontsize=8)
for ax, seed, lr in zip(axes[1:], seeds, lrs):
    ax.imshow(lr, interpolation="nearest")
    ax.set_title(f"Real-ESRGAN LR, seed {seed}", fontsize=8)
for ax in axes:
    ax.set_xlabel("x (LR px)"), ax.set_ylabel("y")
fig.suptitle("One HR crop, six 48x48 LR images: the model must undo all of them", fontsize=9)
fig.tight_layout()
plt.show()
'''),
    md("""
Each image gets its own stateless seed, so the same seed gives the same LR on any worker and in any order
(the official code draws some choices once per batch and reshuffles through a pool; the module's docstring
lists this and the other departures).

## 6 · A tiny `--preset realesrgan` run

The `realesrgan` preset is the paper's recipe: RRDBNet, the U-Net SN discriminator, second-order
degradations, USM-sharpened targets, L1 1 + perceptual 1 + vanilla GAN 0.1, an EMA of the generator's
weights, 256 px crops, batch 48 and 1.4·10^6 steps on 4 GPUs. Here the *parts* run, at classroom size:

* 2 RRDBs of 32 features (paper: 23 of 64), a 32-feature U-Net, 64 px crops, batch 4;
* **two commands**, as the paper trains: Real-ESRNet (L1 pre-training, `--phase pretrain`), then
  Real-ESRGAN initialised from it (`--phase gan --init-from`), so section 8 can interpolate the two;
* learning rate 1e-3 with warm-up and cosine decay for the pre-training (paper: constant 2e-4 over 10^6
  steps; a few hundred steps need a larger, decaying rate, as in the demo preset);
* `--ema-decay 0.99` (paper: 0.999, an average over ~1,000 steps: longer than these runs, so the saved
  weights would barely move from the starting point);
* the perceptual term is **L1 on pixels** (`--content-loss l1`) unless `SRGAN_VGG_WEIGHTS` is set: with
  random VGG weights it would pull toward meaningless features.

With `SRGAN_FAST=1` the cell runs the README's tiny offline command instead (1 RRDB of 8 features, 2 + 2
steps). Validation uses bicubic LR of two held-out photos, the same as every other run.

⏱ *Without `SRGAN_FAST`: about 2 minutes on a quiet 2-core CPU (400 + 200 steps, XLA); with it: seconds.
Like every training cell of the course, a second run resumes from the run folders and finishes at once.*
"""),
    code('''
from srgan_keras import train
from srgan_keras.config import get_config

cfg = get_config("realesrgan")
print({k: getattr(cfg, k) for k in ("generator", "num_blocks", "discriminator", "degradation", "usm_gt",
                                     "pretrain_loss", "pixel_weight", "content_loss", "adv_loss", "adv_weight",
                                     "ema_decay", "hr_size", "batch_size")})
README_TINY = ["--num-blocks", "1", "--num-filters", "8", "--disc-filters", "8", "--hr-size", "64",
               "--batch-size", "2", "--val-images", "1", "--no-jit-compile", "--log-every", "1"]
CLASSROOM = ["--num-blocks", "2", "--num-filters", "32", "--disc-filters", "32", "--hr-size", "64",
             "--batch-size", "4", "--val-images", "2", "--pretrain-lr", "1e-3", "--lr-schedule", "cosine",
             "--warmup-steps", "20", "--ema-decay", "0.99", "--log-every", "10"]
COMMON = ["--preset", "realesrgan", *(README_TINY if FAST else CLASSROOM),
          *(["--vgg-weights", VGG_WEIGHTS] if VGG_WEIGHTS else ["--content-loss", "l1"])]
ESRNET_ARGS = [*COMMON, "--phase", "pretrain", "--out", str(RUNS / "realesrnet"),
               "--pretrain-steps", "2" if FAST else "400", "--val-every", "2" if FAST else "100"]
ESRGAN_ARGS = [*COMMON, "--phase", "gan", "--out", str(RUNS / "realesrgan"),
               "--init-from", str(RUNS / "realesrnet" / "generator.keras"),
               "--gan-steps", "2" if FAST else "200", "--val-every", "2" if FAST else "50"]
'''),
    code('''
t0 = time.perf_counter()
assert train.main(ESRNET_ARGS) == 0
t1 = time.perf_counter()
assert train.main(ESRGAN_ARGS) == 0
print(f"Real-ESRNet {t1 - t0:.0f} s, Real-ESRGAN {time.perf_counter() - t1:.0f} s")
'''),
    code('''
import json

from PIL import Image

fig, axes = plt.subplots(2, 1, figsize=(7, 4.2))
for ax, name in zip(axes, ("realesrnet", "realesrgan")):
    r = json.loads((RUNS / name / "result.json").read_text())
    print(f"{name:<11} val PSNR {r['psnr']:.2f} dB (bicubic {r['bicubic_psnr']:.2f}), SSIM {r['ssim']:.4f}")
    ax.imshow(np.asarray(Image.open(RUNS / name / "samples.png")))
    ax.set_title(f"{name}: LR (nearest) | bicubic | SR | HR", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
fig.tight_layout()
plt.show()
'''),
    md("""
A few hundred CPU steps of a 2-block RRDBNet trained on heavy degradations do not beat bicubic on clean
bicubic LR (about 25 dB against 27 in the committed run) — the paper's models train for days on four
GPUs, and are meant for degraded photos, not for Set5's bicubic protocol; the samples show the other
side: the network has already learned to smooth away noise. What the run shows is that every part works together through the same
loop, checkpoints and files as SRGAN's: `generator.keras` loads with `load_generator` and goes through
`evaluate`, `upscale` (with tiling) and `export` unchanged.

## 7 · Published weights: the converter, and a pickle that must not load

The official ESRGAN and Real-ESRGAN weights are PyTorch `.pth` files: a zip holding a **pickle** plus raw
tensor bytes. `pickle.load` executes whatever the pickle names — a file from the internet can run any
command on your machine as it loads. `python -m srgan_keras.convert` therefore never unpickles freely: a
restricted unpickler resolves only what a state dict needs and refuses everything else.
"""),
    code('''
from srgan_keras import convert, torch_pickle

print({f"{m}.{n}" for m, n in torch_pickle.StateDictUnpickler.ALLOWED}, "+ torch.<Type>Storage (dtypes only)")
print(inspect.getsource(torch_pickle.StateDictUnpickler.find_class))
'''),
    md("""
We craft a malicious checkpoint the way an attacker would: an object whose `__reduce__` tells pickle "to
rebuild me, call `os.system(command)`", hidden inside what looks like BasicSR's `{"params": ...}`. The
command would only `touch` a marker file in a scratch folder, and it is **never run**: pickling records the
call without making it, and we load the file only through the library. On Linux `os.system` is
`posix.system`, which is the name pickle records.
"""),
    code('''
import collections
import contextlib
import io
import pickle
import pickletools
import tempfile
import zipfile

class Payload:
    """Unpickling this calls os.system(command): what pickle.load would do with a hostile file."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))

scratch = Path(tempfile.mkdtemp(prefix="srgan_convert_"))  # never printed: a machine path
marker = scratch / "pwned"
data = pickle.dumps(collections.OrderedDict(params=Payload(f"touch {marker}")), protocol=2)
print("the pickle's program:", " ".join(f"{op.name} {arg!r}" if op.name == "GLOBAL" else op.name
                                      for op, arg, _ in pickletools.genops(data)))

evil = scratch / "RealESRGAN_x4plus.pth"  # a torch zip file: NAME/data.pkl, NAME/byteorder
with zipfile.ZipFile(evil, "w") as z:
    z.writestr("archive/data.pkl", data)
    z.writestr("archive/byteorder", "little")
try:
    torch_pickle.load_torch_file(evil)
except torch_pickle.UnsafePickleError as e:
    print("refused:", str(e).replace(str(scratch), "<scratch>"))
err = io.StringIO()
with contextlib.redirect_stderr(err):
    rc = convert.main([str(evil), "-o", str(scratch / "out.keras")])
print(f"the CLI: exit code {rc};", err.getvalue().strip().replace(str(scratch), "<scratch>"))
print("did the command run?", marker.exists(), "| was a model written?", (scratch / "out.keras").exists())
'''),
    md("""
A real checkpoint passes: its pickle names only `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`
and storage types, and the tensors come from the zip's raw bytes. The converter then maps names
(`body.3.rdb2.conv5.weight` → layer `body_3_rdb2_conv5`) and layouts: PyTorch kernels are (out, in, kh, kw),
Keras' (kh, kw, in, out); and for x2/x1 models the input channels of `conv_first` are permuted, because
PyTorch's pixel-unshuffle orders its channels colour-major and TensorFlow's offset-major:
"""),
    code('''
print(inspect.getsource(convert.unshuffle_permutation))
print("x2 (r = 2): TensorFlow channel k holds PyTorch channel", convert.unshuffle_permutation(2))
'''),
    md("""
Without torch or the published files, we check the mapping by a round trip: a small random x2 RRDBNet is
written out as the state dict BasicSR would have (PyTorch names, PyTorch layouts), converted back by the
library, and both models are run on the same input.
"""),
    code('''
import re

def basicsr_state_dict(model: keras.Model, scale: int) -> dict:
    """A Keras RRDBNet's weights as BasicSR's state dict: the converter's mapping, reversed."""
    r = rrdbnet.UNSHUFFLE[scale]  # pixel-unshuffle factor of the input: 2 at x2
    sd = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        kernel, bias = layer.get_weights()
        torch_name = re.sub(r"^body_(\\d+)_rdb(\\d)_conv(\\d)$", r"body.\\1.rdb\\2.conv\\3", layer.name)
        w = kernel.transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
        if layer.name == "conv_first" and r > 1:
            w = w.copy()
            w[:, convert.unshuffle_permutation(r)] = kernel.transpose(3, 2, 0, 1)  # undo the permutation
        sd[f"{torch_name}.weight"], sd[f"{torch_name}.bias"] = w, bias
    return sd

keras.utils.set_random_seed(1)
small = rrdbnet.build_rrdbnet(scale=2, num_feat=16, num_block=2, num_grow_ch=8)  # random weights
sd = basicsr_state_dict(small, scale=2)
print(f"{len(sd)} tensors, e.g.", {k: sd[k].shape for k in list(sd)[:3]})
back = convert.convert_state_dict(sd)
x = np.random.default_rng(0).random((1, 24, 40, 3), dtype=np.float32)
print(f"read back as RRDBNet {convert.rrdbnet_shape(sd)}; max |difference| of the outputs: "
      f"{np.abs(np.asarray(small(x)) - np.asarray(back(x))).max():.2g}")
'''),
    md("""
With a real file: `python -m srgan_keras.convert RealESRGAN_x4plus.pth -o realesrgan_x4plus.keras`, then
`python -m srgan_keras.upscale photo.jpg --model realesrgan_x4plus.keras -o out/`. The test suite checks the
converter against PyTorch itself (max difference < 1e-4) when torch is installed.

## 8 · Network interpolation (ESRGAN §3.4, Eq. 4)

$$ \\theta_G^{INTERP} = (1 - \\alpha)\\, \\theta_G^{PSNR} + \\alpha\\, \\theta_G^{GAN} $$

Two generators of the same architecture, the GAN one fine-tuned from the PSNR one, are blended weight by
weight; `alpha` moves from the smooth, high-PSNR result to the sharp GAN result with no retraining, and
ESRGAN shows the blend has fewer artefacts than blending the two output *images*. Notebook 06 did it for
SRResNet/SRGAN; here for the Real-ESRNet and Real-ESRGAN of section 6, on Set5 (bicubic LR) and on one
Real-ESRGAN-degraded image.
"""),
    code('''
from srgan_keras import interpolate

psnr_model = interpolate.load(RUNS / "realesrnet" / "generator.keras")
gan_model = interpolate.load(RUNS / "realesrgan" / "generator.keras")
set5 = [(p.stem, crop_to_multiple(load_rgb_uint8(p), 4)) for p in sorted((DATA / "Set5").glob("*.png"))]
alphas = (0.0, 0.25, 0.5, 0.75, 1.0)
blends = {a: interpolate.interpolate_models(psnr_model, gan_model, a) for a in alphas}
rows = [{"alpha": a, **interpolate.evaluate_blend(m, set5)} for a, m in blends.items()]
print(interpolate.sweep_table(rows))
'''),
    code(SHOW),
    code('''
hr_eye = eye  # (192, 192, 3)
lr_real = np.round(red.degrade_image((hr_eye / 255.0).astype(np.float32), 4, red.DEFAULT, (0, 1)).numpy()
                   * 255).astype(np.uint8)                       # (48, 48, 3)
panels = {"degraded LR (nearest)": np.repeat(np.repeat(lr_real, 4, 0), 4, 1),
          "bicubic": np.clip(np.round(bicubic_upscale(lr_real, 4).numpy()), 0, 255).astype(np.uint8)}
for a in (0.0, 0.5, 1.0):
    panels[f"alpha {a:g}"] = srgan_keras.upscale_image(lr_real, blends[a], tile=None, pre_pad=0)
panels["HR"] = hr_eye
show_row(panels, hr_eye, "A Real-ESRGAN-degraded LR, upscaled by interpolated tiny models")
'''),
    md("""
Two tiny models 200 GAN steps apart differ little, so the blends do too (PSNR within a few hundredths of
a dB); what the panel shows is what Real-ESRGAN training is for: all three remove the noise and JPEG
blocks that bicubic magnifies (at this size, at the price of blur). The published models span the whole
range from smooth to textured. The command-line version writes one `.keras` per alpha and, with
`--data`, the table and a perception–distortion plot (the perception axis needs VGG19 weights):

```bash
python -m srgan_keras.interpolate --psnr saved_models/course/full/realesrnet/generator.keras \\
    --gan saved_models/course/full/realesrgan/generator.keras --alpha 0.8 -o blend.keras
python -m srgan_keras.interpolate --psnr A.keras --gan B.keras --alphas 0,0.2,0.4,0.6,0.8,1 \\
    --out-dir sweep --data ../shared/data/Set5
```

The full recipes, on a GPU with DIV2K and VGG19 weights:

```bash
python -m srgan_keras.train --preset esrgan --data DIV2K_train_HR
python -m srgan_keras.train --preset realesrgan --data DIV2K_train_HR
```

This is the end of the course: back to the [list of notebooks](README.md).
"""),
    code('''
import shutil

shutil.rmtree(scratch)  # the crafted files were temporary
'''),
]


def build(name: str) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(t) if kind == "md" else new_code_cell(t) for kind, t in NB[name]]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


NOISE = re.compile(r"(cuInit|absl::InitializeLog|cudart_stub|oneDNN custom operations|"
                   r"rebuild TensorFlow with the appropriate compiler flags|port\.cc:\d+|"
                   r"cpu_feature_guard|TF-TRT|computation placer|Unable to register cu|"
                   r"Created TensorFlow Lite XNNPACK delegate|^fully_quantize: )")


def _collapse(text: str) -> str:
    """Keep only what a terminal would show after carriage returns (progress bars)."""
    lines = []
    for line in text.split("\n"):
        lines.append(line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r"))
    return "\n".join(lines)


def tidy(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for o in cell.get("outputs", []):  # one output per stream write: join them first
            if (o.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                    and merged[-1]["name"] == o["name"]):
                merged[-1]["text"] += o["text"]
            else:
                merged.append(o)
        kept = []
        for o in merged:
            if o.get("output_type") == "stream":
                o["text"] = _collapse(o["text"])
                if o["name"] == "stderr":
                    o["text"] = "\n".join(ln for ln in o["text"].split("\n") if not NOISE.search(ln))
                if not o["text"].strip():
                    continue
            kept.append(o)
        cell["outputs"] = kept


def execute(path: Path) -> float:
    import os

    from nbclient import NotebookClient

    root = str(HERE.parent)  # the package of this checkout, installed or not
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))

    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=3600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    dt = time.perf_counter() - t0
    tidy(nb)
    nbformat.write(nb, path)
    return dt


def update_markdown(path: Path, fresh: nbformat.NotebookNode) -> None:
    """Replace the prose of an executed notebook, keeping its outputs; its code must be unchanged."""
    nb = nbformat.read(path, as_version=4)
    if [c.cell_type for c in nb.cells] != [c.cell_type for c in fresh.cells] or any(
            a.source != b.source for a, b in zip(nb.cells, fresh.cells) if a.cell_type == "code"):
        raise SystemExit(f"{path.name}: code cells changed; rebuild it with --execute")
    for old, new in zip(nb.cells, fresh.cells):
        if old.cell_type == "markdown":
            old.source = new.source
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    run = "--execute" in argv
    prefixes = [a for a in argv if not a.startswith("--")]
    if "--markdown-only" in argv:
        for name in NB:
            path = HERE / f"{name}.ipynb"
            if path.exists() and (not prefixes or any(name.startswith(p) for p in prefixes)):
                update_markdown(path, build(name))
                print(f"updated the markdown of {path.name}")
        return 0
    for name in NB:
        if prefixes and not any(name.startswith(p) for p in prefixes):
            continue
        path = HERE / f"{name}.ipynb"
        nbformat.write(build(name), path)
        if run:
            print(f"{name}: executed in {execute(path):.0f} s", flush=True)
        else:
            print(f"wrote {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
