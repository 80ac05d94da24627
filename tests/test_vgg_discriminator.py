"""ESRGAN's discriminator (BasicSR VGGStyleDiscriminator): BasicSR's parameter counts, shapes, config."""

from __future__ import annotations

import numpy as np
import pytest

from srgan_keras.nn.srgan_discriminator import build_discriminator
from srgan_keras.nn.vgg_discriminator import build_vgg_discriminator
from srgan_keras.training.config import get_config


def _trainable(model) -> int:
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


@pytest.mark.parametrize("size, count", [(128, 14_499_401), (256, 21_055_049)])
def test_parameters_are_basicsrs(size, count):
    # counted on BasicSR 1.4.2's VGGStyleDiscriminator(3, 64, size) with torch (BN weight/bias
    # are parameters there, running statistics buffers, as Keras' non-trainable weights)
    assert _trainable(build_vgg_discriminator(size)) == count


def test_esrgan_preset_uses_it_and_it_is_smaller_than_srgans():
    cfg = get_config("esrgan")
    assert (cfg.discriminator, cfg.hr_size) == ("vgg", 128)
    assert _trainable(build_discriminator(128)) > 2.5 * _trainable(build_vgg_discriminator(128))


def test_one_logit_per_image_at_a_tiny_size_and_other_sizes_refused():
    d = build_vgg_discriminator(32, num_filters=8)
    assert d(np.zeros((2, 32, 32, 3), np.float32), training=False).shape == (2, 1)
    with pytest.raises(ValueError, match="power of two"):
        build_vgg_discriminator(96)
    with pytest.raises(ValueError, match="--discriminator vgg needs --hr-size a power of two"):
        get_config("tiny", discriminator="vgg", hr_size=96)
