"""Everything a run builds from its config: networks, optimizers, the SRGAN model, its checkpoint.

The checkpoint's keys are the run folder's contract (runs started by older code must resume):
``generator``, ``discriminator``, ``pretrain_optimizer``, ``g_optimizer``, ``d_optimizer``,
``pretrain_steps_done``, ``gan_steps_done``; each optimizer's variables keep Keras' layout
(with EMA, Keras adds one average per variable to its list, which is why EMA cannot be switched
on or off when resuming).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from srgan_keras.training.config import TrainConfig
from srgan_keras.training.losses import (
    ContentLoss,
    LowFrequencyLoss,
    PixelLoss,
    ShuffleTileLoss,
    adversarial_loss,
)
from srgan_keras.training.networks import build_critic, build_generator
from srgan_keras.training.optimizers import FusedAdam
from srgan_keras.training.schedules import LRSchedule
from srgan_keras.training.srgan import SRGAN


def make_optimizer(cfg: TrainConfig, lr: float, steps: int, milestones, ema: bool):
    """Adam (§3.2) on this phase's schedule; EMA if ``ema``; loss scaling under float16."""
    sched = LRSchedule(cfg.lr_schedule, lr, steps, milestones, cfg.lr_gamma, cfg.warmup_steps,
                       cfg.min_lr_ratio)
    opt = FusedAdam(sched, beta_1=cfg.beta1, beta_2=cfg.beta2, use_ema=ema,
                    ema_momentum=cfg.ema_decay or 0.99)
    if cfg.mixed_precision == "float16":
        opt = keras.optimizers.LossScaleOptimizer(opt)
    return opt


def ema_optimizer(opt) -> keras.optimizers.Optimizer | None:
    """The (inner) Keras optimizer holding an EMA of its variables, or None."""
    inner = getattr(opt, "inner_optimizer", opt)
    return inner if getattr(inner, "use_ema", False) else None


def saved_d_optimizer_has_ema(checkpoint: str | None, discriminator: keras.Model) -> bool:
    """Whether a checkpoint's ``d_optimizer`` holds an EMA (code before issue 13 kept one for D
    too): Keras' Adam saves 2 slots per variable, 3 with the averages."""
    if not checkpoint:
        return False
    names = [n for n, _ in tf.train.list_variables(checkpoint)]
    slots = sum(n.startswith("d_optimizer/") and "/_variables/" in n for n in names)
    return slots >= 3 * len(discriminator.trainable_variables)


@dataclass
class TrainingState:
    """The networks, the SRGAN model that updates them, and the checkpointed progress."""

    G: keras.Model
    D: keras.Model
    model: SRGAN
    pre_opt: keras.optimizers.Optimizer
    g_opt: keras.optimizers.Optimizer
    d_opt: keras.optimizers.Optimizer
    pre_done: tf.Variable
    gan_done: tf.Variable
    checkpoint: tf.train.Checkpoint

    def total_done(self) -> int:
        return int(self.pre_done.numpy()) + int(self.gan_done.numpy())


def build_state(cfg: TrainConfig, strategy: tf.distribute.Strategy,
                latest_checkpoint: str | None = None) -> TrainingState:
    """Build G, D, the three optimizers (slots included) and the SRGAN model under ``strategy``.

    G's pre-training is Keras' own ``G.compile(loss=PixelLoss) / G.train_step`` (what ``G.fit``
    runs); the GAN phase is :meth:`SRGAN.gan_update`. ``latest_checkpoint`` tells whether the
    run being resumed kept an EMA for D (older code did; D keeps none now, ESRGAN's BasicSR has
    no ``net_d_ema``): if so D's optimizer is built with it, so that the slots restore in place.
    """
    pre_steps, gan_steps = cfg.phase_steps()
    ema = cfg.ema_decay > 0
    content = ContentLoss(cfg.content_loss, cfg.vgg_weights) if gan_steps else None  # may raise
    with strategy.scope():
        G, D = build_generator(cfg), build_critic(cfg)
        d_ema = ema and saved_d_optimizer_has_ema(latest_checkpoint, D)
        if d_ema:
            print("note: this run's checkpoint keeps an EMA of the discriminator (older code); "
                  "it is kept so the checkpoint restores, and is not used")
        pre_opt = make_optimizer(cfg, cfg.pretrain_lr, pre_steps, cfg.pretrain_milestones, ema)
        g_opt = make_optimizer(cfg, cfg.gan_lr, gan_steps, cfg.gan_milestones, ema)
        d_opt = make_optimizer(cfg, cfg.gan_lr if cfg.disc_lr is None else cfg.disc_lr, gan_steps,
                               cfg.gan_milestones, d_ema)
        # Build the optimizers' slots now so that a checkpoint restores into them (NOTES-TF).
        pre_opt.build(G.trainable_variables)
        G.compile(optimizer=pre_opt, loss=PixelLoss(cfg.pretrain_loss))
        model = SRGAN(G, D)
        model.compile(g_optimizer=g_opt, d_optimizer=d_opt, content_loss=content,
                      adversarial=adversarial_loss(cfg.adv_loss),
                      content_weight=cfg.content_weight, adv_weight=cfg.adv_weight,
                      pixel_loss=PixelLoss(cfg.pixel_loss), pixel_weight=cfg.pixel_weight,
                      lowfreq_loss=LowFrequencyLoss(cfg.scale), lowfreq_weight=cfg.lowfreq_weight,
                      tile_loss=ShuffleTileLoss(cfg.scale), tile_weight=cfg.tile_weight)
        pre_done = tf.Variable(0, dtype=tf.int64, name="pretrain_steps_done")
        gan_done = tf.Variable(0, dtype=tf.int64, name="gan_steps_done")
    ckpt = tf.train.Checkpoint(
        generator=G, discriminator=D, pretrain_optimizer=pre_opt, g_optimizer=g_opt,
        d_optimizer=d_opt, pretrain_steps_done=pre_done, gan_steps_done=gan_done)
    return TrainingState(G, D, model, pre_opt, g_opt, d_opt, pre_done, gan_done, ckpt)


def newest_readable_checkpoint(run_dir: Path) -> str | None:
    """The highest-numbered ``checkpoints/ckpt-N`` whose index can be read (the state file is not
    trusted here: checkpoints.py decides which one is restored; this only tells D's layout)."""
    numbered = []
    for index in (run_dir / "checkpoints").glob("ckpt-*.index"):
        number = index.name[len("ckpt-"):-len(".index")]
        if number.isdigit():
            numbered.append((int(number), str(index)[:-len(".index")]))
    for _, prefix in sorted(numbered, reverse=True):
        try:
            tf.train.list_variables(prefix)
            return prefix
        except Exception:  # noqa: BLE001 -- a truncated or foreign file: try the previous one
            continue
    return None
