"""The bundled generators are the files the model card measured, and a wheel carries them.

``saved_models/metrics.json`` is written by ``python -m srgan_keras.model_card`` from the files
themselves; here every model it lists must exist with that SHA-256 and re-measure the same
Set5 PSNR-Y through the evaluate code within 0.05 dB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import REPO

from srgan_keras.inference import runners as inference
from srgan_keras.inference.bundled import DEFAULT_ORDER, SAVED_MODELS

# The whole module is the slow tier: the real bundled models on Set5/Set14, CLI subprocesses and a
# wheel build (about 6 minutes on 2 cores); the quick tier's upscale checks use tiny models.
pytestmark = pytest.mark.slow

METRICS = REPO / "saved_models" / "metrics.json"
CARD_TOLERANCE_DB = 0.05


def _bundled() -> dict:
    if not METRICS.exists():
        pytest.skip("no saved_models/metrics.json yet: no bundled models to check")
    return json.loads(METRICS.read_text())["models"]


def _ids() -> list[str]:
    return list(json.loads(METRICS.read_text())["models"]) if METRICS.exists() else ["none"]


@pytest.mark.parametrize("name", _ids())
def test_bundled_model_is_the_measured_file_and_scores_what_the_card_says(name, shared_data):
    from srgan_keras.evaluation.folders import evaluate_folder
    from srgan_keras.evaluation.model_card import sha256

    entry = _bundled()[name]
    path = REPO / "saved_models" / entry["file"]
    assert path.exists(), f"{path} is listed in metrics.json but missing"
    assert sha256(path) == entry["sha256"], f"{path} is not the file the card measured"
    report = evaluate_folder(inference.load_generator(path), shared_data / "Set5", bicubic=False)
    card = entry["results"]["Set5"]["psnr_y"]
    assert abs(report["mean"]["psnr_y"] - card) <= CARD_TOLERANCE_DB, (report["mean"], card)


def test_the_default_model_is_the_bundled_real_world_one_and_the_paper_models_keep_their_names():
    """Issue 12.6: no --model is realesr; srresnet and srgan remain the paper's bicubic models."""
    assert DEFAULT_ORDER[0] == "realesr"
    assert inference.resolve_model_path(None) == SAVED_MODELS / "realesr_x4.keras"
    assert inference.resolve_model_path("realesr") == SAVED_MODELS / "realesr_x4.keras"
    assert inference.resolve_model_path("srresnet") == SAVED_MODELS / "srresnet_x4.keras"
    assert inference.resolve_model_path("srgan") == SAVED_MODELS / "srgan_x4.keras"
    runner = inference.load_generator()
    assert runner.name == "realesr_x4" and runner.scale == 4
    assert runner.model.count_params() == 1_213_296  # SRVGGNetCompact, 32 convs (issue 12.1)


def test_every_model_file_in_saved_models_is_one_the_card_measured():
    """A file bundled without running the model card would have no numbers, and no SHA-256 check."""
    measured = {m["file"] for m in _bundled().values()}
    files = {p.name for p in (REPO / "saved_models").iterdir() if p.suffix in (".keras", ".tflite")}
    assert files <= measured, files - measured
    card = (REPO / "saved_models" / "MODEL_CARD.md").read_text()
    assert all(f"`{name}`" in card for name in files)


def test_the_bundled_srgan_meets_issue_23s_targets_in_its_card():
    """Issue 23.4, read from the card's own numbers (Y, border 4): no checkerboard (pattern at most
    1.5x the HR images' own, clean and --degrade light), more natural than SRResNet and bicubic
    (NIQE below both), distortion in the paper's range (PSNR-Y at least bicubic - 0.5 dB) and more
    texture than SRResNet (hf_ratio closer to HR's 1), on Set5 and Set14."""
    models, metrics = _bundled(), json.loads(METRICS.read_text())
    gan, psnr = models["srgan_x4.keras"]["results"], models["srresnet_x4.keras"]["results"]
    for key in ("Set5", "Set14"):
        bic = metrics["bicubic"][key]
        assert gan[key]["psnr_y"] >= bic["psnr_y"] - 0.5, key
        assert gan[key]["niqe"] < min(psnr[key]["niqe"], bic["niqe"]), key
        assert abs(gan[key]["hf_ratio"] - 1) < abs(psnr[key]["hf_ratio"] - 1), key
    for key in ("Set5", "Set14", "Set14 light/0"):
        assert gan[key]["pattern"] <= 1.5 * metrics["hr_artifacts"][key]["pattern"], key


def test_the_bundled_srgans_texture_numbers_are_the_files(shared_data):
    """The card's NIQE, pattern and hf_ratio of the bundled SRGAN re-measured on Set5 (seconds)."""
    from srgan_keras.evaluation.folders import evaluate_folder

    card = _bundled()["srgan_x4.keras"]["results"]["Set5"]
    report = evaluate_folder(inference.load_generator("srgan"), shared_data / "Set5", bicubic=False,
                             artifacts=True, niqe=True)["mean"]
    for key, tol in (("niqe", 0.02), ("pattern", 0.02), ("hf_ratio", 0.01)):
        assert abs(report[key] - card[key]) <= tol, (key, report[key], card[key])


def test_the_default_models_real_world_numbers_are_the_cards(shared_data):
    """The card's headline (issue 12.8): Set14 degraded by --degrade realesrgan --seed 0,
    re-measured for the default model and bicubic."""
    from srgan_keras.evaluation.folders import evaluate_folder

    metrics = json.loads(METRICS.read_text())
    key = "Set14 realesrgan/0"
    card = metrics["models"]["realesr_x4.keras"]["results"][key]
    report = evaluate_folder(inference.load_generator(), shared_data / "Set14", degrade="realesrgan",
                             seed=0)
    for got, want in ((report["mean"], card), (report["bicubic_mean"], metrics["bicubic"][key])):
        assert abs(got["psnr_y"] - want["psnr_y"]) <= CARD_TOLERANCE_DB, (got, want)
        assert abs(got["ssim_y"] - want["ssim_y"]) <= 0.001, (got, want)


def test_denoise_strength_with_the_bundled_model_finds_its_weak_denoise_twin(tmp_path):
    """`python -m srgan_keras.upscale photo.png --denoise-strength 0.5` (no --model): the default
    model blended half-and-half with realesr_x4_wdn.keras (Real-ESRGAN's -dn), and the web page
    offers the slider for it."""
    from PIL import Image

    from srgan_keras.data.imaging import builtin_images, load_rgb_uint8
    from srgan_keras.inference import web_upscale as web
    from srgan_keras.inference.tiling import upscale_image

    _bundled()
    twin = SAVED_MODELS / "realesr_x4_wdn.keras"
    assert twin.is_file()
    (_, photo), = builtin_images(["coffee"])
    lr = np.asarray(Image.fromarray(photo).resize((64, 48), Image.LANCZOS))
    Image.fromarray(lr).save(tmp_path / "p.png")
    out = subprocess.run([sys.executable, "-m", "srgan_keras.upscale", str(tmp_path / "p.png"),
                          "--denoise-strength", "0.5", "-o", str(tmp_path / "out")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    sr = load_rgb_uint8(tmp_path / "out" / "p_x4.png").astype(int)
    half = inference.load_generator(denoise_strength=0.5)
    assert half.name == "realesr_x4_dn0.5"
    model, wdn = inference.load_generator().model, inference.load_generator(twin).model
    for a, b, h in zip(model.weights, wdn.weights, half.model.weights):
        np.testing.assert_allclose(h.numpy(), 0.5 * a.numpy() + 0.5 * b.numpy(), atol=1e-6)
    assert np.abs(sr - upscale_image(lr, half).astype(int)).max() <= 1
    assert np.abs(sr - upscale_image(lr, inference.load_generator()).astype(int)).mean() > 0.1
    web.denoise_supported.cache_clear()
    assert web.model_choices()[0] == "realesr" and web.denoise_supported("realesr")
    web.denoise_supported.cache_clear()


def test_upscale_model_srresnet_by_name_beats_bicubic_on_bicubic_input(tmp_path, shared_data):
    """`python -m srgan_keras.upscale photo.png --model srresnet`: the paper's model, on the
    paper's (clean bicubic) input, is the bundled SRResNet and beats bicubic."""
    from PIL import Image

    from srgan_keras.data.degradation import bicubic_upscale, crop_to_multiple, make_lr_numpy
    from srgan_keras.data.imaging import load_rgb_uint8
    from srgan_keras.evaluation.metrics import evaluate_pair
    from srgan_keras.inference.tiling import upscale_image

    _bundled()
    hr = crop_to_multiple(load_rgb_uint8(shared_data / "Set5" / "butterfly.png"), 4)
    lr = make_lr_numpy(hr, 4)
    Image.fromarray(lr).save(tmp_path / "butterfly_lr.png")
    out = subprocess.run([sys.executable, "-m", "srgan_keras.upscale", str(tmp_path / "butterfly_lr.png"),
                          "--model", "srresnet", "-o", str(tmp_path / "out")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    sr = load_rgb_uint8(tmp_path / "out" / "butterfly_lr_x4.png")
    assert sr.shape == hr.shape
    # the SRResNet's own output, not another bundled model's (srgan also beats bicubic here),
    # in the precision the CLI picks on this machine (its default --precision auto)
    expected = upscale_image(lr, inference.load_generator(SAVED_MODELS / "srresnet_x4.keras",
                                                          precision="auto"))
    assert np.abs(sr.astype(int) - expected.astype(int)).max() <= 1
    bic = bicubic_upscale(lr, 4).numpy().astype("uint8")
    gain = evaluate_pair(sr, hr, border=4)["psnr_y"] - evaluate_pair(bic, hr, border=4)["psnr_y"]
    assert gain > 1.0, f"srresnet is only {gain:.2f} dB above bicubic on butterfly"


JPEG_PHOTOS = ("astronaut", "chelsea", "coffee")  # scikit-image's; not in the training data


def test_upscale_without_model_removes_the_blocks_of_a_quality_40_jpeg(tmp_path):
    """Issue 12, the user's first try: a 120x80 photo saved as JPEG quality 40, through
    `python -m srgan_keras.upscale` with no --model. The paper's SRResNet sharpens the 8x8
    blocks (blockier than bicubic); the default (real-world) model must leave less block
    structure than either (:func:`srgan_keras.evaluation.metrics.blockiness`: the Y steps across
    the blocks' edges, 32 px apart after x4, over those across their middles)."""
    from PIL import Image

    from srgan_keras.data.imaging import builtin_images, load_rgb_uint8
    from srgan_keras.evaluation.metrics import blockiness
    from srgan_keras.inference.tiling import upscale_image

    _bundled()
    for name, photo in builtin_images(JPEG_PHOTOS):
        small = Image.fromarray(photo).resize((120, 80), Image.LANCZOS)
        small.save(tmp_path / f"{name.split(':')[1]}.jpg", quality=40)
    jpgs = sorted(str(p) for p in tmp_path.glob("*.jpg"))
    out = subprocess.run([sys.executable, "-m", "srgan_keras.upscale", *jpgs,
                          "-o", str(tmp_path / "out"), "--format", "png"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    # what the CLI runs: --denoise-strength auto (issue 24.1), on LiteRT (issue 29.1)
    default = inference.load_generator(denoise_strength="auto", precision="auto", runtime="auto")
    others = {"bicubic": inference.BicubicRunner(4), "srresnet": inference.load_generator("srresnet")}
    for jpg in sorted(tmp_path.glob("*.jpg")):
        lr = load_rgb_uint8(jpg)
        sr = load_rgb_uint8(tmp_path / "out" / f"{jpg.stem}_x4.png")
        assert sr.shape == (320, 480, 3)
        # the CLI's output is the real-world model's
        assert np.abs(sr.astype(int) - upscale_image(lr, default, source=jpg).astype(int)).max() <= 1
        score = {k: blockiness(upscale_image(lr, r), 32) for k, r in others.items()}
        assert score["srresnet"] > score["bicubic"], (jpg.name, score)  # the issue's "blocks sharpened"
        got = blockiness(sr, 32)
        assert got < score["bicubic"] and got < score["srresnet"], (jpg.name, got, score)


def test_default_model_adds_no_pixel_shuffle_pattern_on_degraded_photos(shared_data):
    """Issue 12.3's "without bringing the artifacts back": on Set14 photos degraded as
    ``evaluate --degrade realesrgan --seed 0`` does, the default model's output repeats no fixed
    4x4 tile (:func:`srgan_keras.evaluation.metrics.periodic_pattern`) much more than the HR
    photos do. Comic and zebra: HR 0.56 and 0.51, the bundled L1-trained model 0.31 and 0.42; the
    model card's GAN probe (400 steps of L1 + GAN 0.1 with the U-Net discriminator) 2.75 and 3.4,
    which this test refuses."""
    from srgan_keras.data.degradation import crop_to_multiple
    from srgan_keras.data.imaging import load_rgb_uint8
    from srgan_keras.evaluation.degraded import degraded_lr
    from srgan_keras.evaluation.metrics import periodic_pattern
    from srgan_keras.inference.tiling import upscale_image

    _bundled()
    runner = inference.load_generator()
    for name in ("comic", "zebra"):
        hr = crop_to_multiple(load_rgb_uint8(shared_data / "Set14" / f"{name}.png"), 4)
        sr = upscale_image(degraded_lr(hr, 4, "realesrgan", 0, name), runner)
        got, ref = periodic_pattern(sr, 4), periodic_pattern(hr, 4)
        assert got < max(1.5, 2 * ref), (name, got, ref)


def test_a_wheel_carries_the_bundled_models_and_their_card(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path), str(REPO)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = tmp_path.glob("srgan_keras-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "srgan_keras/saved_models/README.md" in names
    # upscale --example's photo and its licence (README's first block, tests/test_first_run.py)
    assert {"srgan_keras/samples/coffee.jpg", "srgan_keras/samples/NOTICE"} <= names
    # NIQE's pristine model and its notice (evaluate --no-reference)
    assert {"srgan_keras/evaluation/niqe_pris_params.npz",
            "srgan_keras/evaluation/niqe_pris_params.NOTICE"} <= names
    if METRICS.exists():
        wanted = {f"srgan_keras/saved_models/{m['file']}" for m in _bundled().values()}
        wanted |= {"srgan_keras/saved_models/MODEL_CARD.md", "srgan_keras/saved_models/metrics.json"}
        # the export reports: --runtime auto runs a TFLite export only where its report is there
        wanted |= {f"srgan_keras/saved_models/{p.name}"
                   for p in (REPO / "saved_models").glob("*.parity.json")}
        wanted |= {f"srgan_keras/saved_models/{p.name}" for p in (REPO / "saved_models").glob("*.*")
                   if p.suffix in (".png", ".jpg")}  # the card's figures
        assert wanted <= names, wanted - names


@pytest.mark.parametrize("strength", [None, 0.0, 0.5])
def test_the_real_world_models_keep_a_flat_grey_grey(strength):
    """Issue 24.3: grey 128 in, grey 128 out within 0.5 per channel (it was (130.4, 128.5, 131.1):
    the JPEG bias of the training degradations, removed from the files' last bias; MODEL_CARD.md)."""
    from srgan_keras.inference.color_shift import flat_shift

    _bundled()
    runner = inference.load_generator("realesr", denoise_strength=strength)
    shift = flat_shift(runner, 128.0)
    assert np.all(np.abs(shift) <= 0.5), f"{runner.name}: grey 128 shifts by {shift.round(2)}"


@pytest.mark.parametrize("name", ["realesr_x4_fp16.tflite", "realesr_x4_wdn_fp16.tflite"])
def test_the_exported_real_world_models_keep_a_flat_grey_grey(name):
    """Both ends of the LiteRT denoise blend (issue 29.1): exported from the calibrated files."""
    from srgan_keras.inference.color_shift import flat_shift

    _bundled()
    shift = flat_shift(inference.load_generator(SAVED_MODELS / name))
    assert np.all(np.abs(shift) <= 0.5), f"{name}: grey 128 shifts by {shift.round(2)}"
