"""The evaluation protocol reproduces the field's bicubic numbers; CLI outputs and figures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_keras.evaluation import evaluate as ev
from srgan_keras.evaluation import folders, protocol
from srgan_keras.evaluation.metrics import METRICS
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
    report = folders.evaluate_folder(BicubicRunner(4), shared_data / "Set5", scale=4)
    assert len(report["images"]) == 5
    assert report["mean"]["psnr_y"] == pytest.approx(28.43, abs=0.02)
    assert report["mean"]["ssim_y"] == pytest.approx(0.811, abs=0.002)
    assert report["bicubic_mean"] is None  # the model *is* bicubic: no duplicate row


@pytest.mark.slow
def test_set14_bicubic_reproduces_the_field(shared_data):
    report = folders.evaluate_folder(BicubicRunner(4), shared_data / "Set14", scale=4)
    assert len(report["images"]) == 14  # bridge.png is gray: repeated to RGB, not skipped
    assert report["mean"]["psnr_y"] == pytest.approx(26.09, abs=0.02)


def test_evaluate_image_crops_and_tiling_does_not_change_numbers(tiny_generator, small_set):
    hr = np.asarray(Image.open(small_set / "one.png"))
    whole = protocol.evaluate_image(tiny_generator, hr, tile=None)
    assert whole.hr.shape == (48, 60, 3) and whole.lr.shape == (12, 15, 3)
    assert whole.sr.shape == whole.hr.shape and whole.bicubic is not None
    tiled = protocol.evaluate_image(tiny_generator, hr, tile=4)
    assert np.abs(tiled.sr.astype(int) - whole.sr).max() <= 1
    assert tiled.metrics["psnr_y"] == pytest.approx(whole.metrics["psnr_y"], abs=0.01)
    with pytest.raises(ValueError, match="does not match the model's scale"):
        protocol.evaluate_image(tiny_generator, hr, scale=2)


def test_evaluate_folder_accepts_arrays_for_training_validation(tiny_generator, small_set):
    pairs = [("a", np.asarray(Image.open(small_set / "one.png")))]
    report = folders.evaluate_folder(tiny_generator, pairs)
    assert report["data"] == "arrays" and report["scale"] == 4 and report["border"] == 4
    assert set(report["mean"]) == set(METRICS)
    assert set(report["bicubic_mean"]) == set(METRICS)


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
    (tmp_path / "empty").mkdir()
    assert ev.main(["--model", "bicubic", "--data", str(tmp_path / "empty")]) == 1
    assert "no image files found" in capsys.readouterr().err


def test_bundled_names_and_a_mistyped_one(tmp_path, capsys, small_set):
    """Issue 28.2/28.3: --model realesr is the bundled file; --model realsr names the way on."""
    assert ev.main(["--model", "realesr", "--data", str(small_set),
                    "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["model"] == "realesr_x4" and len(report["images"]) == 2
    capsys.readouterr()
    assert ev.main(["--model", "realsr", "--data", str(small_set)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "did you mean realesr?" in err, err


def test_a_missing_folder_says_it_does_not_exist(tmp_path, capsys):
    """Issue 17.11: not "no image files found" for a typo'd path."""
    assert ev.main(["--model", "bicubic", "--data", str(tmp_path / "Set15")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {tmp_path / 'Set15'}: no such file or folder"
    assert ev.main(["--model", "bicubic", "--data", str(tmp_path / "*.png")]) == 1
    assert "no image files match this pattern" in capsys.readouterr().err
    (tmp_path / "gone.png").symlink_to(tmp_path / "nowhere.png")
    assert ev.main(["--model", "bicubic", "--data", str(tmp_path / "gone.png")]) == 1
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'gone.png'}: broken symbolic link"


def _hostile_set(root: Path) -> Path:
    """One good HR, and three that used to abort evaluate: smaller than the scale (34-line
    InvalidArgumentError), smaller than SSIM's window with the border (an SSIM error without the
    file's name) and a file that is not an image. Plus an HR of exactly the smallest side."""
    root.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (48, 60, 3), dtype=np.uint8)).save(root / "good.png")
    Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(root / "edge.png")
    Image.fromarray(rng.integers(0, 256, (3, 3, 3), dtype=np.uint8)).save(root / "dot.png")
    Image.fromarray(rng.integers(0, 256, (19, 40, 3), dtype=np.uint8)).save(root / "strip.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return root


def test_bad_files_are_named_skipped_and_the_rest_scored(tmp_path, capsys, tiny_model_path):
    """Issue 17.9/17.11: one line per bad file, the others scored, exit 1, a full report."""
    data = _hostile_set(tmp_path / "hr")
    rc = ev.main(["--model", str(tiny_model_path), "--data", str(data),
                  "--json", str(tmp_path / "r.json")])
    cap = capsys.readouterr()
    assert rc == 1
    lines = [ln for ln in cap.err.splitlines() if ln.startswith("skipped:")]
    assert len(lines) == 3 and "Traceback" not in cap.err
    assert any(str(data / "dot.png") in ln and "3x3 px is too small" in ln for ln in lines)
    assert any(str(data / "strip.png") in ln and "at least 20 px" in ln and "SSIM" in ln
               for ln in lines)
    assert any(str(data / "broken.png") in ln for ln in lines)
    report = json.loads((tmp_path / "r.json").read_text())
    assert [r["image"] for r in report["images"]] == ["edge", "good"]  # 20 px: just enough
    assert sorted(Path(k["image"]).name for k in report["skipped"]) == [
        "broken.png", "dot.png", "strip.png"]
    assert "3 images skipped" in cap.out
    # the API raises by default (training validation must not skip silently), naming the file
    with pytest.raises(ValueError, match=r"broken\.png: not an image file"):
        folders.evaluate_folder(BicubicRunner(4), data)
    with pytest.raises(ValueError, match="dot: 3x3 px is too small to evaluate at x4"):
        folders.evaluate_folder(BicubicRunner(4), [("dot", np.zeros((3, 3, 3), np.uint8))])
    # every image bad: an error, not an empty report
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "broken.png").write_bytes((data / "broken.png").read_bytes())
    assert ev.main(["--model", "bicubic", "--data", str(only_bad)]) == 1
    assert "no images could be evaluated" in capsys.readouterr().err


@pytest.mark.parametrize("bad, says", [
    ("dot.png", "3x3 px is too small to evaluate at x4 (at least 20 px per side"),  # < scale
    ("strip.png", "40x19 px is too small to evaluate at x4 (at least 20 px per side, for SSIM"),
    ("broken.png", "not an image file"),
    ("link.png", "no such file"),  # a broken symlink in the folder, passed over by list_images
])
def test_each_bad_file_alone_is_one_line_and_the_good_one_is_scored(tmp_path, capsys, bad, says):
    hostile = _hostile_set(tmp_path / "all")
    data = tmp_path / "hr"
    data.mkdir()
    for name in ("good.png", bad):
        if name == "link.png":
            (data / name).symlink_to(hostile / "deleted.png")
        else:
            (data / name).write_bytes((hostile / name).read_bytes())
    rc = ev.main(["--model", "bicubic", "--data", str(data), "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert rc == 1
    lines = [ln for ln in err.splitlines() if ln.startswith(("skipped", "error", "Traceback"))]
    assert len(lines) == 1 and lines[0].startswith(f"skipped: {data / bad}: {says}")
    assert [r["image"] for r in json.loads((tmp_path / "r.json").read_text())["images"]] == ["good"]


# ---------------------------------------------------------------- --degrade (issue 12.7a)

PROBE_DIGESTS = {  # lr_digest of _probe() degraded with image name "probe", TF 2.21 CPU; changed
    # 2026-12-07 on purpose: the JPEG stage decodes with the accurate IDCT (issue 24.3)
    ("realesrgan", 0): "49aad48a5b6e08aa9fa447a4eb95320c0541f920371496e5d46425e99e6da417",
    ("light", 0): "400111b5b54410c7a0420609c91e23265006a096cbb6f7f695122a889b076098",
}


def _probe() -> np.ndarray:
    yy, xx = np.mgrid[0:64, 0:80]
    rgb = np.stack([127 + 100 * np.sin(xx / 5.0), 127 + 90 * np.cos(yy / 7.0), xx * 3.0], -1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("preset", ["realesrgan", "light"])
def test_degraded_lr_is_a_function_of_seed_and_name_only(preset):
    from srgan_keras.evaluation import degraded as de

    hr = _probe()
    lr = de.degraded_lr(hr, 4, preset, 0, "probe")
    assert lr.shape == (16, 20, 3) and lr.dtype == np.uint8
    # fixed bytes: a change of the pipeline or its seeding changes the benchmark; if that is
    # intended, say so and update the digests
    assert de.lr_digest(lr) == PROBE_DIGESTS[(preset, 0)]
    np.random.seed(123)  # global state plays no part
    assert de.lr_digest(de.degraded_lr(hr, 4, preset, 0, "probe")) == PROBE_DIGESTS[(preset, 0)]
    assert not np.array_equal(de.degraded_lr(hr, 4, preset, 1, "probe"), lr)
    assert not np.array_equal(de.degraded_lr(hr, 4, preset, 0, "probe2"), lr)


@pytest.mark.slow
def test_degrade_cli_gives_identical_lr_bytes_in_two_runs(tmp_path, small_set):
    """Same seed -> the same LR files, byte for byte, in this process and in a fresh one;
    another seed -> other LRs. The report's lr_sha256 is the saved pixels' digest."""
    import subprocess
    import sys

    from srgan_keras.evaluation import degraded as de

    args = ["--model", "bicubic", "--data", str(small_set), "--degrade", "realesrgan"]
    assert ev.main([*args, "--seed", "0", "--save-lr", str(tmp_path / "a"),
                    "--json", str(tmp_path / "a.json")]) == 0
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(ev.__file__).parents[1])}
    subprocess.run([sys.executable, "-m", "srgan_keras.evaluate", *args, "--seed", "0",
                    "--save-lr", str(tmp_path / "b")], check=True, env=env, capture_output=True)
    assert ev.main([*args, "--seed", "1", "--save-lr", str(tmp_path / "c")]) == 0
    names = sorted(f.name for f in (tmp_path / "a").iterdir())
    assert names == ["one.png", "two.png"]
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes()
        assert np.asarray(Image.open(tmp_path / "a" / n)).tobytes() != \
            np.asarray(Image.open(tmp_path / "c" / n)).tobytes()
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["degrade"]["preset"] == "realesrgan" and report["degrade"]["seed"] == 0
    assert report["degrade"]["config"]["jpeg_range"] == [30.0, 95.0]
    for row in report["images"]:
        saved = np.asarray(Image.open(tmp_path / "a" / f"{row['image']}.png"))
        assert row["lr_sha256"] == de.lr_digest(saved)
        assert row["bicubic"] is None  # bicubic is the model here
    with Image.open(tmp_path / "a" / "one.png") as im:
        assert im.text["srgan_keras"] == "degrade=realesrgan seed=0 x4 of one"


@pytest.mark.slow
def test_degraded_scores_beside_bicubic_and_light_is_milder(shared_data):
    """Bicubic of the degraded LR is reported beside the model; the light preset costs bicubic
    less than the official one (Set5)."""
    from srgan_keras.inference.runners import load_generator

    full = folders.evaluate_folder(BicubicRunner(4), shared_data / "Set5", degrade="realesrgan")
    light = folders.evaluate_folder(BicubicRunner(4), shared_data / "Set5", degrade="light")
    clean = folders.evaluate_folder(BicubicRunner(4), shared_data / "Set5")
    assert full["mean"]["psnr_y"] < light["mean"]["psnr_y"] < clean["mean"]["psnr_y"]
    assert full["protocol"] == protocol.DEGRADED_PROTOCOL and clean["degrade"] is None
    srresnet = folders.evaluate_folder(load_generator("srresnet"), [
        ("baby", np.asarray(Image.open(shared_data / "Set5" / "baby.png")))], degrade="realesrgan")
    assert srresnet["bicubic_mean"]["psnr_y"] == pytest.approx(full["images"][0]["psnr_y"])


def test_degrade_refuses_to_write_lrs_into_the_hr_folder(tmp_path, capsys, small_set):
    before = {f.name: f.read_bytes() for f in small_set.iterdir()}
    for dest in (small_set, small_set / "lr"):
        assert ev.main(["--model", "bicubic", "--data", str(small_set), "--degrade", "light",
                        "--save-lr", str(dest)]) == 1
        assert "inside the --data folder" in capsys.readouterr().err
    assert {f.name: f.read_bytes() for f in small_set.iterdir()} == before


def test_degrade_skips_images_too_small_for_its_kernels(tmp_path, capsys):
    data = tmp_path / "hr"
    data.mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (30, 60, 3), dtype=np.uint8)).save(data / "small.png")
    Image.fromarray(rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)).save(data / "ok.png")
    assert ev.main(["--model", "bicubic", "--data", str(data), "--degrade", "realesrgan"]) == 1
    err = capsys.readouterr().err
    assert f"skipped: {data / 'small.png'}: 60x30 px is too small" in err
    assert "at least 44 px" in err and "Real-ESRGAN" in err


def test_same_file_names_in_subfolders_get_distinct_names_seeds_and_lr_files(tmp_path):
    data = tmp_path / "hr"
    for sub in ("a", "b"):
        (data / sub).mkdir(parents=True)
        Image.fromarray(_probe()).save(data / sub / "x.png")
    report = folders.evaluate_folder(BicubicRunner(4), data, degrade="light", save_lr=tmp_path / "lr")
    assert [r["image"] for r in report["images"]] == ["a/x", "b/x"]
    assert report["images"][0]["lr_sha256"] != report["images"][1]["lr_sha256"]
    assert sorted(p.relative_to(tmp_path / "lr").as_posix() for p in (tmp_path / "lr").rglob("*.png")) \
        == ["a/x.png", "b/x.png"]


# ---------------------------------------------------------------- --no-reference (issue 12.7b)

def test_no_reference_scores_niqe_of_model_and_bicubic(tmp_path, capsys, tiny_model_path):
    from srgan_keras.evaluation.niqe import niqe

    data = tmp_path / "photos"
    data.mkdir()
    yy, xx = np.mgrid[0:30, 0:56]
    rgb = np.stack([127 + 100 * np.sin(xx / 3.0), 127 + 90 * np.cos(yy / 4.0), xx * 4.0], -1)
    photo = np.clip(rgb, 0, 255).astype(np.uint8)
    Image.fromarray(photo).save(data / "photo.jpg", quality=40)
    Image.fromarray(photo[:12, :12]).save(data / "thumb.png")  # x4 = 48 px: no 96x96 block
    rc = ev.main(["--model", str(tiny_model_path), "--data", str(data), "--no-reference",
                  "--json", str(tmp_path / "r.json"), "--csv", str(tmp_path / "r.csv"),
                  "--figure", str(tmp_path / "fig")])
    cap = capsys.readouterr()
    assert rc == 1  # thumb.png skipped
    assert [ln for ln in cap.err.splitlines() if ln.startswith("skipped:")] == [
        f"skipped: {data / 'thumb.png'}: x4 output: NIQE needs at least 2 blocks of 96x96 px "
        "inside the 4 px border, got an image of 48x48"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["metric"] == "niqe" and report["protocol"] == protocol.NO_REFERENCE_PROTOCOL
    (row,) = report["images"]
    assert (row["image"], row["height"], row["width"]) == ("photo", 30, 56)
    lr = np.asarray(Image.open(data / "photo.jpg").convert("RGB"))
    bic = protocol.upscale_lr(lr, BicubicRunner(4), None)
    assert row["bicubic"]["niqe"] == pytest.approx(niqe(bic, border=4))
    assert row["niqe"] != row["bicubic"]["niqe"]
    assert "no reference" in cap.out and cap.out.splitlines()[-2].split()[:2] == ["mean", "tiny_x4"]
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert list(rows[0]) == ["model", "data", "scale", "image", "method", "niqe"]
    assert (tmp_path / "fig" / "photo.png").is_file()


def test_niqe_column_beside_psnr_ssim(tmp_path, capsys):
    """--niqe: NIQE of the model's and bicubic's outputs in the full-reference table; an output
    too small for two 96x96 blocks has none ("-", left out of the mean)."""
    from srgan_keras.evaluation.niqe import niqe

    data = tmp_path / "hr"
    data.mkdir()
    Image.fromarray(_probe()).save(data / "small.png")  # 80x64: no NIQE
    yy, xx = np.mgrid[0:200, 0:300]
    rgb = np.stack([127 + 100 * np.sin(xx / 6.0), 127 + 90 * np.cos(yy / 9.0), xx * 0.8], -1)
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(data / "wide.png")
    rc = ev.main(["--model", "bicubic", "--data", str(data), "--niqe", "--degrade", "light",
                  "--json", str(tmp_path / "r.json")])
    assert rc == 0
    report = json.loads((tmp_path / "r.json").read_text())
    small, wide = report["images"]
    assert small["niqe"] is None and wide["niqe"] is not None
    lr = protocol.make_lr(np.asarray(Image.open(data / "wide.png")), 4, "light", 0, "wide")
    sr = protocol.upscale_lr(lr, BicubicRunner(4), None)
    assert wide["niqe"] == pytest.approx(niqe(sr, border=4))
    assert report["mean"]["niqe"] == pytest.approx(wide["niqe"])
    table = capsys.readouterr().out.splitlines()
    assert table[1].split()[-1] == "niqe" and table[3].split()[-1] == "-"


@pytest.mark.parametrize("flag, target, says", [
    ("--json", "folder", "is a folder, not a file"),
    ("--csv", "file/r.csv", "is a file, not a folder"),
    ("--figure", "file", "exists and is not a folder"),
    ("--save-lr", "file/deeper/lr", "is a file, not a folder"),
])
def test_unwritable_outputs_fail_before_any_scoring(tmp_path, capsys, small_set, flag, target,
                                                    says):
    """Issue 17.10 for evaluate: an output that cannot be written is found before the work."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("mine")
    rc = ev.main(["--model", str(tmp_path / "no_model.keras"), "--data", str(small_set),
                  flag, str(tmp_path / target)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith(f"error: {flag} {tmp_path / target}: ") and says in err
    assert "no_model" not in err  # refused before the model was even looked for
    assert (tmp_path / "file").read_text() == "mine"


@pytest.mark.parametrize("flags", [["--no-reference", "--degrade", "light"],
                                   ["--no-reference", "--save-lr", "lr"], ["--seed", "3"],
                                   ["--no-reference", "--niqe"]])
def test_flags_that_do_not_go_together_are_refused(small_set, capsys, flags):
    with pytest.raises(SystemExit) as e:
        ev.main(["--model", "bicubic", "--data", str(small_set), *flags])
    assert e.value.code == 2 and "error:" in capsys.readouterr().err


def test_artifacts_columns_catch_a_pixel_shuffle_pattern_and_a_nearest_grid(tmp_path, capsys):
    """--artifacts: pattern and lr_grid for the model, bicubic and the HR images. An SRVGG whose
    last convolution is zero but for a bias gives nearest-neighbour x4 (steps at every LR-pixel
    boundary) plus one fixed 4x4 tile in every cell (the pixel shuffle of the bias)."""
    import keras

    from srgan_keras.data.imaging import builtin_images
    from srgan_keras.nn.srvgg import build_srvgg

    data = tmp_path / "hr"
    data.mkdir()
    Image.fromarray(builtin_images(["coffee"])[0][1][:128, :160]).save(data / "coffee.png")
    model = build_srvgg(num_conv=1, num_feat=4)
    last = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    kernel, bias = last.get_weights()
    tile = np.random.default_rng(0).normal(0, 0.02, bias.shape).astype(np.float32)
    last.set_weights([np.zeros_like(kernel), tile])
    model.save(tmp_path / "patterned_x4.keras")
    rc = ev.main(["--model", str(tmp_path / "patterned_x4.keras"), "--data", str(data),
                  "--artifacts", "--json", str(tmp_path / "r.json")])
    assert rc == 0
    report = json.loads((tmp_path / "r.json").read_text())
    hr, bic, got = report["hr_artifacts_mean"], report["bicubic_mean"], report["mean"]
    assert hr["pattern"] < 2 and bic["pattern"] < 2 and got["pattern"] > 3 * hr["pattern"]
    assert 0.8 < hr["lr_grid"] < 1.3 and got["lr_grid"] > 1.5 * hr["lr_grid"]
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[-3:] == ["pattern", "lr_grid", "hf_ratio"]
    assert hr["hf_ratio"] == 1.0 and bic["hf_ratio"] < 0.7  # bicubic x4 is blurred
    assert "the HR images themselves: pattern" in out
    with pytest.raises(SystemExit):  # nothing to compare with: argparse refuses
        ev.main(["--model", "bicubic", "--data", str(data), "--artifacts", "--no-reference"])
