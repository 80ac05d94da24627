"""Video upscaling (issue 16.6): frames x4, the source's exact frame rate, its audio, bad input.

Clips are made here by ffmpeg's own test sources (a few 32x24 frames and a sine tone), through
the binary of the ``[video]`` extra; the module is skipped without it.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg", reason="the [video] extra is not installed")

from srgan_keras.inference import video  # noqa: E402
from srgan_keras.inference.ffmpeg import is_ours  # noqa: E402
from srgan_keras.inference.upscale import main as upscale_main  # noqa: E402

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-y", "-v", "error", *args], check=True)


def make_clip(path: Path, seconds: float = 0.4, rate: str = "30000/1001", size: str = "32x24",
              source: str = "testsrc", audio: bool = True, extra: tuple[str, ...] = ()) -> Path:
    """An H.264 clip of ffmpeg's test pattern (or ``color=c=...``) with an AAC sine tone."""
    sep = ":" if "=" in source else "="
    args = ["-f", "lavfi", "-i", f"{source}{sep}size={size}:rate={rate}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050", "-c:a", "aac"]
    ffmpeg(*args, "-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", *extra, str(path))
    return path


def frames_of(path: Path) -> np.ndarray:
    info = video.probe(path)
    return np.stack(list(video.read_frames(path, info, FFMPEG)))


def audio_pcm(path: Path) -> bytes:
    """The first audio stream decoded to 16-bit PCM."""
    return subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
                           "-f", "s16le", "-"], capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4")


def test_cli_upscales_every_frame_keeps_rate_and_audio(clip, tiny_model_path, tmp_path, capsys):
    out = tmp_path / "out"
    rc = upscale_main([str(clip), "-o", str(out), "--model", str(tiny_model_path)])
    assert rc == 0, capsys.readouterr().err
    dst = out / "clip_x4.mp4"
    assert sorted(p.name for p in out.iterdir()) == ["clip_x4.mp4"]  # no temporary left behind
    src_info, info = video.probe(clip), video.probe(dst)
    assert (info.width, info.height) == (4 * src_info.width, 4 * src_info.height) == (128, 96)
    assert info.fps == src_info.fps == Fraction(30000, 1001)  # exact, not 29.97
    n_src, _ = imageio_ffmpeg.count_frames_and_secs(str(clip))
    n_out, _ = imageio_ffmpeg.count_frames_and_secs(str(dst))
    assert n_out == n_src >= 10
    assert info.audio == 1 and audio_pcm(dst) == audio_pcm(clip)  # the audio, copied untouched

    # the frames are the model's output (up to x264 at CRF 18), not a bicubic stand-in
    from srgan_keras.inference.runners import load_generator
    from srgan_keras.inference.tiling import upscale_image

    src, got = frames_of(clip), frames_of(dst).astype(np.float32)
    runner = load_generator(tiny_model_path)
    want = np.stack([upscale_image(f, runner) for f in src]).astype(np.float32)
    bicubic = np.stack([upscale_image(f, "bicubic") for f in src]).astype(np.float32)
    err_model, err_bicubic = np.abs(got - want).mean(), np.abs(got - bicubic).mean()
    assert err_model < 10 and err_model < 0.1 * err_bicubic, (err_model, err_bicubic)


def test_colours_survive_the_yuv_round_trip(tmp_path):
    """A flat green stays the same green: the RGB -> YUV matrix agrees with the stream's tag
    (converting by BT.601 but tagging BT.709 shifts this green by 3-4 grey levels)."""
    src = make_clip(tmp_path / "green.mp4", seconds=0.3, rate="10", source="color=c=0x30D050",
                    audio=False)
    dst = tmp_path / "green_x4.mp4"
    report = video.upscale_video(src, dst, "bicubic", progress=False)
    assert report.frames == 3 and report.summary() is None
    before, after = frames_of(src).reshape(-1, 3).mean(0), frames_of(dst).reshape(-1, 3).mean(0)
    assert np.abs(after - before).max() <= 1.5, (before, after)  # 1 level seen here
    assert video.probe(dst).audio == 0


def test_rotated_phone_video_comes_out_upright(clip, tmp_path):
    """A display-matrix rotation (phones record so) is applied when decoding, not lost."""
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation:v:0", "90", "-i", str(clip), "-c", "copy", str(rotated))
    dst = tmp_path / "rotated_x4.mp4"
    video.upscale_video(rotated, dst, "bicubic", progress=False)
    info = video.probe(dst)
    assert (info.width, info.height) == (96, 128)


class FailsOnFrame:
    """A runner that raises on its n-th call (0-based); out of memory is retried by the tiler."""

    def __init__(self, inner, n: int, exc: BaseException):
        self.inner, self.n, self.exc, self.calls = inner, n, exc, 0
        self.scale, self.name = inner.scale, "fails"

    def __call__(self, lr):
        self.calls += 1
        if self.calls - 1 == self.n:
            raise self.exc
        return self.inner(lr)


def test_a_frame_the_model_fails_on_does_not_lose_the_rest(clip, tmp_path):
    from srgan_keras.inference.runners import BicubicRunner

    dst = tmp_path / "clip_x4.mp4"
    runner = FailsOnFrame(BicubicRunner(4), 2, ValueError("the model gave NaN"))
    report = video.upscale_video(clip, dst, runner, tiling={"tile": None}, progress=False)
    n_src, _ = imageio_ffmpeg.count_frames_and_secs(str(clip))
    assert report.frames == n_src and report.fallback_frames == [2]
    assert "frame 2: ValueError: the model gave NaN" in report.summary()
    assert imageio_ffmpeg.count_frames_and_secs(str(dst))[0] == n_src


def test_damaged_data_is_concealed_and_every_frame_kept(tmp_path):
    src = make_clip(tmp_path / "long.mp4", seconds=3, rate="10", size="64x48", audio=False,
                    extra=("-g", "5"))
    data = bytearray(src.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 300] = b"\x55" * 300  # garbage in the middle of the H.264 data
    bad = tmp_path / "damaged.mp4"
    bad.write_bytes(bytes(data))
    report = video.upscale_video(bad, tmp_path / "damaged_x4.mp4", "bicubic", progress=False)
    assert report.frames == 30 and report.decode_errors > 0
    assert "concealed" in report.summary()


def test_bad_inputs_get_one_line_each_and_the_good_clip_is_still_done(clip, tiny_model_path,
                                                                       tmp_path, capsys):
    audio_only = tmp_path / "song.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.3", "-c:a", "aac", str(audio_only))
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mkv"
    text.write_text("not a video\n")
    out = tmp_path / "out"
    rc = upscale_main([str(audio_only), str(empty), str(text), str(clip), "-o", str(out),
                       "--model", str(tiny_model_path)])
    err = capsys.readouterr().err
    assert rc == 1
    failed = [ln for ln in err.splitlines() if ln.startswith("failed:")]
    assert failed == [f"failed: {audio_only}: no video stream (the file has audio only)",
                      f"failed: {empty}: empty file (0 bytes)",
                      f"failed: {text}: not a video ffmpeg can read (Invalid data found when "
                      "processing input)"], err
    assert sorted(p.name for p in out.iterdir()) == ["clip_x4.mp4"]


def test_a_clip_replaced_by_another_size_during_the_run_fails_in_one_line(clip, tmp_path, capsys,
                                                                         monkeypatch):
    """Every output is planned from the probes first; a clip replaced by a 48x32 one before its
    turn is refused in one line naming it, not squeezed into the 64x48 frames planned for it
    (--outscale 2: the size is the plan's), and the other clip is still done."""
    import shutil

    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    shutil.copy(clip, first)
    shutil.copy(clip, second)
    real = video.upscale_video

    def swap_second_meanwhile(src, *args, **kwargs):
        if Path(src) == second:  # replaced after the plan, before its turn
            make_clip(second, seconds=0.2, size="48x32", audio=False)
        return real(src, *args, **kwargs)

    monkeypatch.setattr(video, "upscale_video", swap_second_meanwhile)
    out = tmp_path / "out"
    rc = upscale_main([str(first), str(second), "-o", str(out), "--model", "bicubic",
                       "--outscale", "2", "-q"])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert err.strip().splitlines() == [
        f"failed: {second}: changed while this command ran (its output was planned for 32x24 "
        "frames, it now has 48x32); not upscaled, run the command again for it"], err
    assert sorted(p.name for p in out.iterdir()) == ["first_x2.mp4"]  # nothing half-written
    assert video.probe(out / "first_x2.mp4").width == 64


def test_without_the_video_extra_one_line_says_how_to_get_it(clip, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails as if not installed
    rc = upscale_main([str(clip), "-o", str(tmp_path / "out"), "--model", "bicubic"])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"failed: {clip}: video needs ffmpeg, which is not installed: " \
           "pip install 'srgan_keras[video]'" in err.splitlines()


def test_an_interrupted_run_leaves_nothing_behind(clip, tmp_path):
    from srgan_keras.inference.runners import BicubicRunner

    out = tmp_path / "out"
    out.mkdir()
    runner = FailsOnFrame(BicubicRunner(4), 3, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        video.upscale_video(clip, out / "clip_x4.mp4", runner, tiling={"tile": None},
                            progress=False)
    assert list(out.iterdir()) == []


def test_output_container_and_name():
    assert video.output_path("a/clip.MOV", "out", 4) == Path("out/clip_x4.mov")
    assert video.output_path("clip.webm", "out", 2) == Path("out/clip_x2.mp4")  # no H.264 in WebM
    assert video.is_video("x.mkv") and not video.is_video("x.png") and not video.is_video("x.gif")


def test_existing_outputs_follow_the_cli_rules(clip, tmp_path, capsys):
    """Kept without --overwrite; with it, only a video this CLI wrote is replaced."""
    out = tmp_path / "out"
    args = [str(clip), "-o", str(out), "--model", "bicubic"]
    assert upscale_main(args) == 0
    dst = out / "clip_x4.mp4"
    assert is_ours(dst, FFMPEG) and not is_ours(clip, FFMPEG)
    assert upscale_main(args) == 0
    assert f"skipped: {clip}: {dst} exists" in capsys.readouterr().err
    assert upscale_main(args + ["--overwrite"]) == 0  # ours: replaced
    foreign = make_clip(tmp_path / "theirs.mp4", audio=False)
    foreign.replace(dst)
    before = dst.read_bytes()
    assert upscale_main(args + ["--overwrite"]) == 1
    assert "was not written by this command; not overwritten" in capsys.readouterr().err
    assert dst.read_bytes() == before


def test_outscale_and_a_size_box_apply_to_videos(clip, tmp_path, capsys):
    """--outscale and --width/--height resize every frame after the network (even sides)."""
    out = tmp_path / "out"
    assert upscale_main([str(clip), "-o", str(out), "--model", "bicubic", "--outscale", "2.5"]) == 0
    info = video.probe(out / "clip_x2.5.mp4")
    assert (info.width, info.height) == (80, 60) and info.fps == Fraction(30000, 1001)
    assert upscale_main([str(clip), "-o", str(out), "--model", "bicubic", "--width", "60"]) == 0
    info = video.probe(out / "clip_60x44.mp4")  # 32x24 fit in width 60: 60x45, 45 -> 44 (even)
    assert (info.width, info.height) == (60, 44) and info.audio == 1
