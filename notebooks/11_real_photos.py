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
# # 11 · Real photos: blur, noise and JPEG, and a model trained for them
#
# Every model of notebooks 00–08 learnt from LR made by clean bicubic downscaling (SRGAN §3.1), the
# benchmark's degradation. What people upscale is different: phone photos, web JPEGs, scans, screenshots
# of screenshots. This notebook shows what such inputs contain, measures the paper's SRResNet on them,
# and puts beside it the library's **real-world model**: Real-ESRGAN's compact network
# (`SRVGGNetCompact`) trained here on Real-ESRGAN's degradations (notebook 09 built them; its section 2
# sets first- against second-order degradation side by side, which is not repeated here). Then the one
# knob the real-world model has, **denoise strength**, and a no-reference score, NIQE, read beside
# full-reference ones.
#
# Both models are loaded by name, as `upscale` and `evaluate` load them: `srresnet`, the paper's network
# trained on bicubic LR (notebook 00), and `realesr`, the real-world model that `upscale` uses when no
# `--model` is given. The cell below prints what the model card says about `realesr`: how far its
# training run had got when the file was bundled, and the numbers the card measured.

# %%
import io
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from _course import DATA, FAST, HEADLESS, hf_ratio, nearest, say, setup, show_figure, show_panels

setup()

# %%
from srgan_keras.inference.bundled import SAVED_MODELS
from srgan_keras.inference.runners import load_generator, resolve_model_path

REAL_WORLD = "realesr"  # saved_models/realesr_x4.keras, its weak-denoise twin realesr_x4_wdn.keras beside it
models = {"srresnet": load_generator("srresnet"), REAL_WORLD: load_generator(REAL_WORLD)}
for name, runner in models.items():
    print(f"{name:<9} {resolve_model_path(name).name}: x{runner.scale}, "
          f"{runner.model.count_params():,} parameters")

card = json.loads((SAVED_MODELS / "metrics.json").read_text())
entry = card["models"].get(resolve_model_path(REAL_WORLD).name, {})
training = entry.get("training", {})
steps = training.get("last_logged_step", {})
print("model card, training:", {k: training[k] for k in ("run", "wall_hours", "last_logged_step") if k in training})
for key, r in entry.get("results", {}).items():
    print(f"model card, {key:<22} PSNR-Y {r['psnr_y']:.2f} dB  SSIM-Y {r['ssim_y']:.4f}")
say("The card records the run's progress when this file was bundled: "
    + ", ".join(f"{phase} step {n:,}" for phase, n in steps.items())
    + f", after {training.get('wall_hours')} wall-clock hours of training. Whether that run goes on, and "
      "what the model does not do yet, is in [`saved_models/MODEL_CARD.md`](../saved_models/MODEL_CARD.md); "
      "every number below is measured here, on the file as bundled."
    if steps else "The model card has no training entry for this file; every number below is measured here.")

# %% [markdown]
# ## 1 · What real inputs look like
#
# Three things happen to a photo between the scene and the file you get, and bicubic LR has none of them:
#
# * **blur**: the lens, defocus, camera shake, and every resize on the way (a blur kernel $k$);
# * **noise**: the sensor's (shot noise grows with the light, read noise shows in the dark; colour or
#   grey), then the camera's own denoising and sharpening;
# * **JPEG**: the 8x8 blocks of the DCT quantised, so at low quality block edges show, fine texture goes
#   flat and edges ring; colour is stored at half resolution (4:2:0).
#
# The classical model writes them as $x = [(y \circledast k)\downarrow_4 + n]_{\mathrm{JPEG}}$; Real-ESRGAN
# applies it twice and adds sinc ringing ([notebook 09](09_realesrgan.ipynb), section 2). Here each one
# alone, on a crop of Set14's flowers, through the library's own degradation ops (LR drawn 4x, nearest):

# %%
import tensorflow as tf

from srgan_keras.data.degradation import crop_to_multiple, make_lr_numpy
from srgan_keras.data.imaging import load_rgb_uint8
from srgan_keras.data.ranges import to_uint8
from srgan_keras.data.realesrgan_kernels import mixed_kernel
from srgan_keras.data.realesrgan_stages import add_gaussian_noise, filter2d

flowers = crop_to_multiple(load_rgb_uint8(DATA / "Set14" / "flowers.png"), 4)  # (360, 500, 3)
crop = flowers[96:288, 160:352]  # (192, 192, 3): petals, leaves and the dark background
SEED = tf.constant([0, 1], tf.int64)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """An isotropic Gaussian blur of ``sigma`` px (Real-ESRGAN's first kernel family)."""
    k = mixed_kernel(0, 21, sigma, sigma, 0.0, 1.0)
    return to_uint8(filter2d(tf.constant(img / 255.0, tf.float32), k).numpy())


def noise(img: np.ndarray, sigma: float) -> np.ndarray:
    """Colour Gaussian noise of ``sigma`` grey levels, seeded."""
    return to_uint8(add_gaussian_noise(tf.constant(img / 255.0, tf.float32), sigma, False, SEED).numpy())


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """``img`` saved as a JPEG file at ``quality`` (Pillow: libjpeg, 4:2:0 chroma) and read back."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


lr_clean = make_lr_numpy(crop, 4)  # (48, 48, 3): the paper's bicubic LR
lrs = {"bicubic LR (the paper's)": lr_clean,
       "blur σ 2 px, then bicubic": make_lr_numpy(blur(crop, 2.0), 4),
       "bicubic + noise σ 10": noise(lr_clean, 10),
       "bicubic + JPEG q 40": jpeg(lr_clean, 40),
       "all three": jpeg(noise(make_lr_numpy(blur(crop, 2.0), 4), 10), 40)}
show_panels("One 192x192 crop, five ways to its 48x48 LR (drawn 4x with nearest pixels)", crop,
            [(k, nearest(v), None) for k, v in lrs.items()] + [("HR", crop, None)])

# %% [markdown]
# Blur removes what a SR network is supposed to restore, noise adds detail that is not in the scene, and
# JPEG adds a grid of 8x8 blocks that *looks* like detail. A network trained on the first panel has seen
# none of the others: on them it treats blocks and grain as texture to sharpen.

# %% [markdown]
# ## 2 · One photo, degraded the same way every time (`evaluate --degrade`)
#
# To compare models on such inputs we need a fixed test set. `srgan_keras.evaluation.degraded` makes the LR
# of each HR image by the library's second-order pipeline with a seed per image (the run's seed and the
# image's name), so every machine gets the same LR bytes: `python -m srgan_keras.evaluate --degrade
# realesrgan --seed 0`. Two presets: `realesrgan` (the official training distribution: two rounds of blur,
# resize, noise and JPEG, then a sinc) and `light` (a little blur, x4, noise up to 10 grey levels, JPEG
# 35–85: roughly a phone photo shared once). `evaluate_image` is the function behind the CLI, with
# `degrade=` and `seed=`:

# %%
from srgan_keras.evaluation import degraded
from srgan_keras.evaluation.protocol import evaluate_image

light = degraded.PRESETS["light"]
print(f"light: Gaussian blur σ {light.blur_sigma[0]:g}-{light.blur_sigma[1]:g} px, x4, Gaussian noise σ up to "
      f"{light.noise_range2[1]:g} grey levels, JPEG quality {light.jpeg_range2[0]:g}-{light.jpeg_range2[1]:g}")
lr_a = degraded.degraded_lr(flowers, 4, "light", seed=0, name="flowers")
lr_b = degraded.degraded_lr(flowers, 4, "light", seed=0, name="flowers")
print(f"two calls, same seed: identical LR {degraded.lr_digest(lr_a) == degraded.lr_digest(lr_b)} "
      f"(sha256 {degraded.lr_digest(lr_a)[:16]}...); seed 1 gives another: "
      f"{degraded.lr_digest(degraded.degraded_lr(flowers, 4, 'light', seed=1, name='flowers'))[:16]}...")

results = {}
for preset in ("light", "realesrgan"):
    res = {name: evaluate_image(r, flowers, degrade=preset, seed=0, name="flowers") for name, r in models.items()}
    results[preset] = res
    base = res["srresnet"]
    box = (slice(96, 288), slice(160, 352))  # the crop of section 1, shown; the scores are the whole image's
    show_panels(f"Set14 flowers, LR by --degrade {preset} --seed 0: a 192x192 crop shown, PSNR-Y / SSIM-Y of "
                "the whole image", base.hr[box],
                [(f"LR, {preset} (nearest)", nearest(base.lr)[box], None),
                 ("bicubic", base.bicubic_sr[box], base.bicubic),
                 ("SRResNet (bicubic-trained)", base.sr[box], base.metrics),
                 ("real-world model", res[REAL_WORLD].sr[box], res[REAL_WORLD].metrics), ("HR", base.hr[box], None)])
    for name, r in [("bicubic", None), *res.items()]:
        m = base.bicubic if r is None else r.metrics
        print(f"{preset:<10} {name:<9} PSNR-Y {m['psnr_y']:.2f} dB  SSIM-Y {m['ssim_y']:.4f}  "
              f"HF ratio {hf_ratio(base.bicubic_sr if r is None else r.sr, base.hr):.2f}")

# %%
lines = []
for preset, res in results.items():
    bic, srr, rw = res["srresnet"].bicubic, res["srresnet"].metrics, res[REAL_WORLD].metrics
    lines.append(f"With `{preset}` LR the real-world model scores **{rw['psnr_y']:.2f} dB / {rw['ssim_y']:.4f}**, "
                 f"SRResNet {srr['psnr_y']:.2f} / {srr['ssim_y']:.4f} and bicubic {bic['psnr_y']:.2f} / "
                 f"{bic['ssim_y']:.4f} ({rw['psnr_y'] - srr['psnr_y']:+.2f} dB against SRResNet).")
srr_gain = results["light"]["srresnet"].metrics["psnr_y"] - results["light"]["srresnet"].bicubic["psnr_y"]
say(" ".join(lines) + f" SRResNet, the best of the paper's models on clean LR, is {abs(srr_gain):.2f} dB "
    f"{'above' if srr_gain > 0 else 'below'} bicubic on the light degradation: what it learnt to add "
    "is the detail of a clean bicubic LR, and it adds it to the noise as well. Look at the dark background "
    "and the petals' edges.")

# %% [markdown]
# ## 3 · A web JPEG at quality 40
#
# The commonest real input: a small image saved as a JPEG at low quality. A 120x80 image of Set14's
# peppers (bicubic x1/4 of a 480x320 crop), saved with Pillow at quality 40 and read back as a user's
# file would be. At that quality the 8x8 blocks are visible in the LR itself; after x4 they are 32x32
# in the output. To say *how much* each output shows them, `evaluation.metrics.blockiness` compares the luminance
# steps across the 32-px grid with the steps across the middle of its cells: 1.0 = no grid; more = visible
# blocks.

# %%
from srgan_keras import upscale_image
from srgan_keras.evaluation.metrics import blockiness, evaluate_pair
from srgan_keras.inference.runners import BicubicRunner

peppers = load_rgb_uint8(DATA / "Set14" / "pepper.png")  # (512, 512, 3)
hr_m = peppers[96:416, 16:496]  # (320, 480, 3): smooth skins, sharp edges
web = Path(tempfile.mkdtemp()) / "peppers_120x80_q40.jpg"  # a folder of LR photos without HR (section 5)
Image.fromarray(make_lr_numpy(hr_m, 4)).save(web, format="JPEG", quality=40)
lr_m = load_rgb_uint8(web)  # (80, 120, 3), as upscale would read it
print(f"{web.name}: {lr_m.shape[1]}x{lr_m.shape[0]} px, {web.stat().st_size:,} bytes")

outs = {"bicubic": upscale_image(lr_m, BicubicRunner(4), tile=None, pre_pad=0)}
outs.update({name: upscale_image(lr_m, r, tile=None, pre_pad=0) for name, r in models.items()})
scores = {k: evaluate_pair(v, hr_m, border=4) for k, v in outs.items()}
blocks = {k: blockiness(v, block=32) for k, v in {**outs, "HR": hr_m}.items()}  # 8x8 LR blocks, x4
show_panels("A 120x80 JPEG at quality 40, x4 (PSNR-Y / SSIM-Y against the HR it was made from)", hr_m,
            [("JPEG q 40 (nearest)", nearest(lr_m), None), ("bicubic", outs["bicubic"], scores["bicubic"]),
             ("SRResNet (bicubic-trained)", outs["srresnet"], scores["srresnet"]),
             ("real-world model", outs[REAL_WORLD], scores[REAL_WORLD]), ("HR", hr_m, None)])
for k, b in blocks.items():
    m = scores.get(k)
    print(f"{k:<9} blockiness {b:.2f}" + (f"  PSNR-Y {m['psnr_y']:.2f} dB  SSIM-Y {m['ssim_y']:.4f}" if m else ""))

# a closer look: the 96x96 square (3x3 blocks, on the grid) where bicubic's output shows the blocks most
side = 96
_, fy, fx = max((blockiness(outs["bicubic"][y:y + side, x:x + side], block=32), y, x)
                for y in range(0, hr_m.shape[0] - side + 1, 32) for x in range(0, hr_m.shape[1] - side + 1, 32))
fig, axes = plt.subplots(1, 4, figsize=(11, 3.2))
for ax, (k, label) in zip(axes, [("bicubic", "bicubic"), ("srresnet", "SRResNet"), (REAL_WORLD, "real-world model"),
                                 ("HR", "HR")]):
    img = hr_m if k == "HR" else outs[k]
    ax.imshow(img[fy:fy + side, fx:fx + side], interpolation="nearest")
    ax.set_title(f"{label}: blockiness {blocks[k]:.2f}", fontsize=9)
    ax.set_axis_off()
fig.suptitle(f"The {side}x{side} square at x = {fx}, y = {fy} where the JPEG's blocks show most in bicubic's output "
             "(blockiness of the whole image in the titles)", fontsize=9)
fig.tight_layout()
show_figure(fig)

# %%
b_bic, b_srr, b_rw, b_hr = (blocks[k] for k in ("bicubic", "srresnet", REAL_WORLD, "HR"))
say(f"The grid's steps: HR {b_hr:.2f}, bicubic {b_bic:.2f}, SRResNet **{b_srr:.2f}**, the real-world model "
    f"**{b_rw:.2f}**. "
    + (f"SRResNet makes the JPEG blocks {'stronger' if b_srr > b_bic else 'no weaker'} than plain bicubic: "
       "it was trained to sharpen every edge of its input, and to it a block edge is an edge. "
       if b_srr >= b_bic else "SRResNet does not sharpen the blocks here (an unusual crop). ")
    + (f"The real-world model brings the grid down to {b_rw:.2f}, "
       f"{'close to' if b_rw - b_hr < 0.5 * (b_bic - b_hr) else 'towards'} the HR's: it removes the blocks it was "
       f"trained to see, and scores {scores[REAL_WORLD]['psnr_y'] - scores['srresnet']['psnr_y']:+.2f} dB against "
       "SRResNet."
       if b_rw < min(b_bic, b_srr) else
       "The real-world model does not remove them here either: its training has not covered this case yet."))

# %% [markdown]
# ## 4 · Denoise strength: deep network interpolation
#
# Removing noise and keeping texture pull in opposite directions, and the right balance depends on the
# photo. Real-ESRGAN ships its general model with a **weak-denoise twin** (`wdn`): the same network
# fine-tuned on milder degradations, meant to remove less. (Whether it also *keeps more* fine detail is a
# question for the measurements below: on the face there, our twin keeps slightly *less* high-frequency
# energy than the model by the HF ratio, while scoring the higher PSNR.) Instead of choosing one, its
# `-dn s` option blends their *weights* at load time — deep network interpolation (Wang et al., CVPR
# 2019; ESRGAN §3.4 did the same for PSNR → GAN, notebook 06):
#
# $$ W_s = s\,W_{\mathrm{model}} + (1 - s)\,W_{\mathrm{wdn}}, \qquad s \in [0, 1] $$
#
# so $s = 1$ is the model as trained, $s = 0$ the twin. It works because the twin was fine-tuned from the
# model: the two sit in the same basin of the loss, and the straight line between them stays in it (two
# independently trained networks would not: their channels are in different orders). One forward pass,
# no second model at run time. In the library: `load_generator("realesr", denoise_strength=s)`, or
# `upscale --denoise-strength s`, which look for the twin as `NAME_wdn.keras` beside `NAME.keras`. First a
# check of the formula on the first kernel of the blend:

# %%
from srgan_keras.nn.interpolation import InterpolationError, find_wdn_twin

tf.get_logger().setLevel("ERROR")  # each blend is a new model: TensorFlow warns that it retraces, as it must

model_path = resolve_model_path(REAL_WORLD)
try:
    twin_path = find_wdn_twin(model_path)
except InterpolationError:
    twin_path = None
if twin_path is not None:
    twin = load_generator(twin_path)
    w_model, w_wdn = models[REAL_WORLD].model.weights[0].numpy(), twin.model.weights[0].numpy()
    print(f"weak-denoise twin: {twin_path.name}; first kernel {models[REAL_WORLD].model.weights[0].path}, "
          f"shape {w_model.shape}")
    for s in (0.0, 0.5, 1.0):
        w_s = load_generator(REAL_WORLD, denoise_strength=s).model.weights[0].numpy()
        print(f"s = {s:g}: max |W_s - (s W + (1 - s) W_wdn)| = {np.abs(w_s - (s * w_model + (1 - s) * w_wdn)).max():.1e}")
    print(f"mean |W - W_wdn| in that kernel: {np.abs(w_model - w_wdn).mean():.2e} "
          f"(mean |W|: {np.abs(w_model).mean():.2e})")
else:
    say(f"**No weak-denoise twin in this checkout** (`{model_path.stem}_wdn.keras` beside `{model_path.name}`): "
        "it is the same network fine-tuned on the milder `light` degradations (`train --degradation light "
        "--init-from ...`), and is not bundled yet. Without it only s = 1, the model as trained, can be "
        "loaded (Real-ESRGAN's rule too); the sweep below runs that one point, and the slider waits for the twin.")

# %% [markdown]
# Now a noisy photo: the face of Set5's baby, degraded by the `light` preset (seed 0), upscaled at each
# denoise strength. Smooth skin shows noise at once; the eyelashes and the hat's knit show lost
# detail. The HF ratio is notebook 06's texture measure (1 = as much fine detail as HR).

# %%
baby = load_rgb_uint8(DATA / "Set5" / "baby.png")[96:352, 128:384]  # (256, 256, 3): eyes, nose, hat
if twin_path is None:
    strengths = [1.0]
else:
    strengths = [0.0, 0.5, 1.0] if FAST else [round(0.1 * i, 1) for i in range(11)]
dn = {s: evaluate_image(load_generator(REAL_WORLD, denoise_strength=s), baby, degrade="light", seed=0,
                        name="baby") for s in strengths}
hf = {s: hf_ratio(r.sr, r.hr) for s, r in dn.items()}
for s, r in dn.items():
    print(f"s = {s:.1f}  PSNR-Y {r.metrics['psnr_y']:.2f} dB  SSIM-Y {r.metrics['ssim_y']:.4f}  HF ratio {hf[s]:.2f}")
first = dn[strengths[0]]
print(f"bicubic  PSNR-Y {first.bicubic['psnr_y']:.2f} dB  SSIM-Y {first.bicubic['ssim_y']:.4f}  "
      f"HF ratio {hf_ratio(first.bicubic_sr, first.hr):.2f}")

if len(strengths) > 1:
    fig, ax1 = plt.subplots(figsize=(7, 3))
    ax1.plot(strengths, [dn[s].metrics["psnr_y"] for s in strengths], "o-", color="C0")
    ax1.set_xlabel("denoise strength s (0 = weak-denoise twin, 1 = the model as trained)")
    ax1.set_ylabel("PSNR-Y (dB)", color="C0")
    ax2 = ax1.twinx()
    ax2.plot(strengths, [hf[s] for s in strengths], "s--", color="C1")
    ax2.set_ylabel("HF energy ratio (HR = 1)", color="C1")
    ax1.set_title("Set5 baby (face), light degradation: one blend of weights per s", fontsize=9)
    fig.tight_layout()
    plt.show()
    best = max(strengths, key=lambda s: dn[s].metrics["psnr_y"])
    p0, p1 = dn[0.0].metrics["psnr_y"], dn[1.0].metrics["psnr_y"]
    # the same photo through the harder realesrgan degradation, at both ends
    hard = {s: evaluate_image(load_generator(REAL_WORLD, denoise_strength=s), baby, degrade="realesrgan", seed=0,
                              name="baby").metrics["psnr_y"] for s in (0.0, 1.0)}
    print(f"realesrgan-degraded baby: s = 0 {hard[0.0]:.2f} dB, s = 1 {hard[1.0]:.2f} dB")
    say(f"On this input PSNR goes from {p0:.2f} dB at s = 0 (the twin) to {p1:.2f} dB at s = 1 (the model)"
        + (f", highest in between, at s = {best:.1f} ({dn[best].metrics['psnr_y']:.2f} dB)" if best not in (0.0, 1.0) else "")
        + f"; the HF ratio from {hf[0.0]:.2f} to {hf[1.0]:.2f}. "
        + ("The twin was fine-tuned on exactly this `light` distribution, so on a lightly degraded photo it is the "
           "better of the two by PSNR" if p0 > p1 else "The model is the better of the two by PSNR even here")
        + f"; through the harder `realesrgan` degradation the same face scores {hard[0.0]:.2f} dB at s = 0 and "
          f"{hard[1.0]:.2f} dB at s = 1"
        + (", so there the balance moves towards the model. " if hard[1.0] - hard[0.0] > p1 - p0 else ". ")
        + ("By the HF ratio the two keep about the same fine detail: the twin is a short fine-tune, close to the "
           "model in weights (above), and so in outputs. " if abs(hf[1.0] - hf[0.0]) < 0.05 else
           "The stronger the denoising, the less fine detail survives. " if hf[1.0] < hf[0.0] else
           "Here the model keeps more fine detail than the twin. ")
        + "Which s looks best depends on the photo and on taste, which is why it is a knob and not a constant.")

# %% [markdown]
# ### Slide s yourself
#
# In Jupyter, the slider shows the baby's face at the chosen strength with its PSNR and HF ratio (the blends
# were computed above, so it is instant). Executed headless (CI, the committed copy), the cell shows
# the strengths side by side instead.

# %%
try:
    import ipywidgets as widgets
    from IPython import get_ipython
    from IPython.display import clear_output, display

    live = hasattr(get_ipython(), "comm_manager") and not HEADLESS
except ImportError:  # ipywidgets is a dev dependency; without it the static figure below is all
    widgets, live = None, False

if widgets is not None and live and len(strengths) > 1:
    out = widgets.Output()
    slider = widgets.SelectionSlider(options=strengths, value=strengths[len(strengths) // 2],
                                     description="strength s")

    def show(change=None):
        r = dn[slider.value]
        with out:
            clear_output(wait=True)
            show_panels(f"Set5 baby, light degradation, s = {slider.value:g} (HF ratio {hf[slider.value]:.2f})",
                        r.hr, [("degraded LR (nearest)", nearest(r.lr), None),
                               (f"s = {slider.value:g}", r.sr, r.metrics), ("HR", r.hr, None)])

    slider.observe(show, names="value")
    show()
    display(widgets.VBox([slider, out]))
shown = [s for s in (0.0, 0.5, 1.0) if s in dn]
show_panels("Set5 baby, light degradation: denoise strength s (PSNR-Y / SSIM-Y)", first.hr,
            [("degraded LR (nearest)", nearest(first.lr), None), ("bicubic", first.bicubic_sr, first.bicubic)]
            + [(f"s = {s:g}", dn[s].sr, dn[s].metrics) for s in shown] + [("HR", first.hr, None)])

# %% [markdown]
# ## 5 · NIQE: a score without a reference, read beside PSNR
#
# A real photo has no HR, so PSNR and SSIM cannot be computed. NIQE (Mittal, Soundararajan & Bovik 2013,
# "completely blind") scores an image alone: it fits a multivariate Gaussian to local statistics of the
# normalised luminance (MSCN coefficients and their neighbours' products) over 96x96 blocks, and measures
# its distance to the same Gaussian fitted once to pristine natural photos. **Lower is more natural.**
#
# The catch: what it learnt as "natural" is the statistics of *sharp* photos. Grain, noise and invented
# texture move an image towards them; a clean but soft image moves away. So NIQE rewards sharpness, not
# correctness or cleanliness, and is read beside full-reference numbers on degraded benchmarks, never alone.
# First the catch itself, on the quality-40 JPEG of section 3 as if it were a real photo with no HR:
# `evaluate --no-reference` gives NIQE alone, of the model's output and of bicubic's (`python -m
# srgan_keras.evaluate --model realesr --data FOLDER --no-reference`). The x4 output, 480x320, holds the six
# 96x96 blocks NIQE needs.

# %%
from srgan_keras.evaluation.folders import evaluate_no_reference

nr = {}
for name, r in models.items():
    row = evaluate_no_reference(r, web.parent)["images"][0]
    nr[name], nr["bicubic"] = row["niqe"], row["bicubic"]["niqe"]
for k in ("bicubic", "srresnet", REAL_WORLD):
    print(f"{k:<9} NIQE {nr[k]:.2f}  blockiness {blocks[k]:.2f}  PSNR-Y {scores[k]['psnr_y']:.2f} dB (against the HR, "
          "which NIQE does not see)")
say(f"SRResNet's output, the one with the sharpest blocks (blockiness {blocks['srresnet']:.2f}) and a PSNR "
    f"{'below' if scores['srresnet']['psnr_y'] < scores['bicubic']['psnr_y'] else 'above'} bicubic's, scores NIQE "
    f"**{nr['srresnet']:.2f}** against bicubic's {nr['bicubic']:.2f}"
    + (": NIQE counts sharpened block edges as the detail of a sharp photo. "
       if nr["srresnet"] < nr["bicubic"] else ". ")
    + f"The real-world model scores {nr[REAL_WORLD]:.2f} with a blockiness of {blocks[REAL_WORLD]:.2f}; "
    + ("NIQE ranks it first, " if nr[REAL_WORLD] < nr["srresnet"] else "NIQE ranks it behind SRResNet, ")
    + f"but its margin over SRResNet ({nr['srresnet'] - nr[REAL_WORLD]:+.2f}) says far less than the images do.")

# %% [markdown]
# Then the models, on Set14 degraded by `realesrgan` with seed 0 — the set and seed of the model card, with
# a NIQE column (`python -m srgan_keras.evaluate --model realesr --data ../shared/data/Set14 --degrade
# realesrgan --seed 0 --niqe`). ⏱ *Without `SRGAN_FAST`: a minute or two (14 images, two models and
# bicubic, NIQE of each output); with it, three images.*

# %%
from srgan_keras.evaluation.folders import evaluate_folder
from srgan_keras.evaluation.report import format_table

set14 = DATA / "Set14"
data = ([(p.stem, load_rgb_uint8(p)) for p in sorted(set14.glob("*.png"))[:3]] if FAST else set14)
reports = {name: evaluate_folder(r, data, degrade="realesrgan", seed=0, niqe=True) for name, r in models.items()}
for report in reports.values():
    print(format_table(report), end="\n\n")
ref = {name: rep["mean"] for name, rep in reports.items()}
bic_mean = reports[REAL_WORLD]["bicubic_mean"]
card_key = "Set14 realesrgan/0"
card_rw = entry.get("results", {}).get(card_key)
if card_rw and not FAST:
    print(f"model card, {card_key}: PSNR-Y {card_rw['psnr_y']:.2f} dB  SSIM-Y {card_rw['ssim_y']:.4f} "
          f"(here: {ref[REAL_WORLD]['psnr_y']:.2f} dB / {ref[REAL_WORLD]['ssim_y']:.4f})")

# %%
rank = {"PSNR": {"bicubic": bic_mean["psnr_y"], **{n: ref[n]["psnr_y"] for n in ref}},  # higher is better
        "NIQE": {"bicubic": -bic_mean["niqe"], **{n: -ref[n]["niqe"] for n in ref}}}   # lower is better
order = {k: sorted(v, key=v.get, reverse=True) for k, v in rank.items()}
flips = [(a, b) for a in rank["PSNR"] for b in rank["PSNR"]
         if rank["PSNR"][a] > rank["PSNR"][b] and rank["NIQE"][a] < rank["NIQE"][b]]
say(("*Executed with `SRGAN_FAST=1`: three images of Set14 only.* " if FAST else "")
    + f"Mean over {len(reports[REAL_WORLD]['images'])} images: the real-world model "
    f"{ref[REAL_WORLD]['psnr_y']:.2f} dB / {ref[REAL_WORLD]['ssim_y']:.4f}, SRResNet {ref['srresnet']['psnr_y']:.2f} / "
    f"{ref['srresnet']['ssim_y']:.4f}, bicubic {bic_mean['psnr_y']:.2f} / {bic_mean['ssim_y']:.4f}; NIQE "
    + ", ".join(f"{n} {-rank['NIQE'][n]:.2f}" for n in order["NIQE"]) + ". "
    f"PSNR ranks them {' > '.join(order['PSNR'])}, NIQE {' > '.join(order['NIQE'])}. "
    + (" ".join(f"NIQE prefers {b} to {a}, which PSNR ranks higher{': the sharpened noise and blocks again' if b == 'srresnet' else ''}."
                for a, b in flips)
       if flips else "Here the two agree; the JPEG above shows where they do not.")
    + " Read together they say more than either: a model worth using is high on PSNR/SSIM against HR "
      "*and* not soft by NIQE.")

# %% [markdown]
# From the command line:
#
# ```bash
# python -m srgan_keras.upscale photo.jpg -o upscaled/                      # the real-world model (default)
# python -m srgan_keras.upscale photo.jpg --denoise-strength 0.5 -o up/    # half-way to the weak-denoise twin
# python -m srgan_keras.upscale photo.jpg --model srresnet -o up/          # the paper's bicubic-trained model
# python -m srgan_keras.evaluate --model realesr --data ../shared/data/Set14 --degrade light --seed 0 --niqe
# python -m srgan_keras.evaluate --model realesr --data my_photos/ --no-reference
# ```
#
# ### Exercises
#
# 1. *(recall)* Name the three degradations of real photos that bicubic LR lacks, and say which one shows as
#    a grid in a x4 output.
# 2. *(understand)* Why does SRResNet make JPEG blocks *sharper*? What in its training data would have to
#    change for it to remove them?
# 3. *(understand)* Denoise strength blends weights, not images. Why can it blend the model with its
#    weak-denoise twin, but not with SRResNet? (Two reasons: one about architecture, one about training.)
# 4. *(apply)* Evaluate the real-world model on Set14 with `--degrade light --seed 0` and `--seed 1`. How far
#    apart are the two means, and what does that say about reading a difference of 0.1 dB between models?
# 5. *(experiment)* Save one of your photos as JPEG at quality 20, 40 and 80 and upscale each with
#    `--denoise-strength` 0, 0.5 and 1. Does the strength you prefer change with the quality? Check your
#    eye against `evaluation.metrics.blockiness` (with `block=32`) and NIQE.
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. Blur, noise and JPEG compression (often several rounds of each). JPEG's 8x8 blocks of the LR become a
#    32x32 grid at x4.
# 2. It learnt from clean bicubic LR, where every step in the image is an edge of the scene, so it sharpens
#    every step, block edges included. Its LR would have to contain JPEG blocks (and noise) paired with clean
#    HR — Real-ESRGAN's degradation pipeline, which is what the real-world model was trained on.
# 3. Architecture: the blend is weight by weight, so both must have the same layers and shapes (SRResNet is a
#    different network). Training: even with the same architecture, a straight line between two networks
#    trained independently leaves the low-loss region (hidden units in different orders); the twin was
#    fine-tuned *from* the model, so the line between them stays good.
# 4. The seed changes every draw of blur, noise and JPEG per image, so the means move, by about a tenth of a
#    dB on 14 images (for bicubic too): as much as many differences between models. A 0.1 dB difference is
#    only meaningful on the *same* seed (the same LR bytes, which is why the report carries each LR's
#    SHA-256), and only trusted if it holds on several seeds.
# 5. Expect the lower the quality, the higher the strength worth using (more blocks to remove); at
#    quality 80 a lower strength may look more faithful. Do not assume it keeps more texture: on the
#    baby's face above, the twin (s = 0) had a slightly *lower* HF ratio than the model (s = 1). NIQE
#    rewards grain and sharpness (its known bias), so check which strength it prefers rather than
#    assuming it. (Not measured in this notebook.)
#
# </details>
#
# Back to the [list of notebooks](README.md).
