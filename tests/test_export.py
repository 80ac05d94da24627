"""Export to SavedModel / TFLite (issue 4): formats load, run at any size, meet the parity minimums.

The model is the tiny 2-block, 8-filter SRResNet, trained for a few hundred Adam steps on two
built-in photos first: an untrained network's output is nearly flat, which would make int8
quantization look better than it is.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# The whole module is the slow tier: SavedModel, TFLite (int8 included) and ONNX exports of a
# trained model, and CLI subprocesses (about 4 minutes on 2 cores).
pytestmark = pytest.mark.slow

TRAIN_STEPS = 100
SIZES = ((1, 20, 24, 3), (2, 13, 17, 3))  # two LR input shapes, odd sizes on purpose


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(model, path of its .keras file): the tiny generator after L1 training on 2 photos."""
    import keras

    from srgan_keras.data.degradation import make_lr_numpy
    from srgan_keras.data.imaging import builtin_images
    from srgan_keras.data.ranges import pixels_to_signed, pixels_to_unit
    from srgan_keras.nn.srresnet import build_srresnet

    keras.utils.set_random_seed(0)
    model = build_srresnet(scale=4, num_blocks=2, num_filters=8)
    hrs = [hr for _, hr in builtin_images(("chelsea", "rocket"))]
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(10):
        lrs, targets = [], []
        for i in range(8):
            hr = hrs[i % 2]
            y, x = rng.integers(0, hr.shape[0] - 96), rng.integers(0, hr.shape[1] - 96)
            crop = hr[y : y + 96, x : x + 96]
            lrs.append(pixels_to_unit(make_lr_numpy(crop, 4)))
            targets.append(pixels_to_signed(crop))  # [-1, 1], paper §3.2
        batches.append((np.stack(lrs), np.stack(targets)))
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mae", jit_compile=False)  # L1
    for i in range(TRAIN_STEPS):
        model.train_on_batch(*batches[i % len(batches)])
    path = tmp_path_factory.mktemp("model") / "generator.keras"
    model.save(path)
    return model, path


@pytest.fixture(scope="module")
def images():
    from srgan_keras.export.images import check_images

    return check_images(None, 4, max_lr=48)


def _check_runs(runner, scale: int = 4) -> None:
    for shape in SIZES:
        out = runner(np.random.default_rng(1).random(shape, dtype=np.float32))
        assert out.shape == (shape[0], shape[1] * scale, shape[2] * scale, 3)
        assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("quantize", ["none", "float16", "dynamic", "int8"])
def test_tflite_formats_run_and_meet_parity(trained, images, tmp_path, quantize):
    from srgan_keras.export.formats import export_tflite
    from srgan_keras.export.parity import MIN_PSNR_DB, parity_report
    from srgan_keras.inference.exported import TFLiteRunner

    model, _ = trained
    path = export_tflite(model, tmp_path / f"g_{quantize}.tflite", quantize=quantize)
    runner = TFLiteRunner(path)
    assert runner.scale == 4 and runner.fixed_size is None
    _check_runs(runner)
    report = parity_report(model, path, images, latency_sizes=(16,), kind=quantize)
    assert report["min_psnr_vs_keras_db"] >= MIN_PSNR_DB[quantize], report
    assert report["meets_minimum"]
    details = runner._interp.get_input_details()[0]
    assert list(details["shape_signature"]) == [-1, -1, -1, 3]
    if quantize == "int8":  # full integer: int8 in, about 1/255 per step once calibrated
        assert details["dtype"] == np.int8
        assert abs(details["quantization"][0] * 255 - 1) < 0.05


def test_float16_is_smaller_than_float32(trained, tmp_path):
    from srgan_keras.export.formats import export_tflite

    model, _ = trained
    f32 = export_tflite(model, tmp_path / "a.tflite").stat().st_size
    f16 = export_tflite(model, tmp_path / "b.tflite", quantize="float16").stat().st_size
    assert f16 < 0.8 * f32  # fp16 weights; without optimizations=[DEFAULT] it stays fp32 size


def test_saved_model_signatures(trained, images, tmp_path):
    import tensorflow as tf

    from srgan_keras.export.formats import export_saved_model
    from srgan_keras.export.generator import unit_output
    from srgan_keras.export.parity import parity_report
    from srgan_keras.inference.exported import SavedModelRunner

    model, _ = trained
    path = export_saved_model(model, tmp_path / "sm")
    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]
    (spec,) = serve.structured_input_signature[1].values()
    assert spec.dtype == tf.uint8 and spec.shape.as_list() == [None, None, None, 3]
    (out_spec,) = serve.structured_outputs.values()
    assert out_spec.dtype == tf.uint8 and out_spec.shape.as_list() == [None, None, None, 3]
    (fspec,) = loaded.signatures["upscale_float"].structured_input_signature[1].values()
    assert fspec.dtype == tf.float32

    pixels = np.random.default_rng(2).integers(0, 256, (2, 11, 14, 3), dtype=np.uint8)
    (sr,) = serve(images=tf.constant(pixels)).values()
    assert sr.dtype == tf.uint8 and sr.shape == (2, 44, 56, 3)
    ref = np.round(unit_output(model, pixels.astype(np.float32) / 255.0).numpy() * 255)
    assert np.abs(sr.numpy().astype(float) - ref).max() <= 1  # only rounding ties may differ

    runner = SavedModelRunner(path)
    assert runner.scale == 4
    _check_runs(runner)
    assert parity_report(model, path, images, latency_sizes=(16,))["min_psnr_vs_keras_db"] >= 60


def test_fixed_input_size_tiles_any_image(trained, tmp_path):
    from srgan_keras.export.formats import export_tflite
    from srgan_keras.export.generator import unit_output
    from srgan_keras.inference.exported import TFLiteRunner

    model, _ = trained
    path = export_tflite(model, tmp_path / "fixed.tflite", input_size="40x36")
    runner = TFLiteRunner(path)
    assert runner.fixed_size == (40, 36)
    assert list(runner._interp.get_input_details()[0]["shape_signature"]) == [1, 40, 36, 3]
    x = np.random.default_rng(3).random((2, 90, 77, 3), dtype=np.float32)
    # Tiles of 40x36 overlapping by 2 x 16 px (more than this model's ~12 px receptive radius)
    # and the batch looped: the same as the whole image at once.
    out = runner(x)
    ref = unit_output(model, x).numpy()
    assert out.shape == ref.shape
    assert np.abs(out - ref).max() * 255 < 0.01
    assert runner(x[:1, :9, :30]).shape == (1, 36, 120, 3)  # smaller than a tile: padded


def test_spans_cover_exactly_once():
    from srgan_keras.inference.exported import _spans

    for n, tile, margin in [(50, 24, 16), (100, 32, 8), (33, 32, 8), (32, 32, 8), (7, 8, 2)]:
        spans = _spans(max(n, tile), tile, margin)
        kept = [i for _, lo, hi in spans for i in range(lo, hi)]
        assert kept == list(range(max(n, tile)))
        for start, lo, hi in spans:
            assert start <= lo < hi <= start + tile


def test_cli_writes_model_and_report(trained, tmp_path, capsys):
    from srgan_keras.export.export import main

    _, model_path = trained
    out = tmp_path / "out" / "g.tflite"
    assert main(["--model", str(model_path), "--to", "tflite", "--quantize", "dynamic",
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "PSNR vs Keras" in printed and "latency" in printed
    report = json.loads((tmp_path / "out" / "g.tflite.parity.json").read_text())
    for key in ("psnr_vs_keras_db", "max_abs_diff_grey", "size_mb", "latency_ms"):
        assert key in report
    assert "128x128" in report["latency_ms"] and report["meets_minimum"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["g.tflite", "g.tflite.parity.json"]
    # nothing of the user's is overwritten without --overwrite
    before = out.read_bytes()
    assert main(["--model", str(model_path), "--to", "tflite", "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == before


def _fails(argv, capsys, expect: str) -> None:
    from srgan_keras.export.export import main

    assert main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert expect in err and len(err.splitlines()) == 1, err


def test_errors_are_one_line_and_leave_nothing(trained, tmp_path, capsys):
    from srgan_keras.nn.srgan_discriminator import build_discriminator

    _, model_path = trained
    disc = tmp_path / "discriminator.keras"
    build_discriminator(hr_size=32, num_filters=8).save(disc)
    junk = tmp_path / "notes.keras"
    junk.write_text("not a model")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    before = sorted(p.name for p in tmp_path.iterdir())

    _fails(["--model", str(disc), "--to", "tflite", "-o", str(tmp_path / "d.tflite")], capsys,
           "not the discriminator")
    _fails(["--model", str(junk), "--to", "saved_model", "-o", str(tmp_path / "j")], capsys,
           "not a loadable Keras model")
    _fails(["--model", str(tmp_path / "missing.keras"), "--to", "tflite",
            "-o", str(tmp_path / "m.tflite")], capsys, "no such model file")
    _fails(["--model", str(model_path), "--to", "tflite", "-o", str(blocker / "g.tflite")],
           capsys, "cannot write to")
    _fails(["--model", str(model_path), "--to", "tflite", "--quantize", "int8",
            "--calibration", str(empty), "-o", str(tmp_path / "c.tflite")], capsys,
           "no images found")
    _fails(["--model", str(model_path), "--to", "saved_model", "--quantize", "int8",
            "-o", str(tmp_path / "s")], capsys, "tflite only")
    _fails(["--model", str(model_path), "--to", "tflite", "--input-size", "big",
            "-o", str(tmp_path / "b.tflite")], capsys, "expected HxW")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no partial or temp files


def test_a_bundled_name_is_exported_and_other_kinds_say_why_not(tmp_path, capsys):
    """Issue 28.2: export --model realesr works as upscale --model realesr does (its file in
    saved_models/); bicubic, a mistyped name and a .pth that is not weights each get the sentence
    that helps."""
    from srgan_keras.export.export import main
    from srgan_keras.inference.bundled import SAVED_MODELS

    pth = tmp_path / "x.pth"
    pth.write_bytes(b"PK\x03\x04")
    for model, says in [("bicubic", "not a network"), ("realsr", "did you mean realesr?"),
                        (str(pth), f"--model {pth}: cannot be converted")]:  # converted on the fly
        _fails(["--model", model, "--to", "saved_model", "-o", str(tmp_path / "s")], capsys, says)
    out = tmp_path / "realesr_savedmodel"
    assert main(["--model", "realesr", "--to", "saved_model", "-o", str(out)]) == 0
    assert (out / "saved_model.pb").is_file()
    report = json.loads((tmp_path / "realesr_savedmodel.parity.json").read_text())
    assert report["meets_minimum"]
    assert (SAVED_MODELS / "realesr_x4.keras").is_file()  # the input is untouched


def test_failed_conversion_leaves_no_partial_files(trained, tmp_path, monkeypatch):
    from srgan_keras.export import export as ex

    def broken(*args, **kwargs):
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(ex, "tflite_bytes", broken)
    with pytest.raises(RuntimeError):
        ex.export(trained[1], "tflite", tmp_path / "g.tflite")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(importlib.util.find_spec("tf2onnx") is None
                    or importlib.util.find_spec("onnxruntime") is None,
                    reason="optional extra not installed: pip install -e .[onnx]")
def test_onnx_with_global_residual(tmp_path):
    """ONNX (optional extra) on the global-residual variant, whose fixed bicubic kernel must be
    embedded in the file rather than left as an extra input."""
    import keras

    from srgan_keras.export.formats import export_onnx
    from srgan_keras.export.parity import parity_report
    from srgan_keras.inference.exported import OnnxRunner
    from srgan_keras.nn.srresnet import build_srresnet

    keras.utils.set_random_seed(0)
    model = build_srresnet(scale=4, num_blocks=1, num_filters=8, global_residual=True)
    path = export_onnx(model, tmp_path / "g.onnx")
    runner = OnnxRunner(path)
    assert runner.scale == 4 and len(runner._session.get_inputs()) == 1
    _check_runs(runner)
    lr = np.random.default_rng(4).random((12, 10, 3), dtype=np.float32)
    assert parity_report(model, path, [lr], latency_sizes=())["min_psnr_vs_keras_db"] >= 60


def test_set5_psnr_close_to_keras(trained, shared_data, tmp_path):
    """Issue 4: exported PSNR-Y against HR on Set5 within 0.05 dB (fp16) / 0.5 dB (int8)."""
    from srgan_keras.export.formats import export_tflite
    from srgan_keras.export.images import check_images
    from srgan_keras.export.parity import parity_report

    model, _ = trained
    set5 = check_images(shared_data / "Set5", 4, max_lr=64)  # centre crops, to stay fast
    for quantize, tolerance in (("float16", 0.05), ("int8", 0.5)):
        path = export_tflite(model, tmp_path / f"{quantize}.tflite", quantize=quantize)
        r = parity_report(model, path, set5, latency_sizes=())
        assert abs(r["psnr_y_vs_hr_exported_db"] - r["psnr_y_vs_hr_keras_db"]) <= tolerance, r


def test_evaluate_cli_runs_a_tflite(trained, shared_data, tmp_path):
    from srgan_keras.export.formats import export_tflite

    path = export_tflite(trained[0], tmp_path / "g.tflite")
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo), "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-m", "srgan_keras.evaluate", "--model", str(path),
                           "--data", str(shared_data / "Set5")], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "psnr" in (proc.stdout + proc.stderr).lower()


def test_load_generator_routes_onnx_files(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    from srgan_keras.inference.runners import load_generator
    from srgan_keras.nn.srresnet import build_srresnet

    model = build_srresnet(num_blocks=1, num_filters=8)
    path = tmp_path / "g.onnx"
    from srgan_keras.export.formats import export_onnx

    export_onnx(model, path)
    runner = load_generator(path)
    assert runner.scale == 4
    out = runner(np.random.rand(1, 10, 12, 3).astype("float32"))
    assert out.shape == (1, 40, 48, 3)
