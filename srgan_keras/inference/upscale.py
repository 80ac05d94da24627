"""Command line: upscale any image files with a trained generator (SRGAN's use, §1).

    python -m srgan_keras.upscale INPUT... | --example [-o OUT_DIR] [--model PATH] [--outscale F |
        --width W --height H] [--color-fix] [--format png|jpg|webp] [--quality Q]
        [--tile N] [--overwrite] [--denoise-strength auto|S] [--runtime auto|keras|litert]
        [-q | --verbose]

INPUT is files, folders (searched recursively) or globs. Every output is ``<stem>_x<s>.<ext>``
in OUT_DIR (default ``./upscaled``; a folder input keeps its sub-folders); ``<s>`` is the
network's scale, ``--outscale`` (``cat_x2.5.png``) or the ``--width``/``--height`` box
(``cat_800x600.png``). Files are read by :func:`srgan_keras.data.imaging.load_image` (gray, RGBA/LA,
palette, 16-bit, CMYK, EXIF rotation, GIF: first frame) and upscaled by
:func:`srgan_keras.inference.tiling.upscale_image` (automatic tiles, Lanczos to the final size, optional
colour fix); ICC profile, EXIF, PNG text and DPI are carried over (:mod:`srgan_keras.data.metadata`).

Safety (issues 16.8 and 17): every file is checked from its header before anything is computed
(decompression bomb, an output too large for memory or for WebP/JPEG, an unusable output
folder); a bad input is reported on one line and the others are still processed; the exit
status is 1 if any failed, 130 on Ctrl-C. Outputs are written by
:func:`srgan_keras.data.files.atomic_write` to a temporary ``.<name>.srgan-tmp-<pid>-XXXXXXXX.<ext>``
file, locked while written, and renamed; such files left by a killed run are never taken as
inputs and are removed by the next run into that folder. An existing output is kept unless
``--overwrite``, and even then only files this CLI wrote (marked in their metadata) are
replaced; an input is never overwritten. The rename of a new output does not clobber: a file
that appears at that path while the command runs is kept, and that input fails (issue 27.6).

With ``--outscale 2`` and no ``--model``, a bundled x2 twin of the default model
(``<name>_x2.keras`` beside ``<name>_x4.keras`` in ``saved_models/``) is used when one exists,
so x2 is not x4 then halved; any x2 generator can be given with ``--model``.

A video file named as an INPUT (``clip.mp4``) is handed to :mod:`srgan_keras.inference.video`
(every frame upscaled; the source's frame rate, audio and subtitles kept).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import io
import math
import os
import re
import struct
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from srgan_keras.data.files import TEMP_NAME as OUR_TEMP_NAME
from srgan_keras.data.files import OutputExistsError, atomic_write, clean_stale_temps, is_temp
from srgan_keras.data.imaging import (
    IMAGE_EXTENSIONS,
    ImageError,
    LoadedImage,
    list_images,
    load_image,
)
from srgan_keras.data.metadata import (
    SOFTWARE,
    OutputMetadata,
    Probe,
    metadata_for,
    png_chunk,
    png_chunks,
    probe,
)
from srgan_keras.data.metadata import is_ours as written_by_us
from srgan_keras.data.ranges import PIXEL_MAX_16, pixels_to_unit, uint16_to_uint8
from srgan_keras.inference import video
from srgan_keras.inference.litert import RUNTIMES
from srgan_keras.inference.precision import PRECISIONS
from srgan_keras.inference.tiling import (
    DEFAULT_OVERLAP,
    DEFAULT_PRE_PAD,
    auto_tile,
    bytes_per_pixel,
    memory_refusal,
    output_size,
    tile_grid,
    upscale_image,
)
from srgan_keras.samples import EXAMPLE, example_photo
from srgan_keras.startup import add_verbose_flag, filtered_stderr, import_tensorflow

FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}
INPUT_EXTENSIONS = (*IMAGE_EXTENSIONS, ".gif")  # GIF: the first frame (a note if animated)
# Our choice: visually lossless by default (Pillow's own default is 75). JPEG at >= 90 is
# written with 4:4:4 chroma (no subsampling), below with Pillow's 4:2:0.
DEFAULT_QUALITY = 95
MAX_SIDE = {"WEBP": 16383, "JPEG": 65500}  # libwebp's and libjpeg's largest side in pixels
# A JPEG marker segment holds at most 65533 bytes after its length: Pillow refuses longer EXIF
JPEG_MAX_EXIF = 65533
# Our choice: --tile below 32 LR pixels is refused: with the default 10 px of context on each
# side, a tile of 32 already computes 2.6 times its own pixels; --tile 1 ran for minutes.
MIN_TILE_FLAG = 32
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Our outputs' stems end like this. Our temporary files are named by srgan_keras.data.files
# (".<name>.srgan-tmp-<pid>-<8 chars>.<ext>"); earlier versions named them ".<stem>.<8 chars>.<ext>"
# (tempfile.mkstemp's random part: lowercase letters, digits and "_"), still recognised here.
OUTPUT_STEM = re.compile(r"_(x\d+(\.\d+)?|\d+x\d+|w\d+|h\d+)$")
TEMP_NAME = re.compile(r"^\.(?P<stem>.+)\.[a-z0-9_]{8}\.[A-Za-z0-9]+$")


def read_input(path: Path) -> LoadedImage:
    """``load_image``, plus full 16-bit precision for 16-bit RGB(A) PNGs.

    Pillow decodes 16-bit *colour* PNGs to 8 bits (16-bit gray it keeps), so those are decoded
    again by ``tf.io.decode_png`` after ``load_image`` has validated the file.
    """
    img = load_image(path)
    if img.gray or img.bits == 16:
        return img
    with open(path, "rb") as f:
        head = f.read(26)
    # IHDR: signature(8) length(4) "IHDR"(4) width(4) height(4) bit depth(1) colour type(1)
    if not (head[:8] == PNG_SIGNATURE and head[24] == 16 and head[25] in (2, 6)):
        return img
    with Image.open(path) as im:
        if im.getexif().get(0x0112, 1) != 1:  # EXIF-rotated 16-bit PNG: keep Pillow's 8 bits
            return img
    tf = import_tensorflow()  # quietly, if the model did not need it (a LiteRT run)
    arr = pixels_to_unit(tf.io.decode_png(Path(path).read_bytes(), dtype=tf.uint16).numpy(), PIXEL_MAX_16)
    alpha = arr[..., 3] if arr.shape[2] == 4 else None
    return LoadedImage(np.ascontiguousarray(arr[..., :3], dtype=np.float32), alpha, False, 16)


def write_png_streaming(f, arr: np.ndarray, rows_per_chunk: int = 64, extra: bytes = b"") -> None:
    """Write uint8/uint16 (H, W[, C]) as PNG a few rows at a time: no full-size copy in memory.

    Pillow's ``fromarray`` would copy an 8000x6000 RGB output into 4 bytes per pixel (183 MiB)
    before encoding; this streams rows through ``zlib`` instead, which keeps the upscale peak
    within the bound of issue 3. ``extra`` is ready-made chunks written before the pixels
    (:func:`srgan_keras.data.metadata.png_chunks`). Every row uses the PNG "Sub" filter (type 1:
    each byte minus the byte one pixel to its left), our choice: cheap to vectorise and good on
    photographs.
    """
    arr = arr if arr.ndim == 3 else arr[..., None]
    h, w, c = arr.shape
    depth = 16 if arr.dtype == np.uint16 else 8
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]  # gray, gray+alpha, RGB, RGBA
    bpp = c * depth // 8  # bytes per pixel
    f.write(PNG_SIGNATURE)
    f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)))
    f.write(extra)
    z = zlib.compressobj(6)
    big_endian = np.dtype(">u2") if depth == 16 else np.dtype(np.uint8)
    for y in range(0, h, rows_per_chunk):
        raw = arr[y:y + rows_per_chunk].astype(big_endian).view(np.uint8).reshape(-1, w * bpp)
        rows = np.empty((raw.shape[0], 1 + w * bpp), np.uint8)
        rows[:, 0] = 1  # filter type Sub
        rows[:, 1:1 + bpp] = raw[:, :bpp]
        np.subtract(raw[:, bpp:], raw[:, :-bpp], out=rows[:, 1 + bpp:])  # wraps mod 256
        data = z.compress(rows.tobytes())
        if data:
            f.write(png_chunk(b"IDAT", data))
    f.write(png_chunk(b"IDAT", z.flush()))
    f.write(png_chunk(b"IEND", b""))


def _write_locked(path: Path, write_fn, overwrite: bool = True) -> None:
    """:func:`srgan_keras.data.files.atomic_write`, with the temporary file ``flock``-ed from just
    after its creation until after the rename, so a later run can tell a live write from a killed
    run's leftover (also for the unnamed-pid temporaries of earlier versions)."""
    held: list[int] = []

    def lock(tmp: str) -> None:
        fd = os.open(tmp, os.O_RDWR)
        held.append(fd)
        fcntl.flock(fd, fcntl.LOCK_EX)

    try:
        atomic_write(path, write_fn, overwrite=overwrite, on_temp=lock)
    finally:
        for fd in held:
            os.close(fd)


def write_output(path: Path, out: np.ndarray, fmt: str, meta: OutputMetadata | None = None,
                 quality: int = DEFAULT_QUALITY, overwrite: bool = True) -> str | None:
    """Write an upscaled array atomically with its metadata; returns a note when something had
    to be dropped (16 bits or alpha in JPEG, metadata the format cannot hold).

    ``overwrite=False``: a file that exists at ``path`` when the write ends is kept
    (:class:`srgan_keras.data.files.OutputExistsError`), even one that appeared during the run.
    """
    fmt = FORMATS[fmt]
    meta = meta or OutputMetadata()
    notes = list(meta.notes)
    if fmt == "PNG":  # any layout, 8 or 16 bits
        extra = png_chunks(meta)

        def save_png(tmp: str) -> None:
            with open(tmp, "wb") as f:
                write_png_streaming(f, out, extra=extra)

        _write_locked(path, save_png, overwrite)
        return "; ".join(notes) or None
    if out.dtype == np.uint16:
        out = uint16_to_uint8(out)
        notes.append(f"{fmt} has no 16-bit samples: written with 8")
    if fmt == "JPEG" and out.ndim == 3 and out.shape[2] in (2, 4):
        out = out[..., :-1] if out.shape[2] == 4 else out[..., 0]
        notes.append("JPEG has no alpha channel: alpha dropped")
    if out.ndim == 3 and out.shape[2] == 1:
        out = out[..., 0]
    image = Image.fromarray(out)  # L, LA, RGB or RGBA from the shape
    options: dict = {"quality": int(quality)}
    if meta.icc:
        options["icc_profile"] = meta.icc
    if meta.exif and fmt == "JPEG" and len(meta.exif) > JPEG_MAX_EXIF:
        notes.append(f"EXIF dropped: its {len(meta.exif):,} bytes do not fit a JPEG's "
                     f"{JPEG_MAX_EXIF:,}-byte segment")
    elif meta.exif:
        options["exif"] = meta.exif
    if fmt == "JPEG":
        options["subsampling"] = 0 if quality >= 90 else 2  # 4:4:4, or Pillow's 4:2:0
        if meta.dpi:
            options["dpi"] = tuple(round(d) for d in meta.dpi)
    if fmt == "WEBP" and quality >= 100:
        options["lossless"] = True  # our choice: --quality 100 in WebP means lossless
    _write_locked(path, lambda tmp: image.save(tmp, format=fmt, **options), overwrite)
    return "; ".join(notes) or None


def output_format(src: Path, requested: str | None) -> str:
    """``--format``, or the input's own format when it is one we write, else PNG."""
    if requested:
        return requested
    ext = src.suffix.lower().lstrip(".")
    return ext if ext in FORMATS else "png"


def broken_link(path: Path) -> str | None:
    """Why ``path`` is a symlink that leads nowhere, or None if it is not one."""
    if not path.is_symlink():
        return None
    try:
        os.stat(path)
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop (it points back to itself)"
        return f"dangling symlink (its target {os.readlink(path)} does not exist)"


def is_partial_output(path: Path) -> bool:
    """A temporary file of ours for an output (``.<stem>_x4...``): a killed run leaves them."""
    m = OUR_TEMP_NAME.match(path.name)
    if m:
        return OUTPUT_STEM.search(Path(m.group("name")).stem) is not None
    m = TEMP_NAME.match(path.name)
    return bool(m and OUTPUT_STEM.search(m.group("stem")))


def clean_partial_outputs(folder: Path, min_age: float = 5.0) -> list[Path]:
    """Remove our temporary files in ``folder`` that no live process is writing.

    Every temporary of :mod:`srgan_keras.data.files` whose process is gone
    (:func:`~srgan_keras.data.files.clean_stale_temps`), then the older unnamed-pid ones of
    earlier versions: a writer holds an ``flock`` on its temporary file until the rename
    (:func:`_write_locked`), so one we can lock belongs to a run that was killed; those younger
    than ``min_age`` seconds are left for the next run (our choice: the instant between creating
    and locking).
    """
    removed = clean_stale_temps(folder)
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    now = time.time()
    for f in entries:
        if not (is_partial_output(f) and not is_temp(f) and f.is_file() and not f.is_symlink()):
            continue
        try:
            if now - f.stat().st_mtime < min_age:
                continue
            fd = os.open(f, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live writer holds it
        else:
            f.unlink(missing_ok=True)
            removed.append(f)
        finally:
            os.close(fd)
    return removed


def collect_inputs(inputs: list[str], out_dir: Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(file, sub-folder for its output) pairs, and one error line per problem found.

    In folders: image files (GIF included); broken symlinks are reported; our own temporary
    files are never inputs; earlier outputs (``*_x<digits>`` files under OUT_DIR that carry our
    mark) are left out, so running twice does not upscale the first run's results; a user's
    file merely named like an output is an input like any other. Files named explicitly are
    always kept.
    """
    out_root = out_dir.resolve()

    def earlier_output(f: Path) -> bool:
        return (out_root in f.resolve().parents and OUTPUT_STEM.search(f.stem) is not None
                and written_by_us(f))

    found: list[tuple[Path, Path]] = []
    errors: list[str] = []
    seen: set[Path] = set()  # a file named twice (folder and glob) is upscaled once

    def add(f: Path, sub: Path) -> None:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            found.append((f, sub))

    for arg in inputs:
        p = Path(arg)
        why = broken_link(p)
        if why:
            errors.append(f"{arg}: {why}")
        elif p.is_dir():
            n = len(found)
            for f in sorted(p.rglob("*")):
                why = broken_link(f)
                if why:
                    errors.append(f"{f}: {why}")
                elif (f.is_file() and f.suffix.lower() in INPUT_EXTENSIONS
                      and not is_partial_output(f) and not is_temp(f)
                      and not earlier_output(f)):
                    add(f, f.parent.relative_to(p))
            if len(found) == n and not any(e.startswith(f"{p}{os.sep}") for e in errors):
                errors.append(f"{arg}: no image files found in this folder")
        elif p.is_file():
            add(p, Path())
        else:
            found_files = [f for f in list_images(arg)
                           if not (is_partial_output(f) or is_temp(f))]
            if not found_files:
                errors.append(f"{arg}: no such file or folder" if not any(c in arg for c in "*?[")
                              else f"{arg}: no files match")
            for f in found_files:
                add(f, Path())
    return found, errors


def check_out_dir(out_dir: Path) -> str | None:
    """Why OUT_DIR cannot receive files (a file, read-only, under a file), or None if it can."""
    if out_dir.exists() and not out_dir.is_dir():
        return f"{out_dir}: the output folder is a file; choose another -o"
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{out_dir}: cannot be created, {existing} is a file; choose another -o"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{out_dir}: the output folder is read-only; choose another -o"
    try:
        import tempfile

        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        return f"{out_dir}: cannot write in {existing} ({e.strerror or e}); choose another -o"
    return None


def parse_tile(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or a number of pixels, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return n


def tile_flag_error(tile: int | str | None) -> str | None:
    """The one line refusing a ``--tile`` below MIN_TILE_FLAG (the CLI and the web page), or None."""
    if isinstance(tile, int) and 0 < tile < MIN_TILE_FLAG:
        return (f"--tile {tile}: a tile must be at least {MIN_TILE_FLAG} LR pixels (smaller ones "
                "compute mostly overlap and take minutes); use auto, 0 for the whole image, or "
                f"{MIN_TILE_FLAG} and up")
    return None


def parse_strength(value: str) -> float | str:
    """``--denoise-strength``: ``auto`` or a number in [0, 1] (range checked at load time)."""
    if value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or a number from 0 to 1, got {value!r}"
                                         ) from None


def _help_epilog() -> str:
    """The part of ``--help`` that a flag's line cannot hold: output names, model kinds, videos."""
    videos = " ".join(sorted(e.lstrip(".") for e in video.VIDEO_EXTENSIONS))
    kept = ", ".join(sorted(video.KEEP_CONTAINER))
    sample = Path(EXAMPLE).stem
    return f"""\
outputs:
  OUT_DIR/<name>_x4.<ext>      an image, in its own format unless --format (a folder input
                               keeps its sub-folders); <name>_x2.5.<ext> with --outscale 2.5,
                               <name>_1920x1080.<ext> with --width 1920 --height 1080
  OUT_DIR/<name>_x4.mp4        a video ({kept} keep their container)
  existing outputs are kept unless --overwrite

models (--model):
  realesr                      bundled, the default: Real-ESRGAN's compact network trained on
                               blur, noise and JPEG; --denoise-strength auto (the default)
                               blends it with its weak-denoise twin per photo, from the
                               photo's noise and JPEG quality; 0..1 sets the blend by hand.
                               It runs on LiteRT from its bundled TFLite exports, without
                               loading TensorFlow (--runtime; --verbose says which ran)
  srresnet, srgan              bundled: the paper's models, for clean (bicubic-downscaled) inputs
  bicubic                      no network: the baseline
  RealESRGAN_x4plus, ...       Real-ESRGAN's and ESRGAN's published weights, downloaded into
                               ~/.cache/srgan_keras on first use (SRGAN_KERAS_HOME moves it),
                               checked and converted once (--list-models: names, licences)
  FILE.keras                   a trained generator (a training run's generator.keras)
  FOLDER                       an exported SavedModel (python -m srgan_keras.export)
  FILE.tflite, FILE.onnx       exported models (.onnx needs pip install -e .[onnx])
  FILE.pth                     not run directly: python -m srgan_keras.convert FILE.pth -o FILE.keras

videos:
  a file named as an INPUT (folders are searched for images only), one of
  {videos}
  every frame is upscaled; audio and subtitles are kept; needs pip install -e .[video]

examples:
  python -m srgan_keras.upscale --example -o upscaled/      -> upscaled/{sample}_x4.jpg (the sample)
  python -m srgan_keras.upscale photo.jpg                   -> upscaled/photo_x4.jpg
  python -m srgan_keras.upscale scans/ "raw/*.png" -o out/ --model srresnet
  python -m srgan_keras.upscale clip.mp4 -o out/            -> out/clip_x4.mp4
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from srgan_keras.inference.zoo import add_list_models_flag

    ap = argparse.ArgumentParser(
        prog="python -m srgan_keras.upscale",
        description="Upscale photos, folders, globs and videos x4 (by default with realesr,\n"
                    "the bundled real-world model).",
        epilog=_help_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="*", metavar="INPUT",
                    help="image files (" + " ".join(e.lstrip(".") for e in INPUT_EXTENSIONS)
                         + "; GIF: its first frame), folders (searched recursively for images), "
                           "globs in quotes (\"raw/*.png\") or video files (see below)")
    ap.add_argument("--example", action="store_true",
                    help=f"also upscale the bundled sample photo ({EXAMPLE}: a 180x120 JPEG of "
                         "quality 30, shipped in the package), so a first run needs no photo: "
                         "python -m srgan_keras.upscale --example -o upscaled/")
    ap.add_argument("-o", "--out-dir", default="upscaled",
                    help="output folder (./upscaled); outputs are named <name>_x4.<ext> (see below)")
    ap.add_argument("--model", default=None,
                    help="realesr (the default: the bundled real-world model, for phone photos and "
                         "web JPEGs), srresnet or srgan (the paper's bundled models, for clean "
                         "inputs), bicubic, a zoo name (RealESRGAN_x4plus, ...: downloaded on "
                         "first use, see --list-models), a .keras file, a SavedModel folder, a "
                         ".tflite or .onnx file (see below)")
    add_list_models_flag(ap)
    size = ap.add_argument_group("output size (default: the model's scale)")
    size.add_argument("--outscale", type=float, default=None,
                      help="final scale, e.g. 2.5: the network's output resized by Lanczos")
    size.add_argument("--width", type=int, default=None, help="fit inside this width")
    size.add_argument("--height", type=int, default=None, help="fit inside this height")
    ap.add_argument("--color-fix", action="store_true",
                    help="keep the input's low-frequency colour (wavelet colour fix)")
    ap.add_argument("--format", choices=("png", "jpg", "webp"), default=None,
                    help="output format (default: the input's, or png)")
    ap.add_argument("--quality", type=int, default=DEFAULT_QUALITY,
                    help=f"JPEG/WebP quality 1-100 (default {DEFAULT_QUALITY}, visually "
                         "lossless; JPEG >= 90 keeps full chroma; WebP 100 = lossless)")
    ap.add_argument("--tile", type=parse_tile, default="auto",
                    help=f"LR tile side in pixels, at least {MIN_TILE_FLAG}; 0 = whole image "
                         "(default auto: from the image size and the memory available)")
    ap.add_argument("--tile-overlap", type=int, default=DEFAULT_OVERLAP,
                    help=f"context pixels around each tile (default {DEFAULT_OVERLAP})")
    ap.add_argument("--pre-pad", type=int, default=DEFAULT_PRE_PAD,
                    help=f"reflection padding at the borders (default {DEFAULT_PRE_PAD})")
    ap.add_argument("--scale", type=int, default=4, help="scale of --model bicubic only")
    ap.add_argument("--overwrite", action="store_true",
                    help="replace existing outputs (only files this command wrote)")
    ap.add_argument("--denoise-strength", type=parse_strength, default="auto", metavar="S",
                    help="auto or 0..1, as Real-ESRGAN's -dn: blend the model's weights with its "
                         "weak-denoise twin (NAME_wdn.keras beside NAME.keras), "
                         "S * model + (1 - S) * twin, 1 = the model as trained. auto (the "
                         "default) chooses S per image from its noise and JPEG quality and "
                         "prints it; it is ignored for a model without a twin")
    ap.add_argument("--precision", choices=PRECISIONS, default="auto",
                    help="arithmetic of a .keras model's trunk (default auto: bfloat16 where the "
                         "CPU computes it natively, about 1.5x faster, as Real-ESRGAN runs half "
                         "precision unless --fp32; float32 otherwise and for exported models)")
    ap.add_argument("--runtime", choices=RUNTIMES, default="auto",
                    help="what runs the network. auto (the default): a bundled model's TFLite "
                         "twin on LiteRT, without loading TensorFlow, where its export report "
                         "shows it matches the .keras model and ran faster; otherwise Keras. "
                         "keras: the .keras file through TensorFlow. litert: the twin, or an "
                         "error. --verbose says which ran")
    ap.add_argument("--wdn-model", default=None, metavar="PATH",
                    help="the weak-denoise twin for --denoise-strength, if not beside the model")
    ap.add_argument("--max-pixels", type=int, default=None,
                    help="refuse inputs with more pixels (decompression-bomb guard; 0 = no "
                         f"limit; default Pillow's {Image.MAX_IMAGE_PIXELS})")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="no progress bar and no per-file lines (failures and the summary stay)")
    add_verbose_flag(ap)
    args = ap.parse_args(argv)
    if (why := tile_flag_error(args.tile)) is not None:
        ap.exit(2, f"error: {why}\n")
    if args.example:
        args.inputs.append(str(example_photo()))
    if not args.inputs:
        ap.error("give an INPUT (a photo, folder, glob or video), or --example for the bundled "
                 "sample photo")
    if args.tile_overlap < 0 or args.pre_pad < 0:
        ap.error("--tile-overlap and --pre-pad must be >= 0")
    if args.outscale is not None and not (args.outscale > 0 and math.isfinite(args.outscale)):
        ap.error("--outscale must be a positive number")
    if (args.width is not None and args.width < 1) or (args.height is not None and args.height < 1):
        ap.error("--width and --height must be positive")
    if args.outscale is not None and (args.width or args.height):
        ap.error("give either --outscale or --width/--height, not both")
    if not 1 <= args.quality <= 100:
        ap.error("--quality must be between 1 and 100")
    if args.max_pixels is not None and args.max_pixels < 0:
        ap.error("--max-pixels must be >= 0 (0 = no limit)")
    return args


def needs_tensorflow(argv: list[str]) -> bool:
    """Whether this command line will need TensorFlow (``run_cli`` then imports it at start-up,
    quietly and under its Ctrl-C guard): not for a model run on LiteRT (issue 29.1). A command
    line that fails to parse or names a missing model answers False: ``main`` reports the error,
    without it. (A 16-bit colour PNG imports it when read, :func:`read_input`.)"""
    from srgan_keras.inference.litert import choose_runtime

    try:
        with contextlib.redirect_stderr(io.StringIO()):  # a usage error is main()'s to print
            args = parse_args(argv)
        choice = choose_runtime(choose_model(args), args.runtime, args.denoise_strength,
                                args.wdn_model, args.precision)
    except (SystemExit, Exception):  # noqa: BLE001 -- main() parses again and says what is wrong
        return False
    return choice.runtime == "keras"


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


def choose_model(args: argparse.Namespace) -> str | None:
    """``--model``, or for ``--outscale <= 2`` a bundled x2 twin of the default model if any."""
    if args.model is not None or args.outscale is None or args.outscale > 2:
        return args.model
    from srgan_keras.inference.runners import ModelNotFoundError, resolve_model_path

    try:
        default = resolve_model_path(None)
    except ModelNotFoundError:
        return None
    twin = default.with_name(default.name.replace("_x4", "_x2"))
    return str(twin) if twin != default and twin.exists() else None


@dataclass
class Job:
    """One planned upscale: what is read, what is written, how large."""

    src: Path
    dst: Path
    fmt: str
    probe: Probe
    size: tuple[int, int]  # final (height, width)
    replace: bool = False  # dst is an earlier output of ours and --overwrite was given


def sample_layout(p: Probe) -> tuple[int, int]:
    """(channels, bits) the decoded image will have, from the header (an upper bound)."""
    alpha = p.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (p.mode == "P" and p.format != "JPEG")
    gray = p.mode in ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F")
    bits = 16 if p.mode.startswith("I") or p.mode == "F" else 8
    if p.format == "PNG" and bits == 8:
        with open(p.path, "rb") as f:
            head = f.read(26)
        bits = 16 if len(head) > 24 and head[24] == 16 else 8
    return (1 + alpha) if gray else (3 + alpha), bits


def plan(args: argparse.Namespace, files: list[tuple[Path, Path]], scale: int, say, fail
         ) -> list[Job]:
    """Check every file from its header and name its output; refusals go to ``fail``."""
    out_dir = Path(args.out_dir)
    inputs = {f.resolve() for f, _ in files}
    planned: dict[Path, Path] = {}
    jobs = []
    for src, sub in files:
        try:
            p = probe(src)
        except ImageError as e:
            fail(str(e))
            continue
        fmt = output_format(src, args.format)
        size = output_size(p.height, p.width, scale, args.outscale, args.width, args.height)
        if args.width or args.height:
            tag = f"{size[1]}x{size[0]}"
        else:
            tag = f"x{scale if args.outscale is None else format(args.outscale, 'g')}"
        dst = out_dir / sub / f"{src.stem}_{tag}.{fmt}"
        key = dst.resolve()
        limit = MAX_SIDE.get(FORMATS[fmt])
        channels, bits = sample_layout(p)
        too_big = memory_refusal(src, p.height, p.width, channels, bits, scale, size)
        if key in inputs:
            fail(f"{src}: its output {dst} is an input file; choose another -o")
        elif key in planned:
            fail(f"{src}: same output name {dst} as {planned[key]}; upscale it separately")
        elif limit and max(size) > limit:
            fail(f"{src}: a {size[1]}x{size[0]} output is larger than {FORMATS[fmt]} allows "
                 f"({limit} px per side); use --format png or a smaller --outscale")
        elif too_big:
            fail(too_big)
        elif dst.is_dir():
            fail(f"{src}: its output {dst} is a folder")
        elif dst.exists() and not args.overwrite:
            planned[key] = src
            say(f"skipped: {src}: {dst} exists (pass --overwrite to replace it)", skip=True)
        elif dst.exists() and not written_by_us(dst):
            fail(f"{src}: {dst} exists and was not written by this command; not overwritten "
                 "(move it or choose another -o)")
        else:
            planned[key] = src
            if p.frames > 1:  # GIF, APNG, animated WebP; a multi-page TIFF
                kind = "multi-page TIFF" if p.format == "TIFF" else f"animated {p.format}"
                unit = "pages" if p.format == "TIFF" else "frames"
                say(f"note: {src}: {kind} ({p.frames} {unit}): only the first is upscaled")
            jobs.append(Job(src, dst, fmt, p, size, replace=dst.exists()))
    return jobs


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
    from srgan_keras.inference.runners import ModelNotFoundError, load_generator

    problem = check_out_dir(Path(args.out_dir))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        with filtered_stderr(args.verbose):  # a TFLite interpreter announces its XNNPACK delegate
            runner = load_generator(choose_model(args), scale=args.scale,
                                    denoise_strength=args.denoise_strength, wdn=args.wdn_model,
                                    precision=args.precision, runtime=args.runtime)
    except (ModelNotFoundError, ValueError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
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
    """Plan, then upscale every input; one line per file and per failure; the summary."""
    from tqdm import tqdm

    counts = {"failed": 0, "skipped": 0}

    def say(msg: str, skip: bool = False, out=None) -> None:
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
    videos = [(f, sub) for f, sub in files if video.is_video(f)]  # srgan_keras.inference.video
    jobs = plan(args, [(f, sub) for f, sub in files if not video.is_video(f)], runner.scale, say, fail)
    for folder in sorted({j.dst.parent for j in jobs}):
        for f in clean_partial_outputs(folder):
            say(f"removed: {f} (a partial output left by an interrupted run)")
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
            chosen, estimate = runner, None
            try:
                image = read_input(job.src)
                if hasattr(runner, "for_image"):  # --denoise-strength auto: this photo's blend
                    chosen, estimate = runner.for_image(image, job.src)
                    if args.verbose:
                        say(f"note: {job.src}: {describe_estimate(estimate)}")
                out = upscale_image(
                    image, chosen, tile=args.tile or None, tile_overlap=args.tile_overlap,
                    pre_pad=args.pre_pad, size=job.size, color_fix=args.color_fix,
                    progress=lambda done, _, o=offset: bar.update(o + done - bar.n),
                    on_note=lambda msg, s=job.src: say(f"note: {s}: {msg}"))
                gray = image.gray
                del image
                meta = metadata_for(job.probe, job.size[1], job.size[0], gray, FORMATS[job.fmt],
                                    f"{SOFTWARE} ({model_label(chosen)})")
                note = write_output(job.dst, out, job.fmt, meta, args.quality,
                                    overwrite=job.replace)
                del out
            except ImageError as e:
                fail(str(e))
                continue
            except OutputExistsError:
                fail(f"{job.src}: {job.dst} appeared while this command ran and was not written "
                     "by it; kept, not overwritten (move it or choose another -o)")
                continue
            except Exception as e:  # one line per file, then the next; Ctrl-C still stops the run
                first = (str(e).strip().splitlines() or [""])[0]
                fail(f"{job.src}: {type(e).__name__}: {first}")
                continue
            finally:
                offset += job.probe.width * job.probe.height
                bar.update(offset - bar.n)
            if note:
                say(f"note: {job.dst}: {note}")
            stats["done"] += 1
            dn = "" if estimate is None else f", {estimate.describe()}"
            say(f"upscaled: {job.src} -> {job.dst} ({job.probe.width}x{job.probe.height} -> "
                f"{job.size[1]}x{job.size[0]}{dn}, {time.time() - start:.1f} s)", out=sys.stdout)
    finally:
        bar.close()
    # videos: one strength for every frame (per-frame choices could flicker): the model as trained
    video.run_cli(videos, args, getattr(runner, "strong", runner), say, fail, stats)
    summary = f"{stats['done']} upscaled, {counts['failed']} failed"
    if counts["skipped"]:
        summary += f", {counts['skipped']} skipped (already exist)"
    # the folder is named only when it holds the outputs: after a run that wrote nothing (a
    # mistyped input) it may not even exist (issue 28.1)
    print(f"{summary} -> {out_dir}{os.sep}" if stats["done"] or counts["skipped"]
          else f"{summary}; nothing written")
    return 1 if counts["failed"] else 0
