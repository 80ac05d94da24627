"""SRGAN as one object: generator, discriminator, content loss and the two update steps (§2, §3.2).

    pretrain_step:  SRResNet, min_G  l_MSE(G(LR), HR)                                   (Eq. 4)
    train_step:     1. D update:  max_D  log D(HR) + log(1 - D(G(LR)))                  (Eq. 2)
                    2. G update:  min_G  l_X(G(LR), HR) + 1e-3 * (-log D(G(LR)))         (Eq. 3)

The two steps of a GAN iteration are written out in :meth:`SRGAN.train_step`, alternating 1:1 as
the paper does (k = 1, after Goodfellow et al. 2014). The SR image is computed once per iteration;
D is updated on it first (gradient stopped), then G's loss uses the *updated* D.

Ranges: LR in [0, 1]; HR, SR and every loss input in [-1, 1]. A generator whose last layer is
named ``sr_unit`` (RRDBNet, :func:`~srgan_keras.nn.outputs.output_range`) outputs [0, 1] and is
mapped to [-1, 1] here.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from srgan_keras.data.ranges import unit_to_signed
from srgan_keras.nn.outputs import output_range
from srgan_keras.training.losses import ContentLoss, VanillaGAN, pixel_loss


class SRGAN:
    """Holds G, D and the perceptual loss l_SR = l_X + 1e-3 l_Gen (Eq. 3), with the update steps.

    Args:
        generator: maps LR [0, 1] to SR ([-1, 1], or [0, 1] if its last layer is ``sr_unit``).
        discriminator: maps images in [-1, 1] to logits (None for SRResNet pre-training only).
        content_loss: l_X (Eq. 3): ``ContentLoss("vgg54")`` for SRGAN, ``ContentLoss("mse")``
            for SRGAN-MSE.
        adversarial: the GAN formulation (``VanillaGAN`` of the paper, or ESRGAN's RaGAN).
        adv_weight: 1e-3 in Eq. 3.
        pixel_kind, pixel_weight: an extra pixel loss in the GAN phase (ESRGAN: L1, 1e-2; 0 in SRGAN).
        pretrain_kind: the pre-training loss, ``mse`` (SRResNet, Eq. 4) or ``l1`` (ESRGAN).
        num_replicas: replicas of a ``tf.distribute`` strategy; losses are divided by it because
            the optimizer sums gradients over replicas.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model | None = None, *,
                 content_loss: ContentLoss | None = None, adversarial=None,
                 content_weight: float = 1.0, adv_weight: float = 1e-3,
                 pixel_kind: str = "l1", pixel_weight: float = 0.0, pretrain_kind: str = "mse",
                 pretrain_optimizer: keras.optimizers.Optimizer | None = None,
                 g_optimizer: keras.optimizers.Optimizer | None = None,
                 d_optimizer: keras.optimizers.Optimizer | None = None,
                 num_replicas: int = 1):
        self.generator = generator
        self.discriminator = discriminator
        self.content_loss = content_loss or ContentLoss("mse")
        self.adversarial = adversarial or VanillaGAN()
        self.content_weight = content_weight
        self.adv_weight = adv_weight
        self.pixel_kind = pixel_kind
        self.pixel_weight = pixel_weight
        self.pretrain_kind = pretrain_kind
        self.pretrain_optimizer = pretrain_optimizer
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.num_replicas = num_replicas
        self._unit = output_range(generator) == "unit"

    # -- the forward pass ------------------------------------------------------------------
    def super_resolve(self, lr, training: bool, generator: keras.Model | None = None):
        """G(LR) in [-1, 1], float32 (mixed-precision outputs are cast back).

        ``generator``: another network of G's architecture to run instead (the trainer's float32
        twin of a mixed-precision G)."""
        sr = tf.cast((generator or self.generator)(lr, training=training), tf.float32)
        return unit_to_signed(sr) if self._unit else sr

    # -- the perceptual loss, Eq. 3 -------------------------------------------------------
    def perceptual_loss(self, target, sr, real_logits, fake_logits) -> dict:
        """l_SR = w_c l_X + 1e-3 l_Gen (+ w_p pixel, ESRGAN); returns every term for logging."""
        content = self.content_loss(target, sr)
        adv = self.adversarial.generator_loss(real_logits, fake_logits)
        total = self.content_weight * content + self.adv_weight * adv
        pixel = tf.constant(0.0)
        if self.pixel_weight:
            pixel = pixel_loss(self.pixel_kind, target, sr)
            total += self.pixel_weight * pixel
        return {"g_loss": total, "content_loss": content, "adv_loss": adv, "pixel_loss": pixel}

    # -- phase 1: SRResNet -----------------------------------------------------------------
    def pretrain_step(self, lr, hr, target) -> dict:
        """One MSE (or L1) update of G alone: the SRResNet of Table 2."""
        with tf.GradientTape() as tape:
            sr = self.super_resolve(lr, training=True)
            loss = pixel_loss(self.pretrain_kind, target, sr)
            scaled = self.pretrain_optimizer.scale_loss(loss / self.num_replicas)
        grads = tape.gradient(scaled, self.generator.trainable_variables)
        self.pretrain_optimizer.apply(grads, self.generator.trainable_variables)
        return {"g_loss": loss, "content_loss": loss, "sr": sr}

    # -- phase 2: SRGAN --------------------------------------------------------------------
    def train_step(self, lr, hr, target) -> dict:
        """One GAN iteration: the discriminator update, then the generator update."""
        G, D = self.generator, self.discriminator
        with tf.GradientTape() as g_tape:
            sr = self.super_resolve(lr, training=True)

            # 1. Discriminator: real HR -> 1, G(LR) -> 0. SR is a constant for this update.
            with tf.GradientTape() as d_tape:
                real_logits = D(hr, training=True)
                fake_logits = D(tf.stop_gradient(sr), training=True)
                d_loss = self.adversarial.discriminator_loss(real_logits, fake_logits)
                d_scaled = self.d_optimizer.scale_loss(d_loss / self.num_replicas)
            d_grads = d_tape.gradient(d_scaled, D.trainable_variables)
            self.d_optimizer.apply(d_grads, D.trainable_variables)

            # 2. Generator: content loss + 1e-3 * -log D(G(LR)), through the updated D.
            fake_logits_g = D(sr, training=True)
            real_logits_g = (tf.stop_gradient(D(hr, training=True))
                             if self.adversarial.needs_real_for_generator else real_logits)
            losses = self.perceptual_loss(target, sr, real_logits_g, fake_logits_g)
            g_scaled = self.g_optimizer.scale_loss(losses["g_loss"] / self.num_replicas)
        g_grads = g_tape.gradient(g_scaled, G.trainable_variables)
        self.g_optimizer.apply(g_grads, G.trainable_variables)

        return {**losses, "d_loss": d_loss,
                "d_real": tf.reduce_mean(tf.sigmoid(tf.cast(real_logits, tf.float32))),
                "d_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_logits, tf.float32))),
                "sr": sr}
