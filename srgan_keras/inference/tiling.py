"""Upscaling images of any size with bounded memory: tiles with context, cropped to their centres.

A fully convolutional generator (SRGAN Fig. 4) accepts any input size, but its activations
grow with it: the paper's SRResNet holds 256 channels at 2x and 64 at 4x resolution, about
1 GiB per 256x256 LR pixels. So large images run tile by tile, as Real-ESRGAN's ``tile`` option
does (Wang et al. 2021, its inference code): every tile is cut with ``tile_overlap`` pixels of
context on each side, upscaled, and only its unpadded centre is kept and written straight into
the preallocated 8-bit (or 16-bit) output. Outputs of neighbouring tiles then differ from the
whole-image output only where the context is shorter than the receptive field, so no seam
shows; peak memory is one tile's activations plus the output array.

At the image borders the input is first extended by ``pre_pad`` pixels of reflection (Real-
ESRGAN's ``pre_pad``), so the network sees plausible content instead of its zero padding;
the padded margin is cropped away.

Colour layouts: RGB goes through the model; gray goes through it as R=G=B and comes back as
luma; alpha (RGBA, LA) is upscaled by bicubic interpolation, not by the network, which was
trained on colour only.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from srgan_keras.data.imaging import LoadedImage
from srgan_keras.inference.runners import BicubicRunner, Runner, as_runner

DEFAULT_TILE = 80  # our choice: LR tile side; ~0.25 GiB of activations for the paper SRResNet
DEFAULT_OVERLAP = 16  # our choice (Real-ESRGAN uses 10): context per side; see the README numbers
DEFAULT_PRE_PAD = 10  # Real-ESRGAN's RealESRGANer default pre_pad
# ITU-R BT.601 luma (full range, as Pillow's convert("L")): the network's RGB output -> gray.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def tile_grid(h: int, w: int, tile: int | None) -> Iterator[tuple[int, int, int, int]]:
    """``(y0, y1, x0, x1)`` boxes of side ``tile`` (the last ones smaller) covering h x w."""
    th = h if not tile else min(tile, h)
    tw = w if not tile else min(tile, w)
    for y0 in range(0, h, th):
        for x0 in range(0, w, tw):
            yield y0, min(y0 + th, h), x0, min(x0 + tw, w)


def _quantize(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """[0, 1] floats -> uint8 / uint16, rounded and clipped."""
    top = float(np.iinfo(dtype).max)
    return np.clip(np.round(x * top), 0, top).astype(dtype)


def run_tiled(src: np.ndarray, runner: Runner, out: np.ndarray, tile: int | None,
              tile_overlap: int, pre_pad: int, to_gray: bool = False,
              progress: bool = False) -> None:
    """Upscale ``src`` (H, W, C) float32 [0, 1] by ``runner`` into ``out`` (sH, sW, C') in place.

    ``out`` is uint8 or uint16 (any view, e.g. ``rgba[..., :3]``); C' is 1 when ``to_gray``
    (the runner's RGB tiles are converted to luma) and C otherwise.
    """
    h, w = src.shape[:2]
    s = runner.scale
    pad = max(0, min(int(pre_pad), h - 1, w - 1))  # reflection needs pad < size
    if pad:
        src = np.pad(src, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    hp, wp = src.shape[:2]
    ov = max(0, int(tile_overlap))
    boxes = list(tile_grid(h, w, tile))
    if len(boxes) == 1:
        ov = max(hp, wp)  # one tile: the whole padded image is its context
    bar = None
    if progress and len(boxes) > 1:
        from tqdm import tqdm

        bar = tqdm(total=len(boxes), desc="tiles", unit="tile", leave=False, disable=None)
    for y0, y1, x0, x1 in boxes:
        # tile in padded coordinates, grown by the overlap (clipped to the padded image)
        py0, py1 = max(0, y0 + pad - ov), min(hp, y1 + pad + ov)
        px0, px1 = max(0, x0 + pad - ov), min(wp, x1 + pad + ov)
        sr = runner(src[None, py0:py1, px0:px1])[0]  # (s(py1-py0), s(px1-px0), C) in [0, 1]
        cy, cx = (y0 + pad - py0) * s, (x0 + pad - px0) * s  # where the centre starts
        centre = sr[cy:cy + (y1 - y0) * s, cx:cx + (x1 - x0) * s]
        if to_gray:
            centre = (centre @ LUMA_WEIGHTS)[..., None]
        out[y0 * s:y1 * s, x0 * s:x1 * s] = _quantize(centre, out.dtype)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()


def _split(image) -> tuple[np.ndarray, np.ndarray | None, bool, np.dtype, str]:
    """Any accepted input -> (colour (H, W, 3) float32 [0,1], alpha (H, W, 1) or None, gray,
    output dtype, output layout: '2d', 'c1', 'la', 'rgb' or 'rgba')."""
    if isinstance(image, LoadedImage):
        dtype = np.dtype(np.uint16 if image.bits == 16 else np.uint8)
        alpha = None if image.alpha is None else image.alpha[..., None].astype(np.float32)
        layout = ("la" if alpha is not None else "2d") if image.gray else (
            "rgba" if alpha is not None else "rgb")
        return image.rgb.astype(np.float32, copy=False), alpha, image.gray, dtype, layout
    arr = np.asarray(image)
    if arr.dtype in (np.uint8, np.uint16):
        dtype, top = arr.dtype, float(np.iinfo(arr.dtype).max)
    elif np.issubdtype(arr.dtype, np.floating):
        dtype, top = np.dtype(np.uint8), 1.0  # floats are taken as [0, 1]
    else:
        raise TypeError(f"image dtype must be uint8, uint16 or float in [0, 1], got {arr.dtype}")
    if arr.ndim == 2:
        arr, layout = arr[..., None], "2d"
    elif arr.ndim == 3 and arr.shape[2] in (1, 2, 3, 4):
        layout = {1: "c1", 2: "la", 3: "rgb", 4: "rgba"}[arr.shape[2]]
    else:
        raise ValueError(f"image shape must be (H, W) or (H, W, 1|2|3|4), got {arr.shape}")
    if min(arr.shape[:2]) < 1:
        raise ValueError(f"empty image of shape {arr.shape}")
    gray = layout in ("2d", "c1", "la")
    colour = arr[..., :1] if gray else arr[..., :3]
    colour = colour.astype(np.float32) / top
    if gray:
        colour = np.repeat(colour, 3, axis=2)
    alpha = arr[..., -1:].astype(np.float32) / top if layout in ("la", "rgba") else None
    return colour, alpha, gray, dtype, layout


def upscale_image(image, model, tile: int | None = DEFAULT_TILE,
                  tile_overlap: int = DEFAULT_OVERLAP, pre_pad: int = DEFAULT_PRE_PAD,
                  progress: bool = False) -> np.ndarray:
    """Upscale one image of any size by a generator; returns uint8 (uint16 for 16-bit input).

    Args:
        image: uint8 or uint16 array (H, W), (H, W, 1), (H, W, 2) LA, (H, W, 3) RGB or
            (H, W, 4) RGBA; a float array in [0, 1] (gives uint8); or a ``LoadedImage``.
        model: a runner (``load_generator``), an in-memory Keras generator, or a model path.
        tile: LR tile side; ``None`` or 0 runs the whole image at once.
        tile_overlap: LR pixels of context on each side of a tile, cropped away after.
        pre_pad: reflection padding at the image borders, cropped away after (0 = the network's
            own zero padding, as in the paper's evaluation).
        progress: show a tqdm bar over the tiles when there are several.

    Returns the same layout as the input (gray stays gray, alpha kept; a ``LoadedImage`` gives
    (sH, sW) gray, (sH, sW, 2) LA, (sH, sW, 3) or (sH, sW, 4)), ``s`` times larger.
    """
    runner = as_runner(model)
    colour, alpha, gray, dtype, layout = _split(image)
    h, w = colour.shape[:2]
    s = runner.scale
    channels = {"2d": 1, "c1": 1, "la": 2, "rgb": 3, "rgba": 4}[layout]
    out = np.empty((h * s, w * s, channels), dtype=dtype)  # the only full-size array
    n_colour = 1 if gray else 3
    run_tiled(colour, runner, out[..., :n_colour], tile, tile_overlap, pre_pad,
              to_gray=gray, progress=progress)
    del colour
    if alpha is not None:
        run_tiled(alpha, BicubicRunner(s), out[..., n_colour:], tile, tile_overlap, pre_pad)
    return out[..., 0] if layout == "2d" else out
