"""The networks of Fig. 4: parameter counts, shapes, pixel shuffle, safe-mode round trips."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.nn.layers import BicubicUpsample, PixelShuffle, PixelUnshuffle
from srgan_keras.nn.srgan_discriminator import build_discriminator
from srgan_keras.nn.srresnet import build_srresnet


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


@pytest.mark.slow
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
        import srgan_keras.nn.saving  # registers our layers; nothing else of ours is imported
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


def _watched_grads(layer, x, loss_fn):
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(layer(x, training=True))
    return tape.gradient(loss, [x] + [v.value for v in layer.trainable_variables])


def test_fused_batch_norm_equals_keras_batch_norm_in_values_gradients_and_moving_stats():
    from srgan_keras.nn.layers import BatchNormalization

    x = tf.constant(np.random.default_rng(0).normal(1.0, 2.0, (4, 9, 7, 8)).astype("float32"))
    ours, theirs = BatchNormalization(momentum=0.9), keras.layers.BatchNormalization(momentum=0.9)
    for layer in (ours, theirs):
        layer.build(x.shape)
        layer.gamma.assign(np.linspace(0.5, 2.0, 8))
        layer.beta.assign(np.linspace(-1.0, 1.0, 8))
    cube = lambda y: tf.reduce_sum(y ** 3)  # noqa: E731  (a loss whose gradient is not trivial)
    for got, want in zip(_watched_grads(ours, x, cube), _watched_grads(theirs, x, cube)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ours(x, training=True), theirs(x, training=True), atol=1e-5)
    # Two training calls each: the moving averages moved, and by the same (biased-variance) rule.
    assert not np.allclose(ours.moving_variance.numpy(), 1.0)
    np.testing.assert_allclose(ours.moving_mean.numpy(), theirs.moving_mean.numpy(), atol=1e-6)
    np.testing.assert_allclose(ours.moving_variance.numpy(), theirs.moving_variance.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours(x, training=False), theirs(x, training=False), atol=1e-5)
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


def test_fast_prelu_equals_keras_prelu_in_values_and_gradients():
    from srgan_keras.nn.layers import PReLU

    x = tf.constant(np.random.default_rng(1).normal(0.0, 1.0, (2, 5, 5, 4)).astype("float32"))
    ours, theirs = PReLU(shared_axes=[1, 2]), keras.layers.PReLU(shared_axes=[1, 2])
    for layer in (ours, theirs):
        layer.build(x.shape)
        layer.alpha.assign(np.array([0.25, -0.5, 1.5, 0.0], "float32").reshape(1, 1, 4))
    np.testing.assert_allclose(ours(x, training=True), theirs(x), atol=1e-7)
    np.testing.assert_allclose(ours(x, training=False), theirs(x), atol=1e-7)
    square = lambda y: tf.reduce_sum(y ** 2)  # noqa: E731
    for got, want in zip(_watched_grads(ours, x, square), _watched_grads(theirs, x, square)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # Training runs the select; inference keeps Keras' graph (the TFLite converter's PRELU).
    ops = lambda training: {op.type for op in tf.function(  # noqa: E731
        lambda t: ours(t, training=training)).get_concrete_function(x).graph.get_operations()}
    assert "SelectV2" in ops(True) and "SelectV2" not in ops(False)


def test_checkpoint_of_keras_layers_restores_into_ours(tmp_path):
    """Runs saved before the fused layers existed (plain Keras BN/PReLU) resume unchanged."""
    from srgan_keras.nn.layers import BatchNormalization, PReLU

    def net(bn, act):
        inp = keras.Input((None, None, 3))
        return keras.Model(inp, act(shared_axes=[1, 2], name="p")(bn(name="bn")(
            keras.layers.Conv2D(3, 3, padding="same", name="c")(inp))))

    old = net(keras.layers.BatchNormalization, keras.layers.PReLU)
    for v in old.weights:
        v.assign(np.random.default_rng(2).normal(size=v.shape).astype("float32") ** 2)
    path = tf.train.Checkpoint(generator=old).save(str(tmp_path / "ckpt"))
    new = net(BatchNormalization, PReLU)
    tf.train.Checkpoint(generator=new).restore(path).assert_existing_objects_matched()
    for a, b in zip(old.weights, new.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_fused_batch_norm_takes_bfloat16_inputs_like_keras():
    """Under mixed_bfloat16 the fused kernel runs too (oneDNN's bfloat16 batch norm)."""
    from srgan_keras.nn.layers import BatchNormalization

    x32 = np.random.default_rng(3).normal(0.5, 1.5, (4, 6, 6, 8)).astype("float32")
    x = tf.cast(x32, tf.bfloat16)
    ours = BatchNormalization(dtype="mixed_bfloat16")
    theirs = keras.layers.BatchNormalization(dtype="mixed_bfloat16")
    for layer in (ours, theirs):
        layer.build(x.shape)
    y_ours, y_theirs = ours(x, training=True), theirs(x, training=True)
    assert y_ours.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(y_ours, tf.float32), tf.cast(y_theirs, tf.float32), atol=0.05)
    np.testing.assert_allclose(ours.moving_variance.numpy(), theirs.moving_variance.numpy(), rtol=1e-2)
    graph = tf.function(lambda t: ours(t, training=True)).get_concrete_function(x).graph
    assert "FusedBatchNormV3" in {op.type for op in graph.get_operations()}
