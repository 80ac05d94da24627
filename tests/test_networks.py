"""The networks of Fig. 4: parameter counts, shapes, pixel shuffle, safe-mode round trips."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.discriminator import build_discriminator
from srgan_keras.generator import build_srresnet
from srgan_keras.layers import BicubicUpsample, PixelShuffle, PixelUnshuffle


def n_trainable(model: keras.Model) -> int:
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


def test_srresnet_has_the_papers_parameter_count():
    assert n_trainable(build_srresnet()) == 1_550_659


def test_prelu_is_per_channel_and_shared_over_space():
    g = build_srresnet(num_blocks=1, num_filters=8)
    assert g.get_layer("head_prelu").weights[0].shape == (1, 1, 8)


def test_discriminator_has_the_papers_parameter_count_at_96():
    assert n_trainable(build_discriminator(96)) == 23_565_505


def test_discriminator_returns_one_logit_per_image():
    d = build_discriminator(32, num_filters=8)
    out = d(np.random.rand(3, 32, 32, 3).astype("float32") * 2 - 1, training=False)
    assert out.shape == (3, 1)


@pytest.mark.parametrize("scale", [2, 4, 8])
@pytest.mark.parametrize("upsampler", ["pixel_shuffle", "nearest_conv", "transpose"])
def test_generator_output_shape_and_range(scale, upsampler):
    g = build_srresnet(scale=scale, num_blocks=1, num_filters=8, upsampler=upsampler)
    x = np.random.rand(2, 7, 11, 3).astype("float32")  # odd sizes
    y = g(x, training=False).numpy()
    assert y.shape == (2, 7 * scale, 11 * scale, 3)
    assert y.min() >= -1 and y.max() <= 1


def test_generator_rejects_scale_3():
    with pytest.raises(ValueError, match="scale must be 2, 4 or 8"):
        build_srresnet(scale=3)


def test_global_residual_starts_exactly_at_bicubic():
    g = build_srresnet(scale=4, num_blocks=1, num_filters=8, global_residual=True)
    x = np.random.rand(1, 9, 10, 3).astype("float32")
    bic = tf.image.resize(x, (36, 40), "bicubic").numpy() * 2 - 1
    np.testing.assert_allclose(g(x, training=False).numpy(), bic, atol=1e-5)


def pixel_shuffle_reference(x: np.ndarray, r: int) -> np.ndarray:
    """Plain loops: out[r*y + i, r*x + j, c] = in[y, x, (i*r + j)*C + c]."""
    b, h, w, cr = x.shape
    c = cr // (r * r)
    out = np.zeros((b, h * r, w * r, c), x.dtype)
    for y in range(h):
        for xx in range(w):
            for i in range(r):
                for j in range(r):
                    out[:, r * y + i, r * xx + j, :] = x[:, y, xx, (i * r + j) * c:(i * r + j + 1) * c]
    return out


@pytest.mark.parametrize("r", [2, 3])
def test_pixel_shuffle_matches_numpy_reference_and_inverts(r):
    x = np.random.rand(2, 3, 5, 4 * r * r).astype("float32")
    y = PixelShuffle(r)(x).numpy()
    np.testing.assert_array_equal(y, pixel_shuffle_reference(x, r))
    np.testing.assert_array_equal(PixelUnshuffle(r)(y).numpy(), x)


@pytest.mark.parametrize("scale", [2, 4])
def test_bicubic_upsample_layer_equals_tf_resize(scale):
    x = np.random.rand(2, 6, 9, 3).astype("float32")
    ref = tf.image.resize(x, (6 * scale, 9 * scale), "bicubic").numpy()
    np.testing.assert_allclose(BicubicUpsample(scale)(x).numpy(), ref, atol=1e-5)


def test_keras_files_load_in_safe_mode_in_a_fresh_process(tmp_path):
    g = build_srresnet(num_blocks=1, num_filters=8, global_residual=True)
    d = build_discriminator(32, num_filters=8)
    x = np.random.rand(1, 8, 8, 3).astype("float32")
    hr = np.random.rand(1, 32, 32, 3).astype("float32")
    g.save(tmp_path / "g.keras")
    d.save(tmp_path / "d.keras")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "hr.npy", hr)
    np.save(tmp_path / "g_out.npy", g(x, training=False).numpy())
    np.save(tmp_path / "d_out.npy", d(hr, training=False).numpy())
    script = textwrap.dedent(f"""
        import numpy as np, keras
        import srgan_keras  # registers the layers; nothing else is imported
        p = {str(tmp_path)!r}
        g = keras.saving.load_model(p + "/g.keras", safe_mode=True)
        d = keras.saving.load_model(p + "/d.keras", safe_mode=True)
        np.testing.assert_allclose(g(np.load(p + "/x.npy"), training=False).numpy(),
                                   np.load(p + "/g_out.npy"), atol=1e-6)
        np.testing.assert_allclose(d(np.load(p + "/hr.npy"), training=False).numpy(),
                                   np.load(p + "/d_out.npy"), atol=1e-5)
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ok" in out.stdout


def test_no_lambda_layers():
    for model in (build_srresnet(num_blocks=1, num_filters=8, global_residual=True),
                  build_discriminator(32, num_filters=8)):
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)
