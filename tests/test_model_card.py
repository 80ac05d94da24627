"""The model-card tool: metrics.json, the card's table block, the comparison figure."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from srgan_keras.evaluation import card_markdown, model_card


def noise_folder(folder, sizes, rng):
    """A benchmark folder of grey-noise PNGs ``img0.png``, ``img1.png`` ... of the given (h, w)."""
    folder.mkdir()
    for i, (h, w) in enumerate(sizes):
        img = np.clip(rng.normal(128, 40, (h, w, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"img{i}.png")
    return folder


@pytest.fixture()
def two_folders(tmp_path):
    rng = np.random.default_rng(0)
    return [noise_folder(tmp_path / "SetA", [(40, 48), (44, 36)], rng),
            noise_folder(tmp_path / "SetB", [(48, 48)], rng)]


@pytest.mark.slow
def test_model_card_writes_metrics_table_and_figure(tmp_path, tiny_model_path, two_folders):
    out = tmp_path / "card"
    out.mkdir()
    model = out / "tiny_x4.keras"
    shutil.copy(tiny_model_path, model)
    (out / "MODEL_CARD.md").write_text(f"# Card\n\nprose\n\n{card_markdown.BEGIN}\nold\n"
                                       f"{card_markdown.END}\n\nmore prose\n")
    rc = model_card.main(["--model", str(model), "--data", str(two_folders[0]),
                          "--data", str(two_folders[1]), "--figure-image",
                          str(two_folders[1] / "img0.png"), "--out", str(out)])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    entry = metrics["models"]["tiny_x4.keras"]
    assert entry["sha256"] == model_card.sha256(model) and entry["bytes"] == model.stat().st_size
    assert set(entry["results"]) == {"SetA", "SetB"} == set(metrics["bicubic"])
    assert metrics["datasets"] == {"SetA": {"images": 2}, "SetB": {"images": 1}}
    card = (out / "MODEL_CARD.md").read_text()
    assert "old" not in card and card.startswith("# Card\n\nprose") and card.endswith("more prose\n")
    assert "| `tiny_x4.keras` |" in card and "| bicubic | - |" in card
    psnr = entry["results"]["SetA"]["psnr_y"]
    assert f"{psnr:.2f} dB" in card
    assert Image.open(out / "comparison.png").size[0] > 500
    # a re-run without --run keeps the training summary of the same file, not of a changed one
    entry["training"] = {"run": "r", "wall_hours": 1.0}
    (out / "metrics.json").write_text(json.dumps(metrics))
    assert model_card.main(["--model", str(model), "--data", str(two_folders[0]), "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["models"]["tiny_x4.keras"]["training"] == {
        "run": "r", "wall_hours": 1.0}
    # a renamed file (same SHA-256, another name) keeps its run too
    renamed = out / "tiny_old_x4.keras"
    shutil.copy(model, renamed)
    assert model_card.main(["--model", str(renamed), "--data", str(two_folders[0]), "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["models"]["tiny_old_x4.keras"]["training"] == {
        "run": "r", "wall_hours": 1.0}
    renamed.unlink()
    metrics["models"]["tiny_x4.keras"]["sha256"] = "0" * 64
    (out / "metrics.json").write_text(json.dumps(metrics))
    assert model_card.main(["--model", str(model), "--data", str(two_folders[0]), "--out", str(out)]) == 0
    assert "training" not in json.loads((out / "metrics.json").read_text())["models"]["tiny_x4.keras"]


def test_card_without_markers_is_an_error_and_nothing_is_written(tmp_path, tiny_model_path,
                                                                  two_folders, capsys):
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# no block here\n")
    with pytest.raises(ValueError, match="evaluation:begin"):
        card_markdown.update_card(card, "| table |")
    rc = model_card.main(["--model", str(tiny_model_path), "--data", str(two_folders[0]),
                          "--out", str(tmp_path)])
    assert rc == 2 and "evaluation:begin" in capsys.readouterr().err
    assert card.read_text() == "# no block here\n"
    assert not (tmp_path / "metrics.json").exists()


def test_missing_model_is_one_line_and_exit_2(tmp_path, capsys, two_folders):
    rc = model_card.main(["--model", str(tmp_path / "nope.keras"), "--data", str(two_folders[0]),
                          "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert not (tmp_path / "metrics.json").exists()


def test_bundled_names_are_their_files(tmp_path, capsys, two_folders):
    """Issue 28.2: --model realesr measures saved_models/realesr_x4.keras, under that file's name
    (the key the bundled card uses); --data builtin needs no image set of one's own."""
    from srgan_keras.inference.bundled import SAVED_MODELS

    out = tmp_path / "card"
    assert model_card.main(["--model", "realesr", "--data", str(two_folders[1]),
                            "--figure-model", "realesr", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    entry = metrics["models"]["realesr_x4.keras"]
    assert entry["sha256"] == model_card.sha256(SAVED_MODELS / "realesr_x4.keras")
    assert set(entry["results"]) == {"SetB"}
    capsys.readouterr()
    assert model_card.main(["--model", "srresnt", "--data", "builtin", "--out", str(out)]) == 2
    assert "did you mean srresnet?" in capsys.readouterr().err


def test_training_summary_reads_steps_hours_and_validation_from_the_logs(tmp_path):
    import tensorflow as tf

    from srgan_keras.evaluation.model_card import training_summary

    logs = tmp_path / "run" / "logs"
    for proc, (steps, psnr) in enumerate((((50, 100), 27.5), ((100, 150, 200), 28.25))):
        writer = tf.summary.create_file_writer(str(logs / f"p{proc}"))
        with writer.as_default():
            for s in steps:
                tf.summary.scalar("pretrain/steps_per_s", 1.0, step=s)
                if proc == 1:  # the second process ran a GAN phase
                    tf.summary.scalar("gan/d_real", 0.5 + s / 1000, step=s)
                    tf.summary.scalar("gan/d_fake", 0.5 - s / 1000, step=s)
            tf.summary.scalar("val/psnr", psnr, step=steps[-1])
        writer.close()
        for f in (logs / f"p{proc}").iterdir():  # one folder per process, as in a real run
            f.rename(logs / f.name)
    summary = training_summary(tmp_path / "run")
    assert summary["processes"] == 2 and summary["last_logged_step"] == {"pretrain": 200}
    assert summary["val_psnr_y"] == {100: 27.5, 200: 28.25}
    assert 0 <= summary["wall_hours"] < 0.01
    assert summary["gan_log"] == {100: {"d_real": 0.6, "d_fake": 0.4}, 150: {"d_real": 0.65, "d_fake": 0.35},
                                  200: {"d_real": 0.7, "d_fake": 0.3}}
    # a snapshot of step 120 of a run that went on: only what was logged up to it
    summary = training_summary(tmp_path / "run", up_to_step=120)
    assert summary["last_logged_step"] == {"pretrain": 100} and summary["val_psnr_y"] == {100: 27.5}
    assert summary["processes"] == 2 and summary["up_to_step"] == 120
    summary = training_summary(tmp_path / "run", up_to_step=99)  # before the second process
    assert summary["processes"] == 1 and summary["last_logged_step"] == {"pretrain": 50}
    assert "gan_log" not in summary  # no GAN phase logged yet


@pytest.mark.parametrize("extra, message", [
    (["--run", "nothere.keras=RUN"], "--run nothere.keras=RUN: expected FILE=RUN_DIR"),
    (["--run", "tiny_x4.keras"], "expected FILE=RUN_DIR"),
    (["--run", "tiny_x4.keras=/no/such/run"], "no logs/events.out.tfevents"),
    (["--figure-image", "/no/such.png"], "/no/such.png"),
    (["--run", "tiny_x4.keras=RUN@last"], "STEP after @ must be a whole number"),
    (["--figure-model", "other.keras"], "--figure-model other.keras: not one of the --model"),
    (["--jpeg-example", "builtin:nosuchphoto"], "scikit-image has no such photo"),
    (["--jpeg-example", "/no/such.jpg"], "/no/such.jpg"),
], ids=["unknown-model", "no-equals", "no-logs", "no-figure-image", "bad-step",
        "unknown-figure-model", "no-builtin-photo", "no-photo-file"])
def test_bad_run_or_figure_argument_fails_before_anything_is_written(tmp_path, tiny_model_path,
                                                                      two_folders, capsys,
                                                                      extra, message):
    rc = model_card.main(["--model", str(tiny_model_path), "--data", str(two_folders[0]),
                          "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_degraded_columns_and_figure(tmp_path, tiny_model_path, capsys):
    """--degraded-data adds '<set> <preset>/<seed>' columns with the numbers evaluate --degrade
    gives; an unknown preset fails before anything is measured or written."""
    from srgan_keras.evaluation.folders import evaluate_folder
    from srgan_keras.inference.runners import load_generator

    data = noise_folder(tmp_path / "SetC", [(48, 52)], np.random.default_rng(3))
    out = tmp_path / "card"
    rc = model_card.main(["--model", str(tiny_model_path), "--data", str(data),
                          "--degraded-data", str(data), "--degrade", "light", "--seed", "3",
                          "--figure-image", str(data / "img0.png"), "--figure-degraded",
                          "--out", str(out)])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["datasets"]) == ["SetC", "SetC light/3"]
    assert metrics["datasets"]["SetC light/3"]["degrade"]["preset"] == "light"
    want = evaluate_folder(load_generator(str(tiny_model_path)), data, degrade="light", seed=3)
    got = metrics["models"]["tiny_x4.keras"]["results"]["SetC light/3"]
    assert got["psnr_y"] == pytest.approx(want["mean"]["psnr_y"], abs=1e-4)
    assert got != metrics["models"]["tiny_x4.keras"]["results"]["SetC"]
    assert "SetC light/3 PSNR-Y" in capsys.readouterr().out
    assert (out / "comparison.png").is_file()
    rc = model_card.main(["--model", str(tiny_model_path), "--data", str(data), "--degrade",
                          "heavy", "--out", str(tmp_path / "none")])
    assert rc == 2 and not (tmp_path / "none").exists()


@pytest.mark.slow
def test_several_presets_jpeg_example_and_figure_models(tmp_path, tiny_model_path, capsys):
    """--degrade twice gives a column per preset; --jpeg-example measures issue 12's 120x80
    quality-40 JPEG (the numbers of the card's second table) and draws the first photo with the
    --figure-model models only."""
    from srgan_keras.evaluation.metrics import blockiness

    data = noise_folder(tmp_path / "SetD", [(48, 52)], np.random.default_rng(4))
    models = tmp_path / "models"
    models.mkdir()
    for name in ("a_x4.keras", "b_x4.keras"):
        shutil.copy(tiny_model_path, models / name)
    out = tmp_path / "card"
    rc = model_card.main(["--model", str(models / "a_x4.keras"), "--model", str(models / "b_x4.keras"),
                          "--data", str(data), "--degraded-data", str(data), "--degrade", "realesrgan",
                          "--degrade", "light", "--jpeg-example", "builtin:coffee",
                          "--jpeg-example", "builtin:chelsea", "--figure-model", "b_x4.keras",
                          "--out", str(out)])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["datasets"]) == ["SetD", "SetD realesrgan/0", "SetD light/0"]
    coffee, chelsea = metrics["jpeg_examples"]
    assert coffee["photo"] == "builtin:coffee" and chelsea["photo"] == "builtin:chelsea"
    assert list(coffee["results"]) == ["bicubic", "a_x4.keras", "b_x4.keras"]
    assert coffee["input_blockiness"] > 1.1  # quality 40 leaves its 8x8 grid
    assert coffee["results"]["a_x4.keras"] == coffee["results"]["b_x4.keras"]  # the same weights
    assert coffee["results"]["bicubic"]["blockiness"] != coffee["results"]["a_x4.keras"]["blockiness"]
    printed = capsys.readouterr().out
    assert "builtin:coffee: blockiness, PSNR-Y / SSIM-Y" in printed
    assert f"| `a_x4.keras` | {coffee['results']['a_x4.keras']['blockiness']:.3f}, " in printed
    # the figure: JPEG | bicubic | b | photo, four panels, as wide as four of comparison.png's
    figure = Image.open(out / "jpeg_example.jpg")
    assert figure.format == "JPEG"
    width = figure.size[0]
    assert 4 * 330 < width < 5 * 330
    assert blockiness(np.zeros((64, 64, 3), np.uint8), 8) == 1.0


def test_artifacts_columns_go_to_metrics_and_the_card(tmp_path, tiny_model_path, two_folders):
    """--artifacts: pattern / lr_grid per folder for bicubic, each model and the HR images, the
    numbers evaluate --artifacts gives; without it the card has no such table."""
    from srgan_keras.evaluation.folders import evaluate_folder

    out = tmp_path / "card"
    out.mkdir()
    (out / "MODEL_CARD.md").write_text(f"{card_markdown.BEGIN}\n{card_markdown.END}\n")
    rc = model_card.main(["--model", str(tiny_model_path), "--data", str(two_folders[0]),
                          "--artifacts", "--out", str(out)])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    got = metrics["models"]["tiny_x4.keras"]["results"]["SetA"]
    report = evaluate_folder(str(tiny_model_path), two_folders[0], artifacts=True)
    assert got["pattern"] == pytest.approx(report["mean"]["pattern"], abs=1e-4)
    assert got["lr_grid"] == pytest.approx(report["mean"]["lr_grid"], abs=1e-4)
    assert metrics["hr_artifacts"]["SetA"]["pattern"] == pytest.approx(
        report["hr_artifacts_mean"]["pattern"], abs=1e-4)
    assert {"pattern", "lr_grid"} <= set(metrics["bicubic"]["SetA"])
    card = (out / "MODEL_CARD.md").read_text()
    assert "| model | SetA: pattern / lr_grid |" in card and "| HR images |" in card
    assert f"{got['pattern']:.2f} / {got['lr_grid']:.2f}" in card
    assert model_card.main(["--model", str(tiny_model_path), "--data", str(two_folders[0]),
                            "--out", str(out)]) == 0
    assert "pattern / lr_grid" not in (out / "MODEL_CARD.md").read_text()


def test_niqe_columns_go_to_metrics_and_the_card(tmp_path, tiny_model_path):
    """--niqe --artifacts: a perception table (NIQE / hf_ratio per folder) with the HR images' own
    NIQE first, the numbers evaluate --niqe --artifacts gives; without --niqe no such table."""
    from srgan_keras.evaluation.folders import evaluate_folder
    from srgan_keras.evaluation.niqe import niqe

    rng = np.random.default_rng(1)
    folder = tmp_path / "SetN"
    folder.mkdir()
    yy, xx = np.mgrid[0:200, 0:200]
    base = 128 + 60 * np.sin(xx / 7.0) * np.cos(yy / 11.0)  # NIQE needs two 96x96 blocks
    img = np.clip(base[..., None] + rng.normal(0, 12, (200, 200, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(folder / "wave.png")
    out = tmp_path / "card"
    out.mkdir()
    (out / "MODEL_CARD.md").write_text(f"{card_markdown.BEGIN}\n{card_markdown.END}\n")
    assert model_card.main(["--model", str(tiny_model_path), "--data", str(folder), "--artifacts",
                            "--niqe", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    got = metrics["models"]["tiny_x4.keras"]["results"]["SetN"]
    report = evaluate_folder(str(tiny_model_path), folder, artifacts=True, niqe=True)
    assert got["niqe"] == pytest.approx(report["mean"]["niqe"], abs=1e-3)
    assert metrics["hr_artifacts"]["SetN"]["niqe"] == pytest.approx(niqe(img, border=4), abs=1e-3)
    assert metrics["bicubic"]["SetN"]["niqe"] != got["niqe"]
    card = (out / "MODEL_CARD.md").read_text()
    assert "| model | SetN: NIQE / hf_ratio |" in card
    # the HR images' own row: their NIQE, and hf_ratio 1 (HR against itself)
    assert f"| HR images | {metrics['hr_artifacts']['SetN']['niqe']:.2f} / 1.00 |" in card
    assert f"| `tiny_x4.keras` | {got['niqe']:.2f} / {got['hf_ratio']:.2f} |" in card
    assert model_card.main(["--model", str(tiny_model_path), "--data", str(folder), "--artifacts",
                            "--out", str(out)]) == 0
    assert "NIQE / hf_ratio" not in (out / "MODEL_CARD.md").read_text()


def test_texture_crops_figure_and_a_square_outside_the_image(tmp_path, tiny_model_path, two_folders,
                                                             capsys):
    """Issue 23.5: --texture-crop IMAGE@Y,X,SIZE draws texture_crops.png (a row per square, HR |
    bicubic | each model); a square outside its image is refused before anything is written."""
    out = tmp_path / "card"
    image = two_folders[1] / "img0.png"  # 48x48
    rc = model_card.main(["--model", str(tiny_model_path), "--data", str(two_folders[1]),
                          "--texture-crop", f"{image}@0,0,24", "--texture-crop", f"{image}@16,8,32",
                          "--out", str(out)])
    assert rc == 0
    w, h = Image.open(out / "texture_crops.png").size
    assert min(w, h) > 150  # two rows of three crops, titled
    capsys.readouterr()
    bad = tmp_path / "bad"
    for spec in (f"{image}@40,0,24", f"{image}@0,0", f"{image}"):
        rc = model_card.main(["--model", str(tiny_model_path), "--data", str(two_folders[1]),
                              "--texture-crop", spec, "--out", str(bad)])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and "--texture-crop" in err[0]
    assert not bad.exists() or not any(bad.iterdir())
