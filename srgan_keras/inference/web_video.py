"""The web page's short videos: one upload bounded, then upscaled as the upscale command does it.

:mod:`.webapp` puts this on its *Video* tab when ffmpeg is there (the ``[video]`` extra,
:func:`video_unavailable`; without it the tab is one line saying how to get it). A video is
checked from its header before any frame is upscaled: at most :data:`WEB_MAX_VIDEO_SECONDS`
seconds and :data:`WEB_MAX_VIDEO_FRAMES` frames, at most the page's ``--max-pixels`` pixels in all
its frames (the budget of one image upload), a file of at most :data:`WEB_MAX_VIDEO_BYTES` bytes
(our choices: the page serves one request at a time, and every frame is an image upscaled on this
computer's CPU: 1.1 s per 160x120 frame with ``realesr`` on a shared 2-core EPYC; longer or larger
videos are for ``python -m srgan_keras.upscale``). Beyond any of them, one line refuses it.

The work is the command's: its arguments (:func:`.web_settings.cli_args`), its plan
(:func:`srgan_keras.inference.upscale_plan.plan_videos`: the output's name, container and even
size) and :func:`srgan_keras.inference.upscale.upscale_video_job` (every frame by the model as
trained, with ``--outscale`` or the box and ``--color-fix``; the source's frame rate, audio and
subtitles kept; written atomically). The page's output format and quality are image settings and
do not apply.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from srgan_keras.data.imaging import ImageError
from srgan_keras.data.outputs import OutputPlan
from srgan_keras.inference import ffmpeg as ff
from srgan_keras.inference.upscale_plan import plan_videos
from srgan_keras.inference.web_batch import pixels
from srgan_keras.inference.web_settings import AppError, Settings, cli_args, named
from srgan_keras.inference.web_upscale import WEB_MAX_PIXELS, load_runner

# Our choices (see the module docstring): ten seconds at 30 frames per second, 100 MB, and all
# the frames together no more pixels than one image upload (WEB_MAX_PIXELS, 16.8 MP: 2.4 s of
# 640x360 at 30 fps, 10 s of 320x176): about 16 minutes at the rate measured above.
WEB_MAX_VIDEO_SECONDS = 10
WEB_MAX_VIDEO_FRAMES = 300
WEB_MAX_VIDEO_BYTES = 100 * 2**20


@dataclass(frozen=True)
class VideoLimits:
    """The bounds of one video upload (the page's defaults: the constants above)."""

    seconds: float = WEB_MAX_VIDEO_SECONDS
    frames: int = WEB_MAX_VIDEO_FRAMES
    pixels: int = WEB_MAX_PIXELS  # in all the frames; 0: no bound
    bytes: int = WEB_MAX_VIDEO_BYTES


@dataclass
class VideoResult:
    """One upscaled video: the written file and the summary line."""

    path: Path
    summary: str


def video_unavailable() -> str | None:
    """The one line saying why the page cannot take videos (ffmpeg missing), or None."""
    try:
        ff.ffmpeg_exe("video")
    except ImageError as e:  # "video: video needs ffmpeg, which is not installed: pip ..."
        line = str(e).removeprefix("video: ")
        return line.replace("video needs", "Videos need", 1) if line.startswith("video needs") \
            else f"Videos cannot be upscaled here: {line}"
    return None


def check_video(src: Path, info: ff.VideoInfo, limits: VideoLimits) -> None:
    """Raise :class:`AppError` (one line naming the file) for a video over ``limits``."""
    hint = "upload a shorter or smaller clip, or use python -m srgan_keras.upscale"
    size = src.stat().st_size
    if size > limits.bytes:
        raise AppError(f"{src.name}: {size / 2**20:.0f} MB, more than the page takes "
                       f"({limits.bytes / 2**20:.0f} MB); {hint}")
    if info.duration is None:
        raise AppError(f"{src.name}: its duration is not in the file, so the page cannot bound "
                       "it; use python -m srgan_keras.upscale")
    if info.duration > limits.seconds or (info.frames_estimate or 0) > limits.frames:
        raise AppError(f"{src.name}: {info.duration:.1f} s, {info.frames_estimate} frames; the "
                       f"page takes at most {limits.seconds:g} s and {limits.frames} frames; {hint}")
    frames = info.frames_estimate or 0
    total = frames * info.width * info.height
    if limits.pixels and total > limits.pixels:
        raise AppError(f"{src.name}: {frames} frames of {info.width}x{info.height} are "
                       f"{pixels(total)}, more than the page takes in one video "
                       f"({pixels(limits.pixels)}, --max-pixels); {hint}")


def upscale_video_upload(path: str | os.PathLike, settings: Settings, out_dir: str | os.PathLike,
                         on_frame: Callable[[int, int | None], None] | None = None,
                         limits: VideoLimits = VideoLimits()) -> VideoResult:  # noqa: B008 (frozen)
    """Upscale one uploaded video into ``out_dir`` as the command would with ``settings``.

    ``on_frame(done, total)`` after each frame. Raises :class:`AppError` with one line naming
    the file: ffmpeg missing, not a video, over ``limits``, or the command's own refusal.
    """
    from srgan_keras.inference.upscale import failure_line, upscale_video_job

    src = Path(path)
    if (why := video_unavailable()) is not None:
        raise AppError(why)
    try:
        info = ff.probe(src)
    except ImageError as e:
        raise AppError(named(str(e), src)) from None
    check_video(src, info, limits)
    runner = load_runner(settings.model, settings.denoise)
    args = cli_args(settings, [src], out_dir)
    refusals: list[str] = []
    jobs = plan_videos(args, [(src, Path())], runner.scale, OutputPlan([src], True),
                       lambda msg, skip=False: refusals.append(msg), refusals.append)
    if not jobs:
        raise AppError(named(refusals[0] if refusals else f"{src}: not upscaled", src))
    job = jobs[0]
    t0 = time.perf_counter()
    try:
        report = upscale_video_job(args, job, runner, progress=False, on_frame=on_frame)
    except Exception as e:  # noqa: BLE001 -- the command's line for a failed input
        raise AppError(named(failure_line(job.src, job.dst, e), src)) from None
    out_h, out_w = job.size or (info.height * runner.scale, info.width * runner.scale)
    summary = (f"{info.width}x{info.height} -> {out_w}x{out_h}, {report.frames} frames"
               f"{', with its audio' if info.audio else ''}, with {Path(settings.model).name} "
               f"in {time.perf_counter() - t0:.1f} s")
    if report.summary():
        summary += f" (warning: {report.summary()})"
    return VideoResult(job.dst, summary)
