"""Issue 27: no command deletes, replaces or moves what it did not make (srgan_keras.data.files).

One test per numbered case of the issue, each failing on the code before the shared module;
tiny models only (SRVGG with one 4-channel convolution), few exports.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}


def photo(h: int = 48, w: int = 48, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([127 + 100 * np.sin(xx / 7.0), 127 + 90 * np.cos(yy / 5.0), xx * 4.0], -1)
    return np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)


def snapshot_tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for folders): what must not change."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
            for p in sorted(root.rglob("*"))}




# -- 27.1: export --overwrite ------------------------------------------------------------------
def test_export_overwrite_never_deletes_a_folder_it_did_not_make(tiny_keras, tmp_path, capsys):
    from srgan_keras.export.export import main

    proj = tmp_path / "proj"
    (proj / "checkpoints").mkdir(parents=True)
    (proj / "G.keras").write_bytes(tiny_keras.read_bytes())
    (proj / "notes.txt").write_text("x")
    (proj / "checkpoints" / "ckpt-1.index").write_bytes(b"ckpt")
    before = snapshot_tree(tmp_path)
    # the folder holds the input model
    assert main(["--model", str(proj / "G.keras"), "--to", "saved_model", "-o", str(proj),
                 "--overwrite"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holding the input" in err and str(proj) in err
    # a folder of other files, no input in it
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    before = snapshot_tree(tmp_path)
    assert main(["--model", str(proj / "G.keras"), "--to", "saved_model", "-o", str(other),
                 "--overwrite"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not an export of ours" in err
    assert snapshot_tree(tmp_path) == before


def test_export_overwrite_never_replaces_its_input(tiny_keras, tmp_path, capsys):
    from srgan_keras.export.export import main

    g2 = tmp_path / "G2.keras"
    g2.write_bytes(tiny_keras.read_bytes())
    before = snapshot_tree(tmp_path)
    assert main(["--model", str(g2), "--to", "tflite", "-o", str(g2), "--overwrite"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is the input" in err
    assert snapshot_tree(tmp_path) == before


@pytest.mark.slow
def test_export_overwrite_replaces_its_own_saved_model(tiny_keras, tmp_path, capsys):
    """What --overwrite is for still works: a SavedModel export of ours is swapped for a new one,
    and no staging folder is left beside it."""
    from srgan_keras.export.export import main

    out = tmp_path / "g_savedmodel"
    args = ["--model", str(tiny_keras), "--to", "saved_model", "-o", str(out)]
    assert main(args) == 0
    assert main(args) == 2 and "already exists" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert (out / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g_savedmodel", "g_savedmodel.parity.json"]


# -- 27.2: evaluate's outputs are never its inputs ---------------------------------------------
@pytest.fixture()
def photos(tmp_path) -> Path:
    data = tmp_path / "photos"
    data.mkdir()
    for i, name in enumerate(("a", "b")):
        Image.fromarray(photo(64, 64, seed=i)).save(data / f"{name}.png")  # NIQE: 2 96 px blocks at x4
    return data


@pytest.mark.parametrize("extra", [
    ["--figure", "{data}"],
    ["--figure", "{data}", "--no-reference"],
    ["--json", "{data}/a.png"],
    ["--csv", "{data}/b.png"],
])
def test_evaluate_never_writes_over_the_images_it_evaluates(photos, capsys, extra):
    from srgan_keras.evaluation.evaluate import main

    before = snapshot_tree(photos)
    argv = ["--model", "bicubic", "--data", str(photos), *(a.format(data=photos) for a in extra)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(photos) in err
    assert snapshot_tree(photos) == before


# -- 27.5: convert and snapshot need --overwrite ------------------------------------------------
def test_convert_refuses_an_existing_output_without_overwrite(tiny_pth, tmp_path, capsys):
    from srgan_keras.export.convert import main

    out = tmp_path / "existing.keras"
    out.write_bytes(b"my model")
    assert main([str(tiny_pth), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "already exists" in err and "--overwrite" in err
    assert out.read_bytes() == b"my model"
    assert main([str(tiny_pth), "-o", str(out), "--overwrite"]) == 0
    assert out.read_bytes()[:2] == b"PK"  # a .keras zip now
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.keras"]


@pytest.mark.slow
def test_snapshot_refuses_an_existing_output_without_overwrite(tmp_path, capsys):
    from srgan_keras.training import snapshot, train

    run = tmp_path / "run"
    assert train.main(["--preset", "tiny", "--out", str(run), "--pretrain-steps", "1",
                       "--gan-steps", "0", "--ckpt-every", "1", "--val-every", "1"]) == 0
    capsys.readouterr()
    out = tmp_path / "existing.keras"
    out.write_bytes(b"my model")
    assert snapshot.main([str(run), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "already exists" in err and "--overwrite" in err
    assert out.read_bytes() == b"my model"
    assert snapshot.main([str(run), "-o", str(out), "--overwrite"]) == 0
    assert out.read_bytes()[:2] == b"PK"


# -- 27.6: upscale checks at the rename, not only while planning --------------------------------
def test_upscale_keeps_a_file_that_appears_at_its_output_during_the_run(tmp_path, capsys,
                                                                      tiny_model_path, monkeypatch):
    from srgan_keras.inference import upscale as cli

    for i, name in enumerate(("a", "b")):
        Image.fromarray(photo(12, 10, seed=i)).save(tmp_path / f"{name}.png")
    out = tmp_path / "o"
    theirs = out / "a_x4.png"
    real = cli.upscale_image

    def someone_writes_meanwhile(*args, **kwargs):
        result = real(*args, **kwargs)
        if not theirs.exists() and not (out / "b_x4.png").exists():
            theirs.parent.mkdir(parents=True, exist_ok=True)
            theirs.write_bytes(b"their file")
        return result

    monkeypatch.setattr(cli, "upscale_image", someone_writes_meanwhile)
    rc = cli.main([str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(out),
                   "--model", str(tiny_model_path), "-q"])
    stdout, err = capsys.readouterr()
    assert rc == 1
    assert theirs.read_bytes() == b"their file"
    failed = [line for line in err.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and str(theirs) in failed[0] and "a.png" in failed[0]
    assert (out / "b_x4.png").is_file() and "1 upscaled, 1 failed" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["a_x4.png", "b_x4.png"]


# -- 27.12: what a kill -9 leaves is removed by the next command writing there ------------------
_KILLED_IN_ATOMIC_WRITE = """
import os, signal, sys
from srgan_keras.data.imaging import atomic_write
def die(tmp):
    open(tmp, "wb").write(b"PK half a model")
    os.kill(os.getpid(), signal.SIGKILL)
atomic_write(sys.argv[1], die)
"""

_KILLED_IN_EXPORT = """
import os, signal, sys
from srgan_keras.export import export as ex
def die(*args, **kwargs):
    open(os.path.join(kwargs["work_dir"], "half.tflite"), "wb").write(b"half")
    os.kill(os.getpid(), signal.SIGKILL)
ex.tflite_bytes = die
ex.export(sys.argv[1], "tflite", sys.argv[2])
"""

_KILLED_IN_VIDEO = """
import os, signal, sys
from srgan_keras.inference import tiling, video
from srgan_keras.inference.runners import BicubicRunner
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
tiling.upscale_image = die
video.upscale_video(sys.argv[1], sys.argv[2], BicubicRunner(4), progress=False)
"""


def _tiny_video(path: Path) -> bool:
    try:
        import imageio_ffmpeg
    except ImportError:
        return False
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=32x32:rate=5:duration=1", "-pix_fmt", "yuv420p", str(path)],
                   check=True, timeout=120)
    return True


@pytest.mark.slow
def test_temporaries_of_killed_commands_are_removed_by_the_next_one(tiny_keras, tiny_pth, tmp_path,
                                                                  capsys):
    from srgan_keras.export.convert import main as convert

    # one folder per killed command (a command writing into a folder would clean the others' already)
    runs = [[_KILLED_IN_ATOMIC_WRITE, str(tmp_path / "a" / "g.keras")],
            [_KILLED_IN_EXPORT, str(tiny_keras), str(tmp_path / "b" / "g.tflite")]]
    if _tiny_video(tmp_path / "clip.mp4"):
        runs.append([_KILLED_IN_VIDEO, str(tmp_path / "clip.mp4"), str(tmp_path / "c" / "clip_x4.mp4")])
    procs = [subprocess.Popen([sys.executable, "-c", *run], cwd=tmp_path, env=ENV,
                              stderr=subprocess.PIPE, text=True) for run in runs]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == -signal.SIGKILL, err[-2000:]
    for run in runs:
        out = Path(run[-1]).parent
        left = [p.name for p in out.iterdir()]
        assert len(left) == 1 and left[0].startswith("."), left  # its temporary file or folder
        mine = [out / ".notes.txt", out / ".g.abcdefgh.keras.bak"]  # look-alikes of the user's
        live = out / f".live.keras.srgan-tmp-{os.getpid()}-abcd1234.keras"  # alive: it stays
        for p in (*mine, live):
            p.write_bytes(b"keep")
        assert convert([str(tiny_pth), "-o", str(out / "converted.keras")]) == 0
        assert sorted(p.name for p in out.iterdir()) == sorted(
            ["converted.keras", *(p.name for p in mine), live.name])
    capsys.readouterr()


def test_stale_temporary_rules():
    """Only our exact names are temporaries."""
    from srgan_keras.data import files

    assert files.is_temp(".cat_x4.png.srgan-tmp-12-abcdefgh.png")
    assert files.is_temp(".g_savedmodel.srgan-tmp-12-a1b2c3d4")
    for name in (".cat_x4.abcdefgh.png", "cat.png.srgan-tmp-12-abcdefgh.png",
                 ".cat.png.srgan-tmp-x-abcdefgh.png", ".cat.png.srgan-tmp-12-ABCDEFGH.png"):
        assert not files.is_temp(name), name


# -- 27.10: a .keras that is not a generator, a run folder whose config.json is a list -----------
@pytest.fixture(scope="module")
def not_generators(tmp_path_factory) -> dict[str, Path]:
    """Valid .keras files that are no image-to-image generator."""
    import keras

    folder = tmp_path_factory.mktemp("not_generators")
    x = keras.Input((10,))
    keras.Model(x, keras.layers.Dense(2)(x)).save(folder / "classifier.keras")
    x = keras.Input((None, None, 3))
    y = keras.layers.Conv2D(3, 3, padding="same")(x)
    keras.Model(x, {"sr": y, "mask": y}).save(folder / "dict_out.keras")
    return {"classifier": folder / "classifier.keras", "dict": folder / "dict_out.keras"}


@pytest.mark.parametrize("kind", ["classifier", "dict"])
def test_a_model_that_is_not_a_generator_is_one_line_naming_it(not_generators, photos, tmp_path,
                                                             capsys, kind):
    from srgan_keras.evaluation.evaluate import main as evaluate
    from srgan_keras.export.export import main as export
    from srgan_keras.inference.upscale import main as upscale

    model = str(not_generators[kind])
    runs = [(upscale, [str(photos / "a.png"), "-o", str(tmp_path / "up"), "--model", model, "-q"]),
            (evaluate, ["--model", model, "--data", str(photos)]),
            (export, ["--model", model, "--to", "tflite", "-o", str(tmp_path / "g.tflite")])]
    for cli, argv in runs:
        capsys.readouterr()
        assert cli(argv) == 2, cli.__module__
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and model in err[0] and "not" in err[0], (cli.__module__, err)
        assert "Traceback" not in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]  # no output made


def test_snapshot_of_a_run_whose_config_is_a_list_is_one_line(tmp_path, capsys):
    from srgan_keras.training import snapshot

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("[1, 2, 3]")
    assert snapshot.main([str(run), "-o", str(tmp_path / "g.keras")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(run / "config.json") in err[0] and "not a run's config" in err[0], err
    assert not (tmp_path / "g.keras").exists()


# -- 27.8: PNG metadata chunks that decompress beyond Pillow's limits --------------------------
def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(path: Path, kind: str) -> Path:
    """An 8x8 RGB PNG whose ``kind`` chunk is a zlib bomb (2 MiB of zeros in 2 KB, above
    Pillow's 1 MiB per chunk), or (``text``) 70 zTXt chunks of 1 MB each (above its 64 MiB)."""
    w = h = 8
    raw = b"".join(b"\x00" + bytes(np.full(3 * w, 90, np.uint8)) for _ in range(h))
    bomb = zlib.compress(bytes(2 * 2**20), 9)
    chunks = {"zTXt": png_chunk(b"zTXt", b"Comment\x00\x00" + bomb),
              "iTXt": png_chunk(b"iTXt", b"Comment\x00\x01\x00\x00\x00" + bomb),
              "iCCP": png_chunk(b"iCCP", b"icc\x00\x00" + bomb),
              "text": b"".join(png_chunk(b"zTXt", b"k%d\x00\x00" % i + zlib.compress(bytes(10**6)))
                               for i in range(70))}[kind]
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunks + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))
    return path


BOMBS = ("zTXt", "iTXt", "iCCP", "text")


def test_png_chunk_bombs_fail_their_file_in_upscale_and_the_batch_goes_on(tmp_path, capsys):
    from srgan_keras.inference.upscale import main as upscale

    bombs = [bomb_png(tmp_path / f"bomb_{k}.png", k) for k in BOMBS]
    Image.fromarray(photo(8, 8)).save(tmp_path / "good.png")
    rc = upscale([*map(str, bombs), str(tmp_path / "good.png"), "-o", str(tmp_path / "o"),
                  "--model", "bicubic", "-q"])
    stdout, err = capsys.readouterr()
    assert rc == 1, err
    assert "Traceback" not in err
    failed = [line for line in err.splitlines() if line.startswith("failed:")]
    assert len(failed) == len(bombs), err
    for b in bombs:
        assert sum(str(b) in line and "too large" in line for line in failed) == 1, (b, failed)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["good_x4.png"]


@pytest.mark.parametrize("kind", BOMBS)
def test_png_chunk_bombs_are_named_in_evaluate(tmp_path, capsys, kind):
    from srgan_keras.evaluation.evaluate import main as evaluate

    data = tmp_path / "data"
    data.mkdir()
    Image.fromarray(photo(32, 32)).save(data / "good.png")
    bomb = bomb_png(data / "bomb.png", kind)
    rc = evaluate(["--model", "bicubic", "--data", str(data)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    skipped = [line for line in err.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 1 and str(bomb) in skipped[0] and "too large" in skipped[0], err
    assert rc == 1  # good.png scored, the bomb named and left out of the means


# -- 27.9: float TIFFs with NaN or Inf pixels --------------------------------------------------
def test_float_tiffs_with_nan_or_inf_pixels_are_refused_naming_the_file(tmp_path, capsys):
    from srgan_keras.inference.upscale import main as upscale

    bad = []
    for name, value in (("nan", np.nan), ("inf", np.inf), ("minus_inf", -np.inf)):
        arr = np.full((8, 8), 0.5, np.float32)
        arr[2, 3] = value
        Image.fromarray(arr, mode="F").save(tmp_path / f"{name}.tif")
        bad.append(tmp_path / f"{name}.tif")
    tifffile = pytest.importorskip("tifffile")
    arr = np.full((8, 8), 0.25, np.float32)
    arr[0, 0] = np.nan
    tifffile.imwrite(tmp_path / "tifffile_nan.tif", arr)
    bad.append(tmp_path / "tifffile_nan.tif")
    Image.fromarray(np.full((8, 8), 0.5, np.float32), mode="F").save(tmp_path / "good.tif")
    rc = upscale([*map(str, bad), str(tmp_path / "good.tif"), "-o", str(tmp_path / "o"),
                  "--model", "bicubic", "-q"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err, err
    failed = [line for line in err.splitlines() if line.startswith("failed:")]
    assert len(failed) == len(bad), err
    for b in bad:
        assert sum(str(b) in line and "has NaN or infinite pixels" in line for line in failed) == 1
    assert [p.stem for p in (tmp_path / "o").iterdir()] == ["good_x4"]
