"""Issue 27.7: every input is bounded in memory before anything is allocated for it.

A video frame, a web upload and a .keras archive are each refused from what their header says
(ffmpeg's probe, Pillow's header, the zip's directory), in one line, with the limit images use
(:func:`srgan_keras.data.imaging.check_pixels`) or a bound stated in the message. The fixtures
claim sizes they do not hold: nothing large is ever made, and each test checks that nothing
was decoded (and the peak memory did not grow).
"""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hostile_files import config_bomb, header_png, huge_frame_mkv
from PIL import Image

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux



@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """Three 32x24 frames (768 pixels each) of ffmpeg's test pattern, lossless FFV1 in .mkv."""
    path = tmp_path_factory.mktemp("clips") / "clip.mkv"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-f",
                    "lavfi", "-i", "testsrc=size=32x24:rate=10", "-frames:v", "3", "-c:v", "ffv1",
                    str(path)], check=True)
    return path


# -- (a) a video whose frames are larger than images may be ------------------------------------
def test_a_video_frame_above_the_image_pixel_limit_is_refused_from_the_probe(clip, tmp_path,
                                                                             capsys, monkeypatch):
    from srgan_keras.inference import video
    from srgan_keras.inference.upscale import main as upscale

    def no_frames(*a, **k):
        raise AssertionError("frames were read")

    monkeypatch.setattr(video, "read_frames", no_frames)
    good = tmp_path / "good.png"
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(good)
    # the clip's 32x24 = 768 pixels against a limit just below it (the image flag, shared)
    rc = upscale([str(clip), str(good), "-o", str(tmp_path / "o"), "--model", "bicubic", "-q",
                  "--max-pixels", "700"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err, err
    failed = [ln for ln in err.splitlines() if ln.startswith("failed:")]
    assert len(failed) == 1 and str(clip) in failed[0], err
    assert "32x24 is 768 pixels, more than the limit of 700" in failed[0]
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["good_x4.png"]


def test_a_16000_pixel_frame_is_refused_at_the_default_limit(clip, tmp_path, capsys, monkeypatch):
    """ffmpeg's probe of the issue's one-frame 16000x16000 .mkv, replayed: its size lines only."""
    from PIL import Image as PILImage

    from srgan_keras.inference import video
    from srgan_keras.inference.upscale import main as upscale

    decoded = []

    def fake_probe(cmd, **kw):
        if "showinfo" in cmd:  # the probe that decodes one frame
            decoded.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", (
            "Input #0, matroska,webm, from 'huge.mkv':\n  Duration: 00:00:00.04, start: 0.000000\n"
            "  Stream #0:0: Video: ffv1, gray, 16000x16000, SAR 1:1 DAR 1:1, 25 fps, 25 tbr\n"
            "Stream mapping:\n  Stream #0:0 -> #0:0 (ffv1 (native) -> wrapped_avframe (native))\n"
            "[Parsed_showinfo_0 @ 0x1] config in time_base: 1/1000, frame_rate: 25/1\n"
            "[Parsed_showinfo_0 @ 0x1] n:   0 pts:      0 pts_time:0 s:16000x16000 sar:1/1 "
            "fmt:gray\n"))

    monkeypatch.setattr(subprocess, "run", fake_probe)
    monkeypatch.setattr(video, "read_frames", lambda *a, **k: (_ for _ in ()).throw(
        AssertionError("frames were read")))
    assert PILImage.MAX_IMAGE_PIXELS < 16000 * 16000  # Pillow's default limit, as for images
    before = peak_rss_mib()
    rc = upscale([str(clip), "-o", str(tmp_path / "o"), "--model", "bicubic", "-q"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(clip) in lines[0] and "16000x16000" in lines[0], err
    assert f"limit of {PILImage.MAX_IMAGE_PIXELS:,}" in lines[0]
    assert peak_rss_mib() - before < 200
    assert decoded == []  # refused from the container's header, before ffmpeg decoded a frame
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_the_issues_16000_pixel_mkv_is_refused_before_any_frame_is_decoded(tmp_path, capsys,
                                                                          monkeypatch):
    """A real file this time: 815 bytes whose Matroska header says 16000x16000."""
    from srgan_keras.inference.upscale import main as upscale

    clip = huge_frame_mkv(tmp_path / "huge.mkv")
    real_run, decoded = subprocess.run, []

    def watch(cmd, **kw):
        if "showinfo" in cmd:
            decoded.append(cmd)
        return real_run(cmd, **kw)

    monkeypatch.setattr(subprocess, "run", watch)
    before = peak_rss_mib()
    rc = upscale([str(clip), "-o", str(tmp_path / "o"), "--model", "bicubic", "-q"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(lines) == 1 and str(clip) in lines[0], lines
    assert "16000x16000" in lines[0] and "decompression bomb" in lines[0]
    assert decoded == [] and peak_rss_mib() - before < 100


# -- (b) a web upload whose header claims 9400x9400 ------------------------------------------
def test_a_huge_upload_is_refused_from_its_header_before_decoding(tmp_path, monkeypatch):
    from srgan_keras.inference import web_upscale as web

    upload = tmp_path / "gradio" / "3f2a9c" / "grey.png"
    upload.parent.mkdir(parents=True)
    header_png(upload, 9400, 9400)
    assert upload.stat().st_size < 2000

    def no_decode(path):
        raise AssertionError("the upload was decoded")

    from srgan_keras.inference import upscale

    monkeypatch.setattr(upscale, "read_input", no_decode)  # the page reads as the CLI does
    before = peak_rss_mib()
    with pytest.raises(web.AppError) as e:
        web.upscale_file(upload, "bicubic", None, tmp_path / "out", tile=None)
    msg = str(e.value)
    assert msg.startswith("grey.png: refused as a decompression bomb (9400x9400 is 88,360,000 "
                          f"pixels, more than the limit of {web.WEB_MAX_PIXELS:,}"), msg
    assert "\n" not in msg and str(upload.parent) not in msg and "Traceback" not in msg
    assert peak_rss_mib() - before < 100
    assert not (tmp_path / "out").exists()


def test_an_upload_whose_result_cannot_fit_memory_gets_the_clis_line(tmp_path, monkeypatch):
    from srgan_keras.inference import tiling
    from srgan_keras.inference import web_upscale as web

    upload = tmp_path / "up" / "wide.png"
    upload.parent.mkdir()
    header_png(upload, 2000, 1000)
    monkeypatch.setattr(tiling, "available_memory", lambda: 64 * 2**20)
    from srgan_keras.inference import upscale

    monkeypatch.setattr(upscale, "read_input", lambda p: (_ for _ in ()).throw(
        AssertionError("the upload was decoded")))  # the page reads as the CLI does
    with pytest.raises(web.AppError) as e:
        web.upscale_file(upload, "bicubic", None, tmp_path / "out", tile=None)
    assert str(e.value).startswith("wide.png: its 8000x4000 output needs "), e.value
    assert "memory available" in str(e.value)


# -- (c) a .keras whose config.json unpacks to far more than a model's settings --------------
def test_a_keras_config_bomb_is_refused_from_the_zip_directory(tiny_keras, tmp_path, monkeypatch):
    import keras

    from srgan_keras.nn import saving

    bomb = config_bomb(tiny_keras, tmp_path / "bomb.keras")
    assert bomb.stat().st_size < 1 * 2**20  # 80 MiB of spaces, deflated

    def no_load(*a, **k):
        raise AssertionError("Keras read the file")

    monkeypatch.setattr(keras.saving, "load_model", no_load)
    before = peak_rss_mib()
    with pytest.raises(saving.ModelFileError) as e:
        saving.load_keras(bomb)
    msg = str(e.value)
    assert msg.startswith(f"{bomb}: refused: its config.json unpacks to 80 MiB, more than the "
                          "64 MiB"), msg
    assert "\n" not in msg
    assert peak_rss_mib() - before < 50
    monkeypatch.undo()
    assert saving.load_keras(tiny_keras).output_shape == (None, None, None, 3)


def test_keras_weights_that_unpack_far_beyond_their_stored_size_are_refused(tiny_keras, tmp_path):
    """Keras stores weights uncompressed; 80 MiB of zeros deflated to 80 KB is not a model's."""
    import zipfile

    from srgan_keras.nn import saving

    bomb = tmp_path / "weights_bomb.keras"
    with zipfile.ZipFile(tiny_keras) as src, zipfile.ZipFile(bomb, "w") as dst:
        for info in src.infolist():
            if info.filename != "model.weights.h5":
                dst.writestr(info.filename, src.read(info.filename))
        member = zipfile.ZipInfo("model.weights.h5")
        member.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(member, "w", force_zip64=True) as f:
            for _ in range(80):
                f.write(bytes(2**20))
    with pytest.raises(saving.ModelFileError, match="model.weights.h5 unpacks to 80 MiB, more "
                                                    "than 4 times its stored 0.1 MiB"):
        saving.load_keras(bomb)
    for bundled in sorted((Path(saving.__file__).parents[2] / "saved_models").glob("*.keras")):
        saving.check_archive(bundled)  # every model we ship passes
