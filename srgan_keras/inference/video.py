"""Upscaling a video: decode frames, upscale each (tiled), encode with the source's rate and audio.

SRGAN (§1) is a single-image method, and so is this: every frame goes through the generator on
its own, as Real-ESRGAN's ``inference_realesrgan_video.py`` does (no temporal model, so fine
texture from a GAN generator may flicker; the PSNR-trained ``srresnet`` does not invent any).

ffmpeg does the container and codec work. The binary comes from the ``imageio-ffmpeg`` wheel
(the ``[video]`` extra; ``IMAGEIO_FFMPEG_EXE`` picks another one), driven through three pipes:

1. **probe**: one frame through ffmpeg's ``showinfo`` filter gives the exact frame rate as a
   rational (``30000/1001``, not the rounded ``29.97`` of the header), the frame size after the
   display-matrix rotation that ffmpeg applies when decoding, the sample aspect ratio and the
   list of streams (attached cover pictures are not a video stream);
2. **decode -> upscale -> encode**: raw RGB frames stream from one ffmpeg process, through
   :func:`srgan_keras.inference.tiling.upscale_image`, into another that encodes H.264 (x264 CRF 18,
   ``yuv420p``, BT.709 matrix; our choices, see the constants). Decoding is forced to the
   source's constant rate, so a frame the decoder drops is repeated and the audio stays in sync;
3. **mux**: the encoded video plus the source's audio (copied; re-encoded to AAC only when the
   container refuses the codec), subtitles where the container takes them, and its metadata.

A bad frame does not lose the rest: damaged data is concealed by ffmpeg's decoder (reported as a
count), and a frame the generator fails on is written upscaled by bicubic interpolation instead
(reported with its number), so the output keeps every frame and its timing. The output is written
to a temporary file beside it and renamed at the end; an interruption leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from srgan_keras.data.files import OutputExistsError, atomic_write, new_temp
from srgan_keras.data.imaging import ImageError, check_pixels
from srgan_keras.data.metadata import SOFTWARE

# Containers read as video when a file is named on the command line (folders are searched for
# images only, so a stray clip does not start an hours-long job). Our choice of list.
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg",
                              ".ts", ".mts", ".m2ts", ".wmv", ".flv", ".3gp", ".ogv"})
# Containers written as they came; any other input becomes .mp4 (H.264 cannot go into WebM or
# Ogg, and .mp4 plays everywhere). Our choice.
KEEP_CONTAINER = frozenset({".mp4", ".m4v", ".mov", ".mkv"})
# x264 settings (our choices): CRF 18 is the level the x264/ffmpeg H.264 guide calls "visually
# lossless or nearly so" (the default, 23, visibly softens an upscaled frame); preset "medium"
# is x264's own default speed/size trade-off; 4:2:0 chroma is what every player decodes.
CRF = 18
PRESET = "medium"
PIX_FMT = "yuv420p"
# The upscaled frames are HD-sized, and players assume the BT.709 matrix for untagged HD video
# (ITU-R BT.709), so the RGB -> YUV conversion uses it and the stream is tagged with it.
COLOR_MATRIX = "bt709"
EXTRA_HINT = "pip install 'srgan_keras[video]'"


class VideoError(ImageError):
    """A video that cannot be upscaled; the message is one line starting with the file's path."""


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` found: frame size after rotation (w, h), exact rate, streams."""

    width: int
    height: int
    fps: Fraction
    sar: Fraction
    duration: float | None  # seconds, None if the container does not say
    audio: int  # number of audio streams
    subtitles: int  # number of subtitle streams

    @property
    def frames_estimate(self) -> int | None:
        """Frame count from duration x rate (for the progress bar; not exact)."""
        return None if self.duration is None else max(1, round(self.duration * float(self.fps)))


@dataclass
class VideoReport:
    """The outcome of :func:`upscale_video`: frames written and what had to be worked around."""

    info: VideoInfo | None = None  # the source, as probed
    frames: int = 0
    fallback_frames: list[int] = field(default_factory=list)  # 0-based, written by bicubic
    fallback_reason: str = ""  # the first failure's "Type: message"
    decode_errors: int = 0  # lines ffmpeg's decoder reported (damaged data, concealed)
    notes: list[str] = field(default_factory=list)

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
    src = Path(src)
    ext = src.suffix.lower() if src.suffix.lower() in KEEP_CONTAINER else ".mp4"
    tag = f"x{scale}" if isinstance(scale, int) else scale
    return Path(out_dir) / f"{src.stem}_{tag}{ext}"


def ffmpeg_exe(src: str | os.PathLike = "video") -> str:
    """The ffmpeg binary of the ``imageio-ffmpeg`` wheel; a one-line VideoError without it."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise VideoError(f"{src}: video needs ffmpeg, which is not installed: {EXTRA_HINT}") from None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as e:  # the wheel without its binary (an unsupported platform)
        raise VideoError(f"{src}: no ffmpeg binary found ({_first_line(str(e))}); "
                         "set IMAGEIO_FFMPEG_EXE to an ffmpeg executable") from None


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def _ffmpeg_error(stderr: str) -> str:
    """The most telling line of ffmpeg's error output (its last lines repeat a summary)."""
    lines = [re.sub(r"^(\[[^\]]*\]\s*)?(Error opening input( files)?: )?", "", ln.strip())
             for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if re.search(r"Invalid data|No such file|Permission denied|moov atom not found|"
                     r"Invalid argument|not supported|Unknown|does not contain", ln):
            return ln
    return lines[-1] if lines else "ffmpeg failed"


def _check_header_size(path: Path, ffmpeg: str) -> None:
    """The frame size the container declares, against the image pixel limit, before any frame
    is decoded (ffmpeg alone, no output: it reads the header and stops); a file ffmpeg cannot
    read passes here and is reported by :func:`probe`."""
    proc = subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True, errors="replace")
    for line in re.findall(r"^\s*Stream #0:\d+\S*: Video: (.*)$", proc.stderr, flags=re.M):
        m = re.search(r", (\d+)x(\d+)", line)
        if m and "(attached pic)" not in line:
            check_pixels(path, int(m.group(1)), int(m.group(2)))


def probe(path: str | os.PathLike, ffmpeg: str | None = None) -> VideoInfo:
    """Streams, size, exact frame rate and duration of a video (one frame is decoded).

    Raises VideoError with one line for a file that is empty, not a video ffmpeg can read, or
    has no video stream; ImageError (one line) for a frame larger than images may be
    (:func:`srgan_keras.data.imaging.check_pixels`).
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    ffmpeg = ffmpeg or ffmpeg_exe(path)
    _check_header_size(path, ffmpeg)
    proc = subprocess.run(
        [ffmpeg, "-nostdin", "-hide_banner", "-i", str(path), "-map", "0:V:0?", "-vf", "showinfo",
         "-frames:v", "1", "-f", "null", "-"], capture_output=True, text=True, errors="replace")
    err = proc.stderr
    header = err.split("Stream mapping:")[0].split("Output #0")[0]
    streams = re.findall(r"^\s*Stream #0:\d+\S*: (\w+): (.*)$", header, flags=re.M)
    if not streams:
        raise VideoError(f"{path}: not a video ffmpeg can read ({_ffmpeg_error(err)})")
    video = [rest for kind, rest in streams if kind == "Video" and "(attached pic)" not in rest]
    audio = sum(kind == "Audio" for kind, _ in streams)
    if not video:
        kinds = ", ".join(sorted({kind.lower() for kind, _ in streams}))
        raise VideoError(f"{path}: no video stream (the file has {kinds} only)")
    m = re.search(r"frame_rate: (\d+)/(\d+)", err)
    fps = Fraction(int(m.group(1)), int(m.group(2))) if m and int(m.group(2)) else Fraction(0)
    if fps <= 0:  # no rate in the stream: the header's rounded "N fps" or "N tbr"
        m = re.search(r"([\d.]+) (?:fps|tbr)", video[0])
        fps = Fraction(m.group(1)).limit_denominator(1001) if m else Fraction(0)
    size = re.search(r" s:(\d+)x(\d+) ", err)
    if size is None or fps <= 0:
        raise VideoError(f"{path}: the video stream has no decodable frame ({_ffmpeg_error(err)})")
    # the frame size images are held to (Pillow's limit, --max-pixels), before any frame is
    # read into this process: a 16000x16000 frame would be 768 MB per frame, GBs once upscaled
    check_pixels(path, int(size.group(1)), int(size.group(2)))
    sar = re.search(r" sar:(\d+)/(\d+) ", err)
    sar_value = Fraction(int(sar.group(1)), int(sar.group(2))) if sar and int(sar.group(2)) \
        and int(sar.group(1)) else Fraction(1)
    d = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", header)
    duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3)) if d else None
    return VideoInfo(width=int(size.group(1)), height=int(size.group(2)), fps=fps, sar=sar_value,
                     duration=duration or None, audio=audio,
                     subtitles=sum(kind == "Subtitle" for kind, _ in streams))


def read_frames(path: str | os.PathLike, info: VideoInfo, ffmpeg: str,
                stats: VideoReport | None = None) -> Iterator[np.ndarray]:
    """Decoded frames as uint8 (H, W, 3) RGB, at the source's constant frame rate.

    ``-fps_mode cfr`` repeats a frame the decoder could not deliver, so the count and timing
    match the source (and its audio). Decoder complaints are counted into ``stats``.
    """
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:V:0", "-an", "-sn",
           "-fps_mode", "cfr", "-r", str(info.fps), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    nbytes = info.width * info.height * 3
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        n = 0
        try:
            while True:
                buf = proc.stdout.read(nbytes)
                if len(buf) < nbytes:
                    break
                n += 1
                yield np.frombuffer(buf, np.uint8).reshape(info.height, info.width, 3)
            rc = proc.wait()
        finally:
            if proc.poll() is None:  # the consumer stopped early or an exception came through
                proc.kill()
                proc.wait()
            proc.stdout.close()
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    if rc != 0 and n == 0:
        raise VideoError(f"{path}: decoding failed ({_ffmpeg_error(text)})")
    if stats is not None:
        stats.decode_errors += sum(1 for ln in text.splitlines() if ln.strip())
        if rc != 0:
            stats.notes.append(f"decoding stopped after {n} frames ({_ffmpeg_error(text)})")


class _Encoder:
    """An ffmpeg process encoding raw RGB frames from its stdin to a video-only file."""

    def __init__(self, ffmpeg: str, path: str, width: int, height: int, fps: Fraction, sar: Fraction,
                 crf: int):
        vf = f"scale=out_color_matrix={COLOR_MATRIX}:out_range=tv,format={PIX_FMT},setsar={sar}"
        if width % 2 or height % 2:  # 4:2:0 needs even sides: drop the odd last row/column
            vf = f"crop={width - width % 2}:{height - height % 2}:0:0," + vf
        cmd = [ffmpeg, "-nostdin", "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{width}x{height}", "-r", str(fps), "-i", "-", "-an", "-vf", vf,
               "-c:v", "libx264", "-preset", PRESET, "-crf", str(crf),
               "-colorspace", COLOR_MATRIX, "-color_range", "tv", "-f", "mp4", path]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=self.log)

    def write(self, frame: np.ndarray) -> None:
        try:
            self.proc.stdin.write(np.ascontiguousarray(frame, np.uint8).tobytes())
        except BrokenPipeError:
            self.proc.wait()
            raise RuntimeError(f"the encoder stopped ({self._error()})") from None

    def close(self) -> None:
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise RuntimeError(f"encoding failed ({self._error()})")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _error(self) -> str:
        self.log.seek(0)
        return _ffmpeg_error(self.log.read().decode("utf-8", "replace"))


def _mux(ffmpeg: str, video: str, src: Path, dst: str, info: VideoInfo, report: VideoReport,
         software: str | None = None) -> None:
    """Video stream of ``video`` + audio, subtitles and metadata of ``src`` -> ``dst``.

    Streams are copied; when the container refuses one, the next attempt drops the subtitles,
    then re-encodes the audio to AAC (192 kb/s, our choice), and the report says so.
    """
    fmt = {".mkv": "matroska", ".mov": "mov"}.get(Path(dst).suffix.lower(), "mp4")
    base = [ffmpeg, "-nostdin", "-y", "-v", "error", "-i", video, "-i", str(src),
            "-map", "0:v:0", "-map_metadata", "1", "-map_chapters", "1"]
    tail = ["-movflags", "+faststart"] if fmt != "matroska" else []
    if software:
        tail += ["-metadata", f"comment={software}"]
    attempts = [(["-map", "1:a?", "-map", "1:s?", "-c", "copy"], None)] if info.subtitles else []
    attempts += [(["-map", "1:a?", "-c", "copy"],
                  "subtitles dropped (the container cannot hold them)" if info.subtitles else None),
                 (["-map", "1:a?", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k"],
                  "audio re-encoded to AAC (the container cannot hold the source's codec)")]
    error = ""
    for args, note in attempts:
        proc = subprocess.run(base + args + tail + ["-f", fmt, dst], capture_output=True,
                              text=True, errors="replace")
        if proc.returncode == 0:
            if note:
                report.notes.append(note)
            return
        error = _ffmpeg_error(proc.stderr)
    raise RuntimeError(f"muxing failed ({error})")


def upscale_video(src: str | os.PathLike, dst: str | os.PathLike, model, *,
                  tiling: dict | None = None, size: tuple[int, int] | None = None,
                  crf: int = CRF, progress: bool = True,
                  software: str | None = SOFTWARE,
                  on_frame: Callable[[int, int | None], None] | None = None,
                  overwrite: bool = True) -> VideoReport:
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
            (:class:`srgan_keras.data.files.OutputExistsError`), one that appeared meanwhile too.
        software: written as the output's ``comment`` tag (the CLI's mark of its own outputs);
            None keeps the source's comment.

    Returns a :class:`VideoReport`. Raises :class:`VideoError` (one line) for a file that is not
    a readable video or has no video stream, or when ffmpeg is missing.
    """
    from srgan_keras.inference.runners import BicubicRunner, as_runner
    from srgan_keras.inference.tiling import upscale_image

    src, dst = Path(src), Path(dst)
    ffmpeg = ffmpeg_exe(src)
    info = probe(src, ffmpeg)
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
    encoder = _Encoder(ffmpeg, video_tmp, out_w, out_h, info.fps, info.sar, crf)
    frames = read_frames(src, info, ffmpeg, report)
    try:
        for i, frame in enumerate(frames):
            try:
                out = upscale_image(frame, runner, **kwargs)
            except Exception as e:  # this frame only: bicubic keeps the frame count and timing
                if not report.fallback_frames:
                    report.fallback_reason = f"{type(e).__name__}: {_first_line(str(e))}"
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
            atomic_write(dst, lambda tmp: _mux(ffmpeg, video_tmp, src, tmp, info, report, software),
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


def is_ours(path: str | os.PathLike, ffmpeg: str) -> bool:
    """True if ``path`` is a video this CLI wrote: its ``comment`` tag starts with SOFTWARE."""
    proc = subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True, errors="replace")
    header = proc.stderr.split("Stream #")[0]
    return re.search(rf"^\s*comment\s*: {re.escape(SOFTWARE)}", header, flags=re.M) is not None


def run_cli(videos: list[tuple[Path, Path]], args, runner, say, fail, stats: dict) -> None:
    """The upscale CLI's video inputs: ``(file, sub-folder)`` pairs, one line per file.

    Follows the CLI's rules for images: an existing output is kept unless ``--overwrite``, and
    even then only a video this CLI wrote (our ``comment`` tag) is replaced; an input is never
    an output. The tiling flags, ``--color-fix`` and the output size (``--outscale``,
    ``--width``/``--height``, rounded down to even sides) apply per frame; ``--format`` (an image
    format) is said not to apply.
    """
    from srgan_keras.inference.tiling import memory_refusal, output_size

    out_dir = Path(args.out_dir)
    inputs = {f.resolve() for f, _ in videos}
    planned: dict[Path, Path] = {}
    outscale = getattr(args, "outscale", None)
    box = getattr(args, "width", None), getattr(args, "height", None)
    tiling = {"tile": args.tile or None, "tile_overlap": args.tile_overlap, "pre_pad": args.pre_pad,
              "color_fix": bool(getattr(args, "color_fix", False))}
    for src, sub in videos:
        try:
            ffmpeg = ffmpeg_exe(src)
            info = probe(src, ffmpeg)
        except ImageError as e:  # VideoError, or a frame above the pixel limit
            fail(str(e))
            continue
        size, tag = None, runner.scale
        if outscale is not None or any(box):
            h, w = output_size(info.height, info.width, runner.scale, outscale, *box)
            h, w = int(h), int(w)
            size = max(2, h - h % 2), max(2, w - w % 2)  # 4:2:0 needs even sides
            tag = f"{size[1]}x{size[0]}" if any(box) else f"x{outscale:g}"
        too_big = memory_refusal(src, info.height, info.width, 3, 8, runner.scale,
                                 size or (info.height * runner.scale, info.width * runner.scale))
        if too_big:
            fail(too_big)
            continue
        dst = output_path(src, out_dir / sub, tag)
        key = dst.resolve()
        if key in inputs:
            fail(f"{src}: its output {dst} is an input file; choose another -o")
            continue
        if key in planned:
            fail(f"{src}: same output name {dst} as {planned[key]}; upscale it separately")
            continue
        planned[key] = src
        if dst.is_dir():
            fail(f"{src}: its output {dst} is a folder")
            continue
        if dst.exists() and not args.overwrite:
            say(f"skipped: {src}: {dst} exists (pass --overwrite to replace it)", skip=True)
            continue
        if dst.exists() and not is_ours(dst, ffmpeg):
            fail(f"{src}: {dst} exists and was not written by this command; not overwritten "
                 "(move it or choose another -o)")
            continue
        start = time.time()
        try:
            report = upscale_video(src, dst, runner, tiling=tiling, size=size,
                                   progress=not getattr(args, "quiet", False),
                                   software=f"{SOFTWARE} ({runner.name})",
                                   overwrite=dst.exists())  # only ours, checked above
        except ImageError as e:
            fail(str(e))
            continue
        except OutputExistsError:
            fail(f"{src}: {dst} appeared while this command ran and was not written by it; kept, "
                 "not overwritten (move it or choose another -o)")
            continue
        except Exception as e:  # one line per file, then the next; Ctrl-C still stops the run
            fail(f"{src}: {type(e).__name__}: {_first_line(str(e))}")
            continue
        if report.summary():
            say(f"warning: {dst}: {report.summary()}")
        if getattr(args, "format", None):
            say(f"note: {src}: --format {args.format} is an image format; the video is "
                f"{dst.suffix[1:]}")
        stats["done"] += 1
        out_h, out_w = size or (info.height * runner.scale, info.width * runner.scale)
        say(f"upscaled: {src} -> {dst} ({info.width}x{info.height} -> {out_w}x{out_h}, "
            f"{report.frames} frames, {time.time() - start:.1f} s)", out=sys.stdout)
