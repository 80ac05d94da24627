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


def test_spectral_norm_divides_by_sigma_and_keeps_the_stored_kernel():
    keras.utils.set_random_seed(0)
    d = build_unet_discriminator(num_feat=8)
    sn = d.get_layer("conv3")
    sn.layer.kernel.assign(sn.layer.kernel * 50.0)  # far from normalised
    stored = sn.layer.kernel.numpy().copy()
    x = np.random.rand(1, 16, 16, 3).astype(np.float32)
    for _ in range(30):  # one power iteration per call, as in PyTorch
        d(x, training=True)
    np.testing.assert_array_equal(sn.layer.kernel.numpy(), stored)  # weight_orig is not touched
    sigma = sn.sigma_estimate()
    # the power iteration's estimate of the largest singular value (30 iterations: within 5 %)
    assert sigma == pytest.approx(largest_singular_value(stored), rel=0.05)
    assert largest_singular_value(stored / sigma) == pytest.approx(1.0, rel=0.05)
    # what the convolution applies (notebook 09 prints it): W / sigma, largest singular value 1
    np.testing.assert_allclose(np.asarray(sn.applied_kernel()), stored / sigma, rtol=1e-5)


def test_spectral_norm_matches_pytorch_forward_u_and_gradient():
    """torch.nn.utils.spectral_norm(Conv2d) with the same weight_orig and u: the same output, the
    same updated u, and the same gradient w.r.t. weight_orig (which flows through sigma)."""
    torch = pytest.importorskip("torch")
    from srgan_keras.nn.spectral_norm import SpectralNorm

    rng = np.random.default_rng(0)
    w_hwio = rng.normal(0, 0.3, (4, 4, 3, 5)).astype(np.float32)
    u0 = rng.normal(0, 1, (1, 5)).astype(np.float32)
    u0 /= np.linalg.norm(u0)
    x = rng.uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)

    sn = SpectralNorm(keras.layers.Conv2D(5, 4, strides=2, padding="same", use_bias=False),
                      power_iterations=1)
    sn.build((None, 8, 8, 3))
    sn.layer.kernel.assign(w_hwio)
    sn.vector_u.assign(u0)
    with tf.GradientTape() as tape:
        y = sn(tf.constant(x), training=True)
        loss = tf.reduce_sum(y * y)
    grad = tape.gradient(loss, sn.layer.kernel).numpy()

    conv = torch.nn.Conv2d(3, 5, 4, stride=2, padding=1, bias=False)
    conv = torch.nn.utils.spectral_norm(conv)
    with torch.no_grad():
        conv.weight_orig.copy_(torch.from_numpy(w_hwio.transpose(3, 2, 0, 1)))
        conv.weight_u.copy_(torch.from_numpy(u0[0]))
    conv.train()
    yt = conv(torch.from_numpy(x.transpose(0, 3, 1, 2)))
    (yt * yt).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-5)
    np.testing.assert_allclose(sn.vector_u.numpy()[0], conv.weight_u.numpy(), atol=1e-6)
    np.testing.assert_allclose(grad, conv.weight_orig.grad.numpy().transpose(2, 3, 1, 0),
                               rtol=1e-4, atol=1e-5)


def test_round_trip_through_keras_file_keeps_the_sn_state(tmp_path):
    d = build_unet_discriminator(num_feat=8)
    x = tf.random.uniform((1, 16, 24, 3), -1, 1)
    d(x, training=True)  # updates u and the kernel
    d.save(tmp_path / "d.keras")
    loaded = keras.saving.load_model(tmp_path / "d.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(x, training=False), d(x, training=False), atol=1e-6)
    np.testing.assert_allclose(loaded.get_layer("conv1").vector_u.numpy(),
                               d.get_layer("conv1").vector_u.numpy())
