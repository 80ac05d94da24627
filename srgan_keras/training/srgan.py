"""SRGAN as a ``keras.Model``: generator, discriminator and the GAN update (§2, §3.2), for ``fit()``.

    pre-training:  SRResNet, min_G l_MSE(G(LR), HR) (Eq. 4): Keras' own ``G.compile(loss=
                   PixelLoss("mse")); G.fit(...)`` -- the CLI calls that same ``G.train_step``
    GAN step:      1. D update:  max_D  log D(HR) + log(1 - D(G(LR)))                 (Eq. 2)
                   2. G update:  min_G  l_X(G(LR), HR) + 1e-3 * (-log D(G(LR)))        (Eq. 3)

The two steps of a GAN iteration are written out in :meth:`SRGAN.gan_update`, alternating 1:1 as
the paper does (k = 1, after Goodfellow et al. 2014). The SR image is computed once per iteration;
D is updated on it first (gradient stopped), then G's loss uses the *updated* D. This is the
keras-io GAN idiom (DCGAN, WGAN-GP): ``compile`` takes the two optimizers and the losses,
``train_step`` returns the ``keras.metrics.Mean`` trackers, so ``fit()`` and its callbacks
(``BackupAndRestore``, ``TensorBoard``, ``EarlyStopping``) work::

    model = SRGAN(G, D)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-4), d_optimizer=keras.optimizers.Adam(1e-4),
                  content_loss=ContentLoss("vgg54"), adversarial=VanillaGAN())
    model.fit(ds, epochs=2, steps_per_epoch=100, callbacks=[keras.callbacks.BackupAndRestore(d)])

Ranges: LR in [0, 1]; HR, SR, the content loss and D's input in [-1, 1]. A generator whose last
layer is named ``sr_unit`` (RRDBNet, SRVGGNetCompact) outputs [0, 1]: it is mapped to [-1, 1]
for D and the content loss, while its pixel loss is computed on [0, 1] as BasicSR does (the same
L1 measured on [-1, 1] would be twice as large, doubling its weight against the other terms).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from srgan_keras.data.ranges import signed_to_unit, unit_to_signed
from srgan_keras.nn.outputs import output_range
from srgan_keras.training.losses import (
    ADV_WEIGHT,
    AdversarialLoss,
    ContentLoss,
    LowFrequencyLoss,
    PixelLoss,
    ShuffleTileLoss,
    VanillaGAN,
)

LOG_KEYS = ("g_loss", "content_loss", "adv_loss", "pixel_loss", "lowfreq_loss", "tile_loss", "d_loss",
            "d_real", "d_fake")


def outputs_unit_range(generator: keras.Model) -> bool:
    """True when the generator's output is [0, 1] (:func:`~srgan_keras.nn.outputs.output_range`)."""
    return output_range(generator) == "unit"


def to_generator_range(signed, generator: keras.Model):
    """HR/targets in [-1, 1] -> the generator's own output range (what its pixel loss compares)."""
    return signed_to_unit(signed) if outputs_unit_range(generator) else signed


def super_resolve(generator: keras.Model, lr, training: bool = False):
    """G(LR) in [-1, 1], float32 (mixed-precision outputs are cast back)."""
    sr = tf.cast(generator(lr, training=training), tf.float32)
    return unit_to_signed(sr) if outputs_unit_range(generator) else sr


def unpack(data):
    """``(lr, hr)`` or ``(lr, hr, target)`` -> (lr, hr, target); target defaults to HR."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ValueError("SRGAN batches are (lr, hr) or (lr, hr, target)")
    lr, hr = data[0], data[1]
    return lr, hr, (data[2] if len(data) == 3 else hr)


@keras.saving.register_keras_serializable(package="srgan_keras")
class SRGAN(keras.Model):
    """Holds G and D; :meth:`compile` takes l_SR = w_c l_X + 1e-3 l_Gen (Eq. 3) and the optimizers.

    Args:
        generator: maps LR [0, 1] to SR ([-1, 1], or [0, 1] if its last layer is ``sr_unit``).
        discriminator: maps images in [-1, 1] to logits.

    Calling the model super-resolves (``SRGAN(G, D)(lr)`` = G(LR) in [-1, 1]). Build it (and the
    optimizers) inside ``strategy.scope()`` to train under a ``tf.distribute`` strategy: each
    replica's losses are divided by the replica count, since the optimizers sum the gradients.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.built = generator.built and discriminator.built  # functional G and D are

    def compile(self, g_optimizer: keras.optimizers.Optimizer,
                d_optimizer: keras.optimizers.Optimizer,
                content_loss: keras.losses.Loss | None = None,
                adversarial: AdversarialLoss | None = None, *,
                content_weight: float = 1.0, adv_weight: float = ADV_WEIGHT,
                pixel_loss: keras.losses.Loss | None = None, pixel_weight: float = 0.0,
                lowfreq_loss: keras.losses.Loss | None = None, lowfreq_weight: float = 0.0,
                tile_loss: keras.losses.Loss | None = None, tile_weight: float = 0.0,
                **kwargs) -> None:
        """The optimizers and the terms of l_SR.

        content_loss: l_X (Eq. 3): ``ContentLoss("vgg54")`` for SRGAN, ``ContentLoss("mse")``
            for SRGAN-MSE (the default), ``ContentLoss("multi_preact", "torchvision")`` ...
        adversarial: the GAN formulation (``VanillaGAN`` of the paper, the default, or ESRGAN's
            ``RelativisticAverageGAN``); adv_weight: its 1e-3 in Eq. 3.
        pixel_loss, pixel_weight: an extra pixel term in the GAN phase (ESRGAN: L1, 1e-2;
            Real-ESRGAN: L1, 1; none in SRGAN), computed in the generator's output range.
        Optimizers with ``use_ema=True`` keep an EMA of G; ``fit()`` ends by copying G's into G,
        as Keras does for any model. D's optimizer should keep none (nothing uses it).
        """
        super().compile(**{"optimizer": None, **kwargs})  # the two optimizers are our own
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        for opt, net in ((g_optimizer, self.generator), (d_optimizer, self.discriminator)):
            if not opt.built:  # slots exist before a checkpoint or BackupAndRestore restores
                opt.build(net.trainable_variables)
        self.content_loss = content_loss or ContentLoss("mse")
        self.adversarial = adversarial or VanillaGAN()
        self.content_weight, self.adv_weight = float(content_weight), float(adv_weight)
        self.pixel_loss = pixel_loss or PixelLoss("l1")
        self.pixel_weight = float(pixel_weight)
        # our regularisers (losses.LowFrequencyLoss, ShuffleTileLoss), on [-1, 1]; 0 = off (paper)
        self.lowfreq_loss = lowfreq_loss or LowFrequencyLoss()
        self.lowfreq_weight = float(lowfreq_weight)
        self.tile_loss = tile_loss or ShuffleTileLoss()
        self.tile_weight = float(tile_weight)
        self.trackers = {k: keras.metrics.Mean(name=k) for k in LOG_KEYS}

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """The trackers, so that Keras resets them at each epoch."""
        return list(getattr(self, "trackers", {}).values())

    def call(self, lr, training: bool = False):
        return super_resolve(self.generator, lr, training)

    # -- the one implementation of the GAN update (fit() and the CLI both run it) -------------
    def gan_update(self, lr, hr, target) -> dict[str, tf.Tensor]:
        """One GAN iteration on this replica's batch: the D update, then the G update.

        Returns this step's values (every key of :data:`LOG_KEYS`), averaged over the batch.
        """
        G, D = self.generator, self.discriminator
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as g_tape:
            sr_native = tf.cast(G(lr, training=True), tf.float32)  # G's own range
            sr = unit_to_signed(sr_native) if outputs_unit_range(G) else sr_native  # [-1, 1]

            # 1. Discriminator: real HR -> 1, G(LR) -> 0. SR is a constant for this update.
            with tf.GradientTape() as d_tape:
                real_logits = D(hr, training=True)
                fake_logits = D(tf.stop_gradient(sr), training=True)
                d_loss = self.adversarial.discriminator_loss(real_logits, fake_logits)
                d_scaled = self.d_optimizer.scale_loss(d_loss / replicas)
            d_grads = d_tape.gradient(d_scaled, D.trainable_variables)
            self.d_optimizer.apply(d_grads, D.trainable_variables)

            # 2. Generator: content loss + 1e-3 * -log D(G(LR)), through the updated D.
            fake_logits_g = D(sr, training=True)
            real_logits_g = (tf.stop_gradient(D(hr, training=True))
                             if self.adversarial.needs_real_for_generator else real_logits)
            content = self.content_loss(target, sr)
            adv = self.adversarial(real_logits_g, fake_logits_g)
            g_loss = self.content_weight * content + self.adv_weight * adv
            pixel = lowfreq = tile = tf.constant(0.0)
            if self.pixel_weight:
                pixel = self.pixel_loss(to_generator_range(target, G), sr_native)
                g_loss += self.pixel_weight * pixel
            if self.lowfreq_weight:
                lowfreq = self.lowfreq_loss(target, sr)
                g_loss += self.lowfreq_weight * lowfreq
            if self.tile_weight:
                tile = self.tile_loss(target, sr)
                g_loss += self.tile_weight * tile
            g_scaled = self.g_optimizer.scale_loss(g_loss / replicas)
        g_grads = g_tape.gradient(g_scaled, G.trainable_variables)
        self.g_optimizer.apply(g_grads, G.trainable_variables)

        return {"g_loss": g_loss, "content_loss": content, "adv_loss": adv, "pixel_loss": pixel,
                "lowfreq_loss": lowfreq, "tile_loss": tile, "d_loss": d_loss,
                "d_real": tf.reduce_mean(tf.sigmoid(tf.cast(real_logits, tf.float32))),
                "d_fake": tf.reduce_mean(tf.sigmoid(tf.cast(fake_logits, tf.float32)))}

    def train_step(self, data):
        """Keras' contract: one batch ``(lr, hr)`` or ``(lr, hr, target)`` -> the trackers' means."""
        values = self.gan_update(*unpack(data))
        for key, tracker in self.trackers.items():
            tracker.update_state(values[key])
        return {key: tracker.result() for key, tracker in self.trackers.items()}

    def fit(self, *args, **kwargs):
        """Keras' ``fit``, then G <- its EMA when the G optimizer keeps one (Keras does this for
        its own optimizer; an SRGAN has two, so it is said here)."""
        history = super().fit(*args, **kwargs)
        inner = getattr(self.g_optimizer, "inner_optimizer", self.g_optimizer)  # loss scaling
        if getattr(inner, "use_ema", False):
            inner.finalize_variable_values(self.generator.trainable_variables)
        return history

    def get_config(self):
        return {**super().get_config(),
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator)}

    @classmethod
    def from_config(cls, config):
        g = keras.saving.deserialize_keras_object(config.pop("generator"))
        d = keras.saving.deserialize_keras_object(config.pop("discriminator"))
        return cls(g, d, **config)
