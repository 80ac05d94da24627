"""SRVGGNetCompact (Real-ESRGAN's compact generator): counts, residual base, save/load, every path.

Tiny configs (8 features, 1-2 body convolutions) except for the parameter counts, which build the
published sizes without running them.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from srgan_keras.nn.outputs import output_range
from srgan_keras.nn.srvgg import build_srvgg


def tiny(scale: int = 4, num_conv: int = 2, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return build_srvgg(scale=scale, num_feat=8, num_conv=num_conv)


def nearest(x: np.ndarray, s: int) -> np.ndarray:
    return x.repeat(s, axis=1).repeat(s, axis=2)


@pytest.mark.parametrize("scale,num_conv,count", [(4, 32, 1_213_296), (4, 16, 621_424),
                                                  (2, 16, 600_652)],
                         ids=["general-x4v3", "animevideov3", "xsx2"])
def test_parameter_counts_are_the_published_models(scale, num_conv, count):
    assert build_srvgg(scale=scale, num_conv=num_conv).count_params() == count


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_is_the_nearest_upsample_when_the_last_conv_is_zero(scale):
    model = tiny(scale)
    last = model.get_layer("body_6")  # body.0 conv, 2 x (conv, prelu) after it, then the last
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    x = np.random.default_rng(scale).random((2, 7, 5, 3), dtype=np.float32)
    np.testing.assert_array_equal(model(x, training=False).numpy(), nearest(x, scale))
    assert output_range(model) == "unit"


@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 13, 6), (3, 9, 17)])
def test_any_input_size(shape):
    model = tiny(3)
    out = model(np.random.rand(*shape, 3).astype(np.float32), training=False)
    assert tuple(out.shape) == (shape[0], 3 * shape[1], 3 * shape[2], 3)


def test_layers_are_the_reference_state_dict_names_and_prelu_is_per_channel():
    model = tiny(4, num_conv=2)
    assert [layer.name for layer in model.layers if layer.weights] == \
        [f"body_{k}" for k in range(7)]
    assert tuple(model.get_layer("body_3").weights[0].shape) == (1, 1, 8)  # one slope / channel
    np.testing.assert_array_equal(model.get_layer("body_1").get_weights()[0], 0.25)


@pytest.mark.slow
def test_safe_mode_keras_round_trip_in_a_fresh_process(tmp_path):
    model = tiny(2)
    x = np.random.default_rng(1).random((1, 9, 11, 3), dtype=np.float32)
    model.save(tmp_path / "g.keras")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", model(x, training=False).numpy())
    script = textwrap.dedent(f"""
        import numpy as np, keras
        import srgan_keras.nn.saving  # registers our layers
        p = {str(tmp_path)!r}
        g = keras.saving.load_model(p + "/g.keras", safe_mode=True)
        np.testing.assert_array_equal(g(np.load(p + "/x.npy"), training=False).numpy(),
                                      np.load(p + "/y.npy"))
        print(g.layers[-1].name)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "sr_unit"


def test_tiled_upscale_equals_the_whole_image():
    from srgan_keras.inference.runners import as_runner
    from srgan_keras.inference.tiling import upscale_image

    runner = as_runner(tiny(4))
    img = np.random.default_rng(2).random((37, 29, 3), dtype=np.float32)
    whole = upscale_image(img, runner, tile=None)
    assert whole.shape == (148, 116, 3)
    np.testing.assert_array_equal(upscale_image(img, runner, tile=16, tile_overlap=4), whole)


onnx_missing = (importlib.util.find_spec("tf2onnx") is None
                or importlib.util.find_spec("onnxruntime") is None)


@pytest.mark.slow
@pytest.mark.parametrize("fmt,atol", [("saved_model", 1e-5), ("tflite", 1e-5),
                                      ("tflite-float16", 1e-3),  # the bundled model's format
                                      pytest.param("onnx", 1e-5, marks=pytest.mark.skipif(
                                          onnx_missing, reason="pip install -e .[onnx]"))])
def test_exported_formats_load_and_match_keras(tmp_path, fmt, atol):
    from functools import partial

    from srgan_keras.export import formats
    from srgan_keras.inference.runners import as_runner, load_generator

    model = tiny(4)
    fn, name = {"saved_model": (formats.export_saved_model, "sm"),
                "tflite": (formats.export_tflite, "g.tflite"),
                "tflite-float16": (partial(formats.export_tflite, quantize="float16"), "h.tflite"),
                "onnx": (formats.export_onnx, "g.onnx")}[fmt]
    runner = load_generator(fn(model, tmp_path / name))
    x = np.random.default_rng(3).random((1, 11, 13, 3), dtype=np.float32)
    ref = as_runner(model)(x)
    assert runner.scale == 4 and ref.std() > 0.05
    assert np.abs(runner(x) - ref).max() < atol


def test_evaluate_and_interpolate_take_it():
    from srgan_keras.evaluation.protocol import evaluate_image
    from srgan_keras.nn.interpolation import interpolate_models

    a, b = tiny(2, seed=0), tiny(2, seed=1)
    mid = interpolate_models(a, b, 0.5)
    for wm, wa, wb in zip(mid.get_weights(), a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wm, 0.5 * (wa + wb), atol=1e-7)
    assert output_range(mid) == "unit"
    hr = (np.random.default_rng(4).random((24, 20, 3)) * 255).astype(np.uint8)
    res = evaluate_image(mid, hr, bicubic=False)
    assert res.sr.shape == hr.shape and np.isfinite(res.metrics["psnr_y"])


@pytest.mark.slow
def test_train_cli_smoke(tmp_path):
    from srgan_keras.training import train

    out = tmp_path / "run"
    assert train.main(["--preset", "tiny", "--generator", "srvgg", "--num-conv", "1",
                       "--phase", "pretrain", "--pretrain-steps", "1", "--out", str(out)]) == 0
    g = keras.saving.load_model(out / "generator.keras", safe_mode=True)
    assert g.layers[-1].name == "sr_unit"
    assert [layer.name for layer in g.layers if layer.name.startswith("body_")][-1] == "body_4"
    assert json.loads((out / "config.json").read_text())["num_conv"] == 1
