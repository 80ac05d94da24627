"""Denoise strength (issue 12.5, Real-ESRGAN's ``-dn``): s W_model + (1 - s) W_wdn at load time.

Tiny SRVGGNetCompact pairs (8 features, 1 body convolution) stand in for the bundled real-world
model and its weak-denoise twin; the converted-official-pair test needs torch (skipped without).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image

from srgan_keras.inference import bundled, upscale
from srgan_keras.inference.runners import load_generator
from srgan_keras.nn.srvgg import build_srvgg


def save_pair(folder, name: str = "realesr_x4", twin: str | None = "realesr_x4_wdn"):
    """Two tiny generators of one architecture, saved as ``name.keras`` and ``twin.keras``."""
    models = []
    for seed, stem in ((1, name), (2, twin)):
        keras.utils.set_random_seed(seed)
        m = build_srvgg(scale=4, num_feat=8, num_conv=1)
        for layer in m.layers:  # random PReLU slopes too, so every weight differs
            layer.set_weights([np.random.default_rng(seed).normal(0, 0.3, w.shape)
                               .astype(np.float32) for w in layer.get_weights()])
        if stem:
            m.save(folder / f"{stem}.keras")
        models.append(m)
    return models


@pytest.mark.parametrize("s", [0.0, 1.0, 0.5, 0.3])
def test_weights_are_s_model_plus_1_minus_s_wdn(tmp_path, s):
    model, wdn = save_pair(tmp_path)
    runner = load_generator(tmp_path / "realesr_x4.keras", denoise_strength=s)
    got = runner.model.get_weights()
    assert len(got) == len(model.get_weights()) > 0
    for g, wm, ww in zip(got, model.get_weights(), wdn.get_weights()):
        np.testing.assert_allclose(g, s * wm + (1 - s) * ww, rtol=0, atol=1e-6)
    lr = np.random.default_rng(0).random((1, 6, 5, 3), dtype=np.float32)
    blend = np.clip(np.asarray(runner.model(lr)), 0, 1)
    np.testing.assert_allclose(runner(lr), blend, atol=1e-6)


def test_the_bundled_name_finds_its_wdn_twin(tmp_path, monkeypatch):
    model, wdn = save_pair(tmp_path)
    monkeypatch.setattr("srgan_keras.inference.bundled.SAVED_MODELS", tmp_path)
    monkeypatch.setitem(bundled.BUNDLED, "realesr", "realesr_x4.keras")
    runner = load_generator("realesr", denoise_strength=0.0)
    for g, ww in zip(runner.model.get_weights(), wdn.get_weights()):
        np.testing.assert_array_equal(g, ww)


def test_no_twin_is_one_line_and_s_1_needs_none(tmp_path, capsys):
    save_pair(tmp_path, twin=None)
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(tmp_path / "in.png")
    base = ["upscale", str(tmp_path / "in.png"), "-o", str(tmp_path / "out"), "--model",
            str(tmp_path / "realesr_x4.keras")]
    for extra, says in ((["--denoise-strength", "0.5"], "needs the weak-denoise twin"),
                        (["--denoise-strength", "1.5"], "must be in [0, 1]"),
                        (["--wdn-model", str(tmp_path / "x.keras")], "no such file"),  # auto
                        (["--denoise-strength", "0.5", "--wdn-model", str(tmp_path / "x.keras")],
                         "no such file")):
        assert upscale.main(base[1:] + extra) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err and says in err, err
        assert not (tmp_path / "out").exists()
    assert upscale.main(base[1:] + ["--denoise-strength", "1"]) == 0  # as Real-ESRGAN
    assert (tmp_path / "out" / "in_x4.png").is_file()


def test_cli_blend_differs_from_either_model_and_refuses_other_formats(tmp_path, capsys):
    save_pair(tmp_path)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)).save(tmp_path / "in.png")
    model = str(tmp_path / "realesr_x4.keras")
    outs = {}
    for s in ("0", "0.5", "1"):
        assert upscale.main([str(tmp_path / "in.png"), "-o", str(tmp_path / s), "--model", model,
                             "--denoise-strength", s]) == 0
        outs[s] = np.asarray(Image.open(tmp_path / s / "in_x4.png"), dtype=np.int16)
    assert outs["0.5"].shape == (40, 48, 3)
    assert np.abs(outs["0.5"] - outs["0"]).max() > 0 and np.abs(outs["0.5"] - outs["1"]).max() > 0
    capsys.readouterr()
    assert upscale.main([str(tmp_path / "in.png"), "-o", str(tmp_path / "b"), "--model",
                         "bicubic", "--denoise-strength", "0.5"]) == 2
    assert "needs a .keras model" in capsys.readouterr().err


def test_converted_official_pair_matches_realesrgans_dni(tmp_path):
    """realesr-general-x4v3.pth and realesr-general-wdn-x4v3.pth, converted, blended at load
    time: the output equals PyTorch's SRVGGNetCompact on RealESRGANer.dni's blended state dict."""
    torch = pytest.importorskip("torch")
    from test_convert import torch_srvgg

    from srgan_keras.export import convert

    general, weak = torch_srvgg(4), torch_srvgg(4)
    with torch.no_grad():
        for p in weak.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    for net, name in ((general, "realesr-general-x4v3"), (weak, "realesr-general-wdn-x4v3")):
        torch.save({"params": net.state_dict()}, tmp_path / f"{name}.pth")
        assert convert.main([str(tmp_path / f"{name}.pth"), "-o",
                             str(tmp_path / f"{name}.keras")]) == 0
    s = 0.3
    mixed = {k: s * v + (1 - s) * weak.state_dict()[k] for k, v in general.state_dict().items()}
    general.load_state_dict(mixed)
    runner = load_generator(tmp_path / "realesr-general-x4v3.keras", denoise_strength=s)
    lr = np.random.default_rng(5).random((1, 9, 7, 3), dtype=np.float32)
    with torch.no_grad():
        ref = general(torch.from_numpy(lr).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    assert np.abs(runner(lr) - np.clip(ref, 0, 1)).max() < 1e-4
