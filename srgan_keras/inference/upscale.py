"""Command line: upscale any image files with a trained generator (SRGAN's use, §1).

    python -m srgan_keras.upscale INPUT... [-o OUT_DIR] [--model PATH] [--tile N]
        [--tile-overlap N] [--format png|jpg|webp] [--overwrite] [--denoise-strength S]

INPUT is files, folders (searched recursively) or globs. Every output is ``<stem>_x<s>.<ext>``
in OUT_DIR (default ``./upscaled``; a folder input keeps its sub-folders). Files are read by
:func:`srgan_keras.data.imaging.load_image` (gray, RGBA/LA, palette, 16-bit, CMYK, EXIF rotation)
and upscaled tile by tile (:mod:`srgan_keras.inference.tiling`). A file that cannot be read is reported on
one line and skipped; the exit status is 1 if any failed. Outputs are written to a temporary file
and renamed; an existing output is kept unless ``--overwrite``; an input is never overwritten.
This module is a thin layer over :func:`srgan_keras.inference.tiling.upscale_image`.
"""

from __future__ import annotations

import argparse
import os
import re
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from srgan_keras.data.imaging import ImageError, LoadedImage, atomic_write, list_images, load_image
from srgan_keras.inference.tiling import DEFAULT_OVERLAP, DEFAULT_PRE_PAD, DEFAULT_TILE, upscale_image

FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}
QUALITY = 95  # our choice for JPEG and WebP output
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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
    import tensorflow as tf

    arr = tf.io.decode_png(Path(path).read_bytes(), dtype=tf.uint16).numpy() / np.float32(65535)
    alpha = arr[..., 3] if arr.shape[2] == 4 else None
    return LoadedImage(np.ascontiguousarray(arr[..., :3], dtype=np.float32), alpha, False, 16)


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type + data (PNG spec §5.3)."""
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def write_png_streaming(f, arr: np.ndarray, rows_per_chunk: int = 64) -> None:
    """Write uint8/uint16 (H, W[, C]) as PNG a few rows at a time: no full-size copy in memory.

    Pillow's ``fromarray`` would copy an 8000x6000 RGB output into 4 bytes per pixel (183 MiB)
    before encoding; this streams rows through ``zlib`` instead, which keeps the upscale peak
    within the bound of issue 3. Every row uses the PNG "Sub" filter (type 1: each byte minus
    the byte one pixel to its left), our choice: cheap to vectorise and good on photographs.
    """
    arr = arr if arr.ndim == 3 else arr[..., None]
    h, w, c = arr.shape
    depth = 16 if arr.dtype == np.uint16 else 8
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]  # gray, gray+alpha, RGB, RGBA
    bpp = c * depth // 8  # bytes per pixel
    f.write(PNG_SIGNATURE)
    f.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)))
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
            f.write(_chunk(b"IDAT", data))
    f.write(_chunk(b"IDAT", z.flush()))
    f.write(_chunk(b"IEND", b""))


def write_output(path: Path, out: np.ndarray, fmt: str) -> str | None:
    """Write an upscaled array atomically; returns a note when something had to be dropped."""
    fmt = FORMATS[fmt]
    if fmt == "PNG":  # any layout, 8 or 16 bits

        def save_png(tmp: str) -> None:
            with open(tmp, "wb") as f:
                write_png_streaming(f, out)

        atomic_write(path, save_png)
        return None
    note = None
    if out.dtype == np.uint16:
        out = ((out.astype(np.uint32) + 128) // 257).astype(np.uint8)  # 16 -> 8 bits, rounded
        note = f"{fmt} has no 16-bit samples: written with 8"
    if fmt == "JPEG" and out.ndim == 3 and out.shape[2] in (2, 4):
        out = out[..., :-1] if out.shape[2] == 4 else out[..., 0]
        note = "JPEG has no alpha channel: alpha dropped"
    if out.ndim == 3 and out.shape[2] == 1:
        out = out[..., 0]
    image = Image.fromarray(out)  # L, LA, RGB or RGBA from the shape
    atomic_write(path, lambda tmp: image.save(tmp, format=fmt, quality=QUALITY))
    return note


def output_format(src: Path, requested: str | None) -> str:
    """``--format``, or the input's own format when it is one we write, else PNG."""
    if requested:
        return requested
    ext = src.suffix.lower().lstrip(".")
    return ext if ext in FORMATS else "png"


def collect_inputs(inputs: list[str], out_dir: Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(file, sub-folder for its output) pairs, and one error line per INPUT that matched nothing.

    Earlier outputs (``*_x<digits>`` files under OUT_DIR) are left out of folder searches, so
    running twice does not upscale the first run's results; files named explicitly are kept.
    """
    out_root = out_dir.resolve()

    def earlier_output(f: Path) -> bool:
        return out_root in f.resolve().parents and re.search(r"_x\d+$", f.stem) is not None

    found: list[tuple[Path, Path]] = []
    errors: list[str] = []
    seen: set[Path] = set()  # a file named twice (folder and glob) is upscaled once
    for arg in inputs:
        p = Path(arg)
        if p.is_dir():
            files = [f for f in list_images(p) if not earlier_output(f)]
            pairs = [(f, f.parent.relative_to(p)) for f in files]
        else:
            pairs = [(f, Path()) for f in list_images(arg)]
        if not pairs:
            errors.append(f"{arg}: no image files found" if p.is_dir() or not p.exists()
                          else f"{arg}: not a file")
        found += [(f, sub) for f, sub in pairs if f.resolve() not in seen]
        seen.update(f.resolve() for f, _ in pairs)
    return found, errors


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m srgan_keras.upscale",
        description="Upscale images with a trained SRGAN/SRResNet generator.")
    ap.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders or globs")
    ap.add_argument("-o", "--out-dir", default="upscaled", help="output folder (./upscaled)")
    ap.add_argument("--model", default=None,
                    help="a .keras file, SavedModel folder, .tflite file, srresnet, srgan or "
                         "bicubic (default: the bundled model in saved_models/)")
    ap.add_argument("--tile", type=int, default=DEFAULT_TILE,
                    help=f"LR tile side in pixels, 0 = whole image (default {DEFAULT_TILE})")
    ap.add_argument("--tile-overlap", type=int, default=DEFAULT_OVERLAP,
                    help=f"context pixels around each tile (default {DEFAULT_OVERLAP})")
    ap.add_argument("--pre-pad", type=int, default=DEFAULT_PRE_PAD,
                    help=f"reflection padding at the borders (default {DEFAULT_PRE_PAD})")
    ap.add_argument("--scale", type=int, default=4, help="scale of --model bicubic only")
    ap.add_argument("--format", choices=("png", "jpg", "webp"), default=None,
                    help="output format (default: the input's, or png)")
    ap.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    ap.add_argument("--denoise-strength", type=float, default=None, metavar="S",
                    help="0..1, as Real-ESRGAN's -dn: blend the model's weights with its "
                         "weak-denoise twin (NAME_wdn.keras beside NAME.keras), "
                         "S * model + (1 - S) * twin; lower keeps more noise and detail "
                         "(default: the model as trained)")
    ap.add_argument("--wdn-model", default=None, metavar="PATH",
                    help="the weak-denoise twin for --denoise-strength, if not beside the model")
    ap.add_argument("--max-pixels", type=int, default=None,
                    help="refuse inputs with more pixels (decompression-bomb guard; "
                         f"default Pillow's {Image.MAX_IMAGE_PIXELS})")
    args = ap.parse_args(argv)
    if args.tile < 0 or args.tile_overlap < 0 or args.pre_pad < 0:
        ap.error("--tile, --tile-overlap and --pre-pad must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from tqdm import tqdm

    from srgan_keras.inference.runners import ModelNotFoundError, load_generator

    def say(msg: str) -> None:
        tqdm.write(msg, file=sys.stderr)

    try:
        runner = load_generator(args.model, scale=args.scale,
                                denoise_strength=args.denoise_strength, wdn=args.wdn_model)
    except (ModelNotFoundError, ValueError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    limit = Image.MAX_IMAGE_PIXELS
    if args.max_pixels is not None:
        Image.MAX_IMAGE_PIXELS = args.max_pixels
    try:
        return _run(args, runner, say)
    finally:
        Image.MAX_IMAGE_PIXELS = limit  # main() may be called in-process (tests, notebooks)


def _run(args: argparse.Namespace, runner, say) -> int:
    """Upscale every input; one line per failure; the summary; the exit status."""
    from tqdm import tqdm

    out_dir = Path(args.out_dir)
    files, errors = collect_inputs(args.inputs, out_dir)
    for line in errors:
        say(f"failed: {line}")
    inputs = {f.resolve() for f, _ in files}
    planned: dict[Path, Path] = {}
    done = failed = skipped = 0
    for src, sub in tqdm(files, desc="images", unit="image", disable=None):
        fmt = output_format(src, args.format)
        dst = out_dir / sub / f"{src.stem}_x{runner.scale}.{fmt}"
        key = dst.resolve()
        if key in inputs:
            say(f"failed: {src}: its output {dst} is an input file; choose another -o")
            failed += 1
            continue
        if key in planned:
            say(f"failed: {src}: same output name {dst} as {planned[key]}; upscale it separately")
            failed += 1
            continue
        planned[key] = src
        if dst.exists() and not args.overwrite:
            say(f"skipped: {src}: {dst} exists (pass --overwrite to replace it)")
            skipped += 1
            continue
        try:
            image = read_input(src)
            out = upscale_image(image, runner, tile=args.tile or None,
                                tile_overlap=args.tile_overlap, pre_pad=args.pre_pad,
                                progress=True)
            note = write_output(dst, out, fmt)
            del out
        except ImageError as e:
            say(f"failed: {e}")
            failed += 1
            continue
        except Exception as e:  # one line per file, then the next; Ctrl-C still stops the run
            first = (str(e).strip().splitlines() or [""])[0]
            say(f"failed: {src}: {type(e).__name__}: {first}")
            failed += 1
            continue
        if note:
            say(f"note: {dst}: {note}")
        done += 1
    failed += len(errors)
    summary = f"{done} upscaled, {failed} failed"
    if skipped:
        summary += f", {skipped} skipped (already exist)"
    print(f"{summary} -> {out_dir}{os.sep}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
