"""RRDBNet (ESRGAN §3.1): parameter counts, shapes at x1/x2/x4, initialisation, ranges, saving.

Numerical parity with BasicSR's PyTorch RRDBNet is tested in test_convert.py.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.nn.layers import CropToInput, NearestUpsample, PadToMultiple
from srgan_keras.nn.outputs import output_range
from srgan_keras.nn.rrdbnet import build_rrdbnet
from srgan_keras.nn.srresnet import build_srresnet


def n_trainable(model: keras.Model) -> int:
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


# x4 (RealESRGAN_x4plus) in the quick tier; x2 and x1 (6-9 s each on 2 cores) in the slow one
@pytest.mark.parametrize("scale,count", [(4, 16_697_987), pytest.param(2, 16_703_171, marks=pytest.mark.slow),
                                         pytest.param(1, 16_723_907, marks=pytest.mark.slow)])
def test_parameter_counts_are_the_published_models(scale, count):
    assert n_trainable(build_rrdbnet(scale)) == count


@pytest.mark.parametrize("scale", [4, 2, 1])
@pytest.mark.parametrize("size", [(12, 16), (13, 15)], ids=["multiple", "odd"])
def test_output_is_scale_times_the_input_at_any_size(scale, size):
    model = build_rrdbnet(scale, num_feat=8, num_block=1, num_grow_ch=4)
    out = model(np.random.rand(2, *size, 3).astype(np.float32))
    assert out.shape == (2, size[0] * scale, size[1] * scale, 3)
    assert out.dtype == tf.float32


def test_rdb_convs_are_he_normal_scaled_by_a_tenth():
    keras.utils.set_random_seed(0)
    model = build_rrdbnet(4, num_feat=64, num_block=2, num_grow_ch=32)
    for name, fan_in in (("body_0_rdb1_conv1", 9 * 64), ("body_1_rdb3_conv5", 9 * 192)):
        w = model.get_layer(name).kernel.numpy()
        assert w.std() == pytest.approx(0.1 * np.sqrt(2.0 / fan_in), rel=0.05)
        assert not model.get_layer(name).bias.numpy().any()
    # the other convs keep Keras' default (Glorot uniform): not scaled down
    first = model.get_layer("conv_first").kernel.numpy()
    assert first.std() > 0.05


def test_residual_scaling_of_rdb_and_rrdb():
    # With conv5 = 0 every RDB is x + 0.2 * 0 = x, so the RRDB is x + 0.2 * x = 1.2 x.
    model = build_rrdbnet(4, num_feat=8, num_block=1, num_grow_ch=4)
    for k in (1, 2, 3):
        conv5 = model.get_layer(f"body_0_rdb{k}_conv5")
        conv5.set_weights([np.zeros_like(w) for w in conv5.get_weights()])
    probe = keras.Model(model.input, [model.get_layer("conv_first").output,
                                      model.get_layer("body_0_rdb2_add").output,
                                      model.get_layer("body_0_add").output])
    x, rdb, block = probe(np.random.rand(1, 6, 6, 3).astype(np.float32))
    np.testing.assert_allclose(rdb, x, atol=1e-6)
    np.testing.assert_allclose(block, 1.2 * x, rtol=1e-5, atol=1e-6)


def test_layer_names_are_basicsrs():
    names = {layer.name for layer in build_rrdbnet(4, 8, 2, 4).layers}
    for name in ("conv_first", "body_1_rdb3_conv5", "conv_body", "conv_up1", "conv_up2",
                 "conv_hr", "conv_last"):
        assert name in names


def test_output_range_is_detectable_after_save_and_load(tmp_path):
    model = build_rrdbnet(2, num_feat=8, num_block=1, num_grow_ch=4)
    model.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    x = np.random.rand(1, 7, 9, 3).astype(np.float32)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    assert output_range(loaded) == "unit"
    assert output_range(build_srresnet(num_blocks=1, num_filters=8)) == "signed"


def test_nearest_upsample_equals_upsampling2d():
    x = np.random.rand(2, 5, 7, 6).astype(np.float32)
    np.testing.assert_array_equal(NearestUpsample(2)(x), keras.layers.UpSampling2D(2)(x))


def test_pad_to_multiple_reflects_and_crop_undoes_it():
    x = np.arange(5 * 7 * 3, dtype=np.float32).reshape(1, 5, 7, 3)
    padded = PadToMultiple(4)(x)
    assert padded.shape == (1, 8, 8, 3)
    np.testing.assert_array_equal(padded[0, 5, :7], x[0, 3])  # reflection about the last row
    np.testing.assert_array_equal(CropToInput(1)([padded, x]), x)


@pytest.mark.slow
def test_a_training_step_compiles_under_xla():
    model = build_rrdbnet(2, num_feat=8, num_block=1, num_grow_ch=4)
    opt = keras.optimizers.Adam(1e-3)
    opt.build(model.trainable_variables)

    @tf.function(jit_compile=True)
    def step(lr, hr):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(model(lr, training=True) - hr))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                model.trainable_variables))
        return loss

    lr, hr = tf.random.uniform((2, 8, 8, 3)), tf.random.uniform((2, 16, 16, 3))
    losses = [float(step(lr, hr)) for _ in range(5)]
    assert losses[-1] < losses[0]


def test_inference_and_export_keep_the_unit_range():
    from srgan_keras.export.generator import unit_output
    from srgan_keras.inference.runners import as_runner

    model = build_rrdbnet(4, num_feat=8, num_block=1, num_grow_ch=4)
    x = np.random.rand(1, 6, 6, 3).astype(np.float32)
    expected = np.clip(model(x).numpy(), 0, 1)
    np.testing.assert_allclose(as_runner(model)(x), expected, atol=1e-6)
    np.testing.assert_allclose(unit_output(model, x), expected, atol=1e-6)
