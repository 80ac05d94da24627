"""Inference precision (issue 12.8's CLI speed): the bfloat16 copy, ``auto``, and the CLI flag."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from srgan_keras.inference import precision as prec
from srgan_keras.inference.runners import KerasRunner, load_generator
from srgan_keras.nn.rrdbnet import build_rrdbnet
from srgan_keras.nn.srresnet import build_srresnet
from srgan_keras.nn.srvgg import build_srvgg

REPO = Path(__file__).resolve().parents[1]
TFLITE = REPO / "saved_models" / "realesr_x4_fp16.tflite"
REALESR = REPO / "saved_models" / "realesr_x4.keras"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def lr_image(h: int = 24, w: int = 20) -> np.ndarray:
    return np.random.default_rng(0).random((1, h, w, 3)).astype(np.float32)


@pytest.mark.parametrize("build, float32_layers", [
    (lambda: build_srvgg(num_conv=4, num_feat=16), {"body_10", "upsampler", "base_nearest", "sr_unit"}),
    (lambda: build_srresnet(num_blocks=2, num_filters=8), {"tail_conv", "sr"}),
    (lambda: build_rrdbnet(num_block=1, num_feat=16, num_grow_ch=8), {"conv_last", "sr_unit"}),
])
def test_bfloat16_copy_runs_the_trunk_in_bfloat16_and_keeps_the_output_path_float32(
        build, float32_layers):
    keras.utils.set_random_seed(0)
    model = build()
    copy = prec.bfloat16_copy(model)
    policies = {layer.name: layer.dtype_policy.name for layer in copy.layers
                if not isinstance(layer, keras.layers.InputLayer)}
    assert {n for n, p in policies.items() if p == "float32"} == float32_layers
    assert set(policies.values()) == {"float32", "mixed_bfloat16"}
    for a, b in zip(model.get_weights(), copy.get_weights()):
        np.testing.assert_array_equal(a, b)  # the same float32 weights
    x = lr_image()
    ref, got = KerasRunner(model)(x), KerasRunner(copy, precision="bfloat16")(x)
    assert got.dtype == np.float32 and got.shape == ref.shape
    assert not np.array_equal(got, ref)  # it really computes in bfloat16 ...
    assert psnr(got, ref) > 50  # ... and stays close to float32


def test_srvgg_bfloat16_base_carries_the_input_exactly():
    """SRVGG's nearest-neighbour base stays float32: with the last convolution zeroed the copy's
    output is the input upsampled exactly (bfloat16 would round 8-bit values by up to 1/512)."""
    model = build_srvgg(num_conv=2, num_feat=8)
    last = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    x = (np.arange(3 * 5 * 7).reshape(1, 5, 7, 3) % 256 / 255.0).astype(np.float32)
    got = KerasRunner(prec.bfloat16_copy(model))(x)
    np.testing.assert_array_equal(got, np.repeat(np.repeat(x, 4, axis=1), 4, axis=2))


def test_auto_follows_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(prec, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512_bf16"}))
    assert prec.resolve_precision("auto") == "bfloat16"
    monkeypatch.setattr(prec, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    assert prec.resolve_precision("auto") == "bfloat16"
    monkeypatch.setattr(prec, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    assert prec.resolve_precision("auto") == "float32"
    assert prec.resolve_precision("bfloat16") == "bfloat16"  # explicit: as asked
    with pytest.raises(ValueError, match="precision must be one of"):
        prec.resolve_precision("float16")


def test_cpu_flags_reads_proc_cpuinfo(tmp_path, monkeypatch):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512_bf16 amx_tile\n")
    monkeypatch.setattr(prec, "CPUINFO", info)
    prec.cpu_flags.cache_clear()
    try:
        assert {"avx512_bf16", "amx_tile", "sse2"} <= prec.cpu_flags()
        monkeypatch.setattr(prec, "CPUINFO", tmp_path / "missing")
        prec.cpu_flags.cache_clear()
        assert prec.cpu_flags() == frozenset()
    finally:
        prec.cpu_flags.cache_clear()


def test_load_generator_precision(tiny_model_path, monkeypatch):
    assert load_generator(tiny_model_path).precision == "float32"  # the API's default
    runner = load_generator(tiny_model_path, precision="bfloat16")
    assert runner.precision == "bfloat16" and runner.name == "tiny_x4"
    assert runner.model.get_layer("tail_conv").dtype_policy.name == "float32"
    monkeypatch.setattr(prec, "cpu_flags", lambda: frozenset())
    assert load_generator(tiny_model_path, precision="auto").precision == "float32"
    with pytest.raises(ValueError, match="bfloat16 applies to .keras models"):
        load_generator(TFLITE, precision="bfloat16")
    monkeypatch.setattr(prec, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert not hasattr(load_generator(TFLITE, precision="auto"), "model")  # kept as exported


@pytest.mark.slow
@pytest.mark.skipif(not REALESR.exists(), reason="no bundled real-world model")
def test_bundled_model_in_bfloat16_is_within_a_grey_level_or_two(shared_data):
    from srgan_keras.data.imaging import load_rgb_uint8

    lr = load_rgb_uint8(shared_data / "Set14" / "comic.png")[:64, :64] / 255.0
    lr = lr[None].astype(np.float32)
    ref = load_generator(REALESR)(lr)
    got = load_generator(REALESR, precision="bfloat16")(lr)
    diff = np.abs(np.round(got * 255) - np.round(ref * 255))
    assert diff.max() <= 3 and diff.mean() < 0.2 and psnr(got, ref) > 55


@pytest.mark.slow
def test_cli_precision_flag_and_the_software_tag(tiny_model_path, tmp_path):
    src = tmp_path / "in.png"
    Image.fromarray((lr_image(12, 10)[0] * 255).astype(np.uint8)).save(src)
    outs = {}
    for p in ("float32", "bfloat16"):
        run = subprocess.run([sys.executable, "-m", "srgan_keras.upscale", str(src), "--model",
                              str(tiny_model_path), "--precision", p, "-o", str(tmp_path / p), "-q"],
                             capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 0, run.stderr[-2000:]
        with Image.open(tmp_path / p / "in_x4.png") as im:
            outs[p] = (np.asarray(im), im.text.get("Software", ""))
    from srgan_keras.inference.tiling import upscale_image

    ref = upscale_image(np.asarray(Image.open(src)), str(tiny_model_path))  # float32, in-process
    assert np.abs(outs["float32"][0].astype(int) - ref).max() <= 1  # another process: rounding
    assert outs["float32"][1].endswith("(tiny_x4)")
    assert outs["bfloat16"][1].endswith("(tiny_x4, bfloat16)")
    assert np.abs(outs["bfloat16"][0].astype(int) - outs["float32"][0]).max() <= 3
    bad = subprocess.run([sys.executable, "-m", "srgan_keras.upscale", str(src), "--precision",
                          "half", "-o", str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_evaluate_precision_flag_names_its_rows(tiny_model_path, tmp_path, capsys):
    from srgan_keras.evaluation import evaluate

    hr = tmp_path / "hr"
    hr.mkdir()
    rng = np.random.default_rng(1)
    for name in ("a", "b"):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(hr / f"{name}.png")
    scores = {}
    for p in ("float32", "bfloat16"):
        js = tmp_path / f"{p}.json"
        assert evaluate.main(["--model", str(tiny_model_path), "--data", str(hr), "--precision", p,
                              "--json", str(js)]) == 0
        scores[p] = js.read_text()
    assert "tiny_x4_bfloat16" in scores["bfloat16"] and "bfloat16" not in scores["float32"]


def test_auto_keeps_float32_for_a_model_it_cannot_copy(tmp_path, monkeypatch):
    """A .keras file whose model is not functional (no convolution here) runs as loaded under
    auto; asked for bfloat16 explicitly it gets the one-line reason."""
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.UpSampling2D(4)(inputs), name="no_conv")
    model.save(tmp_path / "no_conv_x4.keras")
    monkeypatch.setattr(prec, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    runner = load_generator(tmp_path / "no_conv_x4.keras", precision="auto")
    assert runner.precision == "float32" and runner.scale == 4
    with pytest.raises(ValueError, match="bfloat16 needs a functional Keras generator"):
        load_generator(tmp_path / "no_conv_x4.keras", precision="bfloat16")


def test_many_models_in_a_row_trace_without_a_retracing_warning(caplog):
    """Network interpolation runs one model per blend: each runner traces once, and TensorFlow must
    not warn that a function is retracing (it counted every runner's lambda as one function), nor
    does passing the same model again trace again."""
    import logging

    from srgan_keras.inference.runners import as_runner
    from srgan_keras.training.config import get_config
    from srgan_keras.training.networks import build_generator

    caplog.set_level(logging.WARNING, logger="tensorflow")
    for _ in range(7):
        model = build_generator(get_config("tiny"))
        for size in (8, 12):  # two image sizes share the runner's one trace
            as_runner(model)(np.zeros((1, size, size, 3), np.float32))
        assert as_runner(model) is as_runner(model)
    assert "retracing" not in caplog.text
    import gc
    import weakref

    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None  # the reused runner does not keep its model alive
