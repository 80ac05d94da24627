"""Seconds per training step of the paper-size networks, with and without XLA.

    python -m benchmarks.train_step                  # SRResNet MSE step and SRGAN D+G step, batch 16, HR 96
    python -m benchmarks.train_step --steps 10 --which srresnet --batch 16 --hr 96
    python -m benchmarks.train_step --batch 8 --hr 64 --blocks 8 --global-residual   # the demo

The steps are the trainer's own (``G.train_step`` and :class:`srgan_keras.training.srgan.SRGAN`'s), on random
data already in memory, so the input pipeline is not measured here. The full SRGAN step uses the
MSE content loss, as ``../shared/tools/torch_ref.py gan`` does, so the two compare like for like;
``--content vgg54`` adds VGG19 (``weights=None``: the timing is the same as with ImageNet weights).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from srgan_keras.nn.srgan_discriminator import build_discriminator
from srgan_keras.nn.srresnet import build_srresnet
from srgan_keras.training.losses import ContentLoss, PixelLoss
from srgan_keras.training.optimizers import FusedAdam
from srgan_keras.training.srgan import SRGAN


@contextlib.contextmanager
def stock_keras():
    """Networks built with Keras' own BatchNormalization and PReLU: the ablation of
    :mod:`srgan_keras.nn.layers`' fused versions (with ``keras.optimizers.Adam``, see below)."""
    import srgan_keras.nn.srgan_discriminator as dis
    import srgan_keras.nn.srresnet as gen

    saved = gen.BatchNormalization, gen.PReLU, dis.BatchNormalization
    gen.BatchNormalization, gen.PReLU = keras.layers.BatchNormalization, keras.layers.PReLU
    dis.BatchNormalization = keras.layers.BatchNormalization
    try:
        yield
    finally:
        gen.BatchNormalization, gen.PReLU, dis.BatchNormalization = saved


@contextlib.contextmanager
def policy(name: str):
    """Build under the Keras dtype policy ``name`` (``float32``, ``mixed_bfloat16``), then restore."""
    saved = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(saved)


def median_step_seconds(which: str, batch: int, hr: int, steps: int, jit: bool,
                        content: str = "mse", blocks: int = 16,
                        global_residual: bool = False, stock: bool = False,
                        precision: str = "float32") -> float:
    """Median wall time of ``steps`` steps after two warm-up steps (the first one compiles).

    ``stock=True`` times the same step with Keras' BatchNormalization, PReLU and Adam instead
    of the library's fused ones (what the fusions buy). ``precision="mixed_bfloat16"`` builds
    the networks as ``--mixed-precision bfloat16`` training does (float32 weights, bfloat16
    compute; AMX on CPUs that have it).
    """
    keras.utils.set_random_seed(0)
    with stock_keras() if stock else contextlib.nullcontext(), policy(precision):
        g = build_srresnet(num_blocks=blocks, global_residual=global_residual)
        d = build_discriminator(hr)
    adam = keras.optimizers.Adam if stock else FusedAdam  # FusedAdam: the trainer's optimizer
    opts = [adam(1e-4, beta_1=0.9) for _ in range(3)]
    opts[0].build(g.trainable_variables)
    opts[1].build(g.trainable_variables)
    opts[2].build(d.trainable_variables)
    loss = ContentLoss(content, vgg_weights=None) if content != "mse" else ContentLoss("mse")
    # The trainer's two steps: Keras' own G.train_step for the pixel-loss pre-training, and
    # SRGAN.train_step (its gan_update) for the GAN.
    g.compile(optimizer=opts[0], loss=PixelLoss("mse"))
    model = SRGAN(g, d)
    model.compile(g_optimizer=opts[1], d_optimizer=opts[2], content_loss=loss)
    fn = g.train_step if which == "srresnet" else model.train_step

    def step(lr_, hr_):
        logs = fn((lr_, hr_))
        return {"g_loss": logs.get("loss", logs.get("g_loss"))}

    step = tf.function(step, jit_compile=jit)
    rng = np.random.default_rng(0)
    lr = tf.constant(rng.uniform(0, 1, (batch, hr // 4, hr // 4, 3)).astype("float32"))
    hr_img = tf.constant(rng.uniform(-1, 1, (batch, hr, hr, 3)).astype("float32"))
    for _ in range(2):
        float(step(lr, hr_img)["g_loss"])
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        float(step(lr, hr_img)["g_loss"])  # float() waits for the step to finish
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--which", default="srresnet,srgan", help="srresnet, srgan or both")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--hr", type=int, default=96)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--content", default="mse", help="content loss of the SRGAN step")
    p.add_argument("--blocks", type=int, default=16, help="residual blocks (demo: 8)")
    p.add_argument("--global-residual", action="store_true", help="the demo's bicubic residual")
    p.add_argument("--jit-only", action="store_true", help="time only the XLA steps")
    p.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16"),
                   help="Keras dtype policy of the networks")
    p.add_argument("--stock", action="store_true",
                   help="Keras' own BatchNormalization, PReLU and Adam (the fusions' ablation)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    rows = {}
    print(f"{'step':<10} {'XLA':<5} {'s/step':>8}  (batch {args.batch}, HR {args.hr})")
    for which in args.which.split(","):
        for jit in (True,) if args.jit_only else (False, True):
            s = median_step_seconds(which, args.batch, args.hr, args.steps, jit, args.content,
                                    args.blocks, args.global_residual, args.stock,
                                    args.precision)
            rows[f"{which}_{'xla' if jit else 'graph'}"] = s
            print(f"{which:<10} {'on' if jit else 'off':<5} {s:8.3f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
