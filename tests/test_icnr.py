"""ICNR (Aitken, Ledig et al. 2017): sub-pixel convolutions that start without a checkerboard."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from srgan_keras.nn.icnr import ICNR, icnr_project, phase_spread, project_model, subpixel_convolutions
from srgan_keras.nn.layers import PixelShuffle
from srgan_keras.nn.srresnet import build_srresnet
from srgan_keras.nn.srvgg import build_srvgg


def _cells_constant(img: np.ndarray, r: int) -> float:
    """Largest deviation of any pixel from its r x r cell's mean (0 = every cell constant)."""
    b, h, w, c = img.shape
    cells = img.reshape(b, h // r, r, w // r, r, c)
    return float(np.abs(cells - cells.mean(axis=(2, 4), keepdims=True)).max())


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_icnr_conv_then_shuffle_repeats_every_phase(factor):
    keras.utils.set_random_seed(1)
    x = keras.Input((None, None, 5))
    h = keras.layers.Conv2D(3 * factor**2, 3, padding="same", kernel_initializer=ICNR(factor),
                            bias_initializer="zeros")(x)
    model = keras.Model(x, PixelShuffle(factor)(h))
    out = np.asarray(model(np.random.default_rng(0).normal(size=(2, 6, 7, 5)).astype("float32")))
    assert out.std() > 0.1  # not a trivially zero kernel
    assert _cells_constant(out, factor) < 1e-5


def test_without_icnr_the_phases_differ_at_initialisation():
    keras.utils.set_random_seed(1)
    x = keras.Input((None, None, 5))
    h = keras.layers.Conv2D(12, 3, padding="same")(x)
    out = np.asarray(keras.Model(x, PixelShuffle(2)(h))(np.ones((1, 6, 6, 5), "float32")))
    assert _cells_constant(out, 2) > 1e-2


@pytest.mark.parametrize("build,factors", [
    (lambda icnr: build_srresnet(num_blocks=1, num_filters=8, icnr=icnr), [2, 2]),
    (lambda icnr: build_srvgg(num_conv=2, num_feat=8, icnr=icnr), [4]),
])
def test_builders_use_icnr_by_default_and_can_turn_it_off(build, factors):
    found = subpixel_convolutions(build(True))
    assert [f for _, f in found] == factors
    assert all(phase_spread(conv.get_weights()[0], f) == 0.0 for conv, f in found)
    assert all(phase_spread(conv.get_weights()[0], f) > 0.5
               for conv, f in subpixel_convolutions(build(False)))


@pytest.mark.parametrize("block", ["up0_prelu", "up1_prelu"])
def test_each_srresnet_upsampler_starts_as_nearest_neighbour(block):
    # Each ICNR x2 upsampler's output is constant on its 2x2 cells at initialisation: the pixel
    # shuffle adds no pattern of its own (the next 3x3 conv then mixes neighbouring cells).
    keras.utils.set_random_seed(0)
    g = build_srresnet(num_blocks=1, num_filters=8)
    feats = keras.Model(g.input, g.get_layer(block).output)
    out = np.asarray(feats(np.random.default_rng(0).uniform(size=(1, 8, 8, 3)).astype("float32")))
    assert out.std() > 0.01 and _cells_constant(out, 2) < 1e-5


def test_icnr_saves_and_loads_in_safe_mode(tmp_path):
    g = build_srvgg(num_conv=1, num_feat=8)
    g.save(tmp_path / "g.keras")
    back = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    conv = back.get_layer("body_4")
    assert isinstance(conv.kernel_initializer, ICNR) and conv.kernel_initializer.factor == 4
    np.testing.assert_array_equal(conv.get_weights()[0], g.get_layer("body_4").get_weights()[0])


def test_icnr_refuses_channels_that_are_not_a_multiple_of_the_phases():
    with pytest.raises(ValueError, match="divisible by 4"):
        ICNR(2)((3, 3, 4, 6))


def test_projection_averages_the_phases_of_a_trained_kernel():
    rng = np.random.default_rng(0)
    kernel, bias = rng.normal(size=(3, 3, 4, 12)).astype("float32"), rng.normal(size=12).astype("float32")
    k, b = icnr_project(kernel, bias, 2)
    assert phase_spread(k, 2) == 0.0 and phase_spread(kernel, 2) > 0.5
    np.testing.assert_allclose(k[..., :3], kernel.reshape(3, 3, 4, 4, 3).mean(axis=3), atol=1e-6)
    np.testing.assert_allclose(b[:3], bias.reshape(4, 3).mean(axis=0), atol=1e-6)
    g = build_srresnet(num_blocks=1, num_filters=8, icnr=False)
    assert project_model(g) == ["up0_conv", "up1_conv"]
    assert all(phase_spread(c.get_weights()[0], f) == 0.0 for c, f in subpixel_convolutions(g))
