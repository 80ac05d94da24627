"""Tiled upscaling and the upscale CLI: every input kind, every bad kind, atomic and safe writes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_keras.inference import upscale as cli
from srgan_keras.inference.runners import (
    BicubicRunner,
    ModelNotFoundError,
    load_generator,
    resolve_model_path,
)
from srgan_keras.inference.tiling import upscale_image


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
    monkeypatch.setattr("srgan_keras.inference.runners.SAVED_MODELS", tmp_path)
    with pytest.raises(ModelNotFoundError, match="--model PATH"):
        resolve_model_path(None)
    with pytest.raises(ModelNotFoundError, match="srgan_x4.keras"):
        load_generator("srgan")
    bad = tmp_path / "broken.keras"
    bad.write_text("not a zip")
    with pytest.raises(ValueError, match="broken.keras: cannot load"):
        load_generator(bad)
    assert load_generator("bicubic", scale=2).scale == 2


# ---------------------------------------------------------------- tiling


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
                           "--tile", 8)
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
    real_write = cli.write_png_streaming
    calls = []

    def failing_write(f, arr, *args, **kwargs):
        calls.append(f.name)
        if len(calls) == 1:  # half a file, then the disk "fills up"
            f.write(b"\x89PNG\r\n\x1a\n partial")
            raise OSError(28, "No space left on device")
        return real_write(f, arr, *args, **kwargs)

    monkeypatch.setattr(cli, "write_png_streaming", failing_write)
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
        cli.write_output(out_dir / "c_x4.jpg", photo(8, 8), "jpg")
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
        cli.write_png_streaming(f, arr, rows_per_chunk=5)
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


def test_default_model_is_the_srresnet_when_both_are_bundled(tmp_path, monkeypatch):
    from srgan_keras.inference import runners as inference

    for name in ("srresnet_x4.keras", "srgan_x4.keras"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setattr(inference, "SAVED_MODELS", tmp_path)
    assert inference.resolve_model_path(None).name == "srresnet_x4.keras"
    assert inference.resolve_model_path("srgan").name == "srgan_x4.keras"
