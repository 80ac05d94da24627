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
# # 6 · Evaluating like the paper, and the perception–distortion trade-off
#
# §3.1: "All experiments are performed with a scale factor of 4x ... PSNR [dB] and SSIM are calculated on the
# y-channel of center-cropped, removal of a 4-pixel wide strip from each border images." Table 2's numbers
# follow that protocol. Every choice moves the number; this notebook measures by how much, then plots
# MSE-trained, GAN-trained and interpolated models on the perception–distortion plane (Blau & Michaeli 2018).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from _course import (
    BUNDLED,
    DATA,
    FAST,
    HEADLESS,
    hf_ratio,
    say,
    setup,
    show_panels,
    srgan_model,
    srresnet_model,
)

setup()

# %%
import inspect

from srgan_keras.evaluation import metrics

print(inspect.getsource(metrics.evaluate_pair))
print("BT.601 Y weights", metrics.BT601_Y_WEIGHTS, "+", metrics.BT601_Y_OFFSET,
      "| SSIM window", metrics.SSIM_WINDOW, "sigma", metrics.SSIM_SIGMA)

# %% [markdown]
# ### SSIM, the other number of Table 2
#
# SSIM (Wang et al. 2004) compares local statistics instead of single pixels. In a window around each pixel,
# with means $\mu_x, \mu_y$, variances $\sigma_x^2, \sigma_y^2$ and covariance $\sigma_{xy}$,
#
# $$ \mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
#    {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}, \quad C_1 = (0.01 L)^2,\; C_2 = (0.03 L)^2, $$
#
# with $L = 255$ the dynamic range; the image's SSIM is the mean over windows. The three factors it is
# built from are luminance ($2\mu_x\mu_y / (\mu_x^2 + \mu_y^2)$), contrast ($2\sigma_x\sigma_y /
# (\sigma_x^2 + \sigma_y^2)$) and structure (the correlation $\sigma_{xy} / \sigma_x\sigma_y$). The
# windows are 11x11 Gaussian weights with σ = 1.5. SSIM punishes blur more than PSNR does (blur lowers
# $\sigma_x$), but it still rewards the smooth conditional mean over a plausible texture that is slightly
# misplaced (the structure term is a correlation).
#
# ### Each choice of the protocol, measured on the bicubic baseline of Set5
#
# Starting from the paper's protocol (first row; Table 2 prints 28.43 dB), change one thing at a time.

# %%
import tensorflow as tf

from srgan_keras.data.degradation import crop_to_multiple
from srgan_keras.data.imaging import load_rgb_uint8

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
print(f"studio-range Y's gain over full-range luma on the same error: 20·log10(255/219) = "
      f"{20 * np.log10(255 / 219):.1f} dB")

# %% [markdown]
# For bicubic the border crop hardly matters (TensorFlow's resize renormalises at the edges); it matters for
# networks, whose zero padding makes the outermost pixels their worst, and the field crops `scale` pixels
# for every method alike. Y ignores colour errors the eye barely sees, and the studio-range BT.601 Y (16–235) compresses the
# signal by 219/255, which raises PSNR by 20·log10(255/219) ≈ 1.3 dB against full-range luma on the same
# error. SSIM uses the Gaussian 11x11 window with σ = 1.5 (Wang et al. 2004); `tf.image.ssim` needs images of
# at least 11x11. A number from another paper is comparable only under the same protocol —
# `evaluate_pair` also returns `psnr_rgb` and `ssim_rgb` for that reason.
#
# ### The perception–distortion curve of the bundled SRResNet and SRGAN
#
# Network interpolation (ESRGAN Eq. 4): $\theta_{interp} = (1 - \alpha)\,\theta_{PSNR} + \alpha\,\theta_{GAN}$,
# every weight of the two generators (same architecture; the GAN started from the PSNR model) blended.
# It moves continuously between the two without retraining. `srgan_keras.nn.interpolation.interpolate_models`
# does it (the function behind `python -m srgan_keras.interpolate`). The pair is the bundled one:
# `srresnet_x4.keras` (α = 0) and `srgan_x4.keras` (α = 1), trained for hours (in a checkout without them,
# the demo runs of notebooks 04 and 05 are used: mechanics only).
#
# **The texture measure.** The trade-off is usually plotted against a no-reference perceptual index (Ma et
# al. and NIQE, as in the PIRM 2018 challenge) or LPIPS. LPIPS needs network weights downloaded and is not
# used in this course. NIQE runs offline here (Mittal et al. 2013, `srgan_keras.evaluation.niqe`, its
# pristine model shipped with the package; `python -m srgan_keras.evaluate --niqe`): it fits a
# multivariate Gaussian to the local statistics of an image and measures its distance from the same fit on
# natural, undistorted photos, with no reference image, so blur and grids both raise it. The right panel of
# the curve uses it. The left panel uses a measure of our own,
# crude and explicit: the **high-frequency energy ratio**, the mean absolute second difference of Y (a
# discrete Laplacian: edges and fine texture) in SR divided by the same in HR (`_course.hf_ratio`). 1.0
# means as much fine detail as the original; blur pushes it below 1; invented texture or noise can push
# it above. It says *how much* texture, not whether it is the right texture — which is why the figure
# shows the images too.
#
# ⏱ *Without `SRGAN_FAST`: about two minutes (11 blends on Set5); with it, 3 blends.*

# %%
from srgan_keras.evaluation import interpolate
from srgan_keras.evaluation.niqe import niqe
from srgan_keras.evaluation.protocol import evaluate_image
from srgan_keras.inference.runners import BicubicRunner, as_runner

bundled = all(path.exists() for path in BUNDLED.values())
psnr_path, gan_path = ((BUNDLED["srresnet"], BUNDLED["srgan"]) if bundled else
                       (srresnet_model(), srgan_model()))  # the demo runs: mechanics only
psnr_model = interpolate.load(psnr_path)  # keras.saving.load_model(..., safe_mode=True)
gan_model = interpolate.load(gan_path)
print(f"alpha = 0: {psnr_path}\nalpha = 1: {gan_path}")
print(inspect.getsource(interpolate.interpolate_models))

alphas = [0.0, 0.5, 1.0] if FAST else [round(0.1 * k, 1) for k in range(11)]
t0 = time.perf_counter()
results, images = {}, {}
for name, model in [("bicubic", BicubicRunner(4))] + [
        (f"alpha={a:g}", interpolate.interpolate_models(psnr_model, gan_model, a)) for a in alphas]:
    runner = as_runner(model)
    rows = [evaluate_image(runner, hr, bicubic=False, name=n, niqe=True) for n, hr in set5.items()]
    results[name] = (np.mean([r.metrics["psnr_y"] for r in rows]), np.mean([r.metrics["ssim_y"] for r in rows]),
                     np.mean([hf_ratio(r.sr, r.hr) for r in rows]), np.mean([r.metrics["niqe"] for r in rows]))
    images[name] = {r.name: r for r in rows}
    print(f"{name:<10} PSNR {results[name][0]:.2f} dB  SSIM {results[name][1]:.4f}  "
          f"HF energy ratio {results[name][2]:.3f}  NIQE {results[name][3]:.2f}")
hr_niqe = np.mean([niqe(hr, border=4) for hr in set5.values()])
print(f"{'HR':<10} NIQE {hr_niqe:.2f}")
print(f"{time.perf_counter() - t0:.0f} s")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
curve = [k for k in results if k != "bicubic"]
for ax, col, hr_value, xlabel in (
        (axes[0], 2, 1.0, "texture: HF energy ratio SR / HR   (1 = as much fine detail as HR)"),
        (axes[1], 3, hr_niqe, "perception: NIQE (lower = more natural statistics)")):
    ax.plot([results[k][col] for k in curve], [results[k][0] for k in curve], "o-", color="tab:blue",
            label="interpolated SRResNet → SRGAN")
    for k in curve[::2] if len(curve) > 3 else curve:
        ax.annotate(k.replace("alpha=", "α="), (results[k][col], results[k][0]), textcoords="offset points",
                    xytext=(6, 4), fontsize=8)
    ax.plot(results["bicubic"][col], results["bicubic"][0], "s", color="grey", label="bicubic")
    ax.axvline(hr_value, color="green", lw=0.8, ls="--", label="HR's own value")
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8)
axes[1].invert_xaxis()  # better perception to the right on both panels
axes[0].set_ylabel("distortion axis: PSNR-Y on Set5 (dB)")
fig.suptitle("Perception–distortion trade-off by network interpolation (Set5, x4)", fontsize=10)
fig.tight_layout()
plt.show()
a0, a1 = results[curve[0]], results[curve[-1]]
say(("*Executed with `SRGAN_FAST=1`: three blends only.* " if FAST else "") +
    f"From α = 0 to α = 1 the PSNR falls from **{a0[0]:.2f} to {a1[0]:.2f} dB** (SSIM {a0[1]:.4f} → "
    f"{a1[1]:.4f}) while the HF energy ratio rises from **{a0[2]:.2f} to {a1[2]:.2f}** (bicubic: "
    f"{results['bicubic'][2]:.2f}, HR: 1) and NIQE goes from {a0[3]:.2f} to {a1[3]:.2f} (bicubic "
    f"{results['bicubic'][3]:.2f}, HR {hr_niqe:.2f}; lower is more natural)"
    + (f"; from α = {min(a for a in alphas if results[f'alpha={a:g}'][2] > 1):g} on, the SR has *more* "
       f"high-frequency energy than HR: invented texture, or artefacts (the insets below tell which)"
       if a1[2] > 1 else "")
    + ". That is the trade-off Blau & Michaeli (2018) proved cannot be "
    "escaped: no estimator is best on both axes. The paper's Table 2 shows it on Set5 too: SRResNet "
    "32.05 dB / 0.9019, SRGAN 29.40 dB / 0.8472.")

# %% [markdown]
# ### Slide α yourself
#
# Read the two panels together. Past the first few blends, where both barely move, PSNR falls as α grows
# and NIQE falls with it, towards HR's own value (the dashed line): the GAN end is further from HR pixel by
# pixel and closer to it in the statistics of natural photos. That is the paper's claim, in two numbers. It
# does not get all the way: the HF energy ratio stays below HR's 1 (the SRGAN adds less fine detail than HR
# has) and NIQE stays above HR's. And the ratio says how much detail, not which. The bird below is mostly
# smooth, so look at its edges there (sharper at α = 1, with no 4x4 grid); the texture is better seen on fur
# and grass (notebook 00, `saved_models/texture_crops.png`). (An earlier bundled GAN, trained with the MSE content loss and kept as
# `saved_models/srgan_mse_x4.keras`, ended this curve with *more* high-frequency energy than HR, most of it
# a regular 4x4 grid: a curve can rise for the wrong reason, which is why the figure shows the images.)
#
# In Jupyter, the slider below shows the Set5 bird at the chosen α with its PSNR and HF energy ratio (the
# blends were computed above, so it is instant). Executed headless (CI, the committed copy), the cell
# shows three α side by side instead.

# %%
try:
    import ipywidgets as widgets
    from IPython import get_ipython
    from IPython.display import clear_output, display

    live = hasattr(get_ipython(), "comm_manager") and not HEADLESS
except ImportError:  # ipywidgets is a dev dependency; without it the static figure below is all
    widgets, live = None, False

bird = {k: v["bird"] for k, v in images.items()}
if widgets is not None and live:
    out = widgets.Output()
    slider = widgets.SelectionSlider(options=alphas, value=alphas[len(alphas) // 2], description="alpha")

    def show(change=None):
        r = bird[f"alpha={slider.value:g}"]
        with out:
            clear_output(wait=True)
            show_panels(f"Set5 bird, alpha = {slider.value:g}  (HF energy ratio {hf_ratio(r.sr, r.hr):.2f})",
                        r.hr, [(f"alpha {slider.value:g}", r.sr, r.metrics), ("HR", r.hr, None)])

    slider.observe(show, names="value")
    show()
    display(widgets.VBox([slider, out]))
show_panels("Set5 bird x4: bicubic, then SRResNet → SRGAN by network interpolation", bird["bicubic"].hr,
            [("bicubic", bird["bicubic"].sr, bird["bicubic"].metrics)]
            + [(f"α = {a:g}", bird[f"alpha={a:g}"].sr, bird[f"alpha={a:g}"].metrics) for a in (0.0, 0.5, 1.0)]
            + [("HR", bird["bicubic"].hr, None)])

# %% [markdown]
# From the command line, `python -m srgan_keras.interpolate --psnr saved_models/srresnet_x4.keras --gan
# saved_models/srgan_x4.keras --alphas 0,0.25,0.5,0.75,1 --out-dir sweep --data ../shared/data/Set5` writes
# one model per α and this table; `python -m srgan_keras.evaluate --model PATH --data ../shared/data/Set5
# --figure figs/` writes the per-image figures.
#
# ### Exercises
#
# 1. *(recall)* Which three choices of the protocol move the bicubic baseline the most, and in which
#    direction?
# 2. *(understand)* Show that studio-range Y raises PSNR by 20·log10(255/219) over full-range luma for the
#    same relative error.
# 3. *(apply)* Set the border crop to 0 for a network: evaluate the bundled SRResNet on Set5 with
#    `evaluate_pair(sr, hr, border=0)` and compare with border 4. Why does a network lose more than bicubic?
# 4. *(experiment)* Extend the curve beyond the pair: α = 1.2 and α = −0.2 (extrapolation; call
#    `interpolate_models` after removing its range check in a copy). What happens to texture and PSNR?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. All three lower PSNR: RGB instead of Y (28.43 → 26.70 dB, −1.73), full-range Y instead of BT.601's
#    studio range (→ 27.11 dB, −1.32; exercise 2 derives the 1.3 dB), and LR made without antialias
#    (→ 28.00 dB, −0.43, though its SSIM *rises*, 0.8113 → 0.8192). The border crop and the rounding barely move bicubic (the protocol table above).
# 2. Y = 16 + 219·Y_full/255, so every error shrinks by 219/255; the MSE by (219/255)², and
#    PSNR = 10·log10(255²/MSE) rises by 20·log10(255/219).
# 3. A network's outermost pixels are its worst: its convolutions see zero padding there. Bicubic's resize
#    renormalises at the edges instead.
# 4. Beyond α = 1 the texture keeps growing into artefacts and PSNR keeps falling; below 0 the model gets
#    smoother than the SRResNet without gaining PSNR: the PSNR model is already near the MSE optimum.
#
# </details>
#
# Next: [07 · export for mobile](07_export_for_mobile.ipynb).
