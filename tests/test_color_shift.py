"""A generator's colour shift is measured and removed from its last bias (issue 24.3)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from srgan_keras.inference.color_shift import flat_shift, mean_shift, remove_offset, shuffle_conv
from srgan_keras.inference.runners import KerasRunner
from srgan_keras.nn.srresnet import build_srresnet
from srgan_keras.nn.srvgg import build_srvgg


def tiny_srvgg(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return build_srvgg(scale=4, num_feat=8, num_conv=2)


def test_a_bias_offset_is_measured_and_removed_exactly():
    model = tiny_srvgg()
    conv = shuffle_conv(model)
    assert conv.name == "body_6"
    bias = conv.bias.numpy()
    bias[0::3] += 3.0 / 255  # red +3 grey levels at every phase: a cast
    bias[2::3] -= 1.0 / 255  # blue -1
    conv.bias.assign(bias)
    runner = KerasRunner(model)
    rng = np.random.default_rng(0)
    photos = [np.kron(rng.uniform(0.3, 0.7, (4, 4, 3)), np.ones((4, 4, 1))).astype(np.float32)
              for _ in range(2)]  # smooth: neither the net nor bicubic overshoots into a clip
    before = flat_shift(runner, 128.0)
    # the tiny untrained net adds its own small offset; the cast sits on top of it
    remove_offset(model, np.array([3.0, 0.0, -1.0]))
    after = flat_shift(KerasRunner(model), 128.0)
    np.testing.assert_allclose(before - after, [3.0, 0.0, -1.0], atol=0.02)
    shift = mean_shift(KerasRunner(model), photos)
    remove_offset(model, shift)
    np.testing.assert_allclose(mean_shift(KerasRunner(model), photos), 0.0, atol=0.05)


def test_remove_offset_refuses_a_signed_range_generator():
    with pytest.raises(ValueError, match="unit-range"):
        remove_offset(build_srresnet(scale=4, num_blocks=1, num_filters=8), np.zeros(3))
