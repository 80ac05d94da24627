"""Bundled models on LiteRT without TensorFlow (issue 29.1): the runtime choice, the TFLite weight
blend of the denoise strength, and the upscale CLI's default path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from srgan_keras.inference import litert, runners, tflite_blend

SAVED = REPO / "saved_models"
MODEL, WDN = SAVED / "realesr_x4_fp16.tflite", SAVED / "realesr_x4_wdn_fp16.tflite"


def _bytes(path) -> bytes:
    if not path.is_file():
        pytest.skip(f"no {path.name}")
    return path.read_bytes()


def test_the_flatbuffer_reader_finds_the_weight_buffers_the_schema_module_finds():
    """Our few lines of FlatBuffer reading against the reader generated from schema.fbs that ships
    with ai_edge_litert: the same buffers, as views of the same bytes, float16 weights."""
    schema = pytest.importorskip("ai_edge_litert.schema_py_generated")
    data = bytearray(_bytes(MODEL))
    ours = tflite_blend.float_weights(data)
    model = schema.Model.GetRootAs(data, 0)
    graph = model.Subgraphs(0)
    floats = sorted({graph.Tensors(i).Buffer() for i in range(graph.TensorsLength())
                     if graph.Tensors(i).Type() in tflite_blend.FLOAT_TYPES
                     and model.Buffers(graph.Tensors(i).Buffer()).DataLength()})
    theirs = [model.Buffers(b).DataAsNumpy() for b in floats]
    assert len(ours) == len(theirs) > 30  # SRVGGNetCompact: 34 convolutions and 33 PReLUs
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float16 and a.nbytes == b.nbytes and np.shares_memory(a, b)
    # the Keras model's 1,213,296 parameters and the output clip's bound (clip_by_value/Minimum/y)
    assert sum(a.size for a in ours) == 1_213_296 + 1


def test_blend_is_the_weighted_mean_of_the_two_files_and_keeps_their_ends():
    a, b = _bytes(MODEL), _bytes(WDN)
    assert tflite_blend.blend(a, b, 1.0) == a and tflite_blend.blend(a, b, 0.0) == b
    mixed = tflite_blend.blend(a, b, 0.3)
    assert len(mixed) == len(a)
    tflite_blend.check_same_layout(mixed, a)  # only weights changed
    wa, wb, wm = (tflite_blend.float_weights(bytearray(x)) for x in (a, b, mixed))
    changed = 0
    for x, y, m in zip(wa, wb, wm):
        want = (0.3 * x.astype(np.float32) + 0.7 * y.astype(np.float32)).astype(np.float16)
        np.testing.assert_array_equal(m, want)
        changed += not np.array_equal(m, x)
    assert changed > 30


def test_blend_refuses_files_that_are_not_two_exports_of_one_network(tmp_path):
    a = _bytes(MODEL)
    other = _bytes(SAVED / "srresnet_x4_fp16.tflite")
    with pytest.raises(tflite_blend.BlendError, match="different sizes|differ"):
        tflite_blend.blend(a, other, 0.5)
    damaged = bytearray(a)
    damaged[100:104] = b"\xff\xff\xff\x7f"  # somewhere in the graph, not in a weight
    with pytest.raises(tflite_blend.BlendError):
        tflite_blend.blend(a, bytes(damaged), 0.5)
    with pytest.raises(tflite_blend.BlendError, match="not a TFLite"):
        tflite_blend.float_weights(bytearray(b"\0" * 64))


def test_auto_runs_the_default_model_on_litert_and_other_models_on_keras():
    choice = litert.choose_runtime(None, "auto", "auto", None, "auto")
    assert (choice.runtime, choice.tflite, choice.wdn_tflite) == ("litert", MODEL, WDN)
    assert litert.choose_runtime(None, "auto", None).wdn_tflite is None
    assert litert.choose_runtime(None, "keras", "auto").runtime == "keras"
    assert litert.choose_runtime(None, "auto", 0.5, precision="bfloat16").runtime == "keras"
    # the SRResNet's export report measured Keras faster: auto keeps Keras, litert is allowed
    report = litert.parity_report(SAVED / "srresnet_x4_fp16.tflite")
    assert litert.choose_runtime("srresnet").runtime == (
        "litert" if litert.measured_faster(report) else "keras")
    assert litert.choose_runtime("srresnet", "litert").runtime == "litert"
    with pytest.raises(litert.RuntimeUnavailableError, match="--runtime litert"):
        litert.choose_runtime("srgan", "litert")  # no TFLite export
    assert litert.choose_runtime("bicubic", "litert").runtime == "numpy"  # no network at all


def test_the_tiles_of_a_litert_runner_are_sized_as_the_keras_models():
    """tile="auto" sizes tiles from the widest activation: read from the .tflite graph, it is
    what Keras' layer-by-layer estimate gives (a delegate's stale 1x1 shapes would say less)."""
    from srgan_keras.inference.tiling import bytes_per_pixel

    for name in ("realesr", "srresnet"):
        lite = runners.load_generator(name, runtime="litert")
        assert bytes_per_pixel(lite) == bytes_per_pixel(runners.load_generator(name)), name


def test_a_twin_counts_only_beside_the_measured_files(tmp_path, monkeypatch):
    """A .keras file changed since the model card (or copied elsewhere) runs on Keras: its
    TFLite export would be a stale export."""
    for name in ("realesr_x4.keras", "realesr_x4_fp16.tflite", "realesr_x4_fp16.tflite.parity.json",
                 "metrics.json"):
        shutil.copy(SAVED / name, tmp_path / name)
    assert litert.bundled_tflite(tmp_path / "realesr_x4.keras")[0] is None  # not saved_models/
    monkeypatch.setattr("srgan_keras.inference.bundled.SAVED_MODELS", tmp_path)
    assert litert.bundled_tflite(tmp_path / "realesr_x4.keras")[0] == tmp_path / "realesr_x4_fp16.tflite"
    with open(tmp_path / "realesr_x4.keras", "ab") as f:
        f.write(b"\0")
    twin, _, why = litert.bundled_tflite(tmp_path / "realesr_x4.keras")
    assert twin is None and "metrics.json" in why
    shutil.copy(SAVED / "realesr_x4.keras", tmp_path / "realesr_x4.keras")
    report = json.loads((tmp_path / "realesr_x4_fp16.tflite.parity.json").read_text())
    report["min_psnr_vs_keras_db"] = report["required_psnr_db"] - 1
    (tmp_path / "realesr_x4_fp16.tflite.parity.json").write_text(json.dumps(report))
    assert litert.bundled_tflite(tmp_path / "realesr_x4.keras")[0] is None


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(np.mean((a - b) ** 2), 1e-20)))


@pytest.fixture(scope="module")
def small_photo() -> np.ndarray:
    from PIL import Image

    from srgan_keras.data.imaging import builtin_images

    (_, photo), = builtin_images(["coffee"])
    return np.asarray(Image.fromarray(photo).resize((48, 32), Image.LANCZOS))


@pytest.mark.slow
def test_litert_blends_match_the_keras_blends_within_the_bundled_tolerance(small_photo):
    """Strengths 0, 0.3, 0.5, 1 and auto: the LiteRT runner's output against the Keras blend's,
    within the export report's tolerance. That tolerance (45 dB) is loose: the blend at 0.5
    against Keras at 0.3 is 48 dB on this photo. So the bar here is also the exports' own parity
    (91-96 dB in their reports) less 10 dB, which a wrong strength fails."""
    report = litert.parity_report(MODEL)
    need = max(report["required_psnr_db"], report["min_psnr_vs_keras_db"] - 10)
    lr = (small_photo / 255.0).astype(np.float32)[None]
    keras_out, lite_out = {}, {}
    for s in (0.0, 0.3, 0.5, 1.0):
        keras_out[s] = runners.load_generator(denoise_strength=s)(lr)
        lite = runners.load_generator(denoise_strength=s, runtime="litert")
        assert lite.runtime == "litert"
        lite_out[s] = lite(lr)
        assert _psnr(lite_out[s], keras_out[s]) >= need, s
    assert _psnr(keras_out[0.3], keras_out[1.0]) < need  # the two ends differ ...
    assert _psnr(lite_out[0.5], keras_out[0.3]) < need  # ... so a wrong strength fails
    auto_keras = runners.load_generator(denoise_strength="auto")
    auto_lite = runners.load_generator(denoise_strength="auto", runtime="litert")
    assert isinstance(auto_lite, litert.LiteRTDenoiseRunner)
    rk, est_k = auto_keras.for_image(small_photo)
    rl, est_l = auto_lite.for_image(small_photo)
    assert est_k == est_l and rl.name == rk.name
    assert _psnr(rl(lr), rk(lr)) >= need


@pytest.mark.slow
def test_upscale_example_and_the_python_api_run_without_tensorflow(tmp_path):
    """The CLI's default path (the bundled sample, realesr, --denoise-strength auto) and
    upscale_image given no model: the file is written, and TensorFlow was never imported."""
    out = subprocess.run([sys.executable, "-m", "srgan_keras.upscale", "--example", "-o",
                          str(tmp_path / "out"), "--verbose"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "runtime LiteRT" in out.stderr, out.stderr[-2000:]
    assert (tmp_path / "out" / "coffee_x4.jpg").is_file()
    # the same command line, run as `python -m` runs it, then asked what was imported
    code = ("import runpy, sys\n"
            f"sys.argv = ['upscale', '--example', '-o', {str(tmp_path / 'again')!r}, '-q']\n"
            "try:\n    runpy.run_module('srgan_keras.upscale', run_name='__main__')\n"
            "except SystemExit as e:\n    print(e.code, 'tensorflow' in sys.modules)")
    cli = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert cli.stdout.split("\n")[-2] == "0 False", (cli.stdout, cli.stderr[-2000:])
    assert (tmp_path / "again" / "coffee_x4.jpg").is_file()
    # the Python API with what else runs beside the network: the auto strength's estimate,
    # tiles, the colour fix and an alpha channel (both bicubic, in NumPy)
    code = ("import sys; import numpy as np; import srgan_keras\n"
            "from srgan_keras.samples import example_photo\n"
            "from srgan_keras.data.imaging import load_rgb_uint8\n"
            "rgb = load_rgb_uint8(example_photo())\n"
            "rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 200, np.uint8)], -1)\n"
            "out = srgan_keras.upscale_image(rgba, None, tile=64, color_fix=True, "
            "source=example_photo())\n"
            "print(out.shape, int(out[..., 3].min()), 'tensorflow' in sys.modules, "
            "'keras' in sys.modules)")
    api = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert api.returncode == 0, api.stderr[-2000:]
    assert api.stdout.split("\n")[-2] == "(480, 720, 4) 200 False False", api.stdout


def test_numpy_bicubic_equals_tensorflows_antialiased_resize():
    """BicubicRunner (the baseline, the colour fix's reference, alpha) without TensorFlow: the
    same numbers as tf.image.resize(bicubic, antialias=True), up and down, to float32 rounding."""
    tf = pytest.importorskip("tensorflow")
    from srgan_keras.inference.bicubic import resize_bicubic

    rng = np.random.default_rng(0)
    for h, w, size in [(37, 23, (148, 92)), (5, 3, (15, 9)), (1, 7, (4, 28)), (40, 30, (17, 13))]:
        x = (rng.random((2, h, w, 3)) * 255).astype(np.float32)
        want = tf.image.resize(x, size, "bicubic", antialias=True).numpy()
        assert np.abs(resize_bicubic(x, size) - want).max() < 1e-3, (h, w, size)
