"""ESRGAN's losses: the relativistic average GAN against a numpy transcription of Eqs. 1-2, and
VGG features before activation against the convolution computed by hand (random VGG weights:
the ImageNet download is not available offline, and the wiring does not depend on them)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.nn import vgg
from srgan_keras.training import losses
from srgan_keras.training.losses import ContentLoss, RelativisticAverageGAN


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def ragan_numpy(c_real: np.ndarray, c_fake: np.ndarray) -> tuple[float, float]:
    """ESRGAN Eqs. 1-2 written with probabilities, D_Ra(a, b) = sigma(C(a) - E[C(b)])."""
    d_rf = sigmoid(c_real - c_fake.mean())  # D_Ra(x_r, x_f)
    d_fr = sigmoid(c_fake - c_real.mean())  # D_Ra(x_f, x_r)
    loss_d = -np.mean(np.log(d_rf)) - np.mean(np.log(1.0 - d_fr))  # Eq. 1
    loss_g = -np.mean(np.log(1.0 - d_rf)) - np.mean(np.log(d_fr))  # Eq. 2
    return loss_d, loss_g


@pytest.mark.parametrize("shape", [(8, 1), (2, 6, 5, 1)], ids=["per-image", "per-pixel"])
def test_ragan_matches_the_papers_equations(shape):
    rng = np.random.default_rng(0)
    c_real = rng.normal(1.0, 2.0, shape).astype(np.float32)
    c_fake = rng.normal(-0.5, 2.0, shape).astype(np.float32)
    loss_d, loss_g = ragan_numpy(c_real.astype(np.float64), c_fake.astype(np.float64))
    ragan = RelativisticAverageGAN()
    assert float(ragan.discriminator_loss(c_real, c_fake)) == pytest.approx(loss_d, rel=1e-5)
    assert float(ragan.generator_loss(c_real, c_fake)) == pytest.approx(loss_g, rel=1e-5)
    assert ragan.needs_real_for_generator


def test_ragan_is_stable_for_confident_logits():
    # probabilities underflow to 0 at |C| ~ 100; the logit form stays finite
    ragan = RelativisticAverageGAN()
    real, fake = tf.constant([[120.0], [90.0]]), tf.constant([[-110.0], [-95.0]])
    assert np.isfinite(float(ragan.generator_loss(real, fake)))
    assert float(ragan.discriminator_loss(real, fake)) == pytest.approx(0.0, abs=1e-6)


def test_ragan_generator_loss_is_the_discriminator_loss_with_roles_swapped():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
    ragan = RelativisticAverageGAN()
    assert float(ragan.generator_loss(real, fake)) == pytest.approx(
        float(ragan.discriminator_loss(fake, real)), rel=1e-6)


@pytest.fixture(scope="module")
def vgg_random():
    keras.utils.set_random_seed(0)
    return vgg.load_vgg19(None)


def test_preactivation_features_are_the_conv_without_its_relu(vgg_random, monkeypatch):
    monkeypatch.setattr(vgg, "load_vgg19", lambda weights: vgg_random)  # the same VGG
    loss = ContentLoss("vgg54_preact", vgg_weights=None)
    x = tf.random.stateless_uniform((2, 32, 32, 3), (1, 2), -1.0, 1.0)
    pre = loss.extractor(vgg.vgg_preprocess(x))

    # reference: the VGG's own block5_conv4, by hand, from its input, without the ReLU
    conv = vgg_random.get_layer("block5_conv4")
    before = keras.Model(vgg_random.input, conv.input)(vgg.vgg_preprocess(x))
    kernel, bias = conv.get_weights()
    np.testing.assert_allclose(loss.extractor.get_layer("block5_conv4_preact").get_weights()[0],
                               kernel)  # the same weights were copied
    ref = tf.nn.conv2d(before, kernel, 1, "SAME") + bias
    np.testing.assert_allclose(pre, ref, rtol=1e-4, atol=1e-3 * float(tf.reduce_max(tf.abs(ref))))
    assert float(tf.reduce_min(pre)) < 0  # the ReLU is really gone
    # ... and applying it gives VGG's usual (post-activation) feature map
    post = keras.Model(vgg_random.input, conv.output)(vgg.vgg_preprocess(x))
    np.testing.assert_allclose(tf.nn.relu(pre), post, rtol=1e-4,
                               atol=1e-3 * float(tf.reduce_max(tf.abs(ref))))
    assert conv.activation is keras.activations.relu  # the shared layer was not mutated


def test_preactivation_leaves_the_shared_vgg_layers_untouched():
    loss = ContentLoss("multi_preact", vgg_weights=None)
    ex = loss.extractor
    assert len(ex.outputs) == 5
    for name in ("block1_conv2", "block2_conv2", "block3_conv4", "block4_conv4"):
        assert ex.get_layer(name).activation is keras.activations.relu  # the chain keeps ReLU
        assert ex.get_layer(f"{name}_preact").activation is keras.activations.linear
    assert loss.layer_weights == [0.1, 0.1, 1.0, 1.0, 1.0]
    assert all(not w.trainable for w in ex.weights) and not ex.trainable_weights


def test_multi_layer_perceptual_loss_is_the_weighted_l1_of_raw_features():
    loss = ContentLoss("multi_preact", vgg_weights=None)
    hr = tf.random.stateless_uniform((1, 32, 32, 3), (3, 4), -1.0, 1.0)
    sr = tf.random.stateless_uniform((1, 32, 32, 3), (5, 6), -1.0, 1.0)
    fh = loss.extractor(vgg.vgg_preprocess(hr))
    fs = loss.extractor(vgg.vgg_preprocess(sr))
    ref = sum(w * np.mean(np.abs(a - b)) for w, a, b in zip([0.1, 0.1, 1, 1, 1], fh, fs))
    assert float(loss(hr, sr)) == pytest.approx(ref, rel=1e-4)  # no 1/12.75: ESRGAN's features
    assert float(loss(hr, hr)) == 0.0


def test_only_srgans_vgg_losses_are_rescaled():
    assert ContentLoss("vgg54", vgg_weights=None).feature_scale == pytest.approx(1 / 12.75)
    assert ContentLoss("vgg54_preact", vgg_weights=None).feature_scale == 1.0


def _torchvision_vgg19(torch):
    """torchvision's ``vgg19().features`` layout (conv, ReLU, ..., max-pool), built by hand."""
    layers, cin = [], 3
    for width, convs in ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4)):
        for _ in range(convs):
            layers += [torch.nn.Conv2d(cin, width, 3, padding=1), torch.nn.ReLU()]
            cin = width
        layers.append(torch.nn.MaxPool2d(2, 2))
    net = torch.nn.Module()
    net.features = torch.nn.Sequential(*layers)
    return net


def test_torchvision_vgg19_from_its_pth_matches_pytorch(tmp_path):
    """ESRGAN/Real-ESRGAN's perceptual loss: torchvision's VGG19 read from a .pth through the safe
    reader, fed RGB [0, 1] normalised by the ImageNet mean/std, as BasicSR's VGGFeatureExtractor."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = _torchvision_vgg19(torch).eval()
    path = tmp_path / "vgg19.pth"
    torch.save(net.state_dict(), path)
    loss = ContentLoss("multi_preact", vgg_weights=str(path))
    assert loss.flavour == "torch"
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
    ours = loss.extractor(vgg.vgg_preprocess(x, "torch"))
    mean = torch.tensor(vgg.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(vgg.IMAGENET_STD).view(1, 3, 1, 1)
    t = (torch.from_numpy((x + 1) / 2).permute(0, 3, 1, 2) - mean) / std
    refs, h = {}, t
    with torch.no_grad():
        for i, layer in enumerate(net.features):
            h = layer(h)
            refs[i] = h.permute(0, 2, 3, 1).numpy()
    for got, index in zip(ours, (2, 7, 16, 25, 34)):  # conv1_2 .. conv5_4, before their ReLU
        np.testing.assert_allclose(got, refs[index], rtol=1e-3,
                                   atol=1e-4 * float(np.abs(refs[index]).max()))


def test_esrgan_presets_default_to_torchvision_vgg_and_srgan_keeps_keras():
    from srgan_keras.training.config import get_config

    assert get_config("esrgan").vgg_weights == get_config("realesrgan").vgg_weights == "torchvision"
    assert get_config("paper").vgg_weights == "imagenet"
    assert vgg.vgg_flavour("imagenet") == "caffe" and vgg.vgg_flavour("x/vgg19.pth") == "torch"


def test_losses_serialize_and_go_into_compile():
    for loss in (losses.PixelLoss("l1"), ContentLoss("mse"), losses.VanillaGAN(),
                 RelativisticAverageGAN()):
        again = keras.losses.deserialize(keras.losses.serialize(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Conv2D(3, 1)])
    model.compile(optimizer="sgd", loss=losses.PixelLoss("l1"))
    x = np.zeros((2, 4, 4, 3), np.float32)
    assert np.isfinite(model.fit(x, x + 0.5, verbose=0).history["loss"][0])
