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
# # 3 · The losses: MSE, VGG content, adversarial (Eqs. 3–6), and ESRGAN's relativistic GAN
#
# The paper's perceptual loss (Eq. 3) is a content loss plus a small adversarial loss:
#
# $$ l^{SR} = l^{SR}_X + 10^{-3}\, l^{SR}_{Gen} $$
#
# with the content loss either pixel-wise MSE (Eq. 4) or a distance between VGG19 feature maps (Eq. 5):
#
# $$ l^{SR}_{MSE} = \frac{1}{r^2WH}\sum_{x,y}\big(I^{HR}_{x,y} - G(I^{LR})_{x,y}\big)^2 \qquad
#    l^{SR}_{VGG/i,j} = \frac{1}{W_{i,j}H_{i,j}}\sum_{x,y}\big(\phi_{i,j}(I^{HR})_{x,y} - \phi_{i,j}(G(I^{LR}))_{x,y}\big)^2 $$
#
# and the adversarial loss (Eq. 6) $l^{SR}_{Gen} = \sum_n -\log D(G(I^{LR}))$. The library uses batch
# *means* rather than sums (as every public implementation does); $\phi_{2,2}$ is Keras' `block2_conv2`,
# $\phi_{5,4}$ is `block5_conv4`.
#
# **Offline here:** VGG19's ImageNet weights cannot be downloaded on this machine, so VGG cells use
# `vgg_weights=None` (random weights): the *mechanics* are right, the feature maps are not the trained
# ones. With a network, set `SRGAN_VGG_WEIGHTS=imagenet` (or a path to a `.h5`) before starting Jupyter.

# %%

import matplotlib.pyplot as plt
import numpy as np

from _course import DATA, FAST, VGG_WEIGHTS, say, setup, show_figure, vgg_note

setup()

# %%
import inspect

import tensorflow as tf

from srgan_keras.training import losses

print("VGG weights:", VGG_WEIGHTS or "none (random; offline)")
print("ADV_WEIGHT =", losses.ADV_WEIGHT, "(Eq. 3) | VGG_RESCALE = 1/12.75 =", losses.VGG_RESCALE, "(§3.2)")
print(inspect.getsource(losses.ContentLoss))

# %% [markdown]
# ### The loss of the paper, in one line (Eq. 3)
#
# $$ l^{SR} = \underbrace{l^{SR}_X}_{\text{content}} + 10^{-3}\, \underbrace{l^{SR}_{Gen}}_{\text{adversarial}} $$
#
# The content loss $l^{SR}_X$ is either the pixel MSE (Eq. 4) or the VGG loss (Eq. 5); the adversarial
# loss comes from the discriminator (Eq. 6). This notebook derives each term, then computes it with the
# library's own classes.
#
# ### Why the MSE minimiser is the conditional mean
#
# For one LR image $y$, many HR images $x$ are possible, with a distribution $p(x \mid y)$. A network
# trained with MSE outputs the $c$ minimising the expected loss $R(c) = \mathbb{E}[(x - c)^2 \mid y]$.
# Differentiate: $R'(c) = -2\,(\mathbb{E}[x \mid y] - c) = 0$, so
#
# $$ c^\star = \mathbb{E}[x \mid y], \qquad R(c) = \mathrm{Var}(x \mid y) + (c - \mathbb{E}[x \mid y])^2 . $$
#
# The MSE optimum is the **mean** of all plausible answers — even when the mean itself is not a plausible
# answer. A 1-D toy: one pixel whose HR value is, with equal chances, dark (−1) or bright (+1), say an edge
# whose exact position the LR image does not give away.

# %%
rng = np.random.default_rng(0)
samples = np.concatenate([rng.normal(-1, 0.15, 5000), rng.normal(1, 0.15, 5000)])  # p(x | y), bimodal
c = np.linspace(-1.5, 1.5, 301)
risk = [np.mean((samples - ci) ** 2) for ci in c]
c_mse = c[int(np.argmin(risk))]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
axes[0].hist(samples, bins=80, density=True, color="tab:blue", alpha=0.6, label="p(x | y): plausible HR values")
axes[0].axvline(c_mse, color="red", label=f"MSE optimum c* = {c_mse:+.2f}")
axes[0].set_xlabel("HR pixel value x"), axes[0].set_ylabel("density"), axes[0].legend(fontsize=8)
axes[0].set_title("the optimum falls where no real answer lies", fontsize=9)
axes[1].plot(c, risk)
axes[1].axvline(c_mse, color="red")
axes[1].set_xlabel("output c"), axes[1].set_ylabel("expected MSE  R(c)")
axes[1].set_title("R(c) = Var(x|y) + (c - E[x|y])^2", fontsize=9)
fig.tight_layout()
plt.show()
say(f"The minimiser found on the grid is c* = {c_mse:+.2f}, the sample mean is {samples.mean():+.3f}: a grey "
    f"value that the data never takes. Its expected MSE, {min(risk):.3f}, is the variance; a sample from "
    f"either mode (what a GAN aims to output) scores about {np.mean((samples - 1) ** 2):.3f}, worse by MSE "
    f"and yet a plausible pixel. On images the same happens per pixel and per texture: the next cell.")

# %% [markdown]
# ### Why MSE blurs: regression to the mean (the idea of the paper's Fig. 3)
#
# An LR patch is compatible with many HR patches. The MSE-optimal answer is the **pixel-wise average** of all
# of them, and an average of sharp, slightly different textures is a blurred texture. Below, eight plausible
# HR versions of a patch of the baboon's nose and fur (the same texture shifted by up to 3 pixels: after x4
# downscaling they differ by a few grey levels, far less than their HR versions do) and their mean. The mean has the *lowest* average MSE to the candidates — the
# MSE criterion prefers it to every one of the real, sharp answers.

# %%
from srgan_keras.data.degradation import bicubic_downscale
from srgan_keras.data.imaging import load_rgb_uint8

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

fig, axes = plt.subplots(1, 5, figsize=(12, 3.0))
for i, ax in enumerate(axes[:4]):
    ax.imshow(cands[i].astype(np.uint8))
    ax.set_title(f"candidate {i}\nshift (dy, dx) = {tuple(int(v) for v in shifts[i])}", fontsize=9)
axes[4].imshow(mean.astype(np.uint8))
axes[4].set_title("pixel-wise mean\n= the MSE optimum", fontsize=9)
for ax in axes:
    ax.set_xlabel("x (px)"), ax.set_ylabel("y (px)")
fig.tight_layout()
show_figure(fig)  # photos: embedded as JPEG (_course.FIGURE_QUALITY)

# %% [markdown]
# ### VGG feature maps at φ2,2 and φ5,4
#
# The perceptual content loss (Eq. 5) compares images after the layers of a pretrained classifier: with
# $\phi_{i,j}$ the feature map of the $j$-th convolution (after its ReLU) before the $i$-th max-pooling of
# VGG19, of size $W_{i,j} \times H_{i,j}$,
#
# $$ l^{SR}_{VGG/i,j} = \frac{1}{W_{i,j} H_{i,j}} \sum_{x,y}
#    \big(\phi_{i,j}(I^{HR})_{x,y} - \phi_{i,j}(G_{\theta_G}(I^{LR}))_{x,y}\big)^2 . $$
#
# φ2,2 (`block2_conv2`, half resolution, 128 channels) sees edges and simple textures; φ5,4 (`block5_conv4`,
# 1/16 resolution, 512 channels) object parts. Two images with the same content but slightly different
# texture are close in φ5,4 and far in pixels: the loss stops punishing plausible texture the way MSE does.
#
# **The 1/12.75.** §3.2: the VGG losses are computed on feature maps "rescaled by a factor of 1/12.75" to
# obtain losses "of a scale comparable to the MSE loss". The library multiplies the features by
# `VGG_RESCALE` = 1/12.75 before the squared difference, so the loss itself shrinks by $12.75^2 \approx 163$.
# Images go from [-1, 1] to 0..255 and through VGG's own preprocessing (`vgg_preprocess`) first.
# ⏱ *a few seconds.*

# %%
print(inspect.getsource(losses.vgg_preprocess))
hr = load_rgb_uint8(DATA / "Set5" / "butterfly.png")[None].astype(np.float32) / 127.5 - 1.0  # [-1, 1]
extractor = losses.vgg_feature_extractor(["block2_conv2", "block5_conv4"], VGG_WEIGHTS)
f22, f54 = extractor(losses.vgg_preprocess(hr), training=False)
for name, f in (("phi_2,2 block2_conv2", f22), ("phi_5,4 block5_conv4", f54)):
    print(f"{name}: shape {tuple(f.shape)}, mean activation {float(tf.reduce_mean(f)):.3g}, "
          f"after 1/12.75: {float(tf.reduce_mean(f)) * losses.VGG_RESCALE:.3g}")

fig, axes = plt.subplots(2, 5, figsize=(12, 5.6))
axes[0, 0].imshow((hr[0] + 1) / 2)
axes[0, 0].set_title("input 256x256", fontsize=8)
axes[1, 0].axis("off")
for row, (name, f) in enumerate((("phi2,2", f22), ("phi5,4", f54))):
    strongest = np.argsort(-f[0].numpy().mean((0, 1)))[:4]
    for k, c in enumerate(strongest):
        axes[row, k + 1].imshow(f[0, :, :, c], cmap="viridis")
        axes[row, k + 1].set_title(f"{name}, channel {int(c)}\n({f.shape[1]}x{f.shape[2]})", fontsize=9)
for ax in axes.flat:
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("The most active feature maps" + ("" if VGG_WEIGHTS else
             " (random VGG19 weights: the mechanics, not trained features)"), fontsize=10)
fig.tight_layout()
plt.show()
say(vgg_note("the φ2,2 maps look like edge and colour detectors (the wing's borders and veins light up), "
             "the φ5,4 maps respond to whole parts (the wing pattern, the body) at 1/16 resolution."))


# %% [markdown]
# ### The content losses on degraded images
#
# Same butterfly, four distortions, three content losses (`ContentLoss("mse" | "vgg22" | "vgg54")`).
# MSE scores blur and noise by their pixel energy alone; a feature loss weighs them by what the network's
# filters respond to. (This table uses Keras' default random init when no ImageNet weights are set: the
# mechanics only. The next section builds the random VGG19 that the library does train with, and checks the
# paper's argument on it.)

# %%
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
say(vgg_note("the paper's argument can be checked here: φ5,4 penalises the blurred image more, relative "
             "to MSE, than an image with plausible texture of the same pixel error."))

# %% [markdown]
# ### A perceptual loss without ImageNet: random features
#
# SRGAN's VGG19 was trained on ImageNet; those weights cannot be downloaded here. Liu et al. ("Generic
# Perceptual Loss for Modeling Structured Output Dependencies", CVPR 2021) show that what carries a perceptual
# loss is largely the **structure** of a deep CNN, not its trained weights: a randomly-weighted network,
# properly initialised, gave super-resolution results on par with ImageNet VGG's in their pilot. Texture
# synthesis says the same (Ustyuzhaninov et al. 2016; He, Wang and Hopcroft 2016): stacks of random
# convolutions, rectifiers and pooling already measure *local statistics* — which orientations and frequencies
# are present, roughly where — and are blind to their exact phase.
#
# **How it is initialised** (`srgan_keras.nn.vgg.random_vgg19`): every kernel He-normal, $w \sim \mathcal{N}(0, 2/n_{in})$
# with $n_{in} = 3 \cdot 3 \cdot C_{in}$, biases zero, drawn by NumPy from a seed (`--vgg-weights random:SEED`),
# so every machine builds the same network. The factor 2 compensates the ReLU halving the second moment, so
# each layer's output keeps its input's scale down all 16 convolutions: features neither vanish nor explode
# (He et al. 2015), which is what a loss 16 layers deep needs. With zero biases the network is positively
# homogeneous, $\phi(a x) = a\,\phi(x)$, so only the scale of the loss depends on the input's scale, and the
# library fixes it as the paper fixed 1/12.75: so that the VGG54 loss is "comparable to the MSE loss", measured
# on bicubic/HR pairs of the training photos (`python -m benchmarks.calibrate_random_vgg`: 1/130).
#
# The test of the paper's argument: HR's texture misaligned by one pixel against the x4 bicubic round trip,
# on three crops of Set14 (fur, grass, a face) and three seeds. ⏱ *about half a minute.*

# %%
crops = {"baboon fur": ("baboon.png", 380, 10), "zebra grass": ("zebra.png", 280, 40),
         "lenna face": ("lenna.png", 230, 230)}
rows = []
for label, (file, y0, x0) in crops.items():
    img = load_rgb_uint8(DATA / "Set14" / file).astype(np.float32)[y0:y0 + 97, x0:x0 + 97]
    hr_c, shift_c = img[None, :-1, :-1], img[None, 1:, 1:]
    blur_c = tf.image.resize(bicubic_downscale(hr_c, 4), (96, 96), "bicubic", antialias=True).numpy()
    hr_s, shift_s, blur_s = (np.clip(v, 0, 255) / 127.5 - 1.0 for v in (hr_c, shift_c, blur_c))
    row = {"crop": label, "mse": float(losses.ContentLoss("mse")(hr_s, blur_s))
           / float(losses.ContentLoss("mse")(hr_s, shift_s))}
    for seed in (0, 1, 2):
        for kind in ("vgg22", "vgg54"):
            loss = losses.ContentLoss(kind, f"random:{seed}")
            row[f"{kind} s{seed}"] = float(loss(hr_s, blur_s)) / float(loss(hr_s, shift_s))
    rows.append(row)
cols = [k for k in rows[0] if k != "crop"]
print("loss(blur) / loss(shifted texture): above 1 = the loss prefers the texture")
print(f"{'crop':<12}" + "".join(f"{c:>10}" for c in cols))
for r in rows:
    print(f"{r['crop']:<12}" + "".join(f"{r[c]:>10.2f}" for c in cols))
v54 = [r[f"vgg54 s{s}"] for r in rows for s in (0, 1, 2)]
v22 = [r[f"vgg22 s{s}"] for r in rows for s in (0, 1, 2)]
m = [r["mse"] for r in rows]
say(f"Pixel MSE prefers the blur on {sum(x < 1 for x in m)} of {len(m)} crops (ratio {min(m):.2f}–{max(m):.2f}). "
    f"The random φ5,4 prefers the misaligned texture in {sum(x > 1 for x in v54)} of {len(v54)} crop–seed pairs, "
    f"by a factor {min(v54):.1f}–{max(v54):.1f}: the paper's argument holds on random features. φ2,2, two "
    f"convolutions deep, is closer to the pixels: its ratio is {min(v22):.2f}–{max(v22):.2f}"
    + (", so it barely prefers the texture." if max(v22) < 2 else "."))

# %% [markdown]
# **When random features fail.** They measure local statistics, not meaning: a random network has never seen
# a face or a letter, so it cannot tell a plausible eye from an implausible one with the same frequencies,
# and nothing in it is invariant to what ImageNet taught VGG to ignore (small colour shifts, lighting). Its
# deepest features are coarse (1/16 resolution at φ5,4) and, unlike trained ones, not sparse. So it pushes a
# generator towards *texture of the right kind*, while the adversarial term has to judge whether the texture
# is *right*; on faces and text expect less than ImageNet VGG gives. The seed is part of the loss: another seed
# is another (equally good) loss, which is why a run records it. In this library `--vgg-weights random` is
# **our departure** from the paper, named in the model card of every model trained with it; with a network,
# `--vgg-weights imagenet` (the default) is the paper's loss.
#
# The coarseness showed in this library's own GAN runs. With φ5,4 alone on random weights (the paper's VGG54),
# a few hundred GAN steps painted fur as coarse strokes with dark outlines, and the no-reference NIQE of the
# results was no better than SRResNet's. The bundled SRGAN therefore uses Real-ESRGAN's weighted multi-layer
# loss (`--content-loss multi_preact`: φ1,2, φ2,2, φ3,4, φ4,4 and φ5,4 before activation, weights 0.1, 0.1,
# 1, 1, 1), on the same random VGG19: the shallow layers see the fine scale that φ5,4 has pooled away
# (`saved_models/MODEL_CARD.md` has the runs' numbers and the crops).

# %% [markdown]
# ### The adversarial term and its 1e-3 weight
#
# **Eq. 2**, the min-max game of Goodfellow et al. (2014) with SR images as the fakes:
#
# $$ \min_{\theta_G} \max_{\theta_D}\; \mathbb{E}_{I^{HR} \sim p_{train}}[\log D(I^{HR})]
#    + \mathbb{E}_{I^{LR} \sim p_G}[\log(1 - D(G(I^{LR})))] $$
#
# **The optimal discriminator.** For a fixed G write $p$ for the density of HR images and $q$ for that of
# SR images. The value is $\int p(x) \log D(x) + q(x) \log(1 - D(x))\,dx$; at each $x$ maximise
# $a \log D + b \log(1 - D)$: the derivative $a/D - b/(1 - D)$ vanishes at
#
# $$ D^\star(x) = \frac{p(x)}{p(x) + q(x)} , $$
#
# and the value becomes $2\,\mathrm{JSD}(p \,\|\, q) - \log 4$: with an optimal D, G minimises the
# Jensen–Shannon divergence between real and generated images, which is zero only when SR images are
# distributed like real ones. That is the whole argument for why a GAN fights the conditional-mean blur.
# A 1-D check, with "real" and "fake" two Gaussians:

# %%
x = np.linspace(-4, 6, 2001)
p_real = np.exp(-0.5 * (x - 1.5) ** 2) / np.sqrt(2 * np.pi)
q_fake = np.exp(-0.5 * ((x + 0.5) / 1.3) ** 2) / (1.3 * np.sqrt(2 * np.pi))
d_star = p_real / (p_real + q_fake)
dx = x[1] - x[0]


def value(d):  # the Eq. 2 value for a fixed G, as an integral over x
    return float(np.sum(p_real * np.log(d) + q_fake * np.log(1 - d)) * dx)


others = {f"D* {s:+.1f} logit": 1 / (1 + np.exp(-(np.log(d_star / (1 - d_star)) + s))) for s in (-1, -0.3, 0.3, 1)}
m = 0.5 * (p_real + q_fake)
jsd = 0.5 * np.sum(p_real * np.log(p_real / m) + q_fake * np.log(q_fake / m)) * dx
print(f"V(D*) = {value(d_star):.4f}   2 JSD - log 4 = {2 * jsd - np.log(4):.4f}")
for name, d in others.items():
    print(f"V({name}) = {value(d):.4f}  (lower: D* is the maximum)")
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.plot(x, p_real, label="p: real"), ax.plot(x, q_fake, label="q: fake")
ax.plot(x, d_star, "k--", label="D*(x) = p / (p + q)")
ax.set_xlabel("x"), ax.legend(fontsize=8), ax.set_title("The optimal discriminator of Eq. 2", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# In practice D is a network trained by binary cross-entropy (1 on HR, 0 on SR), and G minimises
# $-\log D(G(I^{LR}))$ (Eq. 6) instead of $\log(1 - D(G(I^{LR})))$: the *non-saturating* form of
# Goodfellow et al. When D confidently rejects an SR image (D → 0), $\log(1 - D)$ is flat and gives no
# gradient, while $-\log D$ is steep.

# %%
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

# %% [markdown]
# How big is 1e-3 x l_Gen? Compare it with the MSE of a bicubic-quality SR (images in [-1, 1]) while the
# discriminator's verdict on SR goes from undecided (D = 0.5, $-\log 0.5 \approx 0.69$) to confident.

# %%
vanilla = losses.VanillaGAN()
sr_bic = degrade("bicubic x4")
content = float(losses.ContentLoss("mse")(hr, sr_bic))
for d_fake in (0.5, 0.1, 0.01):
    logit = np.log(d_fake / (1 - d_fake)) * np.ones((16, 1), np.float32)
    adv = float(vanilla.generator_loss(None, logit))
    total = content + losses.ADV_WEIGHT * adv
    print(f"D(SR)={d_fake:<5} content {content:.4f}  adv {adv:.3f}  1e-3*adv {losses.ADV_WEIGHT * adv:.5f}"
          f"  -> adversarial share of l_SR {losses.ADV_WEIGHT * adv / total:.1%}")
adv_half = float(vanilla.generator_loss(None, np.zeros((16, 1), np.float32)))
say(f"The bicubic butterfly's MSE is {content:.4f}; an undecided D gives $l_{{Gen}}$ = {adv_half:.3f}, so "
    f"$10^{{-3}} l_{{Gen}}$ = {losses.ADV_WEIGHT * adv_half:.5f}, "
    f"{losses.ADV_WEIGHT * adv_half / (content + losses.ADV_WEIGHT * adv_half):.1%} of the total. The weight "
    f"keeps the content loss in charge; the adversarial share grows as D gets confident.")

# %% [markdown]
# ### The paper's argument, live: MSE averages the modes, an adversarial loss picks one
#
# The derivations above say it; now train it (the idea of the paper's Fig. 3). Two small networks with the
# same architecture and the same initial weights learn the same bimodal problem side by side: for each input
# $y$ (the "LR image") the target $x$ (the "HR image") is $y + 1$ or $y - 1$ with equal chances, plus a
# little noise, like a pixel near an edge whose side the LR image does not give away.
#
# * **MSE** (Eq. 4): `G_mse.compile(loss=PixelLoss("mse"))` and `fit`, as SRResNet is pre-trained.
# * **MSE + adversarial** (Eq. 3): the library's `SRGAN` model, whose `train_step` is the `gan_update` that
#   trains the real SRGAN (notebook 05), around two tiny MLPs instead of SRResNet and the VGG-style D.
#
# Three choices of the toy are ours, not the paper's:
#
# 1. **D judges the pair** $(y, \hat x)$: the generator writes its input beside its answer, as an SR image
#    holds its LR image (downscale it and you get the LR back). A D that saw $\hat x$ alone could hardly
#    object to the mean: each of its answers is a correct answer for some other $y$, so only their overall
#    distribution could give them away. SRGAN's D judges whole patches, where a blurred texture gives
#    itself away without the LR beside it; the second toy below shows that case.
# 2. **The generator also gets a noise input** $z$, so that one network can answer with either mode.
#    SRGAN's generator has none: it picks one plausible answer per LR image. The MSE network gets the same
#    $z$ and learns to ignore it: nothing in its loss rewards using it.
# 3. **The adversarial weight is 1, not $10^{-3}$**: here the content loss is the pixel MSE of a single value
#    whose two modes are 2 apart, so picking a mode costs a lot of MSE; SRGAN's VGG loss barely punishes a
#    plausible texture (the random-features table above), so a small weight is enough there. Exercise 6
#    tries $10^{-3}$ here. Both networks use Adam with $\beta_1 = 0.5$ (DCGAN's choice, Radford et al. 2015).
#
# ⏱ *Without `SRGAN_FAST`: 10–20 seconds for each of the two toys on a busy 2-core CPU; with it, fewer steps.*

# %%
import time

import keras

from srgan_keras.training.losses import PixelLoss
from srgan_keras.training.srgan import SRGAN

TOY_STEPS = 600 if FAST else 1500  # Adam steps for each network, batches of 128
TOY_ADV_WEIGHT = 1.0  # our choice for the toys (see above); the paper's Eq. 3 weight is losses.ADV_WEIGHT


def bimodal_pairs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """LR y ~ U(-2, 2); HR = the pair (y, x), x = y - 1 or y + 1 (equal chances) + N(0, 0.05^2)."""
    y = rng.uniform(-2, 2, (n, 1))
    x = y + rng.choice([-1.0, 1.0], (n, 1)) + rng.normal(0, 0.05, (n, 1))
    return y.astype(np.float32), np.concatenate([y, x], axis=1).astype(np.float32)


def toy_generator(lr_dim: int, out_dim: int, z_dim: int, copy_input: bool = False) -> keras.Model:
    """(LR, z) -> SR: an MLP; with copy_input, SR = (LR, MLP output), an answer that holds its input."""
    lr_in, z_in = keras.Input((lr_dim,), name="lr"), keras.Input((z_dim,), name="z")
    h = keras.layers.Concatenate()([lr_in, z_in])
    for _ in range(2):
        h = keras.layers.Dense(64, activation="relu")(h)
    sr = keras.layers.Dense(out_dim)(h)
    return keras.Model([lr_in, z_in], keras.layers.Concatenate()([lr_in, sr]) if copy_input else sr)


def toy_discriminator(sr_dim: int) -> keras.Model:
    """SR (or HR) -> one logit: an MLP."""
    x_in = keras.Input((sr_dim,))
    h = keras.layers.Dense(64, activation="relu")(x_in)
    h = keras.layers.Dense(64, activation="relu")(h)
    return keras.Model(x_in, keras.layers.Dense(1)(h))


def train_side_by_side(lr: np.ndarray, hr: np.ndarray, make_generator) -> tuple[keras.Model, keras.Model, dict]:
    """The same generator trained twice from the same weights: MSE alone, then MSE + adversarial (SRGAN)."""
    keras.utils.set_random_seed(0)  # Python, NumPy and TensorFlow: the weights, z and the shuffling
    G_mse, G_gan = make_generator(), make_generator()
    G_gan.set_weights(G_mse.get_weights())  # the same start
    z_dim = G_mse.inputs[1].shape[-1]
    ds = (tf.data.Dataset.from_tensor_slices((lr, hr)).shuffle(len(lr), seed=0).repeat().batch(128)
          .map(lambda lr_b, hr_b: ((lr_b, tf.random.normal((tf.shape(lr_b)[0], z_dim), seed=1)), hr_b)))
    G_mse.compile(optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5), loss=PixelLoss("mse"),
                  steps_per_execution=100)  # the MLPs are tiny: run 100 steps per call, not 1
    G_mse.fit(ds, epochs=1, steps_per_epoch=TOY_STEPS, verbose=0, shuffle=False)  # ds is shuffled
    gan = SRGAN(G_gan, toy_discriminator(hr.shape[1]))
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
                d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
                content_loss=losses.ContentLoss("mse"), adversarial=losses.VanillaGAN(), adv_weight=TOY_ADV_WEIGHT,
                steps_per_execution=100)
    history = gan.fit(ds, epochs=1, steps_per_epoch=TOY_STEPS, verbose=0, shuffle=False)
    return G_mse, G_gan, {k: v[-1] for k, v in history.history.items()}


t0 = time.perf_counter()
y_train, pair_train = bimodal_pairs(4096, np.random.default_rng(0))
G_mse, G_gan, log = train_side_by_side(y_train, pair_train, lambda: toy_generator(1, 1, 1, copy_input=True))
undecided = abs(log["d_real"] - 0.5) < 0.1 and abs(log["d_fake"] - 0.5) < 0.1
print(f"trained {TOY_STEPS} steps each in {time.perf_counter() - t0:.0f} s; D at the end: "
      f"d_real {log['d_real']:.2f}, d_fake {log['d_fake']:.2f} "
      + ("(near 0.5 each: D can no longer tell)" if undecided else "(D tells HR from SR)"))

y_test, pair_test = bimodal_pairs(2000, np.random.default_rng(1))
z_test = np.random.default_rng(2).normal(size=(2000, 1)).astype(np.float32)
residual = {"data": pair_test[:, 1] - y_test[:, 0]}  # x - y: the modes are at -1 and +1
for name, G in (("MSE", G_mse), ("GAN", G_gan)):
    residual[name] = G.predict([y_test, z_test], verbose=0)[:, 1] - y_test[:, 0]
to_mode = {k: np.abs(np.abs(r) - 1) for k, r in residual.items()}  # distance to the nearest mode
near = {k: float(np.mean(d < 0.25)) for k, d in to_mode.items()}
print(f"mode check | within 0.25 of a mode: data {near['data']:.3f}, MSE {near['MSE']:.3f}, GAN {near['GAN']:.3f}"
      f" | mean distance to the nearest mode: MSE {to_mode['MSE'].mean():.3f}, GAN {to_mode['GAN'].mean():.3f}")
print(f"answers above y (the upper mode): data {np.mean(residual['data'] > 0):.0%}, "
      f"MSE {np.mean(residual['MSE'] > 0):.0%}, GAN {np.mean(residual['GAN'] > 0):.0%}")
z_other = np.random.default_rng(3).normal(size=(2000, 1)).astype(np.float32)  # the same y, another z
moves = {name: float(np.mean(np.abs(G.predict([y_test, z_other], verbose=0)[:, 1] - y_test[:, 0] - residual[name])))
         for name, G in (("MSE", G_mse), ("GAN", G_gan))}
print(f"mean change of the answer when only z changes: MSE {moves['MSE']:.3f}, GAN {moves['GAN']:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
axes[0].scatter(y_test[:, 0], pair_test[:, 1], s=2, c="lightgrey", label="HR: x = y ± 1")
for name, color in (("MSE", "tab:red"), ("GAN", "tab:blue")):
    axes[0].scatter(y_test[:400, 0], y_test[:400, 0] + residual[name][:400], s=3, c=color,
                    label=f"{name} answers")
    axes[1].hist(residual[name], bins=np.linspace(-1.6, 1.6, 81), color=color, alpha=0.6,
                 label="MSE" if name == "MSE" else "MSE + adversarial")
axes[1].hist(residual["data"], bins=np.linspace(-1.6, 1.6, 81), histtype="step", color="k", label="HR")
axes[0].set_xlabel("input y (LR)"), axes[0].set_ylabel("answer x (SR)"), axes[0].legend(fontsize=7, markerscale=3)
axes[0].set_title("the same inputs, two networks", fontsize=9)
axes[1].set_xlabel("answer - input (x - y): the modes are at ±1"), axes[1].set_ylabel("count")
axes[1].set_title("MSE collapses to the mean of the modes; the GAN picks them", fontsize=9)
axes[1].legend(fontsize=7)
fig.tight_layout()
plt.show()
on_modes = near["GAN"] > 0.8 and near["MSE"] < 0.1
say(f"MSE's answers lie between the modes: {near['MSE']:.0%} of them within 0.25 of a mode, at a mean "
    f"distance of {to_mode['MSE'].mean():.2f} from the nearest one (half the gap, 1, is the middle). The "
    f"adversarial network's answers, from the same start and the same data, "
    + (f"lie on the modes: {near['GAN']:.0%} within 0.25, at a mean distance of {to_mode['GAN'].mean():.2f}, "
       f"{np.mean(residual['GAN'] > 0):.0%} of them on the upper mode. " if on_modes else
       f"stay between the modes too ({near['GAN']:.0%} within 0.25). " if near["GAN"] < 0.1 else
       f"reach the modes less clearly in this run ({near['GAN']:.0%} within 0.25). ")
    + (f"Changing only z moves the GAN's answers by {moves['GAN']:.2f} on average (it uses z to pick the mode) "
       f"and MSE's by {moves['MSE']:.3f} (it ignores z). " if moves["GAN"] > 0.5 > 10 * moves["MSE"] else "")
    + "MSE is the better score by its own measure and the worse answer: no HR value lies where it answers.")

# %% [markdown]
# ### The same contrast on image patches
#
# Now the HR "images" are 1-D patches of 16 pixels and the LR patch is 4 pixels, each the mean of 4 HR
# pixels (a box filter: a simplification of the paper's bicubic downscaling). Each HR patch is its LR patch
# drawn with nearest pixels plus **stripes of period 4 pixels with a random phase**. Stripes of period 4
# average to zero over every LR pixel, so the LR patch holds no trace of their phase: every phase is an
# equally good answer, exactly the situation of the baboon's shifted fur above. This time the
# discriminator sees the SR patch alone, as SRGAN's does: no LR beside it. Drawn as images, each 1-D
# patch is repeated down the rows, so stripes look like stripes.

# %%
def striped_patches(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """LR (n, 4) ~ U(-0.5, 0.5); HR (n, 16) = nearest(LR) + 0.5 cos(pi/2 k + phase), phase ~ U(0, 2 pi)."""
    lr = rng.uniform(-0.5, 0.5, (n, 4))
    stripes = 0.5 * np.cos(np.pi / 2 * np.arange(16) + rng.uniform(0, 2 * np.pi, (n, 1)))  # mean 0 per 4 px
    return lr.astype(np.float32), (np.repeat(lr, 4, axis=1) + stripes).astype(np.float32)


t0 = time.perf_counter()
lr_train, hr_train = striped_patches(8192, np.random.default_rng(0))
P_mse, P_gan, log = train_side_by_side(lr_train, hr_train, lambda: toy_generator(4, 16, 2))
print(f"trained {TOY_STEPS} steps each in {time.perf_counter() - t0:.0f} s; D at the end: "
      f"d_real {log['d_real']:.2f}, d_fake {log['d_fake']:.2f}")

lr_test, hr_test = striped_patches(2000, np.random.default_rng(1))
z_test = np.random.default_rng(2).normal(size=(2000, 2)).astype(np.float32)
sr = {"HR": hr_test, "MSE": P_mse.predict([lr_test, z_test], verbose=0),
      "GAN": P_gan.predict([lr_test, z_test], verbose=0)}
texture = {k: v - np.repeat(lr_test, 4, axis=1) for k, v in sr.items()}  # what the LR does not say
amp = {k: float(t.std(axis=1).mean()) for k, t in texture.items()}
spectrum = {k: np.abs(np.fft.rfft(t, axis=1)) ** 2 for k, t in texture.items()}
period4 = {k: float(s[:, 4].sum() / s.sum()) for k, s in spectrum.items()}  # rfft bin 4 of 16 px
print(f"texture check | texture amplitude (std of SR - nearest LR): HR {amp['HR']:.3f}, MSE {amp['MSE']:.3f}, "
      f"GAN {amp['GAN']:.3f}")
print(f"share of that texture's energy in period-4 stripes: HR {period4['HR']:.2f}, GAN {period4['GAN']:.2f}")
mse_to_hr = {k: float(np.mean((sr[k] - hr_test) ** 2)) for k in ("MSE", "GAN")}
print(f"MSE to the true HR patch: MSE network {mse_to_hr['MSE']:.4f}, GAN {mse_to_hr['GAN']:.4f}")
lr_error = {k: float(np.abs(sr[k].reshape(-1, 4, 4).mean(2) - lr_test).mean()) for k in ("MSE", "GAN")}
print(f"mean |downscaled SR - LR|: MSE network {lr_error['MSE']:.3f}, GAN {lr_error['GAN']:.3f}")
z_four = np.random.default_rng(4).normal(size=(4, 2000, 2)).astype(np.float32)  # four draws of z per LR patch
draws = np.stack([P_gan.predict([lr_test, z], verbose=0) for z in z_four])  # (4, 2000, 16)
phases = np.stack([np.repeat(lr_test, 4, 1) + 0.5 * np.cos(np.pi / 2 * (np.arange(16) + a)) for a in range(4)])  # shifts 0-3 px
z_spread = {"HR": float(phases.std(0).mean()), "GAN": float(draws.std(0).mean())}
print(f"spread over four answers for the same LR patch: HR (stripes shifted 0-3 px) {z_spread['HR']:.3f}, "
      f"GAN (four draws of z) {z_spread['GAN']:.3f}")

i = 0  # one test LR patch and the GAN's four answers to it (the four draws of z above)
gan_draws = draws[:, i]
hr_phases = phases[:, i]
fig, axes = plt.subplot_mosaic([["line"] * 5, ["lr", "hr", "mse", "gan0", "gan1"]], figsize=(11, 5.2),
                               height_ratios=[1.2, 1])
ax = axes["line"]
for k, h in enumerate(hr_phases):
    ax.plot(h, color="lightgrey", lw=3, label="HR, stripes shifted 0-3 px: all fit the LR" if k == 0 else None)
ax.step(np.arange(16), np.repeat(lr_test[i], 4), "k--", where="mid", lw=1, label="LR (nearest)")
ax.plot(sr["MSE"][i], color="tab:red", lw=2, label="MSE: the average of the phases")
for k, g in enumerate(gan_draws):
    ax.plot(g, color="tab:blue", lw=1.5, alpha=1 - 0.2 * k, label=f"GAN, z draw {k}")
ax.set_xlabel("HR pixel"), ax.set_ylabel("value"), ax.legend(fontsize=7, ncol=3)
images = {"lr": ("LR (nearest)", np.repeat(lr_test[i], 4)), "hr": ("HR", hr_test[i]),
          "mse": ("MSE", sr["MSE"][i]), "gan0": ("GAN, z draw 0", gan_draws[0]), "gan1": ("GAN, z draw 1", gan_draws[1])}
for key, (title, row) in images.items():
    axes[key].imshow(np.tile(row, (16, 1)), cmap="gray", vmin=-1.2, vmax=1.2)
    axes[key].set_title(title, fontsize=9), axes[key].set_xticks([]), axes[key].set_yticks([])
fig.tight_layout()
plt.show()
sharp = amp["GAN"] > 0.6 * amp["HR"] and amp["MSE"] < 0.25 * amp["HR"]
say(f"The MSE network's texture amplitude is {amp['MSE']:.3f} against HR's {amp['HR']:.3f}: it answers the "
    f"average of all phases, flat blocks, the blur of the paper's Fig. 3. "
    + (f"The GAN's is {amp['GAN']:.3f}, {period4['GAN']:.0%} of it in period-4 stripes: a sharp sample. "
       + (f"Its draws of z mostly agree on the phase (they spread by {z_spread['GAN']:.3f}, the four shifts "
          f"of HR's stripes by {z_spread['HR']:.3f}): like SRGAN's generator, which has no z at all, it picks one "
          f"answer per LR patch and draws it sharply. " if z_spread["GAN"] < 0.5 * z_spread["HR"] else
          f"Different draws of z give different phases (they spread by {z_spread['GAN']:.3f}, the four "
          f"shifts of HR's stripes by {z_spread['HR']:.3f}). ") if sharp else
       f"The GAN's is {amp['GAN']:.3f}: in this run it did not learn to draw the stripes clearly. ")
    + f"By MSE to the true HR the ranking flips ({mse_to_hr['MSE']:.4f} for the MSE network, "
    f"{mse_to_hr['GAN']:.4f} for the GAN): the flat answer pays for the missing stripes once, a stripe of a "
    f"random phase on average twice, the missing one and the one drawn in its place. The same trade makes "
    f"PSNR prefer SRResNet and the paper's raters prefer SRGAN.")

# %% [markdown]
# ### ESRGAN's relativistic average GAN (ESRGAN Eqs. 1–2)
#
# ESRGAN (Wang et al. 2018, §3.2) asks a relative question: *is this real image more realistic than the
# average fake one?* With $C$ the discriminator's logit,
# $D_{Ra}(x_r, x_f) = \sigma(C(x_r) - \mathbb{E}_{x_f}[C(x_f)])$, and
#
# $$ L_D^{Ra} = -\mathbb{E}_{x_r}[\log D_{Ra}(x_r, x_f)] - \mathbb{E}_{x_f}[\log(1 - D_{Ra}(x_f, x_r))] $$
# $$ L_G^{Ra} = -\mathbb{E}_{x_r}[\log(1 - D_{Ra}(x_r, x_f))] - \mathbb{E}_{x_f}[\log D_{Ra}(x_f, x_r)] $$
#
# The generator's loss now involves the real images too, so it gets gradients from both halves. A numpy
# transcription of the equations next to the library's version:

# %%
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

# %% [markdown]
# In training (`--adv-loss ragan`, the `esrgan` preset) the library's `SRGAN.train_step` passes the real
# logits to the generator loss (`needs_real_for_generator`). ESRGAN also moves the VGG loss **before the
# activation** (`vgg54_preact`, L1) because post-ReLU features of deep layers are sparse; both are in
# [notebook 08](08_esrgan.ipynb).
#
# ### Exercises
#
# 1. *(recall)* Write Eq. 3 and name the two content losses the paper compares. Which layer is φ5,4?
# 2. *(understand)* Derive the optimal discriminator $D^\star = p / (p + q)$ from Eq. 2 for a fixed G, and
#    show that $D^\star = 1/2$ everywhere when the generator is perfect.
# 3. *(understand)* For the MSE on a bimodal target, what does the L1 loss choose instead, and why is it
#    no cure for the blur?
# 4. *(apply)* The features are multiplied by 1/12.75 before the squared difference. By what factor does
#    that change the VGG loss, and what would the same loss be with the features left unscaled?
# 5. *(experiment)* With `SRGAN_VGG_WEIGHTS=imagenet` (needs a network) rerun the random-features table with
#    `losses.ContentLoss(kind, "imagenet")`: does ImageNet's φ5,4 prefer the texture by more or less than the
#    random one, and does φ2,2 change its mind?
# 6. *(experiment)* In the live toy, set `TOY_ADV_WEIGHT = losses.ADV_WEIGHT` (the paper's $10^{-3}$) and
#    rerun its cell. Where do the adversarial network's answers go, what do `d_real` and `d_fake` say, and
#    why can SRGAN train with $10^{-3}$ on images?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. $l^{SR} = l^{SR}_X + 10^{-3} l^{SR}_{Gen}$ with $l^{SR}_X$ the pixel MSE or the VGG loss; φ5,4 is
#    `block5_conv4`, the 4th convolution (after ReLU) before the 5th max-pooling.
# 2. Pointwise, $f(D) = p \log D + q \log(1 - D)$ has $f'(D) = p/D - q/(1 - D) = 0$ at $D = p/(p + q)$,
#    and $f'' < 0$: a maximum. A perfect G makes $q = p$, so $D^\star = 1/2$.
# 3. The median of $p(x \mid y)$: for two equal modes any value between them, in practice again near the
#    middle — still not a sample from either mode. Only a loss that compares distributions (the GAN) does.
# 4. By $1/12.75^2 \approx 1/163$: the loss is quadratic in the features. Unscaled it would be 163 times
#    larger than the printed values.
# 5. Expect both VGG losses to prefer the texture; trained φ2,2 responds to edges far more selectively than
#    random φ2,2, so its ratio should rise most. Check it rather than trust this answer: it was not run here.
# 6. They stay between the modes, like the MSE network's. D wins (`d_real` near 1, `d_fake` near 0) and
#    still G does not move: a thousandth of D's gradient is far smaller than the MSE's pull to the mean, so a
#    winning D is not enough, its verdict must also carry weight. SRGAN gets away with $10^{-3}$ because its
#    content loss is VGG54, which barely punishes a plausible texture (the random-features table): the
#    adversarial term only has to choose among answers the content loss already accepts. With pixel MSE as
#    the content loss (the paper's SRGAN-MSE, notebook 05's demo), it stays close to SRResNet.
#
# </details>
#
# Next: [04 · pre-training SRResNet](04_pretraining_srresnet.ipynb).
