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
# # 9 · Real-ESRGAN: a discriminator per pixel, second-order degradations, and network interpolation
#
# Real-ESRGAN (Wang et al., ICCV Workshops 2021) trains ESRGAN's generator (notebook 08) for real photos: LR
# images synthesised by a *second-order* degradation model, a U-Net discriminator with spectral
# normalization that judges every pixel, and sharpened (USM) targets. This notebook builds each part, runs
# them together in a tiny training run (mechanics only: a few CPU minutes), and interpolates the two
# resulting networks (ESRGAN §3.4).
#
# **Offline here:** VGG19's ImageNet weights cannot be downloaded on this machine, so the training run uses
# an L1 content loss instead of the perceptual one; with a network, set `SRGAN_VGG_WEIGHTS=imagenet` (or a
# path to the `.h5`) before starting Jupyter.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import srgan_keras
from _course import DATA, FAST, RUNS, VGG_WEIGHTS, nearest, say, setup, show_figure, show_panels

setup()

# %%
import inspect

import keras
import tensorflow as tf

from srgan_keras.data.degradation import bicubic_downscale, bicubic_upscale, crop_to_multiple, make_lr_numpy
from srgan_keras.data.imaging import load_rgb_uint8
from srgan_keras.training import losses

vanilla = losses.VanillaGAN()  # the adversarial loss Real-ESRGAN keeps (notebook 08, section 2)

baby = load_rgb_uint8(DATA / "Set5" / "baby.png")  # (512, 512, 3) uint8
print("VGG weights:", VGG_WEIGHTS or "none (random; offline)")

# %% [markdown]
# ## 1 · The U-Net discriminator with spectral normalization (Real-ESRGAN)
#
# Real-ESRGAN's degradations produce a much wider range of artefacts, and its discriminator has to judge
# local texture: a U-Net that returns a **logit per pixel** — "this pixel looks real" — instead of one per
# image, so the generator gets detailed, local feedback. Spectral normalization (Miyato et al. 2018) divides
# each convolution's kernel by its largest singular value, which keeps this stronger discriminator's training
# stable. As in PyTorch (`srgan_keras/nn/spectral_norm.py`), the division happens in every forward pass,
# by a power-iteration *estimate* of that value; the stored kernel itself is never rescaled. Fully
# convolutional: any input size divisible by 8 (three stride-2 convolutions).

# %%
from srgan_keras.nn import unet_discriminator

print(inspect.getsource(unet_discriminator.sn_conv))
D = unet_discriminator.build_unet_discriminator()  # num_feat 64, as Real-ESRGAN
trainable = sum(int(np.prod(w.shape)) for w in D.trainable_weights)
print(f"trainable parameters {trainable:,} (Real-ESRGAN/BasicSR: 4,376,897); count_params {D.count_params():,} "
      "(+ one power-iteration vector u per SN conv)")
for size in (64, 128, 200):
    print(f"input (1, {size}, {size}, 3) -> logits {tuple(D(np.zeros((1, size, size, 3), np.float32)).shape)}")

# %% [markdown]
# ### What a per-pixel discriminator learns
#
# A small experiment (a 16-feature U-Net, for speed): train it to tell HR crops of the built-in photos from
# their bicubic x4 reconstructions — the "generator" here is plain bicubic — then look at its logit map on
# Set5's butterfly, which it has never seen. The loss is the vanilla GAN's, averaged over every pixel.
# `training=True` matters: only in training mode does the layer run its power iteration (one per call) and
# update the estimate; in inference it divides by the stored estimate. ⏱ *Without `SRGAN_FAST`: about a
# minute (300 steps of batch 8 at 64x64; the committed run printed its own time); with it, seconds.*

# %%
from srgan_keras.data.imaging import builtin_images

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
for _ in range(5 if FAST else 300):
    history.append(float(d_step(*crops(8))))
print(f"{len(history)} steps in {time.perf_counter() - t0:.0f} s; D loss {history[0]:.3f} -> "
      f"{np.mean(history[-20:]):.3f} (mean of the last 20)")

# %%
hr_b = load_rgb_uint8(DATA / "Set5" / "butterfly.png")                     # (256, 256, 3)
bic_b = np.clip(np.round(bicubic_upscale(make_lr_numpy(hr_b, 4), 4).numpy()), 0, 255).astype(np.uint8)
logit_maps = {name: D16(img[None].astype(np.float32) / 127.5 - 1, training=False)[0, :, :, 0].numpy()
              for name, img in (("HR", hr_b), ("bicubic x4", bic_b))}
prob_maps = {name: 1 / (1 + np.exp(-m)) for name, m in logit_maps.items()}  # sigmoid: D's probability
difference = logit_maps["HR"] - logit_maps["bicubic x4"]
y_of = lambda img: img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)  # noqa: E731
error = np.abs(y_of(hr_b) - y_of(bic_b))                     # where bicubic fails: |HR - bicubic| on Y
k = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
k /= k.sum()                                                 # a Gaussian of sigma 2 px, to compare regions
error_smooth = np.apply_along_axis(lambda r: np.convolve(r, k, "same"), 0, error)
error_smooth = np.apply_along_axis(lambda r: np.convolve(r, k, "same"), 1, error_smooth)
fig, axes = plt.subplots(2, 3, figsize=(10, 6.4))
panels = [(hr_b, "HR", None), (bic_b, "bicubic x4", None),
          (error_smooth, "where bicubic fails: |HR − bicubic| (Y)", "magma"),
          (prob_maps["HR"], f"D's probability on HR (mean {prob_maps['HR'].mean():.2f})", "viridis"),
          (prob_maps["bicubic x4"], f"D's probability on bicubic (mean {prob_maps['bicubic x4'].mean():.2f})",
           "viridis"),
          (difference, "logit difference D(HR) − D(bicubic)", "magma")]
for ax, (img, title, cmap) in zip(axes.ravel(), panels):
    im = ax.imshow(img, cmap=cmap, **({"vmin": 0, "vmax": 1} if cmap == "viridis" else {}))
    ax.set_title(title, fontsize=8), ax.set_xticks([]), ax.set_yticks([])
    if cmap:
        fig.colorbar(im, ax=ax, fraction=0.046)
fig.suptitle("A per-pixel discriminator's verdict on an image it has not seen", fontsize=9)
show_figure(fig)
r = float(np.corrcoef(difference.ravel(), error_smooth.ravel())[0, 1])
say(("*Executed with `SRGAN_FAST=1`: only a few steps of D.* " if FAST else "")
    + f"After {len(history)} steps D's mean logit is {logit_maps['HR'].mean():.2f} on HR and "
    f"{logit_maps['bicubic x4'].mean():.2f} on bicubic: as probabilities, {prob_maps['HR'].mean():.2f} and "
    f"{prob_maps['bicubic x4'].mean():.2f}. Its logit difference follows bicubic's error map at r = {r:.2f}"
    + (": D separates the two images where bicubic lost detail, at edges and fine texture, and hardly at "
       "all in flat regions, where the two images are the same." if r > 0.5 else
       ": not yet tied to where bicubic fails; train D longer (the loop above) and run this cell again."))

# %%
sigmas = {}
for name in ("conv1", "conv4", "conv8"):
    layer = D16.get_layer(name)
    as_matrix = lambda w: np.asarray(w).reshape(-1, w.shape[-1])       # noqa: E731 -- (kh kw in, out)
    sigmas[name] = (np.linalg.svd(as_matrix(layer.kernel), compute_uv=False)[0],  # the stored W
                    layer.sigma_estimate(),                                      # u^T W v
                    np.linalg.svd(as_matrix(layer.applied_kernel()), compute_uv=False)[0])
print(f"{'layer':<6} {'sigma(W) stored':>16} {'sigma_hat':>10} {'sigma(W / sigma_hat) applied':>29}")
for name, (s_w, s_hat, s_applied) in sigmas.items():
    print(f"{name:<6} {s_w:>16.3f} {s_hat:>10.3f} {s_applied:>29.3f}")

# %% [markdown]
# **Reading the maps.** The logits themselves are unbounded: the vanilla GAN loss has no output activation,
# and a D that can tell the two training sets apart keeps pushing them apart, so their scale says little
# (the means above are far from 0). The **probabilities** $\sigma(\text{logit})$ are bounded in [0, 1]
# and are D's actual verdict per pixel; where both images get a probability near 1, the sigmoid hides the
# difference, which is why the last panel subtracts the logits instead. Compare it with the top-right
# panel, bicubic's own error: flat regions (the soft background, the inside of the wing's cells) are the
# same in HR and bicubic, so nothing there tells them apart; edges and fine texture are where bicubic
# fails, and the correlation printed under the figure says how closely D's separation follows them.
# That is what a per-pixel D gives the generator: a gradient that is large *where* its output
# looks fake. A VGG-style discriminator gives one number for the whole image, and the generator must
# work out where it failed on its own.
#
# **The printed singular values.** The first column is the largest singular value of the *stored* kernel
# $W$ (PyTorch's `weight_orig`), which spectral normalization leaves free: it is not bound to 1. What the
# convolution applies is $W / \hat\sigma$, with $\hat\sigma = u^\top W v$ from one power-iteration step
# per training call (the second column). The last column is the largest singular value of the kernel
# actually applied: 1 up to the power iteration's remaining error. For unit $u, v$, $\hat\sigma \le
# \sigma(W)$, so that value is at least 1, and it comes down to 1 as the iteration converges.

# %% [markdown]
# ## 2 · Second-order degradations (Real-ESRGAN §3)
#
# Bicubic downscaling is a clean, known degradation; real photos are blurred, resized, noisy and JPEG-compressed,
# often several times (a photo taken, resized, shared, screenshotted...). Real-ESRGAN synthesises LR images by
# applying the classical model $x = [(y \circledast k)\downarrow_r + n]_{\mathrm{JPEG}}$ **twice**, with random
# blur kernels (isotropic/anisotropic Gaussian, generalized Gaussian, plateau, sinc), random resizing
# (area, bilinear, bicubic; up, down or kept), Gaussian or Poisson noise (colour or grey), JPEG quality 30–95,
# and a final sinc filter for ringing and overshoot artefacts. Every probability and range is the official
# default, in one frozen dataclass:

# %%
from srgan_keras.data import realesrgan_degradation as red
from srgan_keras.data.realesrgan_kernels import sinc_kernel
from srgan_keras.data.realesrgan_stages import filter2d, usm_sharpen

for field in ("kernel_sizes", "kernel_prob", "sinc_prob", "blur_sigma", "resize_prob", "resize_range",
              "noise_range", "poisson_scale_range", "jpeg_range", "second_blur_prob", "resize_range2",
              "final_sinc_prob", "usm_weight"):
    print(f"{field:<20} {getattr(red.DEFAULT, field)}")

# %% [markdown]
# One image through every stage. The degradation is applied to the **unsharp-masked** HR (Real-ESRGAN
# trains on sharpened targets: `usm_gt`), and each panel is drawn at the same display size, so the resizes
# show as changes of pixel size. The three kernels drawn for this seed are in the last panels.
# ⏱ *a few seconds.*

# %%
eye = baby[128:320, 160:352]  # (192, 192, 3): the baby's eyes and nose, fine detail
fig = red.degradation_grid_figure(eye, scale=4, seed=(0, 3))
show_figure(fig)

# %% [markdown]
# **First order against second order.** Classical degradation models (and Real-ESRGAN's first half) apply
# one round: blur, resize, noise, JPEG. Real photos have been through several: a camera's blur and noise,
# then a resize and JPEG by one app, then another. Real-ESRGAN's point (§3.1) is that a *second* round, plus
# the final sinc, covers far more of what real LR images look like. Below, the same seed stopped after the
# first round (its output resized to the LR size) and the full second-order LR.

# %%
stages = []
lr2 = red.degrade_image(usm_sharpen((eye / 255.0).astype(np.float32)), 4, red.DEFAULT, (0, 3), stages=stages)
first = dict((name, img) for name, img, _ in stages)["JPEG 1"]
lr1 = tf.image.resize(first, (eye.shape[0] // 4, eye.shape[1] // 4), "bicubic", antialias=True).numpy()
fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
for ax, (title, img) in zip(axes, [("HR", eye / 255.0), ("bicubic LR (SRGAN)", bicubic_downscale(eye, 4).numpy() / 255),
                                    ("first order only (blur, resize, noise, JPEG)", lr1),
                                    ("second order + final sinc (Real-ESRGAN)", lr2.numpy())]):
    ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
fig.tight_layout()
show_figure(fig)

# %% [markdown]
# **Why a sinc filter: ringing on a step edge.** An ideal low-pass filter cuts every frequency above
# $\omega_c$; in space it is the (2-D) sinc $\omega_c J_1(\omega_c r) / 2\pi r$, whose side lobes alternate
# in sign. Applied to a step edge, the lobes add up to the overshoot and ripples of the Gibbs phenomenon:
# the halo seen around edges of over-sharpened or heavily compressed photos. Real-ESRGAN adds it on
# purpose so the model learns to remove it. A step through the library's `sinc_kernel`:

# %%
step_edge = np.zeros((64, 64, 1), np.float32)
step_edge[:, 32:] = 1.0
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(step_edge[32, :, 0], "k--", lw=1, label="step edge")
for omega in (np.pi / 3, np.pi / 2):
    ringing = filter2d(tf.constant(step_edge), sinc_kernel(omega, 21)).numpy()[32, :, 0]
    ax.plot(ringing, label=f"sinc low-pass, cut-off ω_c = {omega:.2f} rad/px")
    print(f"cut-off {omega:.2f}: overshoot {ringing.max() - 1:.3f}, undershoot {-ringing.min():.3f}")
ax.set_xlim(16, 48), ax.set_xlabel("x (pixels)"), ax.set_ylabel("value"), ax.legend(fontsize=8)
ax.set_title("Ringing: a sinc-filtered step overshoots on both sides (Gibbs)", fontsize=9)
fig.tight_layout()
plt.show()

# %%
seeds = [(0, k) for k in range(5)]
eye01 = usm_sharpen((eye / 255.0).astype(np.float32))  # Real-ESRGAN degrades the sharpened HR
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
show_figure(fig)

# %% [markdown]
# Each image gets its own stateless seed, so the same seed gives the same LR on any worker and in any order
# (the official code draws some choices once per batch and reshuffles through a pool; the module's docstring
# lists this and the other departures).

# %% [markdown]
# ## 3 · A tiny `--preset realesrgan` run
#
# The `realesrgan` preset is the paper's recipe: RRDBNet, the U-Net SN discriminator, second-order
# degradations, USM-sharpened targets, L1 1 + perceptual 1 + vanilla GAN 0.1, an EMA of the generator's
# weights, 256 px crops, batch 48 and 1.4·10^6 steps on 4 GPUs. Here the *parts* run, at classroom size:
#
# * 2 RRDBs of 32 features (paper: 23 of 64), a 32-feature U-Net, 64 px crops, batch 4;
# * **two commands**, as the paper trains: Real-ESRNet (L1 pre-training, `--phase pretrain`), then
#   Real-ESRGAN initialised from it (`--phase gan --init-from`), so section 4 can interpolate the two;
# * learning rate 1e-3 with warm-up and cosine decay for the pre-training (paper: constant 2e-4 over 10^6
#   steps; a few hundred steps need a larger, decaying rate, as in the demo preset);
# * `--ema-decay 0.99` (paper: 0.999, an average over roughly the last thousand steps: longer than these runs, so the saved
#   weights would barely move from the starting point);
# * the perceptual term is **L1 on pixels** (`--content-loss l1`) unless `SRGAN_VGG_WEIGHTS` is set: with
#   random VGG weights it would pull toward meaningless features.
#
# With `SRGAN_FAST=1` the cell runs the README's tiny offline command instead (1 RRDB of 8 features, 2 + 2
# steps). Validation uses bicubic LR of two held-out photos, the same as every other run.
#
# ⏱ *Without `SRGAN_FAST`: about 5 minutes on a 2-core CPU (400 + 200 steps, graph mode without XLA: the
# committed run printed 163 + 140 s); with it: seconds.
# Like every training cell of the course, a second run resumes from the run folders and finishes at once.*

# %%
from srgan_keras.training import train
from srgan_keras.training.config import get_config

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

# %%
t0 = time.perf_counter()
assert train.main(ESRNET_ARGS) == 0
t1 = time.perf_counter()
assert train.main(ESRGAN_ARGS) == 0
print(f"Real-ESRNet {t1 - t0:.0f} s, Real-ESRGAN {time.perf_counter() - t1:.0f} s")

# %%
import json

from PIL import Image

val = {}
fig, axes = plt.subplots(2, 1, figsize=(9, 5.4))
for ax, name in zip(axes, ("realesrnet", "realesrgan")):
    r = json.loads((RUNS / name / "result.json").read_text())
    print(f"{name:<11} val PSNR {r['psnr']:.2f} dB (bicubic {r['bicubic_psnr']:.2f}), SSIM {r['ssim']:.4f}")
    val[name] = r
    ax.imshow(np.asarray(Image.open(RUNS / name / "samples.png")))
    ax.set_title(f"{name}: LR (nearest) | bicubic | SR | HR", fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
fig.tight_layout()
show_figure(fig)
below = [n for n, r in val.items() if r["psnr"] < r["bicubic_psnr"]]
say(("*Executed with `SRGAN_FAST=1`: a 1-block, 8-feature model for 2 + 2 steps, far from an image model "
     "yet.* " if FAST else "")
    + "On the validation photos — **clean** bicubic LR, not the degradations these models trained on — "
    + ", ".join(f"{n} scores {r['psnr']:.2f} dB" for n, r in val.items())
    + f" against bicubic's {val['realesrnet']['bicubic_psnr']:.2f} dB. "
    + (f"{' and '.join(below)} {'is' if len(below) == 1 else 'are'} below bicubic: a model trained to remove "
       f"blur, noise and JPEG blocks is not made for an input that has none, and a few hundred CPU steps "
       f"of a 2-block network are far from the paper's days on four GPUs. Section 4 tries a degraded input."
       if below else "Both beat bicubic even on clean input."))

# %% [markdown]
# **The colour cast.** Both SR columns above are pinker than HR on the coffee cup, a cast that bicubic does
# not have. Measured on the two validation photos (the mean of SR − HR per channel, in grey levels), and
# with the colour fix that `upscale --color-fix` applies (the SR's high frequencies over bicubic's low ones):

# %%
from srgan_keras.data.imaging import BUILTIN_VAL, builtin_images
from srgan_keras.evaluation.metrics import evaluate_pair
from srgan_keras.inference.colorfix import wavelet_color_fix
from srgan_keras.nn.saving import load_keras

val_photos = [crop_to_multiple(a, 4) for _, a in builtin_images(BUILTIN_VAL)]
casts = {}
print(f"{'':<11} {'mean SR − HR: R, G, B':>24} {'PSNR-Y':>7} {'with the colour fix':>20}")
for name in ("bicubic", "realesrnet", "realesrgan"):
    model = None if name == "bicubic" else load_keras(RUNS / name / "generator.keras")
    shift, psnr, psnr_fixed = [], [], []
    for hr in val_photos:
        lr = make_lr_numpy(hr, 4)
        bic = np.clip(np.round(bicubic_upscale(lr, 4).numpy()), 0, 255)
        sr = bic if model is None else srgan_keras.upscale_image(lr, model, tile=None, pre_pad=0).astype(np.float32)
        fixed = np.round(wavelet_color_fix(sr[None] / 255, bic[None] / 255)[0] * 255)
        shift.append(sr.mean((0, 1)) - hr.mean((0, 1)))
        psnr.append(evaluate_pair(sr.astype(np.uint8), hr, 4)["psnr_y"])
        psnr_fixed.append(evaluate_pair(fixed.astype(np.uint8), hr, 4)["psnr_y"])
    casts[name] = np.mean(shift, 0)
    print(f"{name:<11} {'{:+6.1f} {:+6.1f} {:+6.1f}'.format(*casts[name]):>24} {np.mean(psnr):>7.2f} "
          f"{np.mean(psnr_fixed):>20.2f}")
worst = max(("realesrnet", "realesrgan"), key=lambda n: np.abs(casts[n]).max())
say(f"The largest channel shift is {np.abs(casts[worst]).max():.1f} grey levels ({worst}); bicubic's is "
    f"{np.abs(casts['bicubic']).max():.1f}.")

# %% [markdown]
# Where it comes from: the demo SRResNet of notebooks 04 and 05 adds its output to a bicubic image of the
# input (the `demo` preset's global residual), so even an untrained network returns the input's colours.
# **RRDBNet has no such path**, as in Real-ESRGAN: its last convolution computes every output value, the
# flat colour of a cup as much as an edge, and a 2-block, 32-feature network after a few hundred steps has
# not learned the exact colour map. The shift is in chroma more than in brightness (red and blue up, green
# down, which nearly cancel in Y = 0.299 R + 0.587 G + 0.114 B), and the table shows that the GAN phase's
# extra steps did not remove it. Real-ESRGAN's own models, trained for about a million steps, show no
# visible cast. The colour fix takes the low frequencies (the colours of regions) from bicubic and keeps
# the network's detail: compare the last two columns.

# %% [markdown]
# What the run shows is that every part works together through the same loop, checkpoints and files as
# SRGAN's: `generator.keras` loads with `load_generator` and goes through `evaluate`, `upscale` (with
# tiling) and `export` unchanged. It is a **demo run: mechanics only**; the numbers above are read below.

# %% [markdown]
# ## 4 · Network interpolation (ESRGAN §3.4, Eq. 4)
#
# $$ \theta_G^{INTERP} = (1 - \alpha)\, \theta_G^{PSNR} + \alpha\, \theta_G^{GAN} $$
#
# Two generators of the same architecture, the GAN one fine-tuned from the PSNR one, are blended weight by
# weight; `alpha` moves from the PSNR model (α = 0) to the GAN model (α = 1) with no retraining — for the
# published models, from a smooth high-PSNR result to a sharp one — and ESRGAN shows the blend has fewer artefacts than blending the two output *images*. Notebook 06 did it for
# SRResNet/SRGAN; here for the Real-ESRNet and Real-ESRGAN of section 3, on Set5 (bicubic LR) and on one
# Real-ESRGAN-degraded image.

# %%
from srgan_keras.evaluation import interpolate

psnr_model = interpolate.load(RUNS / "realesrnet" / "generator.keras")
gan_model = interpolate.load(RUNS / "realesrgan" / "generator.keras")
set5 = [(p.stem, crop_to_multiple(load_rgb_uint8(p), 4)) for p in sorted((DATA / "Set5").glob("*.png"))]
alphas = (0.0, 0.25, 0.5, 0.75, 1.0)
blends = {a: interpolate.interpolate_models(psnr_model, gan_model, a) for a in alphas}
rows = [{"alpha": a, **interpolate.evaluate_blend(m, set5)} for a, m in blends.items()]
print(interpolate.sweep_table(rows))

# %%
hr_eye = eye  # (192, 192, 3)
lr_real = np.round(red.degrade_image((hr_eye / 255.0).astype(np.float32), 4, red.DEFAULT, (0, 1)).numpy()
                   * 255).astype(np.uint8)                       # (48, 48, 3)
from srgan_keras.evaluation.metrics import evaluate_pair

bic = np.clip(np.round(bicubic_upscale(lr_real, 4).numpy()), 0, 255).astype(np.uint8)
srs = {a: srgan_keras.upscale_image(lr_real, blends[a], tile=None, pre_pad=0) for a in (0.0, 0.5, 1.0)}
scores = {"bicubic": evaluate_pair(bic, hr_eye, 4), **{a: evaluate_pair(s, hr_eye, 4) for a, s in srs.items()}}
show_panels("A Real-ESRGAN-degraded LR, upscaled by interpolated demo models (mechanics)", hr_eye,
            [("degraded LR (nearest)", nearest(lr_real), None), ("bicubic", bic, scores["bicubic"]),
             *[(f"alpha {a:g}", s, scores[a]) for a, s in srs.items()], ("HR", hr_eye, None)])
spread = max(scores[a]["psnr_y"] for a in srs) - min(scores[a]["psnr_y"] for a in srs)
beat = [a for a in srs if scores[a]["psnr_y"] > scores["bicubic"]["psnr_y"]]
say(f"On this degraded input bicubic scores {scores['bicubic']['psnr_y']:.2f} dB; the blends "
    + ", ".join(f"α {a:g}: {scores[a]['psnr_y']:.2f}" for a in srs)
    + f" dB ({len(beat)} of {len(srs)} above bicubic). The blends differ by {spread:.2f} dB at most: two "
      f"short runs of a tiny model are close in weights, so their interpolations are close too. The "
      f"published models span the whole range from smooth to textured.")

# %% [markdown]
# **What the table shows is the opposite of the published picture.** α = 0 is Real-ESRNet, the PSNR model;
# α = 1 is Real-ESRGAN, with the *higher* PSNR on Set5, and each step of α raises it. These
# tiny runs do not trade PSNR for texture. The GAN run started from a Real-ESRNet that was still improving
# (its validation rose at every check), and its loss is still mostly L1 (pixel L1
# at weight 1 and the L1 that stands in for the perceptual term, against the adversarial 0.1), so its
# steps went on raising PSNR (its own validation rose from its first check to its last). The blends
# interpolate between a less-trained and a more-trained model, and the degraded eye shows the same order
# (the table's degraded column rises with α too). For the smooth-to-sharp trade-off, blend the bundled SRResNet and SRGAN
# (notebook 06), or the published Real-ESRNet/Real-ESRGAN weights where they can be downloaded (the
# appendix converts them).
#
# The command-line version writes one `.keras` per alpha and, with
# `--data`, the table and a perception–distortion plot (the perception axis needs VGG19 weights):
#
# ```bash
# python -m srgan_keras.interpolate --psnr saved_models/course/full/realesrnet/generator.keras \
#     --gan saved_models/course/full/realesrgan/generator.keras --alpha 0.8 -o blend.keras
# python -m srgan_keras.interpolate --psnr A.keras --gan B.keras --alphas 0,0.2,0.4,0.6,0.8,1 \
#     --out-dir sweep --data ../shared/data/Set5
# ```
#
# The full recipes, on a GPU with DIV2K and VGG19 weights:
#
# ```bash
# python -m srgan_keras.train --preset esrgan --data DIV2K_train_HR
# python -m srgan_keras.train --preset realesrgan --data DIV2K_train_HR
# ```

# %% [markdown]
# ### Exercises
#
# 1. *(recall)* What does the U-Net discriminator return for a 128x128 input, and why is that more useful to
#    the generator than one logit?
# 2. *(understand)* Why does Real-ESRGAN degrade the *sharpened* HR, and what would a model trained on
#    unsharpened targets output?
# 3. *(apply)* Draw 20 LR images of one HR crop with different seeds (`red.degrade_image`) and count how
#    many had the final sinc filter (`stages`, note "no sinc").
# 4. *(experiment)* Train the tiny run with `--degradation bicubic` instead and compare both models on a
#    JPEG-degraded input: which one removes the blocks?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. A (1, 128, 128, 1) map of logits, one per pixel: the generator learns *where* its output looks fake.
# 2. So the model learns to output sharper images than the (often soft) originals; trained on unsharpened
#    targets it reproduces their softness.
# 3. About 16 of 20: the final sinc is applied with probability 0.8 (`DEFAULT.final_sinc_prob`).
# 4. The `realesrgan`-degraded model: the bicubic one has never seen JPEG blocks and sharpens them.
#
# </details>
#
# Back to the [list of notebooks](README.md); the [appendix](10_appendix_converting_weights.ipynb) loads the
# published weights.
