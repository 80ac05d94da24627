"""An image file in, an image file out, as the upscale command and the web page read and write them.

- **Reading** at full precision: :func:`srgan_keras.data.imaging.load_image` (gray, RGBA/LA,
  palette, 16-bit, CMYK, EXIF rotation, GIF: first frame), plus 16-bit colour PNGs, which Pillow
  decodes to 8 bits (:func:`read_input`).
- **Writing** in the output's format with the input's metadata (:mod:`srgan_keras.data.metadata`:
  ICC profile, EXIF, PNG text, DPI), through the one atomic write
  (:func:`srgan_keras.data.files.atomic_write`): PNG streamed a few rows at a time (8 or 16 bits,
  any layout), JPEG and WebP by Pillow, with a note for what a format cannot hold (16 bits, alpha,
  EXIF too long for JPEG).
- **Each format's limits**, checked from the header before anything is computed
  (:func:`side_limit_error`, :func:`sample_layout` for the memory estimate).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from srgan_keras.data.files import atomic_write
from srgan_keras.data.imaging import LoadedImage, load_image
from srgan_keras.data.metadata import OutputMetadata, Probe, png_chunk, png_chunks
from srgan_keras.data.ranges import PIXEL_MAX_16, pixels_to_unit, uint16_to_uint8
from srgan_keras.startup import import_tensorflow

FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}
# Our choice: visually lossless by default (Pillow's own default is 75). JPEG at >= 90 is
# written with 4:4:4 chroma (no subsampling), below with Pillow's 4:2:0.
DEFAULT_QUALITY = 95
MAX_SIDE = {"WEBP": 16383, "JPEG": 65500}  # libwebp's and libjpeg's largest side in pixels
# A JPEG marker segment holds at most 65533 bytes after its length: Pillow refuses longer EXIF
JPEG_MAX_EXIF = 65533
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


def write_output(path: Path, out: np.ndarray, fmt: str, meta: OutputMetadata | None = None,
                 quality: int = DEFAULT_QUALITY, overwrite: bool = False) -> str | None:
    """Write an upscaled array atomically with its metadata; returns a note when something had
    to be dropped (16 bits or alpha in JPEG, metadata the format cannot hold).

    Without ``overwrite`` (the caller's plan says the file at ``path`` may be replaced: an earlier
    output of ours), a file that exists at ``path`` when the write ends is kept
    (:class:`srgan_keras.data.outputs.OutputExistsError`), even one that appeared during the run.
    """
    fmt = FORMATS[fmt]
    meta = meta or OutputMetadata()
    notes = list(meta.notes)
    if fmt == "PNG":  # any layout, 8 or 16 bits
        extra = png_chunks(meta)

        def save_png(tmp: str) -> None:
            with open(tmp, "wb") as f:
                write_png_streaming(f, out, extra=extra)

        atomic_write(path, save_png, overwrite=overwrite)
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
    atomic_write(path, lambda tmp: image.save(tmp, format=fmt, **options), overwrite=overwrite)
    return "; ".join(notes) or None


def output_format(src: Path, requested: str | None) -> str:
    """``--format``, or the input's own format when it is one we write, else PNG."""
    if requested:
        return requested
    ext = src.suffix.lower().lstrip(".")
    return ext if ext in FORMATS else "png"


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




def side_limit_error(src: str | Path, size: tuple[int, int], fmt: str, hint: str) -> str | None:
    """The one line refusing an output of ``size`` (height, width) larger than ``fmt`` allows
    (libwebp's and libjpeg's largest side), or None; ``hint`` says what to do instead."""
    name = FORMATS[fmt]
    limit = MAX_SIDE.get(name)
    if limit and max(size) > limit:
        return (f"{src}: a {size[1]}x{size[0]} output is larger than {name} allows ({limit} px "
                f"per side); {hint}")
    return None
