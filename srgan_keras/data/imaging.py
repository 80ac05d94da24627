"""Reading and writing image files: decoded to float [0, 1] RGB, written atomically.

The atomic write is :func:`srgan_keras.data.files.atomic_write` (re-exported here, its old home),
the one every command uses.

Files hold uint8 0..255 (or uint16) pixels; the conversions between them and the ranges the
networks use are :mod:`srgan_keras.data.ranges`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from srgan_keras.data.files import atomic_write as atomic_write  # re-exported: its old home
from srgan_keras.data.ranges import PIXEL_MAX_16, pixels_to_unit, to_uint8

# re-exported: their home before data/ranges.py
from srgan_keras.data.ranges import signed_to_unit as signed_to_unit
from srgan_keras.data.ranges import unit_to_signed as unit_to_signed
from srgan_keras.errors import SrganKerasError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")

# The colour photos bundled with scikit-image: the built-in data for a first run without
# downloads. The last two are held out for validation (`--val-data builtin`).
BUILTIN_TRAIN = ("chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
                 "motorcycle_left", "retina", "camera", "brick", "gravel", "grass", "moon",
                 "coins", "page", "text")
BUILTIN_VAL = ("astronaut", "coffee")


class ImageError(SrganKerasError, ValueError):
    """A file that cannot be used as an image; the message is one line naming the file and why."""


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image: ``rgb`` float32 (H, W, 3) in [0, 1], plus what is needed to write it back.

    ``alpha`` is (H, W) in [0, 1] or None; ``gray`` says the source had one channel (output stays
    gray); ``bits`` is 8 or 16, the source's sample depth.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    gray: bool = False
    bits: int = 8


@contextmanager
def pillow_errors(path: Path) -> Iterator[None]:
    """Pillow's ways of failing on ``path`` (a decompression bomb, in the pixels or in a PNG's
    metadata chunks, a missing, unreadable or truncated file, not an image) turned into one-line
    :class:`ImageError` s naming it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"{path}: refused as a decompression bomb ({e})") from None
    except ValueError as e:  # PngImagePlugin: a zTXt/iTXt/iCCP chunk over 1 MiB, text over 64 MiB
        if "Decompressed data too large" not in str(e) and "memory used in text chunks" not in str(e):
            raise
        raise ImageError(f"{path}: refused: its metadata (PNG text or ICC profile) decompresses "
                         f"too large ({e})") from None
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a directory") from None
    except PermissionError:
        raise ImageError(f"{path}: unreadable (permission denied)") from None
    except OSError as e:  # UnidentifiedImageError and truncated files are OSErrors
        reason = "not an image file" if "cannot identify" in str(e) else f"unreadable ({e})"
        raise ImageError(f"{path}: {reason}") from None


def check_pixels(path: str | os.PathLike, width: int, height: int, limit: int | None = None
                 ) -> None:
    """Refuse, before anything is decoded, a picture with more pixels than images may have.

    One limit for every input (issue 27.7): Pillow's decompression-bomb limit,
    ``Image.MAX_IMAGE_PIXELS`` (what ``upscale --max-pixels`` sets; Pillow checks it for image
    headers), applied here to sizes read elsewhere (a video's frame from ffmpeg's probe, a web
    upload's header). ``limit`` replaces it (0 or None when Pillow's is None: no limit).
    """
    limit = Image.MAX_IMAGE_PIXELS if limit is None else limit
    if limit and width * height > limit:
        raise ImageError(f"{path}: refused as a decompression bomb ({width}x{height} is "
                         f"{width * height:,} pixels, more than the limit of {limit:,}; "
                         "--max-pixels sets it)")


def _open(path: str | os.PathLike) -> Image.Image:
    path = Path(path)
    with pillow_errors(path):
        if path.stat().st_size == 0:
            raise ImageError(f"{path}: empty file (0 bytes)")
        img = Image.open(path)
        img.load()
    return ImageOps.exif_transpose(img)


def load_image(path: str | os.PathLike) -> LoadedImage:
    """Decode any supported file: RGB, gray, RGBA/LA, palette, 16-bit, CMYK; EXIF orientation applied."""
    img = _open(path)
    mode = img.mode
    alpha = None
    bits = 8
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        if mode == "F" and not np.isfinite(arr).all():  # clipped, NaN would come out black
            bad = int(arr.size - np.isfinite(arr).sum())
            raise ImageError(f"{path}: has NaN or infinite pixels ({bad} of {arr.size}, a float "
                             "image); replace them before upscaling")
        if mode == "F":
            arr = np.clip(arr, 0.0, 1.0) if arr.max() <= 1.0 else np.clip(pixels_to_unit(arr), 0, 1)
        else:
            bits = 16 if arr.max() > 255 or mode.startswith("I;16") else 8
            arr = np.clip(pixels_to_unit(arr, PIXEL_MAX_16) if bits == 16 else pixels_to_unit(arr), 0.0, 1.0)
        rgb = np.repeat(arr[..., None], 3, axis=2).astype(np.float32)
        return LoadedImage(rgb, None, True, bits)
    if mode in ("1", "L"):
        arr = pixels_to_unit(np.asarray(img.convert("L")))
        return LoadedImage(np.repeat(arr[..., None], 3, axis=2), None, True, 8)
    if mode == "LA":
        arr = pixels_to_unit(np.asarray(img))
        return LoadedImage(np.repeat(arr[..., :1], 3, axis=2), arr[..., 1], True, 8)
    if mode in ("RGBA", "RGBa", "PA"):
        arr = pixels_to_unit(np.asarray(img.convert("RGBA")))
        alpha = arr[..., 3]
        return LoadedImage(np.ascontiguousarray(arr[..., :3]), alpha, False, 8)
    if mode in ("RGB", "CMYK", "YCbCr", "LAB", "HSV"):
        arr = pixels_to_unit(np.asarray(img.convert("RGB")))
        return LoadedImage(arr, None, False, 8)
    if mode.startswith("I;16") or mode == "RGB;16":
        arr = pixels_to_unit(np.asarray(img), PIXEL_MAX_16)
        return LoadedImage(arr, None, False, 16)
    raise ImageError(f"{path}: unsupported image mode {mode!r}")


def load_rgb_uint8(path: str | os.PathLike) -> np.ndarray:
    """Any supported file as a uint8 (H, W, 3) RGB array (alpha dropped, gray repeated)."""
    return to_uint8(load_image(path).rgb)


def builtin_images(names: Iterable[str] = BUILTIN_TRAIN) -> list[tuple[str, np.ndarray]]:
    """scikit-image's bundled photos as (name, uint8 RGB) pairs; gray ones repeated to RGB."""
    import skimage.data

    out = []
    for name in names:
        if name == "motorcycle_left":  # the left view of skimage's stereo pair
            arr = np.asarray(skimage.data.stereo_motorcycle()[0])
        else:
            arr = np.asarray(getattr(skimage.data, name)())
        if arr.ndim == 2:
            arr = np.repeat(arr[..., None], 3, axis=2)
        out.append((f"builtin:{name}", np.ascontiguousarray(arr[..., :3]).astype(np.uint8)))
    return out


def list_images(source: str | os.PathLike) -> list[Path]:
    """Image files of a file, a folder (recursive) or a glob, sorted; ``[]`` if none match."""
    p = Path(source)
    if p.is_dir():
        return sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS)
    if p.is_file():
        return [p]
    import glob

    found = []
    for f in sorted(glob.glob(str(source), recursive=True)):
        fp = Path(f)
        if fp.is_dir():
            found += list_images(fp)
        elif fp.is_file():
            found.append(fp)
    return found


# (name, label for messages, loader): images are decoded one at a time, as they are scored
Source = tuple[str, str, Callable[[], np.ndarray]]


def image_sources(data) -> list[Source]:
    """``(name, label, load)`` of each image of a folder/file/glob, ``"builtin"`` (the held-out
    photos) or given ``(name, array)`` pairs; ``load()`` decodes uint8 RGB (gray repeated).

    A path that does not exist and matches nothing says so, distinct from a folder without
    image files.
    """
    if isinstance(data, (str, Path)):
        if str(data) == "builtin":
            return [(n, n, lambda a=a: a) for n, a in builtin_images(BUILTIN_VAL)]
        p = Path(data)
        files = list_images(data)
        # list_images passes over broken symlinks: a benchmark missing an image must say so
        broken = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_EXTENSIONS
                        and f.is_symlink() and not f.exists()) if p.is_dir() else []
        if not files and not broken:
            if p.is_symlink() and not p.exists():
                raise FileNotFoundError(f"{data}: broken symbolic link")
            if p.is_dir() or p.is_file():
                raise FileNotFoundError(f"{data}: no image files found")
            if any(c in str(data) for c in "*?["):
                raise FileNotFoundError(f"{data}: no image files match this pattern")
            raise FileNotFoundError(f"{data}: no such file or folder")
        files = sorted(files + broken)
        names = [f.stem for f in files]
        if len(set(names)) < len(names):  # a/x.png and b/x.png: name them a/x and b/x
            root = Path(os.path.commonpath([f.parent for f in files]))
            names = [f.relative_to(root).with_suffix("").as_posix() for f in files]
        # gray HR (Set14's bridge) is repeated to RGB
        return [(n, str(f), lambda f=f: load_rgb_uint8(f)) for n, f in zip(names, files)]
    return [(n, n, lambda a=a: np.asarray(a)) for n, a in data]


def read_images(data, skipped: list[str] | None = None) -> list[tuple[str, np.ndarray]]:
    """``(name, uint8 RGB)`` of every image :func:`image_sources` finds, decoded now.

    A source without images raises FileNotFoundError (one line). An unreadable file raises
    :class:`ImageError`, or, when ``skipped`` is a list, its one-line message is appended there
    and the other images are still read.
    """
    out = []
    for name, _, load in image_sources(data):
        try:
            out.append((name, load()))
        except ImageError as e:
            if skipped is None:
                raise
            skipped.append(str(e))
    return out
