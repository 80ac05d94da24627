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
# # 5 · Adversarial training: the GAN phase from the SRResNet weights
#
# The second phase (§3.2): the generator starts from the pre-trained SRResNet ("to avoid undesired local
# optima") and alternates with the discriminator, one update each (k = 1, Goodfellow et al. 2014), minimising
# $l^{SR} = l_X + 10^{-3} l_{Gen}$ (Eq. 3).
#
# **Departures from the paper** (the `demo` preset and the flags below): the content loss is the paper's
# VGG54 (Eq. 5), but on **VGG19 with seeded random weights** (`--vgg-weights random:0`), because ImageNet's
# cannot be downloaded here; notebook 03 explains why a random network's features can still serve as a
# perceptual loss, and where they fail (set `SRGAN_VGG_WEIGHTS=imagenet` to use ImageNet's); a short GAN
# phase at the paper's first learning rate, 1e-4 (the paper: 10^5 steps at 1e-4, then 10^5 at 1e-5; the
# cell below prints this notebook's step count and the demo preset's own); the demo generator (8 blocks,
# global bicubic residual); 64 px crops, batch 8.
#
# **A demo run shows the mechanics.** A hundred-odd CPU steps of GAN training on the demo generator cannot
# show the paper's texture; the bundled SRGAN of notebooks 00 and 06 does (hundreds of steps of the 16-block
# SRResNet, with the weighted multi-layer form of this loss; `saved_models/MODEL_CARD.md`). What these runs
# show is how G and D interact, and what the diagnostics look like: first a balanced run with the paper's
# weights, then one with a hundred times the adversarial weight.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from _course import FAST, RUNS, read_logs, say, setup, srgan_args, srresnet_model

setup()

# %%
import inspect

from srgan_keras.training import train
from srgan_keras.training.config import get_config
from srgan_keras.training.srgan import SRGAN

print(inspect.getsource(SRGAN.gan_update))
gan_steps = int(srgan_args(RUNS)[srgan_args(RUNS).index("--gan-steps") + 1])
say(f"This notebook runs **{gan_steps} GAN steps** at 1e-4; the `demo` preset alone (`python -m "
    f"srgan_keras.train`) runs {get_config('demo').gan_steps} at {get_config('demo').gan_lr:g}.")

# %% [markdown]
# The SR image is computed once; D is updated on it with the gradient stopped (1.), then G's loss goes
# through the *updated* D (2.). `d_real` and `d_fake` are D's mean probabilities on HR and SR: the first
# diagnostic of a GAN.
#
# ### The run, initialised from the demo SRResNet of notebooks 00 and 04
#
# The demo SRResNet of notebook 04 is the starting point: `--init-from` copies its weights into G; D starts
# from scratch.
#
# ⏱ *Without `SRGAN_FAST`: several minutes on a 2-core CPU (graph mode, no XLA; VGG19's forward and backward
# passes are most of each step; the cell prints its time), plus the demo SRResNet's 1,000 steps if notebook 04
# has not trained it. With `SRGAN_FAST=1`: seconds.*

# %%
import json

init = srresnet_model()
t0 = time.perf_counter()
rc = train.main(srgan_args(init))
print(f"exit code {rc}, {time.perf_counter() - t0:.0f} s")

# %% [markdown]
# ### D and G losses, d_real and d_fake

# %%
sc, _ = read_logs(RUNS / "srgan" / "logs")
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
axes[2].plot(s, v, ".-", ms=3, label="content (VGG54, random weights)")
s, v = zip(*sc["gan/g_loss"])
axes[2].plot(s, v, ".-", ms=3, label="g_loss = content + 1e-3 adv")
axes[2].set_xlabel("global step"), axes[2].set_ylabel("loss"), axes[2].legend(fontsize=7)
axes[2].set_title("generator losses", fontsize=9)
fig.tight_layout()
plt.show()
last = {k.split("/")[1]: v[-1][1] for k, v in sc.items() if k.startswith("gan/")}
print({k: round(last[k], 4) for k in ("d_real", "d_fake", "d_loss", "adv_loss", "content_loss")})
first = {k.split("/")[1]: v[0][1] for k, v in sc.items() if k.startswith("gan/")}
verdict = ("D is winning" if last["d_real"] - last["d_fake"] > 0.6 else
           "D is beginning to separate the two, far from winning" if last["d_real"] - last["d_fake"] > 0.05 else
           "D cannot tell them apart yet")
say(("*Executed with `SRGAN_FAST=1`: a tiny model for a few steps.* " if FAST else "") +
    f"**In this run** `d_real` and `d_fake` start at {first['d_real']:.2f} and {first['d_fake']:.2f} and end "
    f"at {last['d_real']:.2f} and {last['d_fake']:.2f}; `d_loss` ends at {last['d_loss']:.2f} (an undecided D "
    f"scores $2\\log 2 \\approx$ {2 * np.log(2):.2f}) and the adversarial loss at {last['adv_loss']:.2f}: "
    f"{verdict}.")

# %% [markdown]
# ### A discriminator that wins
#
# * **Healthy**: `d_real` and `d_fake` stay apart but not at 1 and 0; `d_loss` hovers well above 0; the
#   adversarial loss moves but does not run away. G and D keep each other busy.
# * **D wins**: `d_real` → 1, `d_fake` → 0, `d_loss` → 0, `adv_loss` grows without bound. D separates
#   real from fake perfectly and the generator's gradient carries little useful information (notebook 03's
#   saturation picture, now for the discriminator).
#
# **A larger adversarial weight** is the usual first guess for making D win. The same run again, from the same
# SRResNet and with the same seed, changes one number: the adversarial weight, from the paper's 1e-3 to
# `LARGE_WEIGHT` below. ⏱ *As long as the run above.*

# %%
LARGE_WEIGHT = 0.1  # 100 times the paper's 1e-3
t0 = time.perf_counter()
rc = train.main(srgan_args(init, "srgan_large_weight", adv_weight=LARGE_WEIGHT))
print(f"exit code {rc}, {time.perf_counter() - t0:.0f} s")
sc_large, _ = read_logs(RUNS / "srgan_large_weight" / "logs")
fig, axes = plt.subplots(1, 3, figsize=(11, 2.9), sharex=True)
for col, (runs_sc, title) in enumerate(((sc, "adversarial weight 1e-3 (the paper)"),
                                        (sc_large, f"adversarial weight {LARGE_WEIGHT:g}"))):
    for tag, label in (("gan/d_real", "d_real"), ("gan/d_fake", "d_fake")):
        s, v = zip(*runs_sc[tag])
        axes[col].plot(s, v, ".-", ms=3, label=label)
    axes[col].set_ylim(-0.02, 1.02), axes[col].axhline(0.5, color="grey", lw=0.5)
    axes[col].set_title(title, fontsize=9), axes[col].set_xlabel("global step"), axes[col].legend(fontsize=7)
axes[0].set_ylabel("probability")
for runs_sc, label in ((sc, "1e-3"), (sc_large, f"{LARGE_WEIGHT:g}")):
    s, v = zip(*runs_sc["gan/adv_loss"])
    axes[2].plot(s, v, ".-", ms=3, label=f"adv_loss, weight {label}")
axes[2].set_title("G's adversarial loss", fontsize=9), axes[2].set_xlabel("global step")
axes[2].legend(fontsize=7)
fig.tight_layout()
plt.show()
last_l = {k.split("/")[1]: v[-1][1] for k, v in sc_large.items() if k.startswith("gan/")}
res = {name: json.loads((RUNS / name / "result.json").read_text()) for name in ("srgan", "srgan_large_weight")}
gap, gap_l = last["d_real"] - last["d_fake"], last_l["d_real"] - last_l["d_fake"]
say(("*Executed with `SRGAN_FAST=1`: a tiny model for a few steps.* " if FAST else "")
    + f"With weight {LARGE_WEIGHT:g}, `d_real` and `d_fake` end at {last_l['d_real']:.2f} and "
    f"{last_l['d_fake']:.2f} (the paper's weight: {last['d_real']:.2f} and {last['d_fake']:.2f}), `d_loss` "
    f"at {last_l['d_loss']:.2f} ({last['d_loss']:.2f}) and the adversarial loss at {last_l['adv_loss']:.2f} "
    f"({last['adv_loss']:.2f}); the validation PSNR is {res['srgan_large_weight']['psnr']:.2f} dB against "
    f"{res['srgan']['psnr']:.2f}. "
    + ("D wins here: it separates the two almost perfectly." if gap_l > 0.6 else
       "D does **not** win here: it separates the two "
       + ("about as much as" if abs(gap_l - gap) < 0.05 else "more than" if gap_l > gap else "less than")
       + " in the paper-weight run. A larger weight does not make D stronger (its loss and its learning rate "
       "are the same); it makes *G* follow D's gradient harder"
       + (", at a price in PSNR, and that does not hand D the win."
          if res["srgan_large_weight"]["psnr"] < res["srgan"]["psnr"] else ", and that does not hand D the win.")))

# %% [markdown]
# **What makes D win** is a D that learns faster than G can follow, or a G held back: at the paper's scale
# (the 16-block SRResNet, 96 px crops, batch 16) the discriminator of Fig. 4 learns far more per step than in
# this demo, and a strong content loss (here a low-frequency anchor as well) keeps G from chasing it. The
# SRGAN bundled with the library was trained that way, and its model card keeps the log of its GAN phase
# (`saved_models/metrics.json`): the cell below plots it.

# %%
from pathlib import Path

metrics_path = Path("saved_models/metrics.json")  # the model card's numbers (setup() works from the repo root)
card = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
gan_log = card.get("models", {}).get("srgan_x4.keras", {}).get("training", {}).get("gan_log")
if gan_log:
    steps = sorted(int(k) for k in gan_log)
    col = {key: [gan_log[str(k)].get(key) for k in steps] for key in ("d_real", "d_fake", "adv_loss")}
    fig, axes = plt.subplots(1, 2, figsize=(10, 2.9))
    axes[0].plot(steps, col["d_real"], ".-", ms=3, label="d_real")
    axes[0].plot(steps, col["d_fake"], ".-", ms=3, label="d_fake")
    axes[0].set_ylim(-0.02, 1.02), axes[0].axhline(0.5, color="grey", lw=0.5), axes[0].legend(fontsize=7)
    axes[0].set_xlabel("GAN step"), axes[0].set_ylabel("probability")
    axes[0].set_title("the bundled SRGAN's GAN phase: D's outputs", fontsize=9)
    axes[1].plot(steps, col["adv_loss"], ".-", ms=3, color="tab:red")
    axes[1].set_xlabel("GAN step"), axes[1].set_title("G's adversarial loss", fontsize=9)
    fig.tight_layout()
    plt.show()
    won = [k for k, r, f in zip(steps, col["d_real"], col["d_fake"]) if r - f > 0.6]
    say(f"In the bundled SRGAN's run, D's outputs are {col['d_real'][-1]:.2f} (HR) and {col['d_fake'][-1]:.2f} "
        f"(SR) at its last logged step, {steps[-1]:,}, and the adversarial loss {col['adv_loss'][-1]:.2f}; "
        + (f"D first separated the two by more than 0.6 at step {won[0]:,}." if won else
           "D never separated the two by more than 0.6."))
else:
    say("The bundled `srgan_x4.keras` in this checkout carries no GAN log in `saved_models/metrics.json` "
        "(it is the SRGAN-MSE model, measured before the card kept one), so there is no curve to plot.")

# %% [markdown]
# * **What to do**: lower D's learning rate or update it less often; make its job harder (label smoothing,
#   instance noise, spectral normalisation as in Real-ESRGAN's U-Net D); use the relativistic loss
#   (`--adv-loss ragan`, ESRGAN) whose generator gradient does not vanish the same way; check that the
#   content loss is not too weak or the adversarial weight too large (a larger `--adv-weight` trades PSNR
#   for texture, and eventually for artefacts).
#
# ### Before and after: SRResNet vs SRGAN on the validation photos
#
# The GAN phase usually *lowers* PSNR: it pulls the output away from the blurry MSE optimum (notebook 03).
# With a short phase the change is small; the third row is the run with the large adversarial weight.

# %%
from PIL import Image

for name in ("srresnet", "srgan", "srgan_large_weight"):
    r = json.loads((RUNS / name / "result.json").read_text())
    print(f"{name:<13} val PSNR {r['psnr']:.2f} dB (bicubic {r['bicubic_psnr']:.2f}), SSIM {r['ssim']:.4f}")
fig, axes = plt.subplots(3, 1, figsize=(8, 7.2))
for ax, name in zip(axes, ("srresnet", "srgan", "srgan_large_weight")):
    ax.imshow(np.asarray(Image.open(RUNS / name / "samples.png")))
    ax.set_title(f"{name}: LR (nearest) | bicubic | SR | HR", fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ### The same two updates, the Keras way: `compile()` and `fit()`
#
# `SRGAN` is a `keras.Model` holding G and D. Its `train_step` is the `gan_update` printed above, and its
# metrics are `keras.metrics.Mean` trackers under the log keys you just plotted, so Keras' `fit()` and its
# callbacks drive it. SRResNet pre-training is Keras' own `G.compile(loss=...)` and `G.fit`. The CLI you ran
# above calls these same two steps (`G.train_step`, `SRGAN.train_step`) and adds the phases, resume and
# validation around them. Here they run on the `tiny` preset's 2-block, 8-filter networks, so the cell
# takes seconds: the point is the API, not the result.

# %%
import tempfile

import keras

from srgan_keras.data.pipeline import training_dataset
from srgan_keras.training.losses import ContentLoss, PixelLoss, VanillaGAN
from srgan_keras.training.networks import build_critic, build_generator
from srgan_keras.training.srgan import to_generator_range

keras.utils.set_random_seed(0)
cfg = get_config("tiny")
ds = training_dataset(cfg)  # endless (LR [0, 1], HR [-1, 1], target) batches
G_fit, D_fit = build_generator(cfg), build_critic(cfg)

G_fit.compile(optimizer=keras.optimizers.Adam(1e-3), loss=PixelLoss("mse"))  # SRResNet, Eq. 4
pairs = ds.map(lambda lr, hr, t: (lr, to_generator_range(t, G_fit)))  # G's own output range
pre = G_fit.fit(pairs, epochs=1, steps_per_epoch=20, shuffle=False, verbose=0)

gan = SRGAN(G_fit, D_fit)  # SRGAN, Eq. 3: content + 1e-3 adversarial
gan.compile(g_optimizer=keras.optimizers.Adam(1e-4), d_optimizer=keras.optimizers.Adam(1e-4),
            content_loss=ContentLoss("mse"), adversarial=VanillaGAN())
with tempfile.TemporaryDirectory() as run:
    hist = gan.fit(ds, epochs=2, steps_per_epoch=5, verbose=0, shuffle=False,
                   callbacks=[keras.callbacks.BackupAndRestore(f"{run}/backup"),
                              keras.callbacks.TensorBoard(f"{run}/logs")])
print(f"G.fit: MSE {pre.history['loss'][0]:.4f} over 20 pre-training steps")
for epoch in range(2):
    print(f"SRGAN.fit epoch {epoch + 1}: " + ", ".join(f"{k} {v[epoch]:.4f}" for k, v in sorted(hist.history.items())))

# %% [markdown]
# ### Exercises
#
# 1. *(recall)* In `train_step`, which network is updated first, and does G's loss use D before or after
#    that update?
# 2. *(understand)* An undecided discriminator outputs 0.5 on everything. Show that its loss is
#    $2 \log 2$ and G's adversarial loss $\log 2$.
# 3. *(apply)* What does `d_real − d_fake` tell you that `d_loss` alone does not?
# 4. *(experiment)* Make D win in the demo: rerun the paper-weight run into another `--out` folder with a
#    faster discriminator (`--disc-lr 1e-3`, ten times G's rate) and then with a smaller G learning rate
#    (`--gan-lr 1e-5 --disc-lr 1e-4`). Which one separates `d_real` from `d_fake` within the same steps?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. D first, on the SR image with its gradient stopped; then G's loss goes through the *updated* D.
# 2. BCE on real: $-\log 0.5 = \log 2$, on fake: $-\log(1 - 0.5) = \log 2$; the sum is $2 \log 2 \approx
#    1.39$. G's non-saturating loss is $-\log 0.5 = \log 2 \approx 0.69$.
# 3. Which side D gets right: a low `d_loss` with `d_real` near 1 and `d_fake` near 0 is a D that wins; the
#    same `d_loss` can come from a D that is confident and wrong on a few images.
# 4. What to expect (not run in this notebook): D wins when it gains on G. A higher learning rate for D
#    alone can make it *less* stable (Adam's steps overshoot, and `d_loss` can rise above $2 \log 2$); a G
#    that moves ten times slower lets D catch up, but in a few dozen steps of this small demo it may still
#    not pass 0.6 apart. The bundled SRGAN's log (above) shows the paper-scale case.
#
# </details>
#
# Next: [06 · evaluating like the paper](06_evaluating_like_the_paper.ipynb).
