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
# **Departures from the paper** (the `demo` preset): the content loss is **MSE** — the paper's SRGAN-MSE
# variant — because VGG19's ImageNet weights cannot be downloaded here (with them: `--content-loss vgg54
# --vgg-weights imagenet` is the paper's SRGAN); a short GAN phase at the paper's first learning rate, 1e-4
# (the paper: 10^5 steps at 1e-4, then 10^5 at 1e-5; the cell below prints this notebook's step count and
# the demo preset's own); the demo generator (8 blocks, global bicubic residual); 64 px crops, batch 8.
#
# **A demo run shows the mechanics.** A hundred-odd CPU steps of GAN training cannot show the paper's
# texture. Nor does the bundled SRGAN of notebooks 00 and 06: its GAN phase, also without a perceptual
# loss, added a regular 4x4 grid rather than texture (a real SRGAN is being trained, issue 23). What this
# run shows is how G and D interact, and what the diagnostics look like.

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
# ⏱ *Without `SRGAN_FAST`: about 1.5 minutes on a quiet 2-core CPU (graph mode, no XLA; plus 4–5 minutes
# if the SRResNet has to be trained first). With `SRGAN_FAST=1`: seconds.*

# %%
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
axes[2].plot(s, v, ".-", ms=3, label="content (MSE)")
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
# ### Reading these curves: a discriminator that wins too easily
#
# * **Healthy**: `d_real` and `d_fake` stay apart but not at 1 and 0; `d_loss` hovers well above 0; the
#   adversarial loss moves but does not run away. G and D keep each other busy.
# * **D wins**: `d_real` → 1, `d_fake` → 0, `d_loss` → 0, `adv_loss` grows without bound. D separates
#   real from fake perfectly and the generator's gradient carries little useful information (notebook 03's
#   saturation picture, now for the discriminator). It can happen fast when G starts from a good
#   SRResNet, whose smooth SR images are an easy tell — but it did **not** happen in the run above: after
#   its last logged step `d_real` is only a little above one half and `d_fake` a little below, and
#   `d_loss` is nearer an undecided D's 2 ln 2 than 0. That run is the *healthy* case, D beginning to separate the two and far from winning. A D
#   that wins is not shown in this notebook; exercise 4 is the experiment that makes one.
# * **What to do**: lower D's learning rate or update it less often; make its job harder (label smoothing,
#   instance noise, spectral normalisation as in Real-ESRGAN's U-Net D); use the relativistic loss
#   (`--adv-loss ragan`, ESRGAN) whose generator gradient does not vanish the same way; check that the
#   content loss is not too weak or the adversarial weight too large (a larger `--adv-weight` trades PSNR
#   for texture, and eventually for artefacts).
#
# ### Before and after: SRResNet vs SRGAN on the validation photos
#
# The GAN phase usually *lowers* PSNR: it pulls the output away from the blurry MSE optimum (notebook 03).
# With a short phase and an MSE content loss the change is small; the bundled SRGAN (notebooks 00 and 06)
# had 1,500 GAN steps.

# %%
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
# 4. *(experiment)* Rerun the GAN phase with `--adv-weight 0.1` (100 times the paper's) into another
#    `--out` folder and watch D win: which curve shows it first, and what happens to the validation PSNR?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. D first, on the SR image with its gradient stopped; then G's loss goes through the *updated* D.
# 2. BCE on real: $-\log 0.5 = \log 2$, on fake: $-\log(1 - 0.5) = \log 2$; the sum is $2 \log 2 \approx
#    1.39$. G's non-saturating loss is $-\log 0.5 = \log 2 \approx 0.69$.
# 3. Which side D gets right: a low `d_loss` with `d_real` near 1 and `d_fake` near 0 is a D that wins; the
#    same `d_loss` can come from a D that is confident and wrong on a few images.
# 4. What to expect (not run in this notebook): with weight 0.1 the adversarial term outweighs the MSE
#    term, so G chases D and artefacts appear; a D that wins shows first in `d_fake` falling toward 0
#    while `adv_loss` climbs, and the validation PSNR falls. Compare your curves with the run above,
#    where neither happened in 120 steps.
#
# </details>
#
# Next: [06 · evaluating like the paper](06_evaluating_like_the_paper.ipynb).
