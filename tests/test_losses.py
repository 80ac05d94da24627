"""Eqs. 3-6: content losses, VGG preprocessing and rescaling, the adversarial terms."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.training import losses
from srgan_keras.training.losses import ContentLoss, VanillaGAN, vgg_preprocess


def test_vgg_preprocess_on_known_pixels():
    # [-1, 1] -> 0..255 RGB -> BGR minus the ImageNet means (Keras' caffe mode).
    x = np.array([[[[-1.0, 0.0, 1.0]]]], np.float32)  # R=0, G=127.5, B=255
    out = vgg_preprocess(x).numpy()[0, 0, 0]
    np.testing.assert_allclose(out, [255 - 103.939, 127.5 - 116.779, 0 - 123.68], atol=1e-3)


def test_mse_content_loss_is_zero_for_identical_and_known_otherwise():
    a = tf.random.uniform((2, 8, 8, 3), -1, 1)
    assert float(ContentLoss("mse")(a, a)) == 0.0
    assert float(ContentLoss("mse")(tf.zeros((1, 2, 2, 3)), tf.fill((1, 2, 2, 3), 0.5))) == \
        pytest.approx(0.25)
    assert float(ContentLoss("l1")(tf.zeros((1, 2, 2, 3)), tf.fill((1, 2, 2, 3), 0.5))) == \
        pytest.approx(0.5)


@pytest.mark.parametrize("kind,layer", [("vgg22", "block2_conv2"), ("vgg54", "block5_conv4")])
def test_vgg_loss_uses_the_named_layer_rescaled(kind, layer):
    loss = ContentLoss(kind, vgg_weights=None)
    assert loss.layer_names == [layer]
    a = tf.random.uniform((1, 32, 32, 3), -1, 1, seed=1)
    b = tf.random.uniform((1, 32, 32, 3), -1, 1, seed=2)
    assert float(loss(a, a)) == 0.0
    # Same value computed by hand: mean((phi(a) - phi(b))^2) / 12.75^2.
    fa, fb = loss.extractor(vgg_preprocess(a)), loss.extractor(vgg_preprocess(b))
    expected = float(tf.reduce_mean(tf.square(fa - fb))) / 12.75**2
    assert float(loss(a, b)) == pytest.approx(expected, rel=1e-4)
    assert loss.extractor.get_layer(layer).activation.__name__ == "relu"  # after activation


@pytest.mark.parametrize("kind, weights, url", [
    ("vgg54", "imagenet", "https://storage.googleapis.com/... -- [Errno -3]"),  # Keras' Caffe VGG19
    ("multi_preact", "torchvision", "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"),
])
def test_offline_vgg_download_gives_one_clear_sentence(monkeypatch, kind, weights, url):
    def fail(*args, **kwargs):
        raise Exception(f"URL fetch failure on {url}")

    monkeypatch.setattr(losses.keras.utils, "get_file", fail)
    with pytest.raises(losses.VGGWeightsUnavailable) as e:
        ContentLoss(kind, weights)
    msg = str(e.value)
    assert "--vgg-weights PATH" in msg and "--content-loss mse" in msg and "\n" not in msg
    assert "URL fetch failure" in msg


def test_a_missing_weights_file_is_unavailable(tmp_path):
    with pytest.raises(losses.VGGWeightsUnavailable, match="no such file.*--vgg-weights PATH"):
        losses.load_vgg19(str(tmp_path / "missing.h5"))


def test_a_corrupt_weights_file_says_it_does_not_load_not_unavailable(tmp_path):
    """Issue 15 item 6: only a failed download or a missing file is "unavailable"."""
    bad = tmp_path / "vgg19_notop.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"truncated" * 10)  # an HDF5 signature, then garbage
    with pytest.raises(losses.VGGWeightsInvalid) as e:
        losses.load_vgg19(str(bad))
    msg = str(e.value)
    assert not isinstance(e.value, losses.VGGWeightsUnavailable)
    assert str(bad) in msg and "do not load" in msg and "could not load" not in msg and "\n" not in msg
    assert e.value.__cause__ is not None  # the loader's own error is kept


def test_weights_of_another_network_say_so(tmp_path):
    """A valid HDF5 weights file of a different model: Keras' layer-count error, not "unavailable"."""
    other = tmp_path / "other.weights.h5"
    with h5py.File(other, "w") as f:  # the legacy Keras layout load_weights reads for .h5
        f.attrs["layer_names"] = [b"dense"]
        g = f.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0"]
        g["dense/kernel:0"] = np.zeros((3, 3), np.float32)
    with pytest.raises(losses.VGGWeightsInvalid, match="ValueError"):
        losses.load_vgg19(str(other))


def test_adversarial_losses_match_the_equations():
    gan = VanillaGAN()
    real = tf.constant([[2.0], [0.5]])
    fake = tf.constant([[-1.0], [0.3]])
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    d_ref = -np.mean(np.log(sig(real.numpy()))) - np.mean(np.log(1 - sig(fake.numpy())))
    g_ref = -np.mean(np.log(sig(fake.numpy())))  # Eq. 6: -log D(G(x))
    assert float(gan.discriminator_loss(real, fake)) == pytest.approx(d_ref, rel=1e-5)
    assert float(gan.generator_loss(real, fake)) == pytest.approx(g_ref, rel=1e-5)


def test_adversarial_weight_is_the_papers():
    assert losses.ADV_WEIGHT == 1e-3
    assert losses.VGG_RESCALE == pytest.approx(1 / 12.75)
