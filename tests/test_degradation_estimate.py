"""``--denoise-strength auto`` (issue 24.1): the noise and JPEG-quality estimates, the calibrated
rule, the per-image blend and what the CLI prints.

Tiny SRVGGNetCompact pairs (``test_denoise_strength.save_pair``) stand in for the real-world
model and its twin, except for the CLI line, which runs the bundled model on 48x48 images.
"""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from test_denoise_strength import save_pair

from srgan_keras.inference import degradation_estimate as de
from srgan_keras.inference import runners, upscale
from srgan_keras.inference.runners import AutoDenoiseRunner, load_generator


def smooth(h: int = 128, w: int = 128) -> np.ndarray:
    """A smooth colour image in 60..200 (no clipping for the noise below), float 0-255."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    return np.stack([70 + 110 * xx, 80 + 100 * yy, 130 + 50 * np.sin(3 * xx + 2 * yy)], -1)


def noisy(sigma: float, seed: int = 0, h: int = 128, w: int = 128) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.round(smooth(h, w) + rng.normal(0, sigma, (h, w, 3))), 0, 255).astype(np.uint8)


def jpeg_bytes(rgb: np.ndarray, quality: int) -> io.BytesIO:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("sigma", [5, 15, 25])
def test_noise_sigma_of_known_gaussian_noise_within_10_percent(sigma):
    got = de.noise_sigma(noisy(sigma))
    assert abs(got - sigma) <= 0.1 * sigma, got  # 5.2, 14.8, 24.7 here
    assert abs(de.noise_sigma(noisy(sigma)[..., 0]) - sigma) <= 0.1 * sigma  # gray too
    assert abs(de.noise_sigma(noisy(sigma) / 255.0) - sigma) <= 0.1 * sigma  # [0, 1] floats


def test_noise_sigma_of_a_clean_smooth_image_is_below_one_grey_level():
    assert de.noise_sigma(np.round(smooth()).astype(np.uint8)) < 1.0


@pytest.mark.parametrize("quality", [30, 60, 90])
def test_jpeg_quality_from_the_quantisation_tables_within_3(quality, tmp_path):
    rgb = noisy(5)
    assert abs(de.jpeg_quality(Image.open(jpeg_bytes(rgb, quality))) - quality) <= 3
    path = tmp_path / "a.jpg"
    Image.fromarray(rgb[..., 0]).save(path, quality=quality)  # a gray JPEG: one table
    assert abs(de.jpeg_quality(path) - quality) <= 3


def test_jpeg_quality_is_none_for_other_files(tmp_path):
    Image.fromarray(noisy(5)).save(tmp_path / "a.png")
    assert de.jpeg_quality(tmp_path / "a.png") is None
    assert de.jpeg_quality(tmp_path / "missing.jpg") is None


def test_the_rule_is_monotone_and_spans_the_clean_and_strong_ends():
    sigmas, qualities = [0, 2, 5, 10, 20, 40], [None, 95, 80, 60, 40, 20, 5]
    for q in qualities:
        s = [de.auto_strength(x, q) for x in sigmas]
        assert s == sorted(s) and all(0 <= v <= 1 for v in s)
    for x in sigmas:
        s = [de.auto_strength(x, q) for q in qualities]  # lower quality: never lower strength
        assert s == sorted(s)
    assert de.auto_strength(0, None) == min(de.auto_strength(x, q) for x in sigmas for q in qualities)
    assert de.auto_strength(25, 20) >= 0.8
    assert de.quantise_strength(0.374) == 0.35 and de.quantise_strength(0.376) == 0.4


def test_estimate_describes_itself_as_the_cli_prints_it():
    est = de.Estimate(4.12, 72, 0.35)
    assert est.describe() == "denoise 0.35 (noise 4.1, JPEG q 72)"
    assert de.Estimate(0.5, None, 0.0).describe() == "denoise 0.00 (noise 0.5)"


def test_auto_picks_the_clean_end_for_a_clean_image_and_the_strong_end_for_a_noisy_jpeg(tmp_path):
    model, wdn = save_pair(tmp_path)
    runner = load_generator(tmp_path / "realesr_x4.keras", denoise_strength="auto")
    assert isinstance(runner, AutoDenoiseRunner) and runner.scale == 4
    clean_end = de.quantise_strength(de.auto_strength(0, None))

    chosen, est = runner.for_image(np.round(smooth(48, 48)).astype(np.uint8))
    assert est.strength == clean_end and est.quality is None
    path = tmp_path / "noisy.jpg"
    Image.fromarray(noisy(40, h=48, w=48)).save(path, quality=30)
    strong, est = runner.for_image(np.asarray(Image.open(path)), path)
    assert est.quality == 30 and est.strength >= 0.8

    # the blend is s * model + (1 - s) * twin, built once per quantised strength
    s = est.strength
    for g, wm, ww in zip(strong.model.get_weights(), model.get_weights(), wdn.get_weights()):
        np.testing.assert_allclose(g, s * wm + (1 - s) * ww, atol=1e-6)
    assert runner.at(s + 0.01) is strong and runner.at(s) is strong
    lr = np.random.default_rng(0).random((1, 6, 5, 3), dtype=np.float32)
    np.testing.assert_allclose(runner(lr), runner.at(1.0)(lr))  # called directly: as trained


def test_auto_is_ignored_for_a_model_without_a_twin(tmp_path, capsys):
    save_pair(tmp_path, twin=None)
    runner = load_generator(tmp_path / "realesr_x4.keras", denoise_strength="auto")
    assert not hasattr(runner, "for_image")
    assert not hasattr(load_generator("bicubic", denoise_strength="auto"), "for_image")
    Image.fromarray(noisy(5, h=8, w=8)).save(tmp_path / "in.png")
    assert upscale.main([str(tmp_path / "in.png"), "-o", str(tmp_path / "out"), "--model",
                         str(tmp_path / "realesr_x4.keras")]) == 0
    assert "denoise" not in capsys.readouterr().out
    assert upscale.main([str(tmp_path / "in.png"), "-o", str(tmp_path / "o2"), "--model",
                         str(tmp_path / "realesr_x4.keras"), "--denoise-strength", "0.5"]) == 2
    assert "needs the weak-denoise twin" in capsys.readouterr().err  # numeric: as before


def test_cli_line_says_the_strength_chosen_with_the_bundled_model(tmp_path):
    if not runners.supports_denoise_strength("realesr"):
        pytest.skip("the bundled realesr_x4.keras and its twin are not here")
    Image.fromarray(np.round(smooth(48, 48)).astype(np.uint8)).save(tmp_path / "clean.png")
    Image.fromarray(noisy(40, h=48, w=48)).save(tmp_path / "noisy.jpg", quality=30)
    run = subprocess.run([sys.executable, "-m", "srgan_keras.upscale", str(tmp_path / "clean.png"),
                          str(tmp_path / "noisy.jpg"), "-o", str(tmp_path / "out"), "--verbose"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = {ln.split()[1]: ln for ln in run.stdout.splitlines() if ln.startswith("upscaled: ")}
    clean_end = de.quantise_strength(de.auto_strength(0, None))
    assert f"(48x48 -> 192x192, denoise {clean_end:.2f} (noise " in lines[str(tmp_path / "clean.png")]
    noisy_line = lines[str(tmp_path / "noisy.jpg")]
    assert ", JPEG q 30), " in noisy_line, noisy_line
    chosen = float(noisy_line.split("denoise ")[1].split()[0])
    assert chosen >= 0.8
    assert "(wavelet MAD)" in run.stderr and "luminance quantisation table" in run.stderr  # --verbose
    with Image.open(tmp_path / "out" / "noisy_x4.jpg") as im:
        assert f"realesr_x4_dn{chosen:g}" in im.getexif().get(0x0131, "")  # Software names the blend
