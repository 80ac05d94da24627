"""Learning-rate schedules: the paper's step decay, ESRGAN's multi-step and cosine annealing.

SRGAN §3.2: SRResNet at 1e-4 for 1e6 steps; SRGAN at 1e-4 for 1e5 steps then 1e-5 for 1e5
(a multi-step schedule with one milestone and gamma 0.1). ESRGAN halves at 50k/100k/200k/300k;
seed 004 pre-trained with cosine annealing. Linear warm-up is our option (used by the demo).
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="srgan_keras")
class LRSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``constant``, ``multistep`` (lr *= gamma at each milestone) or ``cosine`` to min_ratio * lr,
    after ``warmup`` steps of linear warm-up from 0. Steps count within one training phase."""

    def __init__(self, kind: str, base_lr: float, total_steps: int, milestones=(),
                 gamma: float = 0.1, warmup: int = 0, min_ratio: float = 0.0):
        if kind not in ("constant", "multistep", "cosine"):
            raise ValueError(f"unknown schedule {kind!r}")
        self.kind, self.base_lr, self.total_steps = kind, float(base_lr), int(total_steps)
        self.milestones, self.gamma = tuple(int(m) for m in milestones), float(gamma)
        self.warmup, self.min_ratio = int(warmup), float(min_ratio)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        lr = tf.constant(self.base_lr, tf.float32)
        if self.kind == "multistep" and self.milestones:
            passed = tf.add_n([tf.cast(step >= m, tf.float32) for m in self.milestones])
            lr = lr * tf.pow(self.gamma, passed)
        elif self.kind == "cosine":
            span = max(self.total_steps - self.warmup, 1)
            t = tf.clip_by_value((step - self.warmup) / span, 0.0, 1.0)
            lr = lr * (self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + tf.cos(math.pi * t)))
        if self.warmup:
            lr = lr * tf.minimum(1.0, (step + 1.0) / self.warmup)
        return lr

    def get_config(self):
        return {"kind": self.kind, "base_lr": self.base_lr, "total_steps": self.total_steps,
                "milestones": list(self.milestones), "gamma": self.gamma, "warmup": self.warmup,
                "min_ratio": self.min_ratio}
