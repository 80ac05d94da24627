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
# # 8 · ESRGAN: the parts that change
#
# ESRGAN (Wang et al., ECCV Workshops 2018) and Real-ESRGAN (Wang et al., ICCV Workshops 2021) keep SRGAN's
# recipe — pre-train a generator for PSNR, then fine-tune it as a GAN — and replace its parts. The library
# adds them as *parts* of the same machinery (data, training loop, checkpoints, evaluation, upscaling,
# export), not as a second library:
#
# | part | SRGAN (notebooks 02–05) | ESRGAN | Real-ESRGAN | module |
# | --- | --- | --- | --- | --- |
# | generator | SRResNet: 16 residual blocks with BN | RRDBNet: 23 RRDBs, no BN, residual scaling 0.2 (§3.1) | RRDBNet; x2 and x1 by pixel-unshuffle | `nn/rrdbnet.py` |
# | adversarial loss | vanilla (Eqs. 2, 6) | relativistic average, Eqs. 1–2 (§3.2) | vanilla, weight 0.1 | `training/losses.py` |
# | perceptual loss | VGG φ5,4 after ReLU, MSE, ×1/12.75 | VGG conv5_4 *before* activation, L1 (§3.3) | five layers before activation, L1 | `training/losses.py` |
# | discriminator | VGG-style, one logit per image | the same | U-Net with spectral normalization, one logit per pixel | `nn/unet_discriminator.py` |
# | LR images | bicubic ×1/4 | bicubic ×1/4 | second-order blur, resize, noise, JPEG, sinc (§3) | `data/realesrgan_degradation.py` |
# | after training | — | network interpolation (§3.4, Eq. 4) | — | `evaluation/interpolate.py` |
# | published weights | — | converted from PyTorch | converted from PyTorch | `nn/torch_weights.py`, `data/torch_pickle.py` |
#
# This notebook covers ESRGAN's network and losses (sections 1–3);
# [09](09_realesrgan.ipynb) Real-ESRGAN's discriminator, degradations, a training run and network
# interpolation; the [appendix](10_appendix_converting_weights.ipynb) converting the published PyTorch weights.
#
# **Offline here:** VGG19's ImageNet weights cannot be downloaded on this machine, so the VGG cells use
# random weights (`weights=None`). This notebook trains nothing; the Real-ESRGAN training run is
# notebook 09's, and it uses an L1 content loss instead of the perceptual one for the same reason. With
# a network, set `SRGAN_VGG_WEIGHTS=imagenet` (or a path to the `.h5`) before starting Jupyter.
# The published `.pth` files cannot be downloaded either: the converter, in the
# [appendix](10_appendix_converting_weights.ipynb), makes its own.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from _course import DATA, VGG_WEIGHTS, say, setup, vgg_note

setup()

# %%
import inspect

import keras
import tensorflow as tf

from srgan_keras.nn import rrdbnet, vgg
from srgan_keras.training import losses

print("VGG weights:", VGG_WEIGHTS or "none (random; offline)")

# %% [markdown]
# ## 1 · RRDBNet: residual-in-residual dense blocks (ESRGAN §3.1, Fig. 4)
#
# ESRGAN keeps SRResNet's high-level layout — a first convolution, a deep body at LR resolution with a long
# skip, upsampling, two last convolutions — and changes the block. A **residual dense block** (RDB) stacks
# five 3x3 convolutions; each sees the concatenation of the block input and every earlier output (64
# features, growth 32: 64, 96, 128, 160, 192 input channels), LeakyReLU(0.2) after the first four:
#
# $$ \mathrm{RDB}(x) = x + 0.2\cdot \mathrm{conv}_5([x, x_1, x_2, x_3, x_4]), \qquad
#    \mathrm{RRDB}(x) = x + 0.2\cdot \mathrm{RDB}_3(\mathrm{RDB}_2(\mathrm{RDB}_1(x))) $$
#
# The upsampler is nearest-neighbour x2 + conv, twice (not SRGAN's pixel shuffle). The layer names are
# BasicSR's (`body.3.rdb2.conv5` → `body_3_rdb2_conv5`), so the published weights load by name.

# %%
print(inspect.getsource(rrdbnet.residual_dense_block))
print(inspect.getsource(rrdbnet.rrdb))

# %% [markdown]
# ### Parameter counts at x4, x2 and x1
#
# Real-ESRGAN's x2 and x1 models reuse the x4 body: they **pixel-unshuffle** the input by 2 or 4 (a space-to-depth
# that turns (H, W, 3) into (H/2, W/2, 12) or (H/4, W/4, 48)), so only `conv_first` grows. The counts must
# equal PyTorch's for the published weights to fit. ⏱ *about half a minute: three networks of ~1,000 layers.*

# %%
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

# %%
x = np.zeros((1, 32, 32, 3), np.float32)  # LR in [0, 1]
for s in (2, 1):
    net = nets[s]
    probe = keras.Model(net.input, [net.get_layer("pixel_unshuffle").output, net.get_layer("conv_first").output,
                                    net.output])
    u, f, y = probe(x)
    print(f"x{s}: LR {x.shape} -> pixel-unshuffle {tuple(u.shape)} -> conv_first {tuple(f.shape)} "
          f"-> 23 RRDBs at that size -> x4 upsampling -> SR {tuple(y.shape)}")

# %% [markdown]
# ### Why no batch norm, and why the 0.2
#
# ESRGAN removes batch normalization: BN normalises with batch statistics in training and with running
# averages at test time, and when the two differ (other images, other sizes) it produces artefacts; without
# it the network also generalises more evenly (§3.1). A 69-RDB network without BN has to be kept stable
# another way: each residual branch is **scaled by 0.2** before it is added, and the dense convolutions start
# from He-normal weights **scaled by 0.1** (§3.1, "residual scaling" and "smaller initialization"). We
# measure what that does at initialisation, on a real LR crop: how much each RDB changes its input, and how
# the trunk's features grow from block to block.

# %%
from srgan_keras.data.degradation import bicubic_downscale
from srgan_keras.data.imaging import load_rgb_uint8

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

# %% [markdown]
# Each RDB changes its input by under 2 % (0.1-scaled weights, then × 0.2), so the three RDBs of an
# RRDB pass their input on almost unchanged — and the RRDB's own skip adds 0.2 of *that* back:
# $\mathrm{RRDB}(x) \approx x + 0.2x$. The trunk therefore grows by about 1.2 per RRDB, $1.2^{23} \approx 66$
# in all, exactly as in BasicSR's PyTorch model; `conv_body` and the long skip follow. Without the residual
# scaling each RRDB would double its input. Training then shapes the residuals; nothing renormalises the
# features in between, which is what BN used to do.

# %% [markdown]
# ## 2 · The relativistic average discriminator (ESRGAN §3.2, Eqs. 1–2)
#
# SRGAN's discriminator answers "is this image real?": $D(x) = \sigma(C(x))$ with $C$ the logit. ESRGAN's
# answers "is this real image more realistic than the *average* fake one?":
# $D_{Ra}(x_r, x_f) = \sigma(C(x_r) - \mathbb{E}_{x_f}[C(x_f)])$, with
#
# $$ L_D^{Ra} = -\mathbb{E}_{x_r}[\log D_{Ra}(x_r, x_f)] - \mathbb{E}_{x_f}[\log(1 - D_{Ra}(x_f, x_r))] \quad (1) $$
# $$ L_G^{Ra} = -\mathbb{E}_{x_r}[\log(1 - D_{Ra}(x_r, x_f))] - \mathbb{E}_{x_f}[\log D_{Ra}(x_f, x_r)] \quad (2) $$
#
# The library writes both with logits (`sigmoid_cross_entropy_with_logits`, stable for large logits);
# notebook 03 checks them against a numpy transcription. Here: the two losses on example logits.

# %%
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

# %% [markdown]
# Two things to read in the table:
#
# * **Only differences matter to RaGAN.** Adding 5 to every logit (D now calls everything "real") leaves
#   both RaGAN losses unchanged, while the vanilla generator loss collapses: a vanilla G is satisfied as
#   soon as D calls its images real, whatever D thinks of the real ones.
# * **Mirror images.** Swap the reals' and the fakes' logits (last row) and RaGAN's $L_G$ and $L_D$ swap
#   values: Eq. 2 is Eq. 1 with the roles of real and fake exchanged.
#
# The generator's gradient shows the second argument of §3.2: in Eq. 2, G also pushes the *real* logits
# down, so it "benefits from the gradients from both generated data and real data"; the vanilla G loss does
# not depend on the real images at all.

# %%
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

# %% [markdown]
# In the loop, `SRGAN.train_step` passes D's logits on the real batch to the generator loss when the loss
# says `needs_real_for_generator` (RaGAN does; `--adv-loss ragan`, the `esrgan` preset, weight 5e-3).

# %% [markdown]
# ## 3 · VGG features before the activation (ESRGAN §3.3), and ESRGAN's total loss
#
# ESRGAN's generator minimises (§3.3)
#
# $$ L_G = L_{percep} + \lambda\, L_G^{Ra} + \eta\, L_1, \qquad \lambda = 5\cdot 10^{-3},\; \eta = 10^{-2}, $$
#
# with $L_1 = \mathbb{E}\,\lVert G(x_i) - y \rVert_1$ the pixel term and $L_{percep}$ the VGG distance below.
# Against SRGAN's $l_X + 10^{-3} l_{Gen}$: the adversarial weight is five times larger (the relativistic
# loss gives gentler gradients), and a small pixel term keeps colours and low frequencies anchored.
#
# SRGAN compares VGG19 features *after* the ReLU of `block5_conv4` (φ5,4). ESRGAN takes them *before* it,
# with an L1 criterion, for two reasons: the activated features of such a deep layer are very sparse —
# few neurons are non-zero after the ReLU, so most of the image gives no supervision — and features after
# the activation lead to inconsistent reconstructed brightness. Real-ESRGAN sums five layers before their
# activation (conv1_2, conv2_2, conv3_4, conv4_4, conv5_4 weighted 0.1, 0.1, 1, 1, 1).
#
# The library rebuilds each named convolution as a *new* layer with a linear activation and the same weights,
# so the shared VGG layers are never modified:

# %%
print(inspect.getsource(vgg.vgg_feature_extractor))
print("multi_preact:", losses.VGG_LOSSES["multi_preact"])

# %% [markdown]
# ⏱ *about 20 s (two VGG19 builds). With random weights (offline) the numbers show the mechanism, not the
# trained network: a trained VGG19's deep layers are far sparser after the ReLU than a random one's.*

# %%
layer_names = [n for n, _ in losses.VGG_LOSSES["multi_preact"][0]]
keras.utils.set_random_seed(0)  # the same random weights for both extractors (irrelevant with imagenet)
before = vgg.vgg_feature_extractor(layer_names, VGG_WEIGHTS, before_activation=True)
keras.utils.set_random_seed(0)
after = vgg.vgg_feature_extractor(layer_names, VGG_WEIGHTS, before_activation=False)
butterfly = load_rgb_uint8(DATA / "Set5" / "butterfly.png")[None].astype(np.float32) / 127.5 - 1.0  # [-1, 1]
x_vgg = vgg.vgg_preprocess(butterfly)
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
say(f"After the ReLU, {np.mean(fa[-1] == 0):.1%} of `block5_conv4`'s values are exactly zero on the butterfly. "
    + vgg_note("ESRGAN reports that a trained VGG19's `conv5_4` is far sparser after its ReLU than this (for "
               "a baboon image, most of the activated features are zero), which is why it takes the features "
               "before the activation."))

# %% [markdown]
# After the ReLU every negative response is exactly 0: wherever the SR and HR images both give a negative
# response, the loss sees no difference at all, however different the responses are. Before the activation
# the loss sees all of them. `ContentLoss("vgg54_preact")` (ESRGAN) and `ContentLoss("multi_preact")`
# (Real-ESRGAN) use these features with L1 and without SRGAN's 1/12.75 rescaling.

# %% [markdown]
# ### Exercises
#
# 1. *(recall)* Name ESRGAN's three changes to SRGAN's generator and losses, and Real-ESRGAN's two changes
#    to the data and the discriminator.
# 2. *(understand)* At initialisation each RRDB multiplies the trunk by about 1.2. Without the 0.2 residual
#    scaling, what would one RRDB do, and by how much would 23 of them grow the trunk?
# 3. *(apply)* Write ESRGAN's generator loss with the library's pieces: which `--content-loss`,
#    `--adv-loss`, `--adv-weight` and `--pixel-weight` give λ = 5e-3 and η = 1e-2?
# 4. *(experiment)* Remove the residual scaling: build `rrdbnet.build_rrdbnet(num_block=4)` after
#    changing the 0.2 to 1.0 in a copy of `rrdb`/`residual_dense_block`, and measure the trunk's growth
#    with the probe of section 1.
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. ESRGAN: RRDB blocks without BN, the relativistic average discriminator, VGG features before the
#    activation (with L1). Real-ESRGAN: second-order synthetic degradations, and a U-Net discriminator with
#    spectral normalisation giving per-pixel logits.
# 2. With the RDBs still near identity, RRDB(x) ≈ x + x = 2x: 2^23 ≈ 8.4 million over 23 blocks; the
#    features overflow the useful range of float32 activations long before training can shape them.
# 3. The `esrgan` preset: `--content-loss vgg54_preact`, `--adv-loss ragan`, `--adv-weight 5e-3`,
#    `--pixel-weight 1e-2` (print `get_config("esrgan")` to check).
# 4. The growth goes from about 1.2 to about 2 per RRDB, 2^4 = 16 over four blocks instead of 1.2^4 ≈ 2.1.
#
# </details>
#
# Next: [09 · Real-ESRGAN](09_realesrgan.ipynb).
