"""The web page's controls, batches and videos without a browser (issue 28.5): for the same
settings the page writes the upscale command's file, byte for byte; a batch is a line per file
and one complete zip; a video is bounded before any frame is upscaled and keeps its audio."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_keras.inference import upscale
from srgan_keras.inference import web_batch as batch
from srgan_keras.inference import web_upscale as web
from srgan_keras.inference.web_settings import AppError, Settings, settings_from_controls


@pytest.fixture
def photo(tmp_path) -> Path:
    """A 32x24 RGB PNG with an sRGB ICC profile (carried over by both)."""
    from PIL import ImageCms

    rng = np.random.default_rng(1)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "in" / "photo.png"
    path.parent.mkdir()
    Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(path, icc_profile=icc)
    return path


def cli_file(src: Path, model: Path, out: Path, flags: list[str]) -> Path:
    """The upscale command's one output for ``src`` with ``flags``."""
    assert upscale.main([str(src), "-o", str(out), "--model", str(model), "-q", *flags]) == 0
    (made,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    return made


# The page's controls as the page reads them (scale, width, height, format menu, quality, fix),
# and the command's flags a user would type for the same.
CONTROLS = [
    ((2.5, None, None, "Same as the input", 95, False), ["--outscale", "2.5"], "photo_x2.5.png"),
    ((None, 50, 50, "Same as the input", 95, False), ["--width", "50", "--height", "50"],
     "photo_50x38.png"),
    ((None, None, None, "JPEG", 80, False), ["--format", "jpg", "--quality", "80"], "photo_x4.jpg"),
    ((None, None, None, "WebP", 100, False), ["--format", "webp", "--quality", "100"],
     "photo_x4.webp"),
    ((3, None, None, "WebP", 70, True), ["--outscale", "3", "--format", "webp", "--quality", "70",
                                         "--color-fix"], "photo_x3.webp"),
    ((None, None, None, "PNG", 95, True), ["--format", "png", "--color-fix"], "photo_x4.png"),
]


@pytest.mark.parametrize(("controls", "flags", "name"), CONTROLS,
                         ids=["outscale", "box", "jpeg", "webp-lossless", "scale-webp-fix", "fix"])
def test_each_output_control_writes_the_commands_file(photo, tiny_model_path, tmp_path, controls,
                                                      flags, name):
    settings = settings_from_controls(str(tiny_model_path), None, *controls)
    page = web.upscale_upload(photo, settings, tmp_path / "page")
    want = cli_file(photo, tiny_model_path, tmp_path / "cli", flags)
    assert page.path.name == want.name == name
    assert page.path.read_bytes() == want.read_bytes()  # pixels, metadata and encoding
    assert settings.command(["photo.png"]) == " ".join(
        ["python -m srgan_keras.upscale photo.png --model", str(tiny_model_path), *flags])


def test_the_page_refuses_what_the_command_refuses_in_its_line(photo, tmp_path):
    both = settings_from_controls("bicubic", None, 2, 100, None, "PNG", 95, False)
    with pytest.raises(AppError, match=r"^give either --outscale or --width/--height, not both$"):
        web.upscale_upload(photo, both, tmp_path / "out")
    with pytest.raises(AppError, match=r"^--quality must be between 1 and 100$"):
        web.upscale_upload(photo, Settings("bicubic", quality=0), tmp_path / "out")
    with pytest.raises(AppError, match=r"^--width 10.5: a size in pixels is a whole number$"):
        settings_from_controls("bicubic", None, None, 10.5, None, "PNG", 95, False)
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_an_empty_number_box_is_the_models_own_scale(photo, tmp_path):
    """Gradio's empty number is None (or 0 where it fills one in): no --outscale."""
    for empty in (None, 0, ""):
        s = settings_from_controls("bicubic", None, empty, empty, empty, "PNG", 95, False)
        assert (s.outscale, s.width, s.height) == (None, None, None)
    result = web.upscale_upload(photo, s, tmp_path)
    assert result.path.name == "photo_x4.png"


def make_batch(tmp_path: Path) -> list[Path]:
    """Three uploads, each in its own folder as Gradio stores them: a PNG, a JPEG, not an image."""
    rng = np.random.default_rng(2)
    files = []
    for name in ("a.png", "b.jpg", "notes.png"):
        f = tmp_path / "uploads" / name.split(".")[0] / name
        f.parent.mkdir(parents=True)
        if name == "notes.png":
            f.write_text("not an image")
        else:
            Image.fromarray((rng.random((20, 28, 3)) * 255).astype(np.uint8)).save(f)
        files.append(f)
    return files


def test_a_batch_is_a_line_per_file_and_one_zip_of_the_commands_files(tiny_model_path, tmp_path):
    uploads = make_batch(tmp_path)
    settings = Settings(str(tiny_model_path), outscale=2.0, format="webp", quality=90)
    seen = []
    done = batch.upscale_batch(uploads, settings, tmp_path / "job",
                               on_progress=lambda d, t: seen.append((d, t)))
    assert done.failed == 1 and len(done.lines) == 3
    assert done.lines[0].startswith("a.png -> a_x2.webp: 28x20 -> 56x40 with tiny_x4.keras in ")
    assert done.lines[1].startswith("b.jpg -> b_x2.webp: 28x20 -> 56x40 with ")
    assert done.lines[2] == "failed: notes.png: not an image file"  # the CLI's line, no path
    assert seen[-1] == (2 * 560, 2 * 560)  # pixels over the whole batch
    with zipfile.ZipFile(done.zip) as z:
        assert z.namelist() == ["a_x2.webp", "b_x2.webp"]
        entries = {n: z.read(n) for n in z.namelist()}
    for src in uploads[:2]:  # each entry is the command's file for the same settings
        want = cli_file(src, tiny_model_path, tmp_path / f"cli_{src.stem}",
                        ["--outscale", "2", "--format", "webp", "--quality", "90"])
        assert entries[want.name] == want.read_bytes()
    assert sorted(p.name for p in (tmp_path / "job").iterdir()) == [
        "a_x2.webp", "b_x2.webp", "upscaled.zip"]  # no temporary left
    before, after = web.file_previews(*done.done[1])
    assert before.size == after.size == (56, 40)


def test_a_batch_over_its_bounds_is_refused_before_any_work(tmp_path):
    uploads = make_batch(tmp_path)
    with pytest.raises(AppError, match=r"^3 files: the page takes at most 2 at once; "):
        batch.upscale_batch(uploads, Settings("bicubic"), tmp_path / "job", max_files=2)
    with pytest.raises(AppError, match=r"^these 2 images have 1,120 pixels in all, more than the "
                                       r"page takes at once \(1,000 pixels, --max-pixels\)"):
        batch.upscale_batch(uploads, Settings("bicubic"), tmp_path / "job", max_pixels=1000)
    assert not (tmp_path / "job").exists()


def test_two_uploads_of_one_name_never_write_one_file(tmp_path):
    """One plan for the batch: the second is refused in the command's line, the first kept."""
    a = tmp_path / "u1" / "cat.png"
    b = tmp_path / "u2" / "cat.png"
    for f, v in ((a, 40), (b, 200)):
        f.parent.mkdir()
        Image.fromarray(np.full((8, 8), v, np.uint8)).save(f)
    done = batch.upscale_batch([a, b], Settings("bicubic"), tmp_path / "job")
    assert done.failed == 1 and done.lines[1].startswith("failed: cat.png: ")
    with zipfile.ZipFile(done.zip) as z:
        assert z.namelist() == ["cat_x4.png"]
        assert np.asarray(Image.open(z.open("cat_x4.png"))).max() < 100  # the first upload's


def test_the_zip_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    uploads = make_batch(tmp_path)[:2]

    def fail_second(self, filename, arcname=None, *a, **k):
        if arcname == "b_x4.jpg":
            raise OSError(28, "No space left on device")
        return real(self, filename, arcname, *a, **k)

    real = zipfile.ZipFile.write
    monkeypatch.setattr(zipfile.ZipFile, "write", fail_second)
    with pytest.raises(AppError, match=r"^upscaled.zip: cannot write \(no space left on the "
                                       r"device\); nothing was written, free space and upscale"):
        batch.upscale_batch(uploads, Settings("bicubic"), tmp_path / "job")
    assert sorted(p.name for p in (tmp_path / "job").iterdir()) == ["a_x4.png", "b_x4.jpg"]


# --------------------------------------------------------------------------- videos


def test_without_ffmpeg_the_page_says_so_in_one_line(monkeypatch):
    from srgan_keras.inference import web_video

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    line = "Videos need ffmpeg, which is not installed: pip install 'srgan_keras[video]'"
    assert web_video.video_unavailable() == line
    with pytest.raises(AppError, match=r"^Videos need ffmpeg"):
        web_video.upscale_video_upload("clip.mp4", Settings("bicubic"), "out")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    pytest.importorskip("imageio_ffmpeg", reason="the [video] extra is not installed")
    from test_video import make_clip

    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=0.4)


@pytest.mark.slow  # ffmpeg subprocesses
def test_a_video_over_the_bounds_is_refused_before_the_model_loads(clip, tmp_path, monkeypatch):
    from srgan_keras.inference import web_video

    monkeypatch.setattr(web, "load_runner", lambda *a: pytest.fail("the model was loaded"))
    with pytest.raises(AppError, match=r"^clip.mp4: 0.4 s, 12 frames; the page takes at most "
                                       r"0.2 s and 300 frames; upload a shorter"):
        web_video.upscale_video_upload(clip, Settings("bicubic"), tmp_path,
                                       limits=web_video.VideoLimits(seconds=0.2))
    with pytest.raises(AppError, match=r"^clip.mp4: 12 frames of 32x24 are 9,216 pixels, more "
                                       r"than the page takes in one video \(9,000 pixels, "):
        web_video.upscale_video_upload(clip, Settings("bicubic"), tmp_path,
                                       limits=web_video.VideoLimits(pixels=9000))
    with pytest.raises(AppError, match=r"^clip.mp4: 0 MB, more than the page takes \(0 MB\)"):
        web_video.upscale_video_upload(clip, Settings("bicubic"), tmp_path,
                                       limits=web_video.VideoLimits(bytes=10))
    assert not any(tmp_path.iterdir())


@pytest.mark.slow  # ffmpeg subprocesses
def test_a_short_video_round_trips_with_its_audio_as_the_command_makes_it(clip, tiny_model_path,
                                                                          tmp_path):
    from test_video import audio_pcm, frames_of

    from srgan_keras.inference import video, web_video

    frames = []
    result = web_video.upscale_video_upload(clip, Settings(str(tiny_model_path), outscale=2.0,
                                                           color_fix=True),
                                            tmp_path / "page", lambda d, t: frames.append(d))
    assert result.path == tmp_path / "page" / "clip_x2.mp4"
    info = video.probe(result.path)
    assert (info.width, info.height) == (64, 48) and info.fps == video.probe(clip).fps
    assert audio_pcm(result.path) == audio_pcm(clip)  # the audio, untouched
    assert frames == list(range(1, len(frames) + 1)) and len(frames) >= 10
    assert result.summary.startswith(f"32x24 -> 64x48, {len(frames)} frames, with its audio, ")
    want = cli_file(clip, tiny_model_path, tmp_path / "cli", ["--outscale", "2", "--color-fix"])
    np.testing.assert_array_equal(frames_of(result.path), frames_of(want))
