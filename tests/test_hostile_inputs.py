"""Issue 27's hostile-input table: every command over the same small hostile files.

Each (command, file) pair must end with a non-zero status and exactly one line on stderr that
names the file, no traceback, and nothing in its output folder. The commands run in-process
through their ``main(argv)``; images go where a command reads images (upscale's INPUT,
evaluate's --data, export's --check-data), models where it reads models (--model, convert's
checkpoint), the video where upscale reads videos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hostile_files import chunk_bomb_png, config_bomb, huge_frame_mkv, nan_tiff, truncated_png
from PIL import Image

IMAGES = ("chunk_bomb", "nan_tiff", "truncated_png", "empty_file", "text_as_png")
MODELS = ("not_a_generator", "config_bomb")
VIDEOS = ("huge_frame_video",)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    import keras

    from srgan_keras.nn.srvgg import build_srvgg

    root = tmp_path_factory.mktemp("hostile")
    keras.utils.set_random_seed(0)
    build_srvgg(num_conv=1, num_feat=4).save(root / "G.keras")
    x = keras.Input((10,))
    keras.Model(x, keras.layers.Dense(2)(x)).save(root / "classifier.keras")
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(root / "good.png")
    files = {"good": root / "good.png", "G": root / "G.keras",
             "chunk_bomb": chunk_bomb_png(root / "chunk_bomb.png"),
             "nan_tiff": nan_tiff(root / "nan.tif"),
             "truncated_png": truncated_png(root / "truncated.png",
                                            np.random.default_rng(0).integers(
                                                0, 256, (64, 64, 3), dtype=np.uint8)),
             "empty_file": root / "empty.png", "text_as_png": root / "notes.png",
             "not_a_generator": root / "classifier.keras",
             "config_bomb": config_bomb(root / "G.keras", root / "config_bomb.keras"),
             "huge_frame_video": huge_frame_mkv(root / "huge_frame.mkv")}
    files["empty_file"].write_bytes(b"")
    files["text_as_png"].write_text("these are my notes, not a picture\n")
    return files


def runs(hostile: dict[str, Path], kind: str, out: Path) -> list[tuple[str, list[str]]]:
    """(command, argv) for every command that reads a file of ``kind``."""
    bad = hostile[kind]
    if kind in VIDEOS:  # only upscale reads videos
        return [("upscale", [str(bad), "-o", str(out), "--model", "bicubic", "-q"])]
    if kind in IMAGES:
        alone = out.parent / f"data_{kind}"  # a folder holding only the bad image
        alone.mkdir(exist_ok=True)
        target = alone / bad.name
        if not target.exists():
            target.write_bytes(bad.read_bytes())
        return [("upscale", [str(bad), "-o", str(out), "--model", "bicubic", "-q"]),
                ("evaluate", ["--model", "bicubic", "--data", str(bad),
                              "--json", str(out / "r.json")]),
                ("export", ["--model", str(hostile["G"]), "--to", "tflite", "-o",
                            str(out / "g.tflite"), "--check-data", str(alone)])]
    return [("upscale", [str(hostile["good"]), "-o", str(out), "--model", str(bad), "-q"]),
            ("evaluate", ["--model", str(bad), "--data", str(hostile["good"]),
                          "--json", str(out / "r.json")]),
            ("export", ["--model", str(bad), "--to", "tflite", "-o", str(out / "g.tflite")]),
            ("convert", [str(bad), "-o", str(out / "g.keras")])]


def command(name: str):
    from srgan_keras.evaluation.evaluate import main as evaluate
    from srgan_keras.export.convert import main as convert
    from srgan_keras.export.export import main as export
    from srgan_keras.inference.upscale import main as upscale

    return {"upscale": upscale, "evaluate": evaluate, "export": export, "convert": convert}[name]


@pytest.mark.parametrize("kind", IMAGES + MODELS + VIDEOS)
def test_every_command_refuses_a_hostile_file_in_one_line_naming_it(hostile, tmp_path, capsys,
                                                                    kind):
    for name, argv in runs(hostile, kind, tmp_path / "out"):
        out = tmp_path / "out"
        capsys.readouterr()
        rc = command(name)(argv)
        err = capsys.readouterr().err
        where = f"{name} on {kind}"
        assert rc != 0, where
        assert "Traceback" not in err, (where, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, (where, lines)
        # the file is named: itself, or (export's --check-data) its copy in the folder given
        assert str(hostile[kind]) in lines[0] or f"{tmp_path}/data_{kind}/" in lines[0], \
            (where, lines[0])
        assert not out.exists() or not any(out.iterdir()), (where, sorted(out.iterdir()))
        if name == "convert":  # a .keras handed to convert says what it is
            assert "a Keras model file" in lines[0], lines[0]
