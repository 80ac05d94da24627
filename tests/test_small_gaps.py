"""Issue 27.13, the smaller gaps: a file is never failed, nor a run made to crawl, for a reason
that a note or a one-line refusal at the start covers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def picture(h: int = 12, w: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def upscale(capsys, *argv) -> tuple[int, str, str]:
    from srgan_keras.inference.upscale import main

    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_exif_too_long_for_jpeg_is_dropped_with_a_note(tmp_path, capsys):
    exif = Image.Exif()
    exif[0x010E] = "a long description " * 4000  # ImageDescription: 76 KB of EXIF
    src = tmp_path / "described.png"
    Image.fromarray(picture()).save(src, exif=exif)
    rc, out, err = upscale(capsys, src, "-o", tmp_path / "o", "--model", "bicubic",
                           "--format", "jpg")
    assert rc == 0, err
    assert "Traceback" not in err
    notes = [ln for ln in err.splitlines() if "EXIF dropped" in ln]
    assert len(notes) == 1 and "described_x4.jpg" in notes[0] and "65,533" in notes[0], err
    with Image.open(tmp_path / "o" / "described_x4.jpg") as im:
        assert im.size == (64, 48) and not im.info.get("exif")


def test_a_243_character_stem_gets_a_temporary_name_within_name_max(tmp_path, capsys):
    from srgan_keras.data import files

    stem = "p" * 243
    src = tmp_path / f"{stem}.png"
    Image.fromarray(picture()).save(src)
    rc, out, err = upscale(capsys, src, "-o", tmp_path / "o", "--model", "bicubic", "-q")
    assert rc == 0, err
    assert [p.name for p in (tmp_path / "o").iterdir()] == [f"{stem}_x4.png"]
    for suffix in (None, "", ".video.mp4"):
        tmp = files.temp_path(tmp_path / "o" / f"{stem}_x4.png", suffix)
        assert len(tmp.name.encode()) <= files.NAME_MAX, len(tmp.name)
        assert files.is_temp(tmp) and tmp.name.endswith(suffix if suffix is not None else ".png")
        assert f"{stem[:5]}_x4.png.srgan-tmp-" in tmp.name  # still says whose and what


@pytest.mark.parametrize("tile", ["1", "31"])
def test_a_tile_below_the_minimum_is_refused_in_one_line(tmp_path, capsys, tile):
    src = tmp_path / "a.png"
    Image.fromarray(picture(8, 8)).save(src)
    with pytest.raises(SystemExit) as e:
        upscale(capsys, src, "-o", tmp_path / "o", "--model", "bicubic", "--tile", tile)
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2
    assert len(err) == 1 and f"--tile {tile}" in err[0] and "at least 32" in err[0], err
    assert not (tmp_path / "o").exists()


def test_the_web_page_refuses_the_same_small_tiles_in_one_line(capsys):
    from srgan_keras.inference import webapp

    with pytest.raises(SystemExit) as e:
        webapp.parse_args(["--tile", "5"])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2
    assert len(err) == 1 and "--tile 5" in err[0] and "at least 32" in err[0], err
    assert webapp.parse_args(["--tile", "32"]).tile == 32


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_animated_png_and_webp_say_only_the_first_frame_is_upscaled(tmp_path, capsys, fmt):
    src = tmp_path / f"anim.{fmt}"
    frames = [Image.fromarray(picture(seed=i)) for i in range(3)]
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=100, loop=0,
                   **({"lossless": True} if fmt == "webp" else {}))
    rc, out, err = upscale(capsys, src, "-o", tmp_path / "o", "--model", "bicubic")
    assert rc == 0, err
    notes = [ln for ln in err.splitlines() if ln.startswith("note:")]
    assert notes == [f"note: {src}: animated {fmt.upper()} (3 frames): only the first is "
                     "upscaled"], err
    assert Path(tmp_path / "o" / f"anim_x4.{fmt}").is_file()


def test_an_input_replaced_by_another_size_during_the_run_fails_in_one_line(tmp_path, capsys,
                                                                          monkeypatch):
    """Every output is planned from the headers first; b.png, replaced by a 10x20 image while
    a.png is upscaled, is refused in one line naming it, not squeezed into its planned 64x48."""
    import os

    from srgan_keras.inference import upscale as cli

    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for path in (a, b):
        Image.fromarray(picture()).save(path)
    real, swapped = cli.upscale_image, []

    def swap_b_meanwhile(image, *args, **kwargs):
        if not swapped:  # while the first file is upscaled, someone replaces the second
            Image.fromarray(picture(20, 10, seed=3)).save(b)
            swapped.append(b)
        return real(image, *args, **kwargs)

    monkeypatch.setattr(cli, "upscale_image", swap_b_meanwhile)
    rc, out, err = upscale(capsys, a, b, "-o", tmp_path / "o", "--model", "bicubic")
    assert rc == 1 and "1 upscaled, 1 failed" in out, (out, err)
    failed = [ln for ln in err.splitlines() if ln.startswith("failed:")]
    assert failed == [f"failed: {b}: changed while this command ran (its output was planned from "
                      "a 16x12 image, it is now 10x20); not upscaled, run the command again for "
                      "it"], err
    assert sorted(os.listdir(tmp_path / "o")) == ["a_x4.png"]  # no b output, no temporary
    assert upscale(capsys, b, "-o", tmp_path / "o", "--model", "bicubic")[0] == 0  # planned anew
    with Image.open(tmp_path / "o" / "b_x4.png") as im:
        assert im.size == (40, 80)
