"""FusedAdam follows keras.optimizers.Adam step for step, and shares its checkpoint layout."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.training.optimizers import FusedAdam


def _net(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inp)
    x = keras.layers.Flatten()(x)
    return keras.Model(inp, keras.layers.Dense(2)(x))


def _train(opt, steps: int = 6) -> list[np.ndarray]:
    model = _net()
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(4, 8, 8, 3)).astype("float32"))
    y = tf.constant(rng.normal(size=(4, 2)).astype("float32"))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x) - y) ** 2)
        opt.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)

    for _ in range(steps):
        step()
    return [w.numpy() for w in model.weights]


@pytest.mark.parametrize("kwargs", [
    {"learning_rate": 1e-2},
    {"learning_rate": 1e-2, "beta_2": 0.99, "epsilon": 1e-8},
    {"learning_rate": 1e-2, "use_ema": True, "ema_momentum": 0.9, "clipnorm": 0.1},
    {"learning_rate": keras.optimizers.schedules.ExponentialDecay(1e-2, 2, 0.5)},
    {"learning_rate": 1e-2, "amsgrad": True},  # Keras' own path
], ids=["defaults", "betas-eps", "ema-clip", "schedule", "amsgrad"])
def test_fused_adam_follows_keras_adam(kwargs):
    theirs = _train(keras.optimizers.Adam(**kwargs))
    ours = _train(FusedAdam(**kwargs))
    start = [w.numpy() for w in _net().weights]
    assert any(not np.allclose(a, b) for a, b in zip(theirs, start)), "the weights must move"
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)  # lr 1e-2: 1e-3 of one step


def test_fused_adam_restores_a_keras_adam_checkpoint(tmp_path):
    model = _net()
    old = keras.optimizers.Adam(1e-3)
    old.build(model.trainable_variables)
    for var in old.variables:
        var.assign(tf.fill(var.shape, tf.cast(0.5, var.dtype)))
    path = tf.train.Checkpoint(opt=old).save(str(tmp_path / "ckpt"))
    new = FusedAdam(1e-3)
    new.build(model.trainable_variables)
    tf.train.Checkpoint(opt=new).restore(path).assert_existing_objects_matched()
    for a, b in zip(old.variables, new.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
