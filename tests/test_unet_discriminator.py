"""Real-ESRGAN's U-Net discriminator with spectral normalization: size, shapes, SN, saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.nn.unet_discriminator import build_unet_discriminator


def test_trainable_parameters_are_the_published_count():
    d = build_unet_discriminator(num_feat=64)
    trainable = int(sum(np.prod(v.shape) for v in d.trainable_weights))
    assert trainable == 4_376_897  # what PyTorch counts: weight_u/weight_v are buffers there
    # Keras keeps each SN conv's u vector (one value per output channel of conv1..conv8) as a
    # non-trainable weight: 1,472 more values
    assert d.count_params() == trainable + sum((128, 256, 512, 256, 128, 64, 64, 64))


@pytest.mark.parametrize("size", [(16, 16), (24, 40), (64, 32)])
def test_one_logit_per_pixel_at_any_size_divisible_by_8(size):
    d = build_unet_discriminator(num_feat=8)
    out = d(np.random.rand(2, *size, 3).astype(np.float32) * 2 - 1, training=False)
    assert out.shape == (2, *size, 1)


def test_skip_connections_can_be_switched_off():
    with_skip = build_unet_discriminator(num_feat=8)
    without = build_unet_discriminator(num_feat=8, skip_connection=False)
    assert any(layer.name == "skip4" for layer in with_skip.layers)
    assert not any(layer.name.startswith("skip") for layer in without.layers)
    assert with_skip.count_params() == without.count_params()


def largest_singular_value(kernel: np.ndarray) -> float:
    return float(np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0])


def test_spectral_norm_bounds_the_kernels_in_training_mode():
    keras.utils.set_random_seed(0)
    d = build_unet_discriminator(num_feat=8)
    conv = d.get_layer("conv3").layer
    conv.kernel.assign(conv.kernel * 50.0)  # far from normalised
    x = np.random.rand(1, 16, 16, 3).astype(np.float32)
    d(x, training=False)  # inference: the kernel is used as stored
    assert largest_singular_value(conv.kernel.numpy()) > 5
    for _ in range(30):  # one power iteration per call, as in PyTorch
        d(x, training=True)
    assert largest_singular_value(conv.kernel.numpy()) == pytest.approx(1.0, rel=0.05)


def test_round_trip_through_keras_file_keeps_the_sn_state(tmp_path):
    d = build_unet_discriminator(num_feat=8)
    x = tf.random.uniform((1, 16, 24, 3), -1, 1)
    d(x, training=True)  # updates u and the kernel
    d.save(tmp_path / "d.keras")
    loaded = keras.saving.load_model(tmp_path / "d.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(x, training=False), d(x, training=False), atol=1e-6)
    np.testing.assert_allclose(loaded.get_layer("conv1").vector_u.numpy(),
                               d.get_layer("conv1").vector_u.numpy())
