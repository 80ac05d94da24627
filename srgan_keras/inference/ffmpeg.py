"""ffmpeg, driven through pipes: what a video holds, its frames as arrays, and frames back to a video.

The binary comes from the ``imageio-ffmpeg`` wheel (the ``[video]`` extra; ``IMAGEIO_FFMPEG_EXE``
picks another one). :mod:`.video` upscales with it in three steps:

1. **probe** (:func:`probe`): one frame through ffmpeg's ``showinfo`` filter gives the exact frame
   rate as a rational (``30000/1001``, not the rounded ``29.97`` of the header), the frame size
   after the display-matrix rotation that ffmpeg applies when decoding, the sample aspect ratio
   and the list of streams (attached cover pictures are not a video stream); the size the
   container declares is held to the image pixel limit before any frame is decoded;
2. **decode** (:func:`read_frames`) and **encode** (:class:`Encoder`): raw RGB frames stream from
   one ffmpeg process and into another that encodes H.264 (x264 CRF 18, ``yuv420p``, BT.709
   matrix; our choices, see the constants). Decoding is forced to the source's constant rate, so
   a frame the decoder drops is repeated and the audio stays in sync;
3. **mux** (:func:`mux`): the encoded video plus the source's audio (copied; re-encoded to AAC
   only when the container refuses the codec), subtitles where the container takes them, and its
   metadata.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from srgan_keras.data.imaging import ImageError, check_pixels
from srgan_keras.data.metadata import SOFTWARE
from srgan_keras.errors import first_line

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
class DecodeLog:
    """What went wrong while frames were decoded and muxed, but was worked around."""

    decode_errors: int = 0  # lines ffmpeg's decoder reported (damaged data, concealed)
    notes: list[str] = field(default_factory=list)


def ffmpeg_exe(src: str | os.PathLike = "video") -> str:
    """The ffmpeg binary of the ``imageio-ffmpeg`` wheel; a one-line VideoError without it."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise VideoError(f"{src}: video needs ffmpeg, which is not installed: {EXTRA_HINT}") from None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as e:  # the wheel without its binary (an unsupported platform)
        raise VideoError(f"{src}: no ffmpeg binary found ({first_line(e)}); "
                         "set IMAGEIO_FFMPEG_EXE to an ffmpeg executable") from None


def ffmpeg_error(stderr: str) -> str:
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
        raise VideoError(f"{path}: not a video ffmpeg can read ({ffmpeg_error(err)})")
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
        raise VideoError(f"{path}: the video stream has no decodable frame ({ffmpeg_error(err)})")
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
                stats: DecodeLog | None = None) -> Iterator[np.ndarray]:
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
        raise VideoError(f"{path}: decoding failed ({ffmpeg_error(text)})")
    if stats is not None:
        stats.decode_errors += sum(1 for ln in text.splitlines() if ln.strip())
        if rc != 0:
            stats.notes.append(f"decoding stopped after {n} frames ({ffmpeg_error(text)})")


class Encoder:
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
        return ffmpeg_error(self.log.read().decode("utf-8", "replace"))


def mux(ffmpeg: str, video: str, src: Path, dst: str, info: VideoInfo, notes: list[str],
         software: str | None = None) -> None:
    """Video stream of ``video`` + audio, subtitles and metadata of ``src`` -> ``dst``.

    Streams are copied; when the container refuses one, the next attempt drops the subtitles,
    then re-encodes the audio to AAC (192 kb/s, our choice), and ``notes`` says so.
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
                notes.append(note)
            return
        error = ffmpeg_error(proc.stderr)
    raise RuntimeError(f"muxing failed ({error})")


def is_ours(path: str | os.PathLike, ffmpeg: str) -> bool:
    """True if ``path`` is a video this CLI wrote: its ``comment`` tag starts with SOFTWARE."""
    proc = subprocess.run([ffmpeg, "-nostdin", "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True, errors="replace")
    header = proc.stderr.split("Stream #")[0]
    return re.search(rf"^\s*comment\s*: {re.escape(SOFTWARE)}", header, flags=re.M) is not None


