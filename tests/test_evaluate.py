"""The evaluation protocol reproduces the field's bicubic numbers; CLI outputs and figures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_keras.evaluation import evaluate as ev
from srgan_keras.inference.runners import BicubicRunner


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    """Two synthetic HR images, one gray and one not a multiple of 4 (cropped by the protocol)."""
    root = tmp_path_factory.mktemp("hr")
    yy, xx = np.mgrid[0:50, 0:62]
    rgb = np.stack([127 + 100 * np.sin(xx / 5.0), 127 + 90 * np.cos(yy / 7.0), xx * 4.0], -1)
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(root / "one.png")
    Image.fromarray(np.clip(rgb[..., 0], 0, 255).astype(np.uint8)).save(root / "two.png")
    return root


def test_set5_bicubic_reproduces_the_field(shared_data):
    report = ev.evaluate_folder(BicubicRunner(4), shared_data / "Set5", scale=4)
    assert len(report["images"]) == 5
    assert report["mean"]["psnr_y"] == pytest.approx(28.43, abs=0.02)
    assert report["mean"]["ssim_y"] == pytest.approx(0.811, abs=0.002)
    assert report["bicubic_mean"] is None  # the model *is* bicubic: no duplicate row


def test_set14_bicubic_reproduces_the_field(shared_data):
    report = ev.evaluate_folder(BicubicRunner(4), shared_data / "Set14", scale=4)
    assert len(report["images"]) == 14  # bridge.png is gray: repeated to RGB, not skipped
    assert report["mean"]["psnr_y"] == pytest.approx(26.09, abs=0.02)


def test_evaluate_image_crops_and_tiling_does_not_change_numbers(tiny_generator, small_set):
    hr = np.asarray(Image.open(small_set / "one.png"))
    whole = ev.evaluate_image(tiny_generator, hr, tile=None)
    assert whole.hr.shape == (48, 60, 3) and whole.lr.shape == (12, 15, 3)
    assert whole.sr.shape == whole.hr.shape and whole.bicubic is not None
    tiled = ev.evaluate_image(tiny_generator, hr, tile=4)
    assert np.abs(tiled.sr.astype(int) - whole.sr).max() <= 1
    assert tiled.metrics["psnr_y"] == pytest.approx(whole.metrics["psnr_y"], abs=0.01)
    with pytest.raises(ValueError, match="does not match the model's scale"):
        ev.evaluate_image(tiny_generator, hr, scale=2)


def test_evaluate_folder_accepts_arrays_for_training_validation(tiny_generator, small_set):
    pairs = [("a", np.asarray(Image.open(small_set / "one.png")))]
    report = ev.evaluate_folder(tiny_generator, pairs)
    assert report["data"] == "arrays" and report["scale"] == 4 and report["border"] == 4
    assert set(report["mean"]) == set(ev.METRICS)
    assert set(report["bicubic_mean"]) == set(ev.METRICS)


def test_cli_table_json_csv_figures(tmp_path, capsys, tiny_model_path, small_set):
    rc = ev.main(["--model", str(tiny_model_path), "--data", str(small_set),
                  "--json", str(tmp_path / "r.json"), "--csv", str(tmp_path / "r.csv"),
                  "--figure", str(tmp_path / "fig")])
    out = capsys.readouterr().out
    assert rc == 0
    table = [ln.split() for ln in out.splitlines()]
    assert ["mean", "bicubic"] == table[-2][:2] and ["mean", "tiny_x4"] == table[-1][:2]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["model_path"] == str(tiny_model_path)
    assert report["data"] == str(small_set) and report["scale"] == 4
    assert [r["image"] for r in report["images"]] == ["one", "two"]
    assert {"psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb"} <= set(report["images"][0])
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert [(r["image"], r["method"]) for r in rows] == [
        ("one", "bicubic"), ("one", "tiny_x4"), ("two", "bicubic"), ("two", "tiny_x4"),
        ("mean", "bicubic"), ("mean", "tiny_x4")]
    assert float(rows[-1]["psnr_y"]) == pytest.approx(report["mean"]["psnr_y"])
    for name in ("one", "two"):
        with Image.open(tmp_path / "fig" / f"{name}.png") as im:
            assert im.size[0] > 400
    assert not list(tmp_path.rglob(".*"))  # atomic writes left no temp files


def test_cli_errors(tmp_path, capsys, tiny_model_path, small_set):
    assert ev.main(["--model", str(tmp_path / "x.keras"), "--data", str(small_set)]) == 2
    assert "python -m srgan_keras.train" in capsys.readouterr().err
    assert ev.main(["--model", str(tiny_model_path), "--data", str(small_set),
                    "--scale", "2"]) == 1
    assert "scale" in capsys.readouterr().err
    assert ev.main(["--model", "bicubic", "--data", str(tmp_path / "empty")]) == 1
    assert "no image files" in capsys.readouterr().err
