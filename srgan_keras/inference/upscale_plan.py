"""The upscale command's plan: every input checked from its header and its output claimed, before
anything is computed.

Each image is probed (:func:`srgan_keras.data.metadata.probe`: a decompression bomb is refused
there) and each video too (:func:`srgan_keras.inference.ffmpeg.probe`); its final size follows from
the network's scale, ``--outscale`` or the ``--width``/``--height`` box
(:func:`srgan_keras.inference.tiling.output_size`); an output too large for its format or for the
memory available is refused; then its output is named and claimed by the run's
:class:`srgan_keras.data.outputs.OutputPlan`, the rules every command that writes shares (an
input is never an output, a file of the user's is never replaced, two inputs never write the same
file). A refusal is one line naming the file, and the other inputs are still planned.

The plan is made once, so :func:`recheck` makes sure, just before an image is read, that it is
still the image planned: one replaced by another size while the command ran is refused in one
line (:class:`InputChangedError`), never squeezed into the planned size.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from srgan_keras.data.imaging import ImageError
from srgan_keras.data.metadata import Probe, is_ours, probe
from srgan_keras.data.outputs import (
    OutputExistsError,
    OutputIsInputError,
    OutputPlan,
    output_name,
    size_tag,
)
from srgan_keras.inference import ffmpeg as ff
from srgan_keras.inference import video
from srgan_keras.inference.image_io import output_format, sample_layout, side_limit_error
from srgan_keras.inference.tiling import memory_refusal, output_size


class InputChangedError(ImageError):
    """An input that is not the file its output was planned from (replaced while the command ran)."""


@dataclass
class Job:
    """One planned image upscale: what is read, what is written, how large."""

    src: Path
    dst: Path
    fmt: str
    probe: Probe
    size: tuple[int, int]  # final (height, width)
    layout: tuple[int, int]  # (channels, bits) the decoded image will have: sample_layout
    replace: bool = False  # dst is an earlier output of ours and --overwrite was given


@dataclass
class VideoJob:
    """One planned video upscale."""

    src: Path
    dst: Path
    info: ff.VideoInfo
    size: tuple[int, int] | None  # final (height, width), even; None: the network's scale
    replace: bool = False


def _claim(outputs: OutputPlan, src: Path, dst: Path, ours: Callable[[Path], bool], say,
           fail) -> tuple[bool, bool] | None:
    """(go, replace) for ``dst``, or None when refused (``fail``) or skipped (``say``)."""
    try:
        claim = outputs.claim(src, dst, ours)
    except (OutputIsInputError, OutputExistsError) as e:
        fail(str(e))
        return None
    if claim.skipped:
        say(f"skipped: {claim.skipped}", skip=True)
        return None
    return True, claim.replace


def plan_images(args: argparse.Namespace, files: list[tuple[Path, Path]], scale: int,
                outputs: OutputPlan, say, fail) -> list[Job]:
    """Check every image from its header and claim its output; refusals go to ``fail``."""
    box = bool(args.width or args.height)
    jobs = []
    for src, sub in files:
        try:
            p = probe(src)
        except ImageError as e:
            fail(str(e))
            continue
        fmt = output_format(src, args.format)
        size = output_size(p.height, p.width, scale, args.outscale, args.width, args.height)
        layout = sample_layout(p)
        too_big = (side_limit_error(src, size, fmt, "use --format png or a smaller --outscale")
                   or memory_refusal(src, p.height, p.width, *layout, scale, size))
        if too_big:
            fail(too_big)
            continue
        dst = Path(args.out_dir) / sub / output_name(src, size_tag(scale, args.outscale, size, box),
                                                     fmt)
        claimed = _claim(outputs, src, dst, is_ours, say, fail)
        if claimed is None:
            continue
        if p.frames > 1:  # GIF, APNG, animated WebP; a multi-page TIFF
            kind = "multi-page TIFF" if p.format == "TIFF" else f"animated {p.format}"
            unit = "pages" if p.format == "TIFF" else "frames"
            say(f"note: {src}: {kind} ({p.frames} {unit}): only the first is upscaled")
        jobs.append(Job(src, dst, fmt, p, size, layout, replace=claimed[1]))
    return jobs


def plan_videos(args: argparse.Namespace, files: list[tuple[Path, Path]], scale: int,
                outputs: OutputPlan, say, fail) -> list[VideoJob]:
    """The same for videos: each probed by ffmpeg, its size rounded down to even sides (4:2:0
    video needs them); an existing output is replaced only if its ``comment`` tag is ours."""
    box = bool(args.width or args.height)
    jobs = []
    for src, sub in files:
        try:
            exe = ff.ffmpeg_exe(src)
            info = ff.probe(src, exe)
        except ImageError as e:  # VideoError, or a frame above the pixel limit
            fail(str(e))
            continue
        size = None
        if args.outscale is not None or box:
            h, w = output_size(info.height, info.width, scale, args.outscale, args.width,
                               args.height)
            size = max(2, h - h % 2), max(2, w - w % 2)
        final = size or (info.height * scale, info.width * scale)
        too_big = memory_refusal(src, info.height, info.width, 3, 8, scale, final)
        if too_big:
            fail(too_big)
            continue
        dst = video.output_path(src, Path(args.out_dir) / sub,
                                size_tag(scale, args.outscale, size, box))
        claimed = _claim(outputs, src, dst, lambda d, exe=exe: ff.is_ours(d, exe), say, fail)
        if claimed is not None:
            jobs.append(VideoJob(src, dst, info, size, replace=claimed[1]))
    return jobs


def recheck(job: Job) -> Probe:
    """``job.src``'s header now, refused (:class:`InputChangedError`) if its size or sample layout
    is not the one planned; the caller checks the decoded image against it too."""
    now = probe(job.src)
    if (now.width, now.height, sample_layout(now)) != (job.probe.width, job.probe.height,
                                                       job.layout):
        raise InputChangedError(changed_line(job, now.width, now.height))
    return now


def changed_line(job: Job, width: int, height: int) -> str:
    """The one line for an input that is no longer the image planned."""
    was = f"{job.probe.width}x{job.probe.height}"
    now = f"{width}x{height}" if (width, height) != (job.probe.width, job.probe.height) else \
        "the same size but other samples"
    return (f"{job.src}: changed while this command ran (its output was planned from a {was} image, "
            f"it is now {now}); not upscaled, run the command again for it")
