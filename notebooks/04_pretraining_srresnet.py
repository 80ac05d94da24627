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
# # 4 · Pre-training SRResNet: a short run, live
#
# The paper trains in two phases (§3.2): first SRResNet with the MSE loss (10^6 steps at learning rate
# 1e-4), then the GAN initialised from it, "to avoid undesired local optima". This notebook runs the first
# phase for a few minutes with the **demo** preset and reads its curves and sample images back. It is the
# same run as notebook 00's (same command, same folder): if 00 has run, the training cell resumes from its
# last checkpoint and finishes at once, and the curves below are that run's.
#
# **A demo run shows the mechanics.** A thousand CPU steps of a small network cannot show the paper's
# results (notebooks 00 and 06 show the bundled models, trained for hours: their PSNR side); they show how the
# loop, the logs and the curves behave, and how a network that starts at bicubic leaves it: not at once
# (in the run below the validation sits on bicubic's value for its first checks and dips below it once before
# climbing), for reasons read from the log after the run.
#
# **Departures from the paper** (the `demo` preset; the README's demo section says why): a global bicubic
# residual (the network starts *at* bicubic and learns a correction; the paper's SRResNet needs ~10^4 GPU steps
# to reach bicubic), 8 blocks instead of 16, batch 8 of 64 px crops instead of 16 of 96 px, learning rate 1e-3
# with 20 warm-up steps and cosine decay, 1,000 steps instead of 10^6.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from _course import FAST, RUNS, benchmark, read_logs, say, setup, srresnet_args

setup()

# %%
import inspect

from srgan_keras.training import train
from srgan_keras.training.config import PRESETS, get_config
from srgan_keras.training.trainer import Trainer

print("demo preset = paper defaults +", PRESETS["demo"])
print(inspect.getsource(Trainer.pretrain_step))

# %% [markdown]
# ### The run
#
# `train.main` is the CLI (`python -m srgan_keras.train ...`) as a function: it prints the config, saves it as
# `config.json`, trains with a validation every `--val-every` steps (PSNR/SSIM on two held-out built-in photos, bicubic
# beside it), and writes TensorBoard logs, checkpoints, `samples.png` and `generator.keras`.
#
# ⏱ *Without `SRGAN_FAST`: seconds if notebook 00 has trained this run (it prints `resuming from step
# 1000` and only re-validates); otherwise about 4–5 minutes on a quiet 2-core CPU (1,000 steps of the demo
# model, graph mode without XLA, which is slower than oneDNN on these CPUs: the printed config says
# `jit_compile: false`). With `SRGAN_FAST=1`: seconds, a 2-block model for 6 steps. To watch a run live
# here, delete `saved_models/course/full/srresnet` first.*

# %%
t0 = time.perf_counter()
rc = train.main(srresnet_args())
print(f"exit code {rc}, {time.perf_counter() - t0:.0f} s")

# %% [markdown]
# **Reading the log.** The first three validations print exactly bicubic's value, and the fourth
# falls below bicubic; only from the fifth on does the run stay above it.
# Both follow from the departures above. The global residual adds the network's output to bicubic, and
# the last convolution starts at zero, so at first the correction is zero (and so is every gradient
# that reaches the layers before it); while that layer's weights are small the correction stays too
# small to move PSNR in its second decimal (SSIM, printed beside it, moves in its
# fourth decimal: the correction exists, it is tiny). The dip comes when the
# correction first gets large, with the learning rate still near its peak (warm-up to 1e-3, then a
# cosine decay, the middle panel below: at step 400 still about two thirds of the peak); a large step
# from a barely trained network overshoots, here by enough to make the two validation photos worse than
# bicubic, and the next hundred steps repair it. A run this short and a validation set of two photos
# make such wiggles visible; the trend after step 500, as the rate decays, is the result.
#
# ### Curves from the TensorBoard logs
#
# The loop writes scalars (`pretrain/g_loss`, `pretrain/lr`, `pretrain/steps_per_s`, `val/psnr`,
# `val/bicubic_psnr`, ...) and sample grids to `logs/`. `tensorboard --logdir saved_models/course/full/srresnet/logs`
# shows them live; here we read the event files directly.

# %%
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
gain = {s: p - b for (s, p), (_, b) in zip(scalars["val/psnr"], scalars["val/bicubic_psnr"])}
steps = sorted(gain)
best = max(gain.values())
half = next(s for s in steps if gain[s] >= best / 2) if best > 0 else steps[-1]
say(("*Executed with `SRGAN_FAST=1`: a 2-block model for a few steps, so the curves show the plumbing "
     "only.* " if FAST else "") +
    f"**What this run shows.** The demo network starts exactly at bicubic (global residual, last "
    f"convolution at zero): at the first validation (step {steps[0]}) it is {gain[steps[0]]:+.2f} dB from "
    f"bicubic on the validation photos. It ends {gain[steps[-1]]:+.2f} dB from bicubic after "
    f"{steps[-1]:,} steps ({scalars['val/psnr'][-1][1]:.2f} against {scalars['val/bicubic_psnr'][-1][1]:.2f} "
    f"dB)" + (f", and had half of its best gain by step {half}, while the cosine schedule still gave a "
              f"large learning rate" if best > 0.05 else ", no measurable gain yet")
    + ". The loss curve is noisy because each batch holds different photos: judge progress by the "
      "validation curve.")

# %% [markdown]
#
# ### Sample grids over time
#
# At every validation the loop logs a grid — LR (nearest) | bicubic | SR | HR — of centre crops of the
# validation photos. The corrections the network learns on top of bicubic are small; look at edges.

# %%
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

# %% [markdown]
# ### Resuming
#
# Run the same command again: the loop restores G, D, both optimizers and the step counters from the last
# checkpoint, says `resuming from step N`, and stops at the same total (here: at once, as the run cell above
# did if notebook 00 trained the model). Ctrl-C saves a checkpoint first; a NaN loss stops the run and keeps
# the last good one; an interrupted run continues where it stopped. ⏱ *seconds.*

# %%
rc = train.main(srresnet_args())
print("exit code", rc)
print(sorted(p.name for p in (RUNS / "srresnet").iterdir()))

# %% [markdown]
# ### What the paper's schedule would take
#
# The paper: 10^6 SRResNet steps, batch 16 of 96x96 crops, B = 16 blocks, then 2·10^5 GAN steps, on an
# NVIDIA Tesla M40. On this machine class, one step of the paper's SRResNet (batch 16, 96 px, float32,
# no XLA) was measured by the benchmarks' quiet run (BENCHMARKS.md, row `srresnet_graph`):

# %%
paper_step_s = benchmark("srresnet_graph")  # s per step: paper SRResNet, batch 16, 96 px, 2 CPU cores
demo_steps = get_config("demo").pretrain_steps
for steps, what in ((1_000_000, "SRResNet pre-training (paper)"), (demo_steps, "the demo's steps, paper-size model")):
    print(f"{what:<45} {steps:>9,} steps x {paper_step_s:.2f} s = {steps * paper_step_s / 86400:8.2f} days")
print(f"this notebook's demo model ran at {np.median(sps):.2f} steps/s: "
      f"10^6 steps would take {1e6 / np.median(sps) / 86400:.1f} days")

# %% [markdown]
# That is why the course uses the demo preset on a CPU, and why `--preset paper` is a GPU job.
#
# ### Exercises
#
# 1. *(recall)* Which loss does the pre-training phase minimise, and why does the paper pre-train at all
#    before the GAN phase (§3.2)?
# 2. *(understand)* With `--global-residual` the last convolution starts at zero. What does the network
#    output at step 0, and what PSNR does the first validation therefore show?
# 3. *(apply)* From `paper_step_s` above, how many days would the paper's 2·10^5 GAN steps take here, if a
#    GAN step costs 2.6 times an SRResNet step (BENCHMARKS.md, `srgan_mse_graph` against `srresnet_graph`)?
# 4. *(experiment)* Rerun the demo with `--pretrain-steps 300` into another `--out` folder. How far above
#    bicubic does it end, and why is that less than 3/10 of the 1,000-step gain?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. MSE between SR and HR on [-1, 1] (`pretrain_step` above). Starting the GAN from a trained SRResNet
#    avoids "undesired local optima": an untrained G gives D an easy win and itself no useful gradient.
# 2. Exactly the bicubic upsampling of the input, so the first validation equals bicubic's PSNR (the gain
#    printed at the first step above is zero up to rounding).
# 3. `2e5 * 2.6 * paper_step_s / 86400`: about 3.8 days at 0.62 s per SRResNet step.
# 4. Expect little: in the 1,000-step run above the validation was still at bicubic's value at step 300
#    and gained only from step 500, and a 300-step cosine schedule has decayed its learning rate before
#    the correction gets going — the gain is not linear in steps. (Not measured here; run it.)
#
# </details>
#
# Next: [05 · adversarial training](05_adversarial_training.ipynb).
