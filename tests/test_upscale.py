"""Tiled upscaling and the upscale CLI: every input kind, every bad kind, atomic and safe writes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_keras.inference import image_io
from srgan_keras.inference import upscale as cli
from srgan_keras.inference.runners import (
    BicubicRunner,
    ModelNotFoundError,
    load_generator,
    resolve_model_path,
)
from srgan_keras.inference.tiling import output_size, upscale_image


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth, textured uint8 RGB test picture (sinusoids + a ramp + a little noise)."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([127 + 100 * np.sin(xx / 17.0) * np.cos(yy / 23.0),
                    127 + 90 * np.sin((xx + yy) / 9.0), xx * 255.0 / max(w - 1, 1)], -1)
    img += np.random.default_rng(seed).normal(0, 8, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def tiny_runner(tiny_model_path):
    return load_generator(tiny_model_path)


# ---------------------------------------------------------------- loader


def test_load_generator_keras_file_reads_scale_and_range(tiny_runner):
    assert tiny_runner.scale == 4
    sr = tiny_runner(np.random.default_rng(0).random((2, 7, 9, 3), dtype=np.float32))
    assert sr.shape == (2, 28, 36, 3) and sr.dtype == np.float32
    assert sr.min() >= 0.0 and sr.max() <= 1.0


def test_load_generator_errors_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(ModelNotFoundError, match="python -m srgan_keras.train"):
        load_generator(tmp_path / "missing.keras")
    monkeypatch.setattr("srgan_keras.inference.bundled.SAVED_MODELS", tmp_path)
    with pytest.raises(ModelNotFoundError, match="--model PATH"):
        resolve_model_path(None)
    with pytest.raises(ModelNotFoundError, match="srgan_x4.keras"):
        load_generator("srgan")
    bad = tmp_path / "broken.keras"
    bad.write_text("not a zip")
    with pytest.raises(ValueError, match="broken.keras: not a loadable Keras model file"):
        load_generator(bad)
    assert load_generator("bicubic", scale=2).scale == 2


def test_help_names_every_input_output_and_model_kind(capsys):
    """Issue 28.7: --help is where a newcomer looks for videos, output names and model kinds."""
    with pytest.raises(SystemExit):
        cli.parse_args(["--help"])
    text = capsys.readouterr().out
    for said in ("folders", "globs", "video", "clip.mp4", "_x4.<ext>", "_x2.5", "_x4.mp4",
                 ".keras", "SavedModel", ".tflite", ".onnx", "realesr", "srresnet", "srgan",
                 "bicubic", "FILE.pth", "converted on first"):
        assert said in text, said


def test_a_mistyped_model_name_lists_the_names_and_the_closest(tmp_path, monkeypatch):
    """Issue 28.3: --model realsr is a typo of a name, not a run to train."""
    monkeypatch.chdir(tmp_path)  # no file called realsr here
    with pytest.raises(ModelNotFoundError) as e:
        load_generator("realsr")
    msg = str(e.value)
    assert "did you mean realesr?" in msg and "realesr, srresnet, srgan, bicubic" in msg
    assert "srgan_keras.train" not in msg
    with pytest.raises(ModelNotFoundError, match="the names are realesr, srresnet, srgan, bicubic"):
        load_generator("zzz")  # nothing close: the names all the same


# ---------------------------------------------------------------- tiling


@pytest.mark.slow
def test_tiled_equals_whole_on_600x400(tiny_generator):
    img = photo(400, 600)
    whole = upscale_image(img, tiny_generator, tile=None).astype(int)
    assert whole.shape == (1600, 2400, 3) and whole.std() > 1  # not a flat output
    tiled = upscale_image(img, tiny_generator, tile=64, tile_overlap=16)
    diff = np.abs(tiled - whole)
    assert diff.max() <= 2 and diff.mean() < 0.1  # issue 3 acceptance
    # and the bound means something: without context the seams show
    seams = np.abs(upscale_image(img, tiny_generator, tile=64, tile_overlap=0) - whole)
    assert seams.max() > 2


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 13, 3), (5, 3, 3), (33, 2, 3)])
def test_any_size_without_cropping(tiny_generator, shape):
    img = photo(*shape[:2])
    out = upscale_image(img, tiny_generator, tile=4, tile_overlap=2)
    assert out.shape == (shape[0] * 4, shape[1] * 4, 3) and out.dtype == np.uint8


def test_layouts_and_depths(tiny_generator):
    rgb = photo(12, 10)
    gray = rgb[..., 0]
    assert upscale_image(gray, tiny_generator).shape == (48, 40)
    assert upscale_image(gray[..., None], tiny_generator).shape == (48, 40, 1)
    la = upscale_image(np.dstack([gray, np.full_like(gray, 200)]), tiny_generator)
    assert la.shape == (48, 40, 2) and (la[..., 1] == 200).all()  # flat alpha stays flat
    rgba = np.dstack([rgb, np.tile(np.linspace(0, 255, 10), (12, 1)).astype(np.uint8)])
    out = upscale_image(rgba, tiny_generator, tile=5, tile_overlap=4)
    assert out.shape == (48, 40, 4)
    alpha_ref = upscale_image(rgba[..., 3], BicubicRunner(4), tile=None)
    assert np.abs(out[..., 3].astype(int) - alpha_ref).max() <= 1  # alpha is bicubic
    sixteen = upscale_image(rgb.astype(np.uint16) * 257, tiny_generator)
    eight = upscale_image(rgb, tiny_generator)
    assert sixteen.dtype == np.uint16
    assert np.abs(sixteen / 257.0 - eight).max() <= 1.0
    assert upscale_image(rgb / 255.0, tiny_generator).dtype == np.uint8


def test_bicubic_runner_matches_bicubic_upscale():
    from srgan_keras.data.degradation import bicubic_upscale

    lr = photo(20, 24)
    ours = upscale_image(lr, BicubicRunner(4), tile=8, tile_overlap=4, pre_pad=0)
    ref = bicubic_upscale(lr.astype(np.float32), 4).numpy()
    assert np.abs(ours.astype(int) - ref).max() <= 1


# ---------------------------------------------------------------- CLI: inputs


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(path: Path, side: int = 30000) -> None:
    """A 300-byte PNG whose header claims side x side pixels (past Pillow's bomb limit)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                     + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b""))


def make_good_inputs(root: Path) -> dict[str, tuple[tuple[int, int], str]]:
    """Every input kind of issue 3 item 4; returns name -> (expected output (w, h), mode)."""
    import tensorflow as tf

    root.mkdir(parents=True, exist_ok=True)
    rgb = photo(16, 20)
    Image.fromarray(rgb).save(root / "rgb.png")
    Image.fromarray(rgb[..., 1]).save(root / "gray.png")
    alpha = np.tile(np.linspace(0, 255, 20), (16, 1)).astype(np.uint8)
    Image.fromarray(np.dstack([rgb, alpha])).save(root / "rgba.png")
    Image.fromarray(np.dstack([rgb[..., 0], alpha]), "LA").save(root / "la.png")
    Image.fromarray(rgb).convert("P").save(root / "palette.png")
    pal = Image.fromarray(rgb).convert("P")
    pal.save(root / "palette_trns.png", transparency=0)
    Image.fromarray(rgb[..., 2].astype(np.uint16) * 257).save(root / "gray16.png")
    (root / "rgb16.png").write_bytes(tf.io.encode_png(rgb.astype(np.uint16) * 257).numpy())
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 20x16, shown rotated: 16 wide, 20 high
    Image.fromarray(rgb).save(root / "rotated.jpg", exif=exif.tobytes())
    Image.fromarray(rgb).convert("CMYK").save(root / "cmyk.jpg")
    (root / "sub").mkdir(exist_ok=True)
    Image.fromarray(rgb).save(root / "sub" / "nested.webp")
    return {"rgb_x4.png": ((80, 64), "RGB"), "gray_x4.png": ((80, 64), "L"),
            "rgba_x4.png": ((80, 64), "RGBA"), "la_x4.png": ((80, 64), "LA"),
            "palette_x4.png": ((80, 64), "RGB"), "palette_trns_x4.png": ((80, 64), "RGBA"),
            "gray16_x4.png": ((80, 64), "I;16"), "rgb16_x4.png": ((80, 64), "RGB"),
            "rotated_x4.jpg": ((64, 80), "RGB"), "cmyk_x4.jpg": ((80, 64), "RGB"),
            "sub/nested_x4.webp": ((80, 64), "RGB")}


def make_bad_inputs(root: Path) -> list[str]:
    """Every bad kind of issue 3 item 5; returns the file names."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "empty.png").write_bytes(b"")
    Image.fromarray(photo(64, 64)).save(root / "whole.png")
    data = (root / "whole.png").read_bytes()
    (root / "truncated.png").write_bytes(data[: len(data) // 2])
    (root / "whole.png").unlink()
    (root / "notes.png").write_text("this is not an image\n")
    bomb_png(root / "bomb.png")
    return ["empty.png", "truncated.png", "notes.png", "bomb.png"]


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob(".*") if p.is_file()]


def test_cli_every_input_kind(tmp_path, capsys, tiny_model_path):
    expected = make_good_inputs(tmp_path / "in")
    out_dir = tmp_path / "out"
    rc, out, err = run_cli(capsys, tmp_path / "in", "-o", out_dir, "--model", tiny_model_path,
                           "--tile", 32)
    assert rc == 0, err
    assert f"{len(expected)} upscaled, 0 failed" in out
    for name, (size, mode) in expected.items():
        with Image.open(out_dir / name) as im:
            assert (im.size, im.mode) == (size, mode), name
    # 16-bit stays 16-bit: IHDR bit depth byte of the RGB output
    assert (out_dir / "rgb16_x4.png").read_bytes()[24] == 16
    with Image.open(out_dir / "gray16_x4.png") as im:
        assert np.asarray(im).max() > 255
    with Image.open(out_dir / "rgba_x4.png") as im:  # alpha ramp preserved
        a = np.asarray(im)[..., 3]
        assert a[:, :4].mean() < 20 and a[:, -4:].mean() > 235
    assert no_temp_files(out_dir)


def test_cli_bad_inputs_reported_others_processed(tmp_path, capsys, tiny_model_path):
    bad = make_bad_inputs(tmp_path / "in")
    Image.fromarray(photo(10, 12)).save(tmp_path / "in" / "good.png")
    out_dir = tmp_path / "out"
    rc, out, err = run_cli(capsys, tmp_path / "in", tmp_path / "nothing*.png", "-o", out_dir,
                           "--model", tiny_model_path)
    assert rc == 1
    assert "1 upscaled, 5 failed" in out
    lines = [ln for ln in err.splitlines() if ln.startswith("failed:")]
    for name in bad:
        assert sum(name in ln for ln in lines) == 1, (name, err)
    reasons = {"empty.png": "empty", "notes.png": "not an image", "bomb.png": "bomb",
               "truncated.png": "truncated"}
    for name, why in reasons.items():
        line = next(ln for ln in lines if name in ln)
        assert why in line.lower(), line
    assert any("nothing*.png" in ln for ln in lines)
    assert sorted(p.name for p in out_dir.iterdir()) == ["good_x4.png"]


def test_cli_max_pixels_guard(tmp_path, capsys, tiny_model_path):
    Image.fromarray(photo(64, 64)).save(tmp_path / "big.png")
    limit = Image.MAX_IMAGE_PIXELS
    rc, out, err = run_cli(capsys, tmp_path / "big.png", "-o", tmp_path / "out", "--model",
                           tiny_model_path, "--max-pixels", 1000)
    assert rc == 1 and "decompression bomb" in err and "0 upscaled, 1 failed" in out
    assert Image.MAX_IMAGE_PIXELS == limit  # restored for the rest of the process


def test_cli_never_overwrites_without_flag_nor_an_input(tmp_path, capsys, tiny_model_path):
    Image.fromarray(photo(10, 12)).save(tmp_path / "p.png")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "p_x4.png").write_bytes(b"precious")
    args = (tmp_path / "p.png", "-o", out_dir, "--model", tiny_model_path)
    rc, out, err = run_cli(capsys, *args)
    assert rc == 0 and "skipped" in err and "--overwrite" in err
    assert (out_dir / "p_x4.png").read_bytes() == b"precious"
    # --overwrite replaces only outputs this CLI wrote, never a user's file of the same name
    rc, out, err = run_cli(capsys, *args, "--overwrite")
    assert rc == 1 and "not written by this command" in err
    assert (out_dir / "p_x4.png").read_bytes() == b"precious"
    (out_dir / "p_x4.png").unlink()
    rc, out, err = run_cli(capsys, *args)
    first = (out_dir / "p_x4.png").read_bytes()
    Image.fromarray(photo(10, 12, seed=5)).save(tmp_path / "p.png")
    rc, out, err = run_cli(capsys, *args, "--overwrite")
    assert rc == 0 and "1 upscaled" in out
    assert Image.open(out_dir / "p_x4.png").size == (48, 40)
    assert (out_dir / "p_x4.png").read_bytes() != first
    # an output that would land on an input is refused, even with --overwrite
    Image.fromarray(photo(10, 12)).save(tmp_path / "p_x4.png")
    before = (tmp_path / "p_x4.png").read_bytes()
    rc, out, err = run_cli(capsys, tmp_path / "p.png", tmp_path / "p_x4.png", "-o", tmp_path,
                           "--model", tiny_model_path, "--overwrite")
    assert rc == 1 and "is an input file" in err
    assert (tmp_path / "p_x4.png").read_bytes() == before
    assert (tmp_path / "p_x4_x4.png").exists()
    # a second run over the same folder skips the first run's outputs instead of re-upscaling
    rc, out, err = run_cli(capsys, tmp_path, "-o", tmp_path, "--model", tiny_model_path)
    assert not (tmp_path / "p_x4_x4_x4.png").exists()


def test_cli_atomic_write_on_failure(tmp_path, capsys, tiny_model_path, monkeypatch):
    for name in ("a", "b"):
        Image.fromarray(photo(10, 12, seed=1)).save(tmp_path / f"{name}.png")
    real_write = image_io.write_png_streaming
    calls = []

    def failing_write(f, arr, *args, **kwargs):
        calls.append(f.name)
        if len(calls) == 1:  # half a file, then the disk "fills up"
            f.write(b"\x89PNG\r\n\x1a\n partial")
            raise OSError(28, "No space left on device")
        return real_write(f, arr, *args, **kwargs)

    monkeypatch.setattr(image_io, "write_png_streaming", failing_write)
    out_dir = tmp_path / "out"
    rc, out, err = run_cli(capsys, tmp_path / "a.png", tmp_path / "b.png", "-o", out_dir,
                           "--model", tiny_model_path)
    assert rc == 1 and "1 upscaled, 1 failed" in out
    assert "a.png" in err and "No space left" in err
    assert not (out_dir / "a_x4.png").exists() and (out_dir / "b_x4.png").exists()
    assert no_temp_files(out_dir)

    # an interrupt mid-write (Ctrl-C) leaves nothing either, in Pillow's formats too
    def interrupted(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        image_io.write_output(out_dir / "c_x4.jpg", photo(8, 8), "jpg")
    assert not (out_dir / "c_x4.jpg").exists() and no_temp_files(out_dir)


@pytest.mark.parametrize("channels", [None, 1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_streaming_png_round_trips(tmp_path, channels, dtype):
    import tensorflow as tf

    rng = np.random.default_rng(7)
    shape = (37, 23) if channels is None else (37, 23, channels)
    arr = rng.integers(0, np.iinfo(dtype).max + 1, shape).astype(dtype)
    path = tmp_path / "x.png"
    with open(path, "wb") as f:
        image_io.write_png_streaming(f, arr, rows_per_chunk=5)
    back = tf.io.decode_png(path.read_bytes(), dtype=tf.as_dtype(dtype)).numpy()
    np.testing.assert_array_equal(back, arr.reshape(37, 23, -1))
    with Image.open(path) as im:  # and Pillow reads it too
        im.load()
        assert im.size == (23, 37)


def test_cli_missing_model_is_one_clear_line(tmp_path, capsys):
    Image.fromarray(photo(10, 12)).save(tmp_path / "p.png")
    rc, out, err = run_cli(capsys, tmp_path / "p.png", "--model", tmp_path / "none.keras")
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "python -m srgan_keras.train" in err


def test_cli_formats_and_alpha_in_jpeg(tmp_path, capsys, tiny_model_path):
    rgba = np.dstack([photo(10, 12), np.full((10, 12), 128, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "t.png")
    for fmt, mode in (("webp", "RGBA"), ("jpg", "RGB")):
        rc, out, err = run_cli(capsys, tmp_path / "t.png", "-o", tmp_path / "o", "--model",
                               tiny_model_path, "--format", fmt)
        assert rc == 0
        with Image.open(tmp_path / "o" / f"t_x4.{fmt}") as im:
            assert im.mode == mode and im.size == (48, 40)
    assert "alpha dropped" in err


def test_cli_same_file_twice_is_upscaled_once(tmp_path, capsys, tiny_model_path):
    Image.fromarray(photo(10, 12)).save(tmp_path / "p.png")
    rc, out, err = run_cli(capsys, tmp_path, tmp_path / "p.png", tmp_path / "*.png", "-o",
                           tmp_path / "o", "--model", tiny_model_path)
    assert rc == 0 and "1 upscaled, 0 failed" in out, err


def test_default_model_is_the_real_world_one_then_the_srresnet(tmp_path, monkeypatch):
    from srgan_keras.inference import runners as inference

    for name in ("srresnet_x4.keras", "srgan_x4.keras"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setattr("srgan_keras.inference.bundled.SAVED_MODELS", tmp_path)
    assert inference.resolve_model_path(None).name == "srresnet_x4.keras"  # no realesr: issue 7's order
    assert inference.resolve_model_path("srgan").name == "srgan_x4.keras"
    (tmp_path / "realesr_x4.keras").write_bytes(b"")
    assert inference.resolve_model_path(None).name == "realesr_x4.keras"  # issue 12.6
    assert inference.resolve_model_path("srresnet").name == "srresnet_x4.keras"


# ---------------------------------------------------------------- issue 16: quiet, fast, faithful


def test_startup_chatter_is_recognised():
    from srgan_keras.startup import is_chatter

    assert is_chatter(b"E0000 00:00:1796142484.243202   10565 cuda_platform.cc:52] failed call "
                      b"to cuInit: INTERNAL: CUDA error")
    assert is_chatter(b"I0000 00:00:1796142479.499700   10565 port.cc:153] oneDNN custom ops")
    assert is_chatter(b"WARNING: All log messages before absl::InitializeLog() is called are ...")
    assert not is_chatter(b"failed: cat.png: not an image file")
    assert not is_chatter(b"UserWarning: something real")


@pytest.mark.slow
def test_cli_is_quiet_by_default_and_verbose_on_request(tmp_path, tiny_model_path):
    import os
    import subprocess
    import sys

    Image.fromarray(photo(10, 12)).save(tmp_path / "p.png")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "SRGAN_KERAS"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    cmd = [sys.executable, "-m", "srgan_keras.upscale", str(tmp_path / "p.png"), "-o",
           str(tmp_path / "out"), "--model", str(tiny_model_path)]
    quiet = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "", quiet.stderr  # not one line of TensorFlow's start-up
    lines = quiet.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("upscaled: ") and "1 upscaled" in lines[1]
    loud = subprocess.run(cmd + ["--overwrite", "--verbose"], env=env, capture_output=True,
                          text=True, timeout=300)
    # what quiet mode hides: TensorFlow's glog-formatted start-up lines (which ones depends on the
    # CPU: "oneDNN custom operations" on AVX-512 machines, "cpu_feature_guard" on AVX2-only ones)
    from srgan_keras.startup import is_chatter

    assert loud.returncode == 0
    assert any(is_chatter(line.encode()) for line in loud.stderr.splitlines()), loud.stderr


def test_cli_q_prints_only_the_summary(tmp_path, capsys, tiny_model_path):
    for name in ("a", "b"):
        Image.fromarray(photo(10, 12)).save(tmp_path / f"{name}.png")
    rc, out, err = run_cli(capsys, tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "o",
                           "--model", tiny_model_path, "-q")
    assert rc == 0 and err == "" and out.splitlines() == [f"2 upscaled, 0 failed -> {tmp_path / 'o'}/"]
    rc, out, err = run_cli(capsys, tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "o2",
                           "--model", tiny_model_path)
    assert [ln.split(" -> ")[0] for ln in out.splitlines()[:2]] == [
        f"upscaled: {tmp_path / 'a.png'}", f"upscaled: {tmp_path / 'b.png'}"]


class CountingRunner:
    """A runner that records the shape of every call (and can run out of memory above a size)."""

    def __init__(self, inner, oom_above: int | None = None):
        self.inner, self.scale, self.name = inner, inner.scale, "counting"
        self.oom_above, self.calls = oom_above, []

    def __call__(self, lr):
        import tensorflow as tf

        self.calls.append(lr.shape[1:3])
        if self.oom_above and lr.shape[1] * lr.shape[2] > self.oom_above:
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
        return self.inner(lr)


def test_auto_tile_whole_image_when_it_fits_else_hundreds(tiny_runner, monkeypatch):
    from srgan_keras.inference import tiling

    runner = CountingRunner(tiny_runner)
    img = photo(120, 150)
    whole = upscale_image(img, tiny_runner, tile=None).astype(int)
    out = upscale_image(img, runner)  # default: auto, not a fixed 80 px tile
    assert runner.calls == [(140, 170)]  # one call: the image plus its reflection padding
    assert np.abs(out - whole).max() == 0
    # the estimate: the widest layer (8 filters at 4x = 128 floats per LR pixel) x 4 B x 4 buffers
    assert tiling.bytes_per_pixel(tiny_runner) == 8 * 16 * 4 * tiling.LIVE_BUFFERS
    bpp = tiling.bytes_per_pixel(tiny_runner)
    assert tiling.auto_tile(120, 150, tiny_runner, budget=10**12) is None
    side = tiling.auto_tile(3000, 4000, tiny_runner, budget=300 * 300 * bpp)
    assert side == 264 and (side + 2 * 16) ** 2 * bpp <= 300 * 300 * bpp
    # a small memory budget gives tiles, and the tiled result stays within 1 grey level
    monkeypatch.setattr(tiling, "MAX_ACTIVATION_BYTES", 90 * 90 * bpp)
    runner.calls.clear()
    tiled = upscale_image(img, runner)
    assert len(runner.calls) > 1 and np.abs(tiled - whole).max() <= 1


def test_oom_in_a_tile_halves_it_and_retries(tiny_runner):
    runner = CountingRunner(tiny_runner, oom_above=60 * 60)
    img = photo(100, 90)
    notes = []
    out = upscale_image(img, runner, tile=None, on_note=notes.append)
    whole = upscale_image(img, tiny_runner, tile=None).astype(int)
    assert np.abs(out - whole).max() <= 1
    assert len(notes) == 1 and "out of memory" in notes[0]
    assert runner.calls[0] == (120, 110)  # first the whole (padded) image, which failed
    assert sum(h * w <= 60 * 60 for h, w in runner.calls) >= 4  # then smaller tiles
    with pytest.raises(Exception, match="OOM"):  # a runner that fails even at MIN_TILE
        upscale_image(img, CountingRunner(tiny_runner, oom_above=1), tile=None)


def test_progress_callback_reaches_the_total(tiny_runner):
    seen = []
    upscale_image(photo(20, 30), tiny_runner, tile=8, progress=lambda d, t: seen.append((d, t)))
    assert len(seen) == 12 and seen[-1] == (600, 600)
    assert all(a[0] < b[0] for a, b in zip(seen, seen[1:]))


def photo_with_metadata(path: Path, size=(24, 16), fmt="JPEG", orientation=6) -> bytes:
    """A photo carrying an sRGB ICC profile, EXIF (camera, orientation, pixel sizes) and DPI."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0xA002] = size[0]  # PixelXDimension
    exif.get_ifd(0x8769)[0xA003] = size[1]
    exif.get_ifd(0x8769)[0x9003] = "2026:01:02 03:04:05"  # DateTimeOriginal
    img = Image.fromarray(photo(size[1], size[0]))
    img.save(path, format=fmt, icc_profile=icc, exif=exif.tobytes(), dpi=(300, 300),
             **({"quality": 95} if fmt == "JPEG" else {}))
    return icc


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_cli_keeps_icc_exif_dpi(tmp_path, capsys, tiny_model_path, fmt):
    icc = photo_with_metadata(tmp_path / "cam.jpg")
    rc, out, err = run_cli(capsys, tmp_path / "cam.jpg", "-o", tmp_path / "o", "--model",
                           tiny_model_path, "--format", fmt)
    assert rc == 0, err
    with Image.open(tmp_path / "o" / f"cam_x4.{fmt}") as im:
        assert im.size == (64, 96)  # upright (orientation 6) and x4
        assert im.info.get("icc_profile") == icc
        exif = im.getexif()
        assert exif[0x010F] == "TestCam" and exif.get(0x0112, 1) == 1
        sub = exif.get_ifd(0x8769)
        assert (sub[0xA002], sub[0xA003]) == (64, 96) and sub[0x9003] == "2026:01:02 03:04:05"
        assert exif[0x0131].startswith("srgan_keras upscale")
        if fmt != "webp":  # WebP has no resolution field
            assert tuple(round(d) for d in im.info["dpi"]) == (300, 300)
        if fmt == "jpg":  # visually lossless by default: quality 95, no chroma subsampling
            from PIL import JpegImagePlugin

            assert JpegImagePlugin.get_sampling(im) == 0


def test_cli_keeps_png_text_and_16_bits_and_quality(tmp_path, capsys, tiny_model_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Grandma's garden")
    info.add_itxt("Comment", "été 1962")
    Image.fromarray(photo(10, 12)[..., 0].astype(np.uint16) * 257).save(
        tmp_path / "scan.png", pnginfo=info, dpi=(600, 600))
    rc, out, err = run_cli(capsys, tmp_path / "scan.png", "-o", tmp_path / "o", "--model",
                           tiny_model_path)
    assert rc == 0, err
    with Image.open(tmp_path / "o" / "scan_x4.png") as im:
        assert im.text["Title"] == "Grandma's garden" and im.text["Comment"] == "été 1962"
        assert im.mode == "I;16" and tuple(round(d) for d in im.info["dpi"]) == (600, 600)
    Image.fromarray(photo(40, 40)).save(tmp_path / "q.png")
    sizes = {}
    for q in (50, 95):
        run_cli(capsys, tmp_path / "q.png", "-o", tmp_path / f"q{q}", "--model", tiny_model_path,
                "--format", "jpg", "--quality", q)
        sizes[q] = (tmp_path / f"q{q}" / "q_x4.jpg").stat().st_size
    assert sizes[50] < sizes[95]


def test_cmyk_profile_is_not_put_on_rgb_output(tmp_path):
    from srgan_keras.data.metadata import metadata_for, probe

    Image.fromarray(photo(8, 8)).convert("CMYK").save(
        tmp_path / "c.jpg", icc_profile=b"\0" * 16 + b"CMYK" + b"\0" * 120)
    meta = metadata_for(probe(tmp_path / "c.jpg"), 32, 32, gray=False, fmt="JPEG")
    assert meta.icc is None and "CMYK ICC profile" in meta.notes[0]


def test_outscale_and_fit_inside_use_lanczos_after_the_network(tmp_path, capsys,
                                                               tiny_model_path, tiny_runner):
    img = photo(20, 30)
    Image.fromarray(img).save(tmp_path / "p.png")
    rc, out, err = run_cli(capsys, tmp_path / "p.png", "-o", tmp_path / "o", "--model",
                           tiny_model_path, "--outscale", 2.5)
    assert rc == 0, err
    x4 = upscale_image(img, tiny_runner)
    lanczos = np.asarray(Image.fromarray(x4).resize((75, 50), Image.LANCZOS)).astype(int)
    with Image.open(tmp_path / "o" / "p_x2.5.png") as im:
        assert im.size == (75, 50)
        assert np.abs(np.asarray(im).astype(int) - lanczos).max() <= 1
    rc, out, err = run_cli(capsys, tmp_path / "p.png", "-o", tmp_path / "o", "--model",
                           tiny_model_path, "--width", 100, "--height", 100)
    with Image.open(tmp_path / "o" / "p_100x67.png") as im:  # fits inside 100x100
        assert im.size == (100, 67)
    sixteen = upscale_image(img.astype(np.uint16) * 257, tiny_runner, outscale=1.5)
    assert sixteen.shape == (30, 45, 3) and sixteen.dtype == np.uint16


def test_outscale_2_uses_a_bundled_x2_twin(tmp_path, monkeypatch, tiny_model_path):
    import keras

    from srgan_keras.nn.srresnet import build_srresnet

    (tmp_path / "srresnet_x4.keras").write_bytes(tiny_model_path.read_bytes())
    keras.utils.set_random_seed(0)
    build_srresnet(scale=2, num_blocks=1, num_filters=8).save(tmp_path / "srresnet_x2.keras")
    monkeypatch.setattr("srgan_keras.inference.bundled.SAVED_MODELS", tmp_path)
    for outscale, expected in ((2.0, "srresnet_x2.keras"), (1.5, "srresnet_x2.keras"),
                               (2.5, None), (None, None)):
        args = cli.parse_args(["p.png"] + (["--outscale", str(outscale)] if outscale else []))
        chosen = cli.choose_model(args)
        assert (Path(chosen).name if chosen else None) == expected
    assert load_generator(cli.choose_model(cli.parse_args(["p", "--outscale", "2"]))).scale == 2


class TintRunner:
    """Bicubic with a colour cast: what --color-fix is for."""

    def __init__(self):
        self.scale, self.name, self.inner = 4, "tint", BicubicRunner(4)

    def __call__(self, lr):
        return np.clip(self.inner(lr) * np.array([1.15, 1.0, 0.85], np.float32) + 0.03, 0, 1)


def test_color_fix_keeps_flat_grey_and_detail(tiny_runner):
    grey = np.full((24, 40, 3), 118, np.uint8)
    drifted = upscale_image(grey, TintRunner()).astype(int)
    assert np.abs(drifted - 118).max() > 10  # the network alone shifts the grey
    fixed = upscale_image(grey, TintRunner(), color_fix=True, tile=8)
    assert np.abs(fixed.astype(int) - 118).max() <= 1
    # an untrained network adds a fine pattern (kept: it is high-frequency) and shifts the
    # mean; the fix brings each channel's mean back to the grey
    drifted = upscale_image(grey, tiny_runner).astype(float)
    fixed = upscale_image(grey, tiny_runner, color_fix=True, tile=8).astype(float)
    assert np.abs(drifted.mean((0, 1)) - 118).max() > 1
    assert np.abs(fixed.mean((0, 1)) - 118).max() < 0.5
    # on a photo, the fix restores the input's colour but keeps the network's detail
    img = photo(32, 32)
    ref = upscale_image(img, BicubicRunner(4)).astype(float)
    tinted = upscale_image(img, TintRunner()).astype(float)
    fixed = upscale_image(img, TintRunner(), color_fix=True).astype(float)
    assert np.abs(fixed.mean((0, 1)) - ref.mean((0, 1))).max() < 1.0
    assert np.abs(tinted.mean((0, 1)) - ref.mean((0, 1))).max() > 5.0


# ---------------------------------------------------------------- issue 16.8 / 17: bad input


def test_cli_output_too_large_for_memory_refused_before_decoding(tmp_path, capsys,
                                                                 tiny_model_path, monkeypatch):
    Image.fromarray(photo(200, 300)).save(tmp_path / "big.png")
    Image.fromarray(photo(10, 12)).save(tmp_path / "small.png")
    from srgan_keras.inference import tiling

    monkeypatch.setattr(tiling, "available_memory", lambda: 2 * 2**20)  # 2 MiB left
    decoded = []
    real_read = cli.read_input
    monkeypatch.setattr(cli, "read_input", lambda p: decoded.append(p.name) or real_read(p))
    rc, out, err = run_cli(capsys, tmp_path / "big.png", tmp_path / "small.png", "-o",
                           tmp_path / "o", "--model", tiny_model_path)
    assert rc == 1 and "1 upscaled, 1 failed" in out
    line = next(ln for ln in err.splitlines() if "big.png" in ln)
    assert "1200x800 output needs" in line and "memory available" in line
    assert decoded == ["small.png"]  # the big one was never decoded
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["small_x4.png"]
    # a header claiming 3000x2000 pixels and no pixel data: refused from the header alone
    bomb_png(tmp_path / "huge.png", side=3000)
    rc, out, err = run_cli(capsys, tmp_path / "huge.png", "-o", tmp_path / "o", "--model",
                           tiny_model_path)
    assert rc == 1 and "12000x12000 output needs" in err, err


def test_cli_missing_directory_unreadable_one_line_each(tmp_path, capsys, tiny_model_path,
                                                        monkeypatch):
    Image.fromarray(photo(10, 12)).save(tmp_path / "good.png")
    (tmp_path / "folder.png").mkdir()
    Image.fromarray(photo(10, 12)).save(tmp_path / "folder.png" / "inside.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    Image.fromarray(photo(10, 12)).save(tmp_path / "locked.png")
    real_open = Image.open

    def open_(fp, *a, **k):  # as root, chmod 000 would not stop us: simulate EACCES
        if Path(fp).name == "locked.png":
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *a, **k)

    monkeypatch.setattr(Image, "open", open_)
    rc, out, err = run_cli(capsys, tmp_path / "missing.png", tmp_path / "empty.jpg",
                           tmp_path / "locked.png", tmp_path / "good.png", "-o", tmp_path / "o",
                           "--model", tiny_model_path)
    assert rc == 1 and "1 upscaled, 3 failed" in out
    lines = err.splitlines()
    assert len(lines) == 3
    assert "missing.png: no such file or folder" in lines[0]
    assert "empty.jpg: empty file" in lines[1]
    assert "locked.png: unreadable (permission denied)" in lines[2]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["good_x4.png"]
    from srgan_keras.data.imaging import ImageError
    from srgan_keras.data.metadata import probe

    with pytest.raises(ImageError, match="is a directory"):
        probe(tmp_path / "folder.png")


def test_overwrite_replaces_our_own_output_above_the_decompression_bomb_limit(
        tmp_path, capsys, tiny_model_path, monkeypatch):
    """A 12 MP photo's x4 output is 192 MP, over twice Pillow's limit: reading its header to see
    that we wrote it must not trip the limit, or --overwrite refuses our own file (found on the
    4000x3000 benchmark). The limit stays in force for inputs and is restored afterwards."""
    from srgan_keras.data.imaging import ImageError
    from srgan_keras.data.metadata import is_ours, probe

    Image.fromarray(photo(10, 12)).save(tmp_path / "p.png")
    out_dir = tmp_path / "out"
    args = (tmp_path / "p.png", "-o", out_dir, "--model", tiny_model_path)
    assert run_cli(capsys, *args)[0] == 0
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # the 48x40 output is now a "bomb"
    with pytest.raises(ImageError, match="decompression bomb"):
        probe(out_dir / "p_x4.png")
    assert is_ours(out_dir / "p_x4.png") and Image.MAX_IMAGE_PIXELS == 500
    Image.fromarray(photo(10, 12, seed=5)).save(tmp_path / "p.png")
    rc, out, err = run_cli(capsys, *args, "--overwrite")
    assert rc == 0 and "1 upscaled" in out, err
    assert Image.MAX_IMAGE_PIXELS == 500


def test_overwrite_in_place_never_touches_a_user_file_named_like_an_output(tmp_path, capsys,
                                                                          tiny_model_path):
    """Issue 17.2: cat.png and the user's own cat_x4.png side by side, -o the same folder."""
    Image.fromarray(photo(10, 12)).save(tmp_path / "cat.png")
    Image.fromarray(photo(30, 30, seed=3)).save(tmp_path / "cat_x4.png")
    before = (tmp_path / "cat_x4.png").read_bytes()
    rc, out, err = run_cli(capsys, tmp_path, "-o", tmp_path, "--model", tiny_model_path,
                           "--overwrite")
    assert (tmp_path / "cat_x4.png").read_bytes() == before
    assert rc == 1 and "cat_x4.png is an input file" in err
    assert (tmp_path / "cat_x4_x4.png").exists()  # the user's file is an input like any other
    # and named explicitly, its output name taken by the user's file: refused, not overwritten
    rc, out, err = run_cli(capsys, tmp_path / "cat.png", "-o", tmp_path, "--model",
                           tiny_model_path, "--overwrite")
    assert rc == 1 and (tmp_path / "cat_x4.png").read_bytes() == before


def test_partial_outputs_of_a_killed_run_are_not_inputs_and_are_cleaned(tmp_path, capsys,
                                                                       tiny_model_path):
    """Issue 17.7: a kill leaves .cat_x4.XXXXXXXX.png; the next run neither reads nor keeps it."""
    import fcntl
    import os

    Image.fromarray(photo(10, 12)).save(tmp_path / "cat.png")
    stale = tmp_path / ".cat_x4.k3j2_a9z.png"
    stale.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 10000)  # half a PNG
    live = tmp_path / ".dog_x4.abcdefgh.png"  # another run is writing this one right now
    live.write_bytes(b"\x89PNG\r\n\x1a\n")
    old = os.path.getmtime(stale) - 3600
    os.utime(stale, (old, old))
    os.utime(live, (old, old))
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        rc, out, err = run_cli(capsys, tmp_path, "-o", tmp_path, "--model", tiny_model_path)
    finally:
        os.close(fd)
    assert rc == 0 and "1 upscaled, 0 failed" in out, err
    assert not stale.exists() and f"removed: {stale}" in err
    assert live.exists()  # locked by a live writer: left alone
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "cat.png", "cat_x4.png"]


def test_ctrl_c_is_one_line_and_exit_130(tmp_path, capsys, tiny_model_path, monkeypatch):
    for name in ("a", "b"):
        Image.fromarray(photo(10, 12)).save(tmp_path / f"{name}.png")
    real = image_io.write_png_streaming

    def write_then_interrupt(f, arr, *args, **kwargs):
        if "b_x4" in f.name:
            f.write(b"\x89PNG half")
            raise KeyboardInterrupt
        return real(f, arr, *args, **kwargs)

    monkeypatch.setattr(image_io, "write_png_streaming", write_then_interrupt)
    rc, out, err = run_cli(capsys, tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "o",
                           "--model", tiny_model_path, "-q")
    assert rc == 130
    assert err.splitlines() == ["interrupted: 1 upscaled before Ctrl-C; no partial output was kept"]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a_x4.png"]


def test_unusable_output_folder_or_format_limits_refused_before_computing(
        tmp_path, capsys, tiny_model_path, monkeypatch):
    import tempfile

    Image.fromarray(photo(10, 12)).save(tmp_path / "p.png")
    (tmp_path / "afile").write_text("x")
    computed = []
    monkeypatch.setattr(cli, "upscale_image", lambda *a, **k: computed.append(1))
    rc, out, err = run_cli(capsys, tmp_path / "p.png", "-o", tmp_path / "afile", "--model",
                           tmp_path / "no-model.keras")  # checked even before the model
    assert rc == 2 and err.strip() == (
        f"error: {tmp_path / 'afile'}: the output folder is a file; choose another -o")
    rc, out, err = run_cli(capsys, tmp_path / "p.png", "-o", tmp_path / "afile" / "sub",
                           "--model", tiny_model_path)
    assert rc == 2 and "is a file" in err

    def read_only(*a, **k):
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as m:  # root ignores chmod; a read-only mount refuses this
        m.setattr(tempfile, "TemporaryFile", read_only)
        rc, out, err = run_cli(capsys, tmp_path / "p.png", "-o", tmp_path / "ro", "--model",
                               tiny_model_path)
    assert rc == 2 and "Permission denied" in err and len(err.splitlines()) == 1
    Image.fromarray(photo(4, 4100)).save(tmp_path / "wide.png")  # x4: 16400 px wide
    Image.fromarray(photo(4, 16400)).save(tmp_path / "wider.jpg")  # x4: 65600 px wide
    rc, out, err = run_cli(capsys, tmp_path / "wide.png", "-o", tmp_path / "o", "--model",
                           tiny_model_path, "--format", "webp")
    assert rc == 1 and "larger than WEBP allows (16383 px per side)" in err
    rc, out, err = run_cli(capsys, tmp_path / "wider.jpg", "-o", tmp_path / "o", "--model",
                           tiny_model_path)
    assert rc == 1 and "larger than JPEG allows (65500 px per side)" in err
    assert computed == []


def test_gifs_and_broken_symlinks_reported_max_pixels_zero(tmp_path, capsys, tiny_model_path):
    import os

    folder = tmp_path / "in"
    folder.mkdir()
    frames = [Image.fromarray(photo(10, 12, seed=s)).convert("P") for s in (0, 1)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    Image.fromarray(photo(10, 12)).save(folder / "still.png")
    os.symlink(folder / "gone.png", folder / "dangling.png")
    os.symlink(folder / "loop.png", folder / "loop.png")
    rc, out, err = run_cli(capsys, folder, "-o", tmp_path / "o", "--model", tiny_model_path)
    assert rc == 1 and "2 upscaled, 2 failed" in out
    assert f"failed: {folder / 'dangling.png'}: dangling symlink" in err
    assert f"failed: {folder / 'loop.png'}: symlink loop" in err
    assert "anim.gif: animated GIF (2 frames): only the first is upscaled" in err
    assert (tmp_path / "o" / "anim_x4.png").exists()
    rc, out, err = run_cli(capsys, folder / "dangling.png", folder / "loop.png", "-o",
                           tmp_path / "o2", "--model", tiny_model_path)
    assert "dangling.png: dangling symlink" in err and "loop.png: symlink loop" in err
    assert "no image files" not in err
    rc, out, err = run_cli(capsys, folder / "still.png", "-o", tmp_path / "o3", "--model",
                           tiny_model_path, "--max-pixels", 0)
    assert rc == 0 and "1 upscaled, 0 failed" in out, err


@pytest.mark.slow
def test_ctrl_c_while_starting_up_is_one_line_and_exit_130(tmp_path):
    """Ctrl-C in the first seconds (TensorFlow still importing) is no 20-line traceback either."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    # --runtime keras: TensorFlow is imported (bicubic and the default model on LiteRT start
    # without it, issue 29.1, and may be done in 1.5 s)
    proc = subprocess.Popen([sys.executable, "-m", "srgan_keras.upscale", str(tmp_path / "x.png"),
                             "--runtime", "keras", "-o", str(tmp_path / "o")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # TensorFlow's import takes 5 s or more here
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and "interrupted" in err, err


@pytest.mark.parametrize("kwargs, expected", [
    ({"width": 60}, (45, 60)),  # 32x24 fit to a width only: the height follows the aspect ratio
    ({"height": 36}, (36, 48)),
    ({"width": 60, "height": 30}, (30, 40)),  # fit inside both
    ({"outscale": 2.5}, (60, 80)),
    ({}, (96, 128)),  # the network's own x4
])
def test_output_size_is_whole_pixels(kwargs, expected):
    size = output_size(24, 32, 4, **kwargs)
    assert size == expected and all(type(v) is int for v in size)
