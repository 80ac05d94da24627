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
# # 2 · The networks of Fig. 4: SRResNet and the discriminator
#
# The paper's Figure 4 draws both networks. Notation: `k9n64s1` is a convolution with a 9x9 kernel, 64
# filters, stride 1. This notebook builds them with the library, counts their parameters, measures the
# generator's receptive field, opens the pixel shuffle, and compares three upsamplers for checkerboard
# artefacts.

# %%

import matplotlib.pyplot as plt
import numpy as np

from _course import benchmark, say, setup

setup()

# %% [markdown]
# ### The generator (Fig. 4, top)
#
# `k9n64s1` + PReLU; B = 16 residual blocks `[k3n64s1, BN, PReLU, k3n64s1, BN] + skip`; `k3n64s1` + BN + the
# long skip; two x2 sub-pixel blocks `[k3n256s1, PixelShuffle x2, PReLU]`; `k9n3s1`. The final `tanh` (output
# in [-1, 1]) is **our choice**: the paper does not name the output activation.

# %%
import inspect

from srgan_keras import build_discriminator, build_srresnet
from srgan_keras.nn import srresnet

print(inspect.getsource(srresnet.residual_block))
print(inspect.getsource(srresnet.upsample_block).split('    """')[0] + "    ...")

# %%
G = build_srresnet()  # the paper's defaults: scale 4, B=16, 64 filters, pixel shuffle
print(f"SRResNet parameters: {G.count_params():,} (trainable {sum(int(np.prod(w.shape)) for w in G.trainable_weights):,})")
for layer in G.layers:  # every layer outside blocks 1..15 (they repeat block0)
    if layer.name.startswith("block") and not layer.name.startswith("block0_"):
        continue
    print(f"  {layer.name:<16} {str(layer.output.shape):<22} {layer.count_params():>9,}")

# %% [markdown]
# 1,550,659 trainable parameters: PReLU learns one slope per channel, shared over height and width
# (`shared_axes=[1, 2]`); the 256 batch-norm moving statistics per block are not trainable.
#
# `BatchNormalization` and `PReLU` in the code above come from `srgan_keras.nn.layers`: they *are* Keras' layers
# (same weights, same config, same numbers; a checkpoint of one loads into the other), with a faster training
# step. Keras 3 writes batch norm as `moments` plus a dozen elementwise ops and PReLU as `relu(x) - alpha *
# relu(-x)`; ours call TensorFlow's fused batch-norm kernel and a single `where`. The tests compare values,
# gradients and moving statistics with Keras' own layers; the speed comes from [BENCHMARKS.md](../BENCHMARKS.md)'s
# quiet run:

# %%
import keras
import tensorflow as tf

from srgan_keras.nn.layers import BatchNormalization, PReLU

x = tf.random.normal((4, 12, 12, 8), seed=1)
for ours, theirs in ((BatchNormalization(), keras.layers.BatchNormalization()),
                     (PReLU(shared_axes=[1, 2]), keras.layers.PReLU(shared_axes=[1, 2]))):
    ours.build(x.shape), theirs.build(x.shape)
    for a, b in zip(ours.weights, theirs.weights):
        a.assign(b)  # same starting weights
    diff = float(tf.reduce_max(tf.abs(ours(x, training=True) - theirs(x, training=True))))
    print(f"{type(ours).__name__:<20} is a keras.layers.{type(theirs).__name__}: "
          f"{isinstance(ours, type(theirs))};  max |difference| in training mode: {diff:.1e}")
say(f"On the paper's step (batch 16, 96 px, 2 CPU cores, no XLA) Keras' own layers took "
    f"{benchmark('stock_srresnet_graph'):.2f} s, the library's {benchmark('srresnet_graph'):.2f} s "
    f"(BENCHMARKS.md, rows `stock_srresnet_graph` and `srresnet_graph`).")

# %% [markdown]
# ### The discriminator (Fig. 4, bottom)
#
# Eight 3x3 convolutions, 64 → 512 filters, in pairs: the first of each pair keeps the resolution (stride 1;
# from the second pair on, it doubles the filter count), the second halves it (stride 2) — `k3n64s1, k3n64s2,
# k3n128s1, k3n128s2, ...` in the paper's notation, as the shapes below show. LeakyReLU(0.2), BN everywhere
# but the first; then Dense(1024), LeakyReLU, Dense(1). It returns **logits**: the sigmoid of Fig. 4 is
# inside the loss (`from_logits`), the same function computed more stably.

# %%
D = build_discriminator(96)
print(f"discriminator parameters at 96x96: {D.count_params():,} (trainable "
      f"{sum(int(np.prod(w.shape)) for w in D.trainable_weights):,})")
for layer in D.layers:
    if layer.name.startswith(("conv", "dense", "logits", "flatten")):
        print(f"  {layer.name:<10} {str(layer.output.shape):<22} {layer.count_params():>11,}")


# %%
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

# %% [markdown]
# Most of the discriminator is its first dense layer: 6x6x512 = 18,432 inputs x 1024 at 96x96. That is
# also why it accepts only the size it was built for; the generator is fully convolutional and takes any size.
#
# ### Receptive field of the generator
#
# How many LR pixels can one output pixel see? Count it: the 9x9 head (radius 4), 33 3x3 convolutions at LR
# resolution (16 blocks x 2 + body: 33), one 3x3 before the first shuffle (1), one at 2x (0.5 LR pixels), the
# 9x9 tail at 4x (1): a radius of about 39.5 LR pixels, an 80x80 window. We measure it: the gradient of one
# output pixel with respect to the input is non-zero exactly where that pixel looks.
# ⏱ *a few seconds.*

# %%
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

# %% [markdown]
# The tiled upscaler and the evaluator use this number: tiles with 40 LR pixels of context
# (`srgan_keras.evaluation.protocol.EVAL_OVERLAP`) give exactly the whole-image result.
#
# ### What pixel shuffle does to a tensor
#
# Sub-pixel convolution (Shi et al. 2016): a convolution makes r² = 4 times the channels at low resolution, and
# `PixelShuffle(2)` rearranges each pixel's 4 channel groups into a 2x2 block. Below, a (1, 2, 2, 4) tensor
# whose values name (channel, pixel) becomes (1, 4, 4, 1); colours mark the channel each output value came from.

# %%
from srgan_keras.nn.layers import PixelShuffle

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

# %% [markdown]
# Each 2x2 output block is one input pixel; within it, position (i, j) is channel i·2 + j. (TensorFlow's
# `depth_to_space` order; PyTorch's `PixelShuffle` orders channels differently, which matters only when
# loading PyTorch weights, see `nn/torch_weights.py`.)
#
# ### Checkerboard artefacts: transposed convolution vs pixel shuffle vs nearest + conv
#
# Odena et al. (2016) traced the checkerboard patterns of many generators to the upsampling layer. Feed a
# **flat grey** image to three untrained generators that differ only in the upsampler (`build_srresnet(upsampler=...)`,
# 2 blocks) and look at the output minus its mean: pixel shuffle and transposed convolution compute each of
# the r x r output phases with *different* weights, so even a flat input comes out with a periodic pattern
# (period 2 per x2 step, 4 after two); nearest + conv computes every phase with the same weights and stays flat.
# Training can learn to hide the pattern, but has to; ICNR initialisation (Aitken et al. 2017) starts pixel
# shuffle without it (not used here: the paper's initialisation is the default).

# %%
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
    ax.set_title(f"{kind}\nperiod-4 pattern amplitude {phase.std():.3f} grey levels", fontsize=8)
    ax.set_xlabel("x (HR pixels)"), ax.set_ylabel("y (HR pixels)")
fig.suptitle("Untrained generators on a flat grey LR image: output minus its mean (32x32 centre)", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Exercises
#
# 1. *(recall)* Write the generator of Fig. 4 in the paper's `kKnNsS` notation, block by block. Where
#    does the resolution change?
# 2. *(understand)* Compute by hand the receptive field of the demo generator (B = 8 residual blocks),
#    in LR pixels, then check it with the gradient cell above (`build_srresnet(num_blocks=8)`).
# 3. *(understand)* Why does the discriminator have 23.6 M parameters at 96x96 but would have about
#    4 times as many dense weights at 192x192? Compute its parameter count at 128x128.
# 4. *(experiment)* Train the `tiny` preset for 200 steps with `--upsampler transpose` and with the default
#    pixel shuffle; look at `samples.png` of each at 4x zoom. Which shows a checkerboard?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. k9n64s1 + PReLU; 16 x [k3n64s1, BN, PReLU, k3n64s1, BN, +]; k3n64s1, BN, + (long skip); 2 x
#    [k3n256s1, pixel shuffle x2, PReLU]; k9n3s1. The resolution doubles at each pixel shuffle.
# 2. Radius 4 (head) + 2·8 + 1 = 17 (3x3 convs at LR) + 1 (the conv before the first shuffle) + 0.5 (the
#    one at 2x) + 1 (the 9x9 tail at 4x) = 23.5 LR pixels: a window about 48 LR pixels wide.
# 3. The first dense layer sees (H/16)·(W/16)·512 inputs: 6·6·512 = 18,432 at 96 px, 12·12·512 =
#    73,728 at 192 px, 4 times as many. At 128 px: 8·8·512·1024 + 1024 = 33,555,456 dense weights plus
#    the unchanged 4,689,088 trainable weights of the convolutions and BN and the 1,025 of the last layer:
#    38,245,569 trainable parameters (`build_discriminator(128)` and the counting line above check it).
# 4. Transposed convolution shows a period-2 pattern early in training (the amplitude measured above);
#    pixel shuffle shows less and loses it as it trains; nearest + conv has none by construction.
#
# </details>
#
# Next: [03 · the losses](03_losses.ipynb).
