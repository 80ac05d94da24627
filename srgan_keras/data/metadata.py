"""What a photo carries besides its pixels, read from the input and written onto its upscale.

Issue 16.3: the ICC colour profile, EXIF (orientation normalised to 1, since the pixels are
already turned upright by ``load_image``; the pixel-size fields set to the output's size), PNG
text chunks and the resolution (DPI) are copied to the output, whatever its format can hold:

    =========  ====  ====  ==========  ===
    output     ICC   EXIF  PNG text    DPI
    =========  ====  ====  ==========  ===
    PNG        iCCP  eXIf  tEXt/iTXt   pHYs
    JPEG       yes   yes   --          JFIF
    WebP       yes   yes   --          --
    =========  ====  ====  ==========  ===

An ICC profile is kept only if it describes the output's colour space (an RGB profile on RGB,
a gray one on gray): a CMYK JPEG is converted to RGB by ``load_image``, so its CMYK profile
would be wrong there and is dropped with a note.

Every output is also marked as ours (EXIF ``Software``, and a PNG ``Software`` text chunk), so a
later run can tell an upscale it wrote from a user's file that happens to be named like one
(issue 17.2): only marked files are ever replaced by ``--overwrite`` or skipped as earlier
outputs. :func:`probe` reads all of this from the header, before any pixel is decoded, so the
CLI can refuse what cannot work before it computes anything.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from srgan_keras.data.imaging import ImageError, pillow_errors

SOFTWARE = "srgan_keras upscale"  # the mark of our outputs (EXIF 0x0131 and PNG "Software")
TAG_ORIENTATION = 0x0112  # EXIF 2.32 / TIFF 6.0 tag numbers
TAG_SOFTWARE = 0x0131
TAG_IMAGE_WIDTH, TAG_IMAGE_LENGTH = 0x0100, 0x0101
IFD_EXIF = 0x8769
TAG_PIXEL_X, TAG_PIXEL_Y = 0xA002, 0xA003
# Orientations 5-8 swap width and height (EXIF 2.32, Orientation).
TRANSPOSING = (5, 6, 7, 8)


@dataclass
class Probe:
    """A file's header: displayed size (after EXIF rotation), mode, format, frames, metadata."""

    path: Path
    width: int
    height: int
    mode: str
    format: str
    frames: int = 1
    icc: bytes | None = None
    exif: Image.Exif | None = None
    text: dict[str, str] = field(default_factory=dict)
    dpi: tuple[float, float] | None = None
    software: str = ""

    @property
    def icc_space(self) -> str | None:
        """The profile's colour space (ICC.1 header bytes 16-19): 'RGB', 'GRAY', 'CMYK', ..."""
        return self.icc[16:20].decode("latin-1").strip() if self.icc and len(self.icc) > 20 else None


_LIMIT_LOCK = threading.Lock()  # Image.MAX_IMAGE_PIXELS is process-wide (the web app has threads)


@contextlib.contextmanager
def _size_limit(on: bool):
    """Pillow's decompression-bomb limit as it is (``on``), or lifted for the block."""
    if on:
        yield
        return
    with _LIMIT_LOCK:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def probe(path: str | os.PathLike, size_limit: bool = True) -> Probe:
    """Read a file's header (no pixel data); raises ``ImageError`` with one line on failure.

    Pillow's decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``) is checked here already,
    from the header's size, before anything is allocated. ``size_limit=False`` reads the header
    of any size: only to look at a file that will not be decoded (our own x4 outputs are often
    far above the limit, e.g. 192 MP from a 12 MP photo).
    """
    path = Path(path)
    with pillow_errors(path), _size_limit(size_limit):
        if path.is_dir():
            raise ImageError(f"{path}: is a directory")
        if path.stat().st_size == 0:
            raise ImageError(f"{path}: empty file (0 bytes)")
        with Image.open(path) as im:
            if im.format == "PNG":  # PNG's getexif() decodes the pixels: read eXIf from info
                exif = Image.Exif()
                if im.info.get("exif"):
                    exif.load(im.info["exif"])
            else:  # JPEG, WebP, TIFF: EXIF comes with the header
                exif = im.getexif()
            w, h = im.size
            if exif.get(TAG_ORIENTATION, 1) in TRANSPOSING:
                w, h = h, w
            # PNG text chunks before the pixels (``im.text`` would decode them to reach
            # those after: only the header is read here); Pillow puts them in ``info``
            text = ({k: v for k, v in im.info.items() if isinstance(v, str)}
                    if im.format == "PNG" else {})
            dpi = im.info.get("dpi")
            software = str(exif.get(TAG_SOFTWARE) or im.info.get("Software") or "")
            return Probe(path, w, h, im.mode, im.format or "", getattr(im, "n_frames", 1),
                         im.info.get("icc_profile") or None, exif if len(exif) else None,
                         {str(k): str(v) for k, v in text.items()},
                         (float(dpi[0]), float(dpi[1])) if dpi else None, software)


def is_ours(path: str | os.PathLike) -> bool:
    """True if ``path`` is an image this CLI wrote (it carries ``SOFTWARE``), of any size: an
    output of ours above Pillow's decompression-bomb limit is still recognised, so ``--overwrite``
    can replace it."""
    try:
        return probe(path, size_limit=False).software.startswith(SOFTWARE)
    except ImageError:
        return False


def output_exif(src: Image.Exif | None, width: int, height: int, software: str) -> bytes:
    """The source EXIF with orientation 1, pixel sizes set to the output's, our Software tag."""
    exif = Image.Exif()
    if src is not None:
        exif.load(src.tobytes())
    if TAG_ORIENTATION in exif:
        exif[TAG_ORIENTATION] = 1
    for tag, value in ((TAG_IMAGE_WIDTH, width), (TAG_IMAGE_LENGTH, height)):
        if tag in exif:
            exif[tag] = value
    sub = exif.get_ifd(IFD_EXIF)
    if sub:
        for tag, value in ((TAG_PIXEL_X, width), (TAG_PIXEL_Y, height)):
            if tag in sub:
                sub[tag] = value
    exif[TAG_SOFTWARE] = software
    return exif.tobytes()


@dataclass
class OutputMetadata:
    """What to write with one output (see the module docstring's table)."""

    icc: bytes | None = None
    exif: bytes | None = None  # with the "Exif\\0\\0" header, as Pillow gives it
    text: dict[str, str] = field(default_factory=dict)
    dpi: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)


def metadata_for(p: Probe, width: int, height: int, gray: bool, fmt: str,
                 software: str = SOFTWARE) -> OutputMetadata:
    """The metadata of ``p``'s upscale (``width`` x ``height``, gray or colour, format ``fmt``:
    'PNG', 'JPEG' or 'WEBP'), and a note for each thing that could not be carried over."""
    meta = OutputMetadata(exif=output_exif(p.exif, width, height, software), dpi=p.dpi)
    if p.icc:
        want = "GRAY" if gray else "RGB"
        if p.icc_space == want:
            meta.icc = p.icc
        else:
            meta.notes.append(f"its {p.icc_space or 'unreadable'} ICC profile does not describe "
                              f"the {want.lower()} output: not copied")
    text = {k: v for k, v in p.text.items() if k != "Software"}
    if fmt == "PNG":
        meta.text = {**text, "Software": software}
    elif text:
        meta.notes.append(f"{fmt} has no text chunks: {', '.join(sorted(text))} not copied")
    if fmt == "WEBP" and p.dpi:
        meta.dpi = None  # WebP has no resolution field; not worth a note
    return meta


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type + data (PNG spec §5.3)."""
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_chunks(meta: OutputMetadata) -> bytes:
    """iCCP, pHYs, eXIf and text chunks (PNG spec §11.3, PNG 1.5 eXIf), all before IDAT."""
    out = b""
    if meta.icc:  # name, NUL, compression method 0 (zlib), the compressed profile
        out += png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(meta.icc))
    if meta.dpi:  # pixels per metre, unit 1 = metre
        ppm = [round(d / 0.0254) for d in meta.dpi]
        out += png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1))
    if meta.exif:
        raw = meta.exif[6:] if meta.exif.startswith(b"Exif\0\0") else meta.exif
        out += png_chunk(b"eXIf", raw)
    for key, value in meta.text.items():
        k = key.encode("latin-1", "replace")[:79]
        try:
            out += png_chunk(b"tEXt", k + b"\0" + value.encode("latin-1"))
        except UnicodeEncodeError:  # iTXt: keyword, NUL, no compression, no language, UTF-8
            out += png_chunk(b"iTXt", k + b"\0\0\0\0\0" + value.encode("utf-8"))
    return out
