"""Upscaling a video: every frame through the generator, the source's frame rate, audio and subtitles kept.

SRGAN (§1) is a single-image method, and so is this: every frame goes through the generator on
its own, as Real-ESRGAN's ``inference_realesrgan_video.py`` does (no temporal model, so fine
texture from a GAN generator may flicker; the PSNR-trained ``srresnet`` does not invent any).
ffmpeg does the container and codec work (:mod:`.ffmpeg`: probe, decode, encode, mux); each frame
is upscaled by :func:`srgan_keras.inference.tiling.upscale_image`, as an image is.

A bad frame does not lose the rest: damaged data is concealed by ffmpeg's decoder (reported as a
count), and a frame the generator fails on is written upscaled by bicubic interpolation instead
(reported with its number), so the output keeps every frame and its timing. The output is written
to a temporary file beside it and renamed at the end (:func:`srgan_keras.data.files.atomic_write`);
an interruption leaves nothing behind. A source whose frame size changed after its output was
planned (the file was replaced while the command ran) is refused, never squeezed into the planned
size. The upscale command plans a video's output as an image's (:mod:`.upscale_plan`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from srgan_keras.data.files import atomic_write, new_temp
from srgan_keras.data.metadata import SOFTWARE
from srgan_keras.data.outputs import output_name
from srgan_keras.errors import first_line
from srgan_keras.inference.ffmpeg import (
    CRF,
    DecodeLog,
    Encoder,
    VideoError,
    VideoInfo,
    ffmpeg_exe,
    mux,
    probe,
    read_frames,
)

# Containers read as video when a file is named on the command line (folders are searched for
# images only, so a stray clip does not start an hours-long job). Our choice of list.
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg",
                              ".ts", ".mts", ".m2ts", ".wmv", ".flv", ".3gp", ".ogv"})
# Containers written as they came; any other input becomes .mp4 (H.264 cannot go into WebM or
# Ogg, and .mp4 plays everywhere). Our choice.
KEEP_CONTAINER = frozenset({".mp4", ".m4v", ".mov", ".mkv"})


@dataclass
class VideoReport(DecodeLog):
    """The outcome of :func:`upscale_video`: frames written and what had to be worked around."""

    info: VideoInfo | None = None  # the source, as probed
    frames: int = 0
    fallback_frames: list[int] = field(default_factory=list)  # 0-based, written by bicubic
    fallback_reason: str = ""  # the first failure's "Type: message"


    def summary(self) -> str | None:
        """One line of what went wrong but was worked around, or None when nothing did."""
        parts = []
        if self.fallback_frames:
            shown = ", ".join(str(i) for i in self.fallback_frames[:5])
            more = "" if len(self.fallback_frames) <= 5 else ", ..."
            parts.append(f"{len(self.fallback_frames)} of {self.frames} frames failed in the model "
                         f"(frame {shown}{more}: {self.fallback_reason}) and were upscaled by bicubic")
        if self.decode_errors:
            parts.append(f"ffmpeg concealed {self.decode_errors} decoding error(s) in damaged data")
        parts += self.notes
        return "; ".join(parts) or None


def is_video(path: str | os.PathLike) -> bool:
    """True for the container suffixes in :data:`VIDEO_EXTENSIONS`."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def output_path(src: str | os.PathLike, out_dir: str | os.PathLike, scale: int | str) -> Path:
    """``<out_dir>/<stem>_x<scale>.<ext>`` (or ``_<tag>`` for a str such as ``x2.5``, ``640x360``):
    the source's container if kept, else ``.mp4``."""
    ext = Path(src).suffix.lower() if Path(src).suffix.lower() in KEEP_CONTAINER else ".mp4"
    return Path(out_dir) / output_name(src, f"x{scale}" if isinstance(scale, int) else scale, ext)


def changed_since(src: Path, planned: VideoInfo, now: VideoInfo) -> str | None:
    """The one line refusing a source whose frames are no longer the size its output was planned
    for (the file was replaced while the command ran), or None."""
    if (now.width, now.height) == (planned.width, planned.height):
        return None
    return (f"{src}: changed while this command ran (its output was planned for {planned.width}x"
            f"{planned.height} frames, it now has {now.width}x{now.height}); not upscaled, run the "
            "command again for it")


def upscale_video(src: str | os.PathLike, dst: str | os.PathLike, model, *,
                  tiling: dict | None = None, size: tuple[int, int] | None = None,
                  crf: int = CRF, progress: bool = True,
                  software: str | None = SOFTWARE,
                  on_frame: Callable[[int, int | None], None] | None = None,
                  overwrite: bool = True, expect: VideoInfo | None = None) -> VideoReport:
    """Upscale every frame of ``src`` by ``model`` and write ``dst`` with the source's audio.

    Args:
        src: a video file ffmpeg can read.
        dst: the output file; its suffix picks the container (.mp4, .mov, .mkv); written atomically.
        model: a runner, a Keras generator or a model path (see ``load_generator``).
        tiling: keyword arguments for :func:`srgan_keras.inference.tiling.upscale_image` per frame
            (``tile``, ``tile_overlap``, ``pre_pad``, ``color_fix``); None: its defaults.
        size: final frame (height, width), reached by Lanczos after the network as for images
            (even sides: 4:2:0 video needs them); None: the network's scale.
        crf: x264 constant rate factor (lower = larger file, closer to the upscaled frames).
        progress: a tqdm bar over the frames.
        on_frame: called as ``on_frame(done, total_estimate)`` after each frame (e.g. a web page).
        overwrite: False keeps a ``dst`` that exists when the video is finished
            (:class:`srgan_keras.data.outputs.OutputExistsError`), one that appeared meanwhile too.
        software: written as the output's ``comment`` tag (the CLI's mark of its own outputs);
            None keeps the source's comment.
        expect: the probe ``dst`` and ``size`` were planned from; a source whose frame size
            differs now (replaced since) raises :class:`VideoError` before any frame is read.

    Returns a :class:`VideoReport`. Raises :class:`VideoError` (one line) for a file that is not
    a readable video or has no video stream, or when ffmpeg is missing.
    """
    from srgan_keras.inference.runners import BicubicRunner, as_runner
    from srgan_keras.inference.tiling import upscale_image

    src, dst = Path(src), Path(dst)
    ffmpeg = ffmpeg_exe(src)
    info = probe(src, ffmpeg)
    if expect is not None and (why := changed_since(src, expect, info)) is not None:
        raise VideoError(why)
    runner = as_runner(model)
    s = runner.scale
    kwargs = dict(tiling or {})
    out_h, out_w = size if size is not None else (info.height * s, info.width * s)
    if size is not None:
        kwargs["size"] = size
    fallback = BicubicRunner(s)
    report = VideoReport(info=info)
    total = info.frames_estimate
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=src.name, unit="frame", leave=False, disable=None,
                   file=sys.stderr)
    dst.parent.mkdir(parents=True, exist_ok=True)
    # the encoded stream before muxing: a temporary of ours (.<name>.srgan-tmp-<pid>-XXXXXXXX.video.mp4)
    video_tmp = str(new_temp(dst, ".video.mp4"))
    encoder = Encoder(ffmpeg, video_tmp, out_w, out_h, info.fps, info.sar, crf)
    frames = read_frames(src, info, ffmpeg, report)
    try:
        for i, frame in enumerate(frames):
            try:
                out = upscale_image(frame, runner, **kwargs)
            except Exception as e:  # this frame only: bicubic keeps the frame count and timing
                if not report.fallback_frames:
                    report.fallback_reason = first_line(e, with_type=True)
                report.fallback_frames.append(i)
                out = upscale_image(frame, fallback, **kwargs)
            encoder.write(out)
            report.frames += 1
            if bar is not None:
                bar.update()
            if on_frame is not None:
                on_frame(report.frames, total)
        if report.frames == 0:
            raise VideoError(f"{src}: the video stream has no decodable frame")
        encoder.close()
        if len(report.fallback_frames) == report.frames:
            raise VideoError(f"{src}: the model failed on every frame ({report.fallback_reason})")
        try:
            atomic_write(dst, lambda tmp: mux(ffmpeg, video_tmp, src, tmp, info, report.notes, software),
                         overwrite=overwrite)
        except RuntimeError as e:
            raise VideoError(f"{src}: {e}") from None
    except RuntimeError as e:  # the encoder stopped: say why on one line
        raise VideoError(f"{src}: {e}") from None
    finally:
        frames.close()  # stops the decoder if the loop ended early
        encoder.kill()
        encoder.log.close()
        if bar is not None:
            bar.close()
        if os.path.exists(video_tmp):
            os.remove(video_tmp)
    return report


