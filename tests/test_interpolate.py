"""ESRGAN network interpolation (Eq. 4): the blend, its CLI, and the sweep with evaluation."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from srgan_keras.evaluation import interpolate
from srgan_keras.nn.outputs import output_range
from srgan_keras.nn.rrdbnet import build_rrdbnet
from srgan_keras.nn.srresnet import build_srresnet


def tiny_pair(tmp_path, builder=lambda: build_rrdbnet(4, num_feat=8, num_block=1, num_grow_ch=4)):
    keras.utils.set_random_seed(1)
    a = builder()
    keras.utils.set_random_seed(2)
    b = builder()
    a.save(tmp_path / "psnr.keras")
    b.save(tmp_path / "gan.keras")
    return a, b


def test_weights_are_eq4s_blend(tmp_path):
    a, b = tiny_pair(tmp_path)
    c = interpolate.interpolate_models(a, b, 0.8)
    for wa, wb, wc in zip(a.get_weights(), b.get_weights(), c.get_weights()):
        np.testing.assert_allclose(wc, 0.2 * wa + 0.8 * wb, rtol=1e-6, atol=1e-7)
    x = np.random.rand(1, 6, 6, 3).astype(np.float32)
    np.testing.assert_allclose(interpolate.interpolate_models(a, b, 0.0)(x), a(x), atol=1e-6)
    np.testing.assert_allclose(interpolate.interpolate_models(a, b, 1.0)(x), b(x), atol=1e-6)
    assert output_range(c) == "unit"


def test_batchnorm_statistics_are_blended_too(tmp_path):
    a, b = tiny_pair(tmp_path, lambda: build_srresnet(num_blocks=1, num_filters=8))
    bn_a, bn_b = a.get_layer("block0_bn1"), b.get_layer("block0_bn1")
    bn_a.moving_variance.assign(bn_a.moving_variance * 0 + 1.0)
    bn_b.moving_variance.assign(bn_b.moving_variance * 0 + 3.0)
    c = interpolate.interpolate_models(a, b, 0.5)
    np.testing.assert_allclose(c.get_layer("block0_bn1").moving_variance.numpy(), 2.0)


def test_cli_single_alpha(tmp_path):
    a, b = tiny_pair(tmp_path)
    out = tmp_path / "blend.keras"
    assert interpolate.main(["--psnr", str(tmp_path / "psnr.keras"), "--gan",
                             str(tmp_path / "gan.keras"), "--alpha", "0.25", "-o", str(out)]) == 0
    c = keras.saving.load_model(out, safe_mode=True)
    np.testing.assert_allclose(c.get_weights()[0], 0.75 * a.get_weights()[0]
                               + 0.25 * b.get_weights()[0], rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_cli_refuses_mismatched_models_and_bad_alphas_in_one_line(tmp_path, capsys):
    tiny_pair(tmp_path)
    build_rrdbnet(4, num_feat=8, num_block=2, num_grow_ch=4).save(tmp_path / "other.keras")
    runs = [["--gan", str(tmp_path / "other.keras"), "--alpha", "0.5", "-o",
             str(tmp_path / "x.keras")],
            ["--gan", str(tmp_path / "gan.keras"), "--alpha", "1.5", "-o",
             str(tmp_path / "x.keras")],
            ["--gan", str(tmp_path / "missing.keras"), "--alpha", "0.5", "-o",
             str(tmp_path / "x.keras")],
            ["--gan", str(tmp_path / "gan.keras"), "--alphas", "0,0.5,2", "--out-dir",
             str(tmp_path / "sweep")]]
    for args in runs:
        assert interpolate.main(["--psnr", str(tmp_path / "psnr.keras"), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err
    assert not (tmp_path / "x.keras").exists() and not (tmp_path / "sweep").exists()


def test_cli_needs_one_mode():
    with pytest.raises(SystemExit):
        interpolate.main(["--psnr", "a.keras", "--gan", "b.keras", "--alpha", "0.5"])


@pytest.mark.slow
def test_sweep_writes_models_table_and_plot(tmp_path):
    tiny_pair(tmp_path)
    data = tmp_path / "hr"
    data.mkdir()
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray((rng.random((48, 40, 3)) * 255).astype(np.uint8)).save(data / f"{i}.png")
    out = tmp_path / "sweep"
    assert interpolate.main(["--psnr", str(tmp_path / "psnr.keras"), "--gan",
                             str(tmp_path / "gan.keras"), "--alphas", "0,0.5,1", "--out-dir",
                             str(out), "--data", str(data)]) == 0
    assert sorted(p.name for p in out.glob("*.keras")) == [
        "interp_alpha0.00.keras", "interp_alpha0.50.keras", "interp_alpha1.00.keras"]
    lines = (out / "sweep.csv").read_text().splitlines()
    assert lines[0] == "alpha,psnr_y,ssim_y" and len(lines) == 4
    assert (out / "sweep.md").read_text().startswith("| alpha | psnr_y | ssim_y |")
    assert (out / "perception_distortion.png").stat().st_size > 5_000


def test_the_perception_axis_is_the_vgg54_content_loss():
    """The sweep's VGG54 distance is SRGAN's content loss (Eq. 5, rescaled), computed from nn.vgg."""
    from srgan_keras.data.ranges import pixels_to_unit, unit_to_signed
    from srgan_keras.training.losses import ContentLoss

    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    sr = np.clip(hr.astype(int) + rng.integers(-40, 41, hr.shape), 0, 255).astype(np.uint8)
    distance = interpolate.perceptual_distance("random:0")
    loss = ContentLoss("vgg54", "random:0")
    signed = [unit_to_signed(pixels_to_unit(x[None])) for x in (hr, sr)]
    expected = float(loss(*signed))
    assert expected > 0
    np.testing.assert_allclose(distance(sr, hr), expected, rtol=1e-5)
    assert distance(hr, hr) == 0.0
