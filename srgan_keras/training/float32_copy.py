"""The generator that validation scores and ``generator.keras`` holds: float32, EMA weights.

Under mixed precision G computes in bfloat16/float16 and keeps float32 weights; a generator saved
with a ``mixed_*`` policy would compute in low precision on every machine that loads it. With an
EMA (ESRGAN / Real-ESRGAN ``params_ema``), the weights to evaluate and publish are the averages,
not G's raw weights. The copy is a float32 network of G's architecture carrying those weights;
G itself is never modified, so training continues from its raw weights.
"""

from __future__ import annotations

import keras
import numpy as np

from srgan_keras.training.config import TrainConfig
from srgan_keras.training.networks import build_generator
from srgan_keras.training.state import ema_optimizer


def averaged_weights(G: keras.Model, optimizer) -> list[np.ndarray]:
    """``G.get_weights()`` with every trainable variable replaced by ``optimizer``'s EMA of it
    (G's own weights when the optimizer keeps no EMA, or has not stepped yet)."""
    inner = ema_optimizer(optimizer) if optimizer is not None else None
    if inner is None or int(inner.iterations.numpy()) == 0:
        return G.get_weights()  # Keras sets each average to the weights at its first step
    averages = inner._model_variables_moving_average  # Keras keeps them in build() order
    trainable = {inner._var_key(v) for v in G.trainable_variables}
    return [averages[inner._get_variable_index(v)].numpy() if inner._var_key(v) in trainable
            else v.numpy() for v in G.weights]


class Float32Copy:
    """Builds the float32 copy once, refreshes its weights on each :meth:`of` call."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.model: keras.Model | None = None

    def of(self, G: keras.Model, optimizer=None) -> keras.Model:
        """A float32 generator with G's weights, averaged by ``optimizer``'s EMA if it has one.

        Always a separate model, also in float32 without EMA: G is compiled for its
        pre-training (``G.compile``), and the saved file should hold the network alone."""
        if self.model is None:
            policy = keras.mixed_precision.global_policy()
            keras.mixed_precision.set_global_policy("float32")
            try:
                self.model = build_generator(self.cfg)
            finally:
                keras.mixed_precision.set_global_policy(policy)
        self.model.set_weights(averaged_weights(G, optimizer))
        return self.model
