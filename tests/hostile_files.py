"""Small files that claim to be huge or are not what their name says (issue 27's hostile inputs).

Shared by tests/test_memory_bounds.py and tests/test_hostile_inputs.py; every builder keeps the
file small on disk and never holds the size it claims in memory.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def header_png(path: Path, width: int, height: int, mode: int = 0) -> Path:
    """A PNG whose header claims width x height pixels (gray by default) with a few rows of data:
    a bound must refuse it from the header, since decoding it would need the claimed size."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, mode, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                     + png_chunk(b"IDAT", zlib.compress(bytes(4 * (width + 1)), 9))
                     + png_chunk(b"IEND", b""))
    return path


def config_bomb(model: Path, path: Path, padding: int = 80 * 2**20) -> Path:
    """``model`` (a .keras file) rewritten with ``padding`` bytes of spaces after the JSON of its
    config.json, deflated (80 MB of spaces: about 80 KB on disk), written 1 MiB at a time: still
    valid JSON, so only a bound on the declared size refuses it."""
    with zipfile.ZipFile(model) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != "config.json":
                dst.writestr(info.filename, data)
                continue
            member = zipfile.ZipInfo("config.json")
            member.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo's default is stored
            with dst.open(member, "w", force_zip64=True) as f:
                f.write(data)
                block = b" " * 2**20
                for _ in range(padding // len(block)):
                    f.write(block)
    return path


def truncated_png(path: Path, arr: np.ndarray) -> Path:
    """A valid PNG of ``arr`` cut in the middle of its pixel data."""
    from PIL import Image

    Image.fromarray(arr).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def chunk_bomb_png(path: Path) -> Path:
    """An 8x8 RGB PNG whose zTXt chunk is a zlib bomb (2 MiB of zeros in 2 KB, above Pillow's
    1 MiB per chunk)."""
    w = h = 8
    raw = b"".join(b"\x00" + bytes(np.full(3 * w, 90, np.uint8)) for _ in range(h))
    bomb = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(2 * 2**20), 9))
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + bomb + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))
    return path


def nan_tiff(path: Path) -> Path:
    """A 16x16 float TIFF (mode F) with one NaN pixel."""
    from PIL import Image

    arr = np.full((16, 16), 0.5, np.float32)
    arr[3, 4] = np.nan
    Image.fromarray(arr, mode="F").save(path)
    return path


def huge_frame_mkv(path: Path) -> Path:
    """An 815-byte one-frame .mkv whose header says 16000x16000 (issue 27.7's video): a 256x256
    gray FFV1 frame encoded by ffmpeg, then its Matroska PixelWidth/PixelHeight elements (2-byte
    unsigned integers, IDs 0xB0 and 0xBA) rewritten from 256 to 16000 in place. Nothing of that
    size is ever encoded; decoding it would fail, but a bound must refuse it from the header."""
    import subprocess

    import imageio_ffmpeg

    small = path.with_name(f"{path.stem}_256.mkv")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f",
                    "lavfi", "-i", "color=c=gray:size=256x256:rate=25", "-frames:v", "1",
                    "-c:v", "ffv1", "-pix_fmt", "gray", str(small)], check=True)
    data = small.read_bytes()
    small.unlink()
    for element in (b"\xb0", b"\xba"):
        assert data.count(element + b"\x82\x01\x00") == 1
        data = data.replace(element + b"\x82\x01\x00", element + b"\x82\x3e\x80")
    path.write_bytes(data)
    return path
