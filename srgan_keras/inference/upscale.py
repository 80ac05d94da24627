"""Command line: upscale any image files with a trained generator (SRGAN's use, §1).

    python -m srgan_keras.upscale INPUT... | --example [-o OUT_DIR] [--model PATH] [--outscale F |
        --width W --height H] [--color-fix] [--format png|jpg|webp] [--quality Q]
        [--tile N] [--overwrite] [--denoise-strength auto|S] [--runtime auto|keras|litert]
        [-q | --verbose]

INPUT is files, folders (searched recursively) or globs (:mod:`.inputs`). Every output is
``<stem>_x<s>.<ext>`` in OUT_DIR (default ``./upscaled``; a folder input keeps its sub-folders);
``<s>`` is the network's scale, ``--outscale`` (``cat_x2.5.png``) or the ``--width``/``--height``
box (``cat_800x600.png``). Files are read and written by :mod:`.image_io` (gray, RGBA/LA, palette,
16-bit, CMYK, EXIF rotation, GIF: first frame; ICC profile, EXIF, PNG text and DPI carried over)
and upscaled by :func:`srgan_keras.inference.tiling.upscale_image` (automatic tiles, Lanczos to the
final size, optional colour fix). The arguments are :mod:`.upscale_args`'.

Safety (issues 16.8, 17 and 27): every file is checked from its header, and its output claimed,
before anything is computed (:mod:`.upscale_plan`: decompression bomb, an output too large for
memory or for WebP/JPEG, an unusable output folder, the output-planning rules of
:mod:`srgan_keras.data.outputs`); a bad input is reported on one line and the others are still
processed; the exit status is 1 if any failed, 130 on Ctrl-C. An existing output is kept unless
``--overwrite``, and even then only files this command wrote (marked in their metadata) are
replaced; an input is never overwritten. Outputs are written by
:func:`srgan_keras.data.files.atomic_write` (a temporary ``.<name>.srgan-tmp-<pid>-XXXXXXXX.<ext>``
renamed into place; such files left by a killed run are never inputs and are removed by the next
run into that folder), and the rename of a new output does not clobber: a file that appears at
that path while the command runs is kept, and that input fails (issue 27.6). An input replaced by
another size after the plan was made fails too, in one line, never squeezed into the planned size
(issue 27.13).

With ``--outscale 2`` and no ``--model``, a bundled x2 model of the default model
(``<name>_x2.keras`` beside ``<name>_x4.keras`` in ``saved_models/``) is used when one exists,
so x2 is not x4 then halved; any x2 generator can be given with ``--model``.

A video file named as an INPUT (``clip.mp4``) is upscaled by :mod:`srgan_keras.inference.video`
(every frame upscaled; the source's frame rate, audio and subtitles kept).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from srgan_keras.data.imaging import ImageError, LoadedImage
from srgan_keras.data.metadata import SOFTWARE, metadata_for
from srgan_keras.data.outputs import (
    OutputExistsError,
    OutputPlan,
    appeared,
    check_out_dir,
    clean_partial_outputs,
)
from srgan_keras.errors import SrganKerasError, command, first_line, report
from srgan_keras.inference import video
from srgan_keras.inference.image_io import FORMATS, read_input, write_output
from srgan_keras.inference.inputs import collect_inputs
from srgan_keras.inference.tiling import auto_tile, bytes_per_pixel, tile_grid, upscale_image
from srgan_keras.inference.upscale_args import (  # noqa: F401 -- needs_tensorflow: for run_cli
    choose_model,
    needs_tensorflow,
    parse_args,
)
from srgan_keras.inference.upscale_plan import (
    InputChangedError,
    Job,
    VideoJob,
    changed_line,
    plan_images,
    plan_videos,
    recheck,
)
from srgan_keras.startup import filtered_stderr


def describe_estimate(est) -> str:
    """``--verbose``: what the auto strength was chosen from, and how."""
    from srgan_keras.inference.degradation_estimate import AUTO_A, AUTO_B, AUTO_C

    q = "no JPEG (counted as quality 100)" if est.quality is None else \
        f"JPEG quality {est.quality} (from its luminance quantisation table)"
    return (f"noise {est.sigma:.2f} grey levels (wavelet MAD), {q} -> denoise strength "
            f"clip({AUTO_A:g} + {AUTO_B:g} x noise + {AUTO_C:g} x (100 - q) / 100) = "
            f"{est.strength:.2f} (in steps of 0.05)")


def model_label(runner) -> str:
    """What the output's Software tag names: the model, and its precision when not float32."""
    precision = getattr(runner, "precision", "float32")
    return runner.name if precision == "float32" else f"{runner.name}, {precision}"


def failure_line(src: Path, dst: Path, e: Exception) -> str:
    """The one line for an input that failed: an image's or video's error says it (naming the
    file), an output that a file took meanwhile is :func:`~srgan_keras.data.outputs.appeared`,
    anything else is named with its type."""
    if isinstance(e, ImageError):
        return str(e)
    if isinstance(e, OutputExistsError):
        return appeared(src, dst)
    return f"{src}: {first_line(e, with_type=True)}"


@command
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stats = {"done": 0}
    try:
        return _main(args, stats)
    except KeyboardInterrupt:
        print(f"interrupted: {stats['done']} upscaled before Ctrl-C; no partial output was kept",
              file=sys.stderr)
        return 130


def _main(args: argparse.Namespace, stats: dict) -> int:
    from srgan_keras.inference.runners import load_generator

    problem = check_out_dir(args.out_dir)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        with filtered_stderr(args.verbose):  # a TFLite interpreter announces its XNNPACK delegate
            runner = load_generator(choose_model(args), scale=args.scale,
                                    denoise_strength=args.denoise_strength, wdn=args.wdn_model,
                                    precision=args.precision, runtime=args.runtime)
    except (ValueError, ImportError) as e:  # the loader's plain checks (ours go to @command)
        if isinstance(e, SrganKerasError):
            raise
        report(e)
        return 2
    choice = getattr(runner, "runtime_choice", None)
    if args.verbose and choice is not None:
        print(f"note: {choice.describe()}", file=sys.stderr)
    limit = Image.MAX_IMAGE_PIXELS
    if args.max_pixels is not None:
        Image.MAX_IMAGE_PIXELS = args.max_pixels or None  # 0: no limit
    try:
        return _run(args, runner, stats)
    finally:
        Image.MAX_IMAGE_PIXELS = limit  # main() may be called in-process (tests, notebooks)


def _run(args: argparse.Namespace, runner, stats: dict) -> int:
    """Plan, then upscale every image, then every video; one line per file and per failure."""
    counts = {"failed": 0, "skipped": 0}

    def say(msg: str, skip: bool = False, out=None) -> None:
        from tqdm import tqdm

        counts["skipped"] += skip
        if not args.quiet or msg.startswith("failed:"):
            tqdm.write(msg, file=out or sys.stderr)

    def fail(msg: str) -> None:
        counts["failed"] += 1
        say(f"failed: {msg}")

    out_dir = Path(args.out_dir)
    files, errors = collect_inputs(args.inputs, out_dir)
    for line in errors:
        fail(line)
    outputs = OutputPlan([f for f, _ in files], args.overwrite)  # one plan: images and videos
    jobs = plan_images(args, [(f, s) for f, s in files if not video.is_video(f)], runner.scale,
                       outputs, say, fail)
    videos = plan_videos(args, [(f, s) for f, s in files if video.is_video(f)], runner.scale,
                         outputs, say, fail)
    for folder in sorted({j.dst.parent for j in [*jobs, *videos]}):
        for f in clean_partial_outputs(folder):
            say(f"removed: {f} (a partial output left by an interrupted run)")
    _upscale_images(args, jobs, runner, stats, say, fail)
    _upscale_videos(args, videos, runner, stats, say, fail)
    summary = f"{stats['done']} upscaled, {counts['failed']} failed"
    if counts["skipped"]:
        summary += f", {counts['skipped']} skipped (already exist)"
    # the folder is named only when it holds the outputs: after a run that wrote nothing (a
    # mistyped input) it may not even exist (issue 28.1)
    print(f"{summary} -> {out_dir}{os.sep}" if stats["done"] or counts["skipped"]
          else f"{summary}; nothing written")
    return 1 if counts["failed"] else 0


def _upscale_images(args: argparse.Namespace, jobs: list[Job], runner, stats: dict, say,
                    fail) -> None:
    """Each planned image, after :func:`~.upscale_plan.recheck`: read, upscaled, written."""
    from tqdm import tqdm

    total = sum(j.probe.width * j.probe.height for j in jobs)
    tiles = 0
    if len(jobs) == 1:
        j = jobs[0]
        tile = args.tile if args.tile != "auto" else auto_tile(
            j.probe.height, j.probe.width, runner, args.tile_overlap, args.pre_pad)
        tiles = len(list(tile_grid(j.probe.height, j.probe.width, tile or None)))
    show_bar = not args.quiet and (len(jobs) > 1 or tiles > 3)
    bar = tqdm(total=total, unit="px", unit_scale=True, disable=None if show_bar else True,
               bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
    bytes_per_pixel(runner)  # once, before the first file's clock starts
    try:
        offset = 0
        for i, job in enumerate(jobs, 1):
            bar.set_description_str(f"{i}/{len(jobs)} {job.src.name}")
            start = time.time()
            try:
                done = upscale_job(args, job, runner,
                                   progress=lambda d, _, o=offset: bar.update(o + d - bar.n),
                                   on_note=say)
            except Exception as e:  # one line per file, then the next; Ctrl-C still stops the run
                fail(failure_line(job.src, job.dst, e))
                continue
            finally:
                offset += job.probe.width * job.probe.height
                bar.update(offset - bar.n)
            if done.note:
                say(f"note: {job.dst}: {done.note}")
            stats["done"] += 1
            dn = "" if done.estimate is None else f", {done.estimate.describe()}"
            say(f"upscaled: {job.src} -> {job.dst} ({job.probe.width}x{job.probe.height} -> "
                f"{job.size[1]}x{job.size[0]}{dn}, {time.time() - start:.1f} s)", out=sys.stdout)
    finally:
        bar.close()


@dataclass
class Upscaled:
    """What :func:`upscale_job` did for one image: the runner that ran (the auto strength's
    blend), its estimate, the note of what the format could not hold; with ``keep``, the decoded
    input and the output array too (the web page's before/after)."""

    chosen: object
    estimate: object | None = None
    note: str | None = None
    image: LoadedImage | None = None
    out: np.ndarray | None = None


def upscale_job(args: argparse.Namespace, job: Job, runner, progress=None, on_note=None,
                keep: bool = False) -> Upscaled:
    """One planned image, as the command does it (the web page calls this too, so both give the
    same file for the same settings): :func:`~.upscale_plan.recheck`, read, the auto denoise
    strength for this photo, :func:`~srgan_keras.inference.tiling.upscale_image` with the
    tiling flags, the final size and ``--color-fix``, then written in ``job.fmt`` at
    ``--quality`` with the input's metadata. ``progress(done, total)`` (pixels) after each tile;
    ``on_note(line)`` for what is worth a line. Raises what failed (the caller says it)."""
    def note(msg: str) -> None:
        if on_note is not None:
            on_note(f"note: {job.src}: {msg}")

    now = recheck(job)  # still the image planned, before it is decoded
    image = read_input(job.src)
    if image.rgb.shape[:2] != (job.probe.height, job.probe.width):  # replaced since
        raise InputChangedError(changed_line(job, image.rgb.shape[1], image.rgb.shape[0]))
    chosen, estimate = runner, None
    if hasattr(runner, "for_image"):  # --denoise-strength auto: this photo's blend
        chosen, estimate = runner.for_image(image, job.src)
        if getattr(args, "verbose", False):
            note(describe_estimate(estimate))
    out = upscale_image(image, chosen, tile=args.tile or None, tile_overlap=args.tile_overlap,
                        pre_pad=args.pre_pad, size=job.size, color_fix=args.color_fix,
                        progress=progress or False, on_note=note)
    gray = image.gray
    if not keep:
        del image  # before the write: its memory may be needed there
    meta = metadata_for(now, job.size[1], job.size[0], gray, FORMATS[job.fmt],
                        f"{SOFTWARE} ({model_label(chosen)})")
    written = write_output(job.dst, out, job.fmt, meta, args.quality, overwrite=job.replace)
    return Upscaled(chosen, estimate, written, image if keep else None, out if keep else None)


def upscale_video_job(args: argparse.Namespace, job: VideoJob, runner, progress: bool = True,
                      on_frame=None) -> video.VideoReport:
    """One planned video, as the command does it (the web page calls this too): every frame by
    the model as trained (one strength for every frame: per-frame auto choices could flicker),
    with the tiling flags, ``--color-fix`` and the output size per frame; the source's audio
    kept (:func:`srgan_keras.inference.video.upscale_video`). ``on_frame(done, total)``."""
    runner = getattr(runner, "strong", runner)
    tiling = {"tile": args.tile or None, "tile_overlap": args.tile_overlap, "pre_pad": args.pre_pad,
              "color_fix": bool(args.color_fix)}
    return video.upscale_video(job.src, job.dst, runner, tiling=tiling, size=job.size,
                               progress=progress, software=f"{SOFTWARE} ({runner.name})",
                               on_frame=on_frame, overwrite=job.replace, expect=job.info)


def _upscale_videos(args: argparse.Namespace, jobs: list[VideoJob], runner, stats: dict, say,
                    fail) -> None:
    """Each planned video (:func:`srgan_keras.inference.video.upscale_video`): the tiling flags,
    ``--color-fix`` and the output size apply per frame; ``--format`` (an image format) is said
    not to apply."""
    for job in jobs:
        start = time.time()
        try:
            result = upscale_video_job(args, job, runner, progress=not args.quiet)
        except Exception as e:  # one line per file, then the next; Ctrl-C still stops the run
            fail(failure_line(job.src, job.dst, e))
            continue
        if result.summary():
            say(f"warning: {job.dst}: {result.summary()}")
        if args.format:
            say(f"note: {job.src}: --format {args.format} is an image format; the video is "
                f"{job.dst.suffix[1:]}")
        stats["done"] += 1
        out_h, out_w = job.size or (job.info.height * runner.scale, job.info.width * runner.scale)
        say(f"upscaled: {job.src} -> {job.dst} ({job.info.width}x{job.info.height} -> "
            f"{out_w}x{out_h}, {result.frames} frames, {time.time() - start:.1f} s)",
            out=sys.stdout)
