"""Issue 6's two numbers on this machine: Real-ESRGAN degradation throughput, RRDBNet step time.

    python benchmarks/bench_esrgan.py degradation [--images 64] [--hr 256]
    python benchmarks/bench_esrgan.py step [--batch 4] [--hr 128] [--steps 5]

``degradation``: images/s of the second-order pipeline (USM + degradations) on 256x256 HR crops
of Urban100 in a tf.data pipeline, two ways: ``realesrgan_triplet`` mapped per image before
batching (parallel calls), and mapped on batches of 16 (``degrade_batch``).
``step``: median seconds of one RRDBNet x4 (paper size: 23 blocks, 64 features) training step,
L1 loss + Adam, in a ``tf.function``, with and without ``jit_compile``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from srgan_keras.data import realesrgan_degradation as rd
from srgan_keras.data.imaging import list_images, load_rgb_uint8
from srgan_keras.training.optimizers import FusedAdam

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "Urban100"


def hr_crops(hr: int, count: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    crops = []
    for path in list_images(DATA)[:count]:
        img = load_rgb_uint8(path)
        y, x = rng.integers(0, img.shape[0] - hr), rng.integers(0, img.shape[1] - hr)
        crops.append(img[y:y + hr, x:x + hr])
    while len(crops) < count:
        crops += crops[: count - len(crops)]
    return np.stack(crops).astype(np.float32) / 255.0


def bench_degradation(images: int, hr: int, batch: int = 16) -> None:
    crops = hr_crops(hr, images)
    base = tf.data.Dataset.from_tensor_slices(crops)

    def triplet(i, x):  # (lr, hr, hr_usm) of one image or of one batch
        return rd.realesrgan_triplet(x, 4, rd.DEFAULT, rd.seed_for(0, i))

    pipelines = {
        "per image, then batch": base.enumerate().map(
            triplet, num_parallel_calls=tf.data.AUTOTUNE).batch(batch),
        "batch, then per batch": base.batch(batch).enumerate().map(
            triplet, num_parallel_calls=tf.data.AUTOTUNE),
    }
    for name, ds in pipelines.items():
        ds = ds.prefetch(2)
        for _ in ds.take(1):  # trace
            pass
        t = time.perf_counter()
        n = sum(int(lr.shape[0]) for lr, _, _ in ds)
        dt = time.perf_counter() - t
        print(f"{name}: {n / dt:.1f} images/s ({n} HR {hr}x{hr} -> LR {hr // 4}, {dt:.1f} s)")


def time_step(model, x, y, jit: bool, steps: int) -> tuple[float, float]:
    """(median seconds per L1 + Adam step, seconds of the first step including tracing)."""
    opt = FusedAdam(2e-4, beta_1=0.9, beta_2=0.99)  # the trainer's optimizer
    opt.build(model.trainable_variables)

    @tf.function(jit_compile=jit)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    t = time.perf_counter()
    step(x, y).numpy()
    first = time.perf_counter() - t
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step(x, y).numpy()
        times.append(time.perf_counter() - t)
    return statistics.median(times), first


def bench_step(batch: int, hr: int, steps: int) -> None:
    from srgan_keras.nn.rrdbnet import build_rrdbnet

    lr = tf.random.uniform((batch, hr // 4, hr // 4, 3))
    target = tf.random.uniform((batch, hr, hr, 3))
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        median, first = time_step(build_rrdbnet(4), lr, target, jit, steps)
        print(f"RRDBNet x4 step, batch {batch}, HR {hr}, jit_compile={jit}: "
              f"median {median:.2f} s (first step incl. tracing {first:.1f} s)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("degradation", "step"))
    p.add_argument("--images", type=int, default=64)
    p.add_argument("--hr", type=int, default=None)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=5)
    a = p.parse_args()
    if a.what == "degradation":
        bench_degradation(a.images, a.hr or 256)
    else:
        bench_step(a.batch, a.hr or 128, a.steps)


if __name__ == "__main__":
    main()
