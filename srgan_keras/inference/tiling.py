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

import math
import os
from collections.abc import Callable, Iterator

import numpy as np

from srgan_keras.data.imaging import LoadedImage
from srgan_keras.data.ranges import pixels_to_unit, to_pixels
from srgan_keras.inference.colorfix import ColorFixRunner
from srgan_keras.inference.memory import LIVE_BUFFERS, is_out_of_memory
from srgan_keras.inference.runners import BicubicRunner, Runner, as_runner

DEFAULT_TILE = 80  # our choice: the fixed LR tile side of callers that ask for one (evaluate)
DEFAULT_OVERLAP = 16  # our choice (Real-ESRGAN uses 10): context per side; see the README numbers
DEFAULT_PRE_PAD = 10  # Real-ESRGAN's RealESRGANer default pre_pad
# ITU-R BT.601 luma (full range, as Pillow's convert("L")): the network's RGB output -> gray.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# Automatic tiles (issue 16.2). Our choices, measured with benchmarks/bench_upscale.py:
FALLBACK_BYTES_PER_PIXEL = 16 * 1024  # the paper SRResNet's estimate, for runners we cannot inspect
MAX_ACTIVATION_BYTES = 2 * 2**30  # at most this much for one tile: speed is flat from 128 px up
MEMORY_FRACTION = 0.5  # ... and at most this share of the memory available now
MIN_TILE = 16  # an OOM halves the tile down to this side, then gives up
Progress = Callable[[int, int], None]  # (LR pixels done, LR pixels in total)


def available_memory() -> int:
    """Bytes the process can still allocate: MemAvailable, bounded by a cgroup v2 limit."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 4 * 2**30  # our guess when the system will not say
    try:
        limit = open("/sys/fs/cgroup/memory.max").read().strip()
        if limit != "max":
            used = int(open("/sys/fs/cgroup/memory.current").read())
            avail = min(avail, max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return avail


def bytes_per_pixel(runner: Runner) -> int:
    """Estimated peak activation bytes per LR input pixel of ``runner``.

    For a Keras generator: the widest layer output (floats per LR pixel, read by running every
    layer's output once on an 8x8 input) times 4 bytes times ``LIVE_BUFFERS``. For the paper's
    SRResNet that is 1024 floats (256 channels at 2x, 64 at 4x) -> 16 KiB. Other runners
    (SavedModel, TFLite, ONNX) use ``FALLBACK_BYTES_PER_PIXEL``; bicubic needs next to nothing.
    """
    inner = getattr(runner, "runner", runner)  # ColorFixRunner wraps one
    cached = getattr(runner, "_bytes_per_pixel", None) or getattr(inner, "_bytes_per_pixel", None)
    if cached:  # a LiteRT runner's is read from its interpreter (srgan_keras.inference.litert)
        return cached
    if isinstance(inner, BicubicRunner):
        return 4 * 3 * inner.scale**2 * LIVE_BUFFERS
    value = FALLBACK_BYTES_PER_PIXEL
    model = getattr(inner, "model", None)
    if model is not None and hasattr(model, "layers"):
        try:
            import keras

            outs = [layer.output for layer in model.layers
                    if not isinstance(layer, keras.layers.InputLayer)]
            inp = model.inputs[0] if len(model.inputs) == 1 else model.inputs
            probe = keras.Model(inp, outs)(np.zeros((1, 8, 8, 3), np.float32))
            widest = max(int(np.prod(o.shape[1:])) for o in probe) / 64.0
            value = int(widest * 4 * LIVE_BUFFERS)
        except Exception:  # a subclassed or shared-layer model: keep the fallback
            pass
    try:
        runner._bytes_per_pixel = value
    except AttributeError:
        pass
    return value


def auto_tile(h: int, w: int, runner: Runner, tile_overlap: int = DEFAULT_OVERLAP,
              pre_pad: int = DEFAULT_PRE_PAD, budget: int | None = None) -> int | None:
    """The LR tile side for an h x w image: ``None`` (whole image) when its activations fit the
    budget, else the largest multiple of 8 whose tile plus context fits (at least ``MIN_TILE``).

    ``budget`` defaults to min(``MAX_ACTIVATION_BYTES``, ``MEMORY_FRACTION`` x available memory).
    """
    if budget is None:
        budget = min(MAX_ACTIVATION_BYTES, int(MEMORY_FRACTION * available_memory()))
    bpp = bytes_per_pixel(runner)
    if (h + 2 * pre_pad) * (w + 2 * pre_pad) * bpp <= budget:
        return None
    side = int(math.sqrt(budget / bpp)) - 2 * tile_overlap
    return max(MIN_TILE, side // 8 * 8)


def output_size(h: int, w: int, scale: int, outscale: float | None = None,
                width: int | None = None, height: int | None = None) -> tuple[int, int]:
    """Final (height, width): ``outscale`` times the input, or fit inside ``width`` x ``height``
    (either may be omitted; the aspect ratio is kept), else the network's own ``scale``."""
    if width or height:
        f = min(width / w if width else math.inf, height / h if height else math.inf)
        return max(1, min(height or math.inf, round(h * f))), max(1, min(width or math.inf, round(w * f)))
    f = scale if outscale is None else outscale
    return max(1, round(h * f)), max(1, round(w * f))


def memory_needed(h: int, w: int, channels: int, bits: int, scale: int,
                  size: tuple[int, int] | None = None) -> int:
    """Bytes an upscale of an h x w image must hold at once, besides one tile's activations:
    the decoded float input (and its padded copy), the network-size output and, when resized,
    the resized output plus one float channel of the resize."""
    sample = 2 if bits == 16 else 1
    need = 2 * h * w * 3 * 4 + h * scale * w * scale * channels * sample
    if size is not None and size != (h * scale, w * scale):
        need += size[0] * size[1] * (channels * sample + 2 * 4)
    return need


def memory_refusal(src: object, h: int, w: int, channels: int, bits: int, scale: int,
                   size: tuple[int, int], hint: str = "use a smaller --outscale") -> str | None:
    """The one line refusing an upscale of ``src`` (h x w in, ``size`` out) that cannot fit the
    memory available now (:func:`memory_needed`), or None if it fits: checked from the header,
    before anything is decoded, by the CLI for images and video frames and by the web page."""
    need = memory_needed(h, w, channels, bits, scale, size)
    avail = available_memory()
    if need <= avail:
        return None
    return (f"{src}: its {size[1]}x{size[0]} output needs {need / 2**30:.1f} GiB, more than the "
            f"{avail / 2**30:.1f} GiB of memory available; {hint}")


def tile_grid(h: int, w: int, tile: int | None) -> Iterator[tuple[int, int, int, int]]:
    """``(y0, y1, x0, x1)`` boxes of side ``tile`` (the last ones smaller) covering h x w."""
    th = h if not tile else min(tile, h)
    tw = w if not tile else min(tile, w)
    for y0 in range(0, h, th):
        for x0 in range(0, w, tw):
            yield y0, min(y0 + th, h), x0, min(x0 + tw, w)


def _quarters(box: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
    """A box split at its middle along each side longer than ``MIN_TILE``."""
    y0, y1, x0, x1 = box
    ys = [y0, (y0 + y1) // 2, y1] if y1 - y0 > MIN_TILE else [y0, y1]
    xs = [x0, (x0 + x1) // 2, x1] if x1 - x0 > MIN_TILE else [x0, x1]
    return [(a, b, c, d) for a, b in zip(ys, ys[1:]) for c, d in zip(xs, xs[1:])]


def run_tiled(src: np.ndarray, runner: Runner, out: np.ndarray, tile: int | None,
              tile_overlap: int, pre_pad: int, to_gray: bool = False,
              progress: Progress | None = None,
              on_note: Callable[[str], None] | None = None) -> None:
    """Upscale ``src`` (H, W, C) float32 [0, 1] by ``runner`` into ``out`` (sH, sW, C') in place.

    ``out`` is uint8 or uint16 (any view, e.g. ``rgba[..., :3]``); C' is 1 when ``to_gray``
    (the runner's RGB tiles are converted to luma) and C otherwise. A tile that runs out of
    memory (TensorFlow's ``ResourceExhaustedError`` or ``MemoryError``) is split in four and
    retried, down to ``MIN_TILE``; ``on_note`` hears about it once per image.
    """
    h, w = src.shape[:2]
    s = runner.scale
    pad = max(0, min(int(pre_pad), h - 1, w - 1))  # reflection needs pad < size
    if pad:
        src = np.pad(src, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    hp, wp = src.shape[:2]
    ov = max(0, int(tile_overlap))
    todo = list(tile_grid(h, w, tile))[::-1]  # a stack: pop() takes the first box
    whole = len(todo) == 1
    done_px, smallest = 0, None
    while todo:
        y0, y1, x0, x1 = box = todo.pop()
        ctx = max(hp, wp) if whole else ov  # one tile: the whole padded image is its context
        # tile in padded coordinates, grown by the overlap (clipped to the padded image)
        py0, py1 = max(0, y0 + pad - ctx), min(hp, y1 + pad + ctx)
        px0, px1 = max(0, x0 + pad - ctx), min(wp, x1 + pad + ctx)
        try:
            sr = runner(src[None, py0:py1, px0:px1])[0]  # (s(py1-py0), s(px1-px0), C) in [0, 1]
        except Exception as e:
            parts = _quarters(box)
            if not is_out_of_memory(e) or len(parts) == 1:
                raise
            todo += parts[::-1]
            whole = False
            side = max(p[1] - p[0] for p in parts)
            if smallest is None and on_note is not None:
                on_note(f"out of memory in a {y1 - y0}x{x1 - x0} tile: retrying in tiles of "
                        f"{side}")
            smallest = side
            continue
        cy, cx = (y0 + pad - py0) * s, (x0 + pad - px0) * s  # where the centre starts
        centre = sr[cy:cy + (y1 - y0) * s, cx:cx + (x1 - x0) * s]
        if to_gray:
            centre = (centre @ LUMA_WEIGHTS)[..., None]
        out[y0 * s:y1 * s, x0 * s:x1 * s] = to_pixels(centre, out.dtype)
        done_px += (y1 - y0) * (x1 - x0)
        if progress is not None:
            progress(done_px, h * w)


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
    colour = pixels_to_unit(colour, top)
    if gray:
        colour = np.repeat(colour, 3, axis=2)
    alpha = pixels_to_unit(arr[..., -1:], top) if layout in ("la", "rgba") else None
    return colour, alpha, gray, dtype, layout


def resize_lanczos(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, C) uint8/uint16 -> (size[0], size[1], C), Lanczos (a=3), as Real-ESRGAN's
    ``--outscale`` resizes the network's output (``cv2.INTER_LANCZOS4`` there; Pillow's
    antialiased ``LANCZOS`` here, which also filters properly when shrinking).

    uint8 gray/RGB/RGBA go through Pillow in one piece (RGBA with premultiplied alpha); other
    layouts and 16-bit samples channel by channel as 32-bit float images.
    """
    from PIL import Image

    h, w = size
    if arr.shape[:2] == (h, w):
        return arr
    c = arr.shape[2]
    if arr.dtype == np.uint8 and c in (1, 3, 4):
        im = Image.fromarray(arr[..., 0] if c == 1 else arr)
        out = np.asarray(im.resize((w, h), Image.LANCZOS))
        return out[..., None] if c == 1 else out
    res = np.empty((h, w, c), arr.dtype)
    for k in range(c):
        band = Image.fromarray(arr[..., k].astype(np.float32), "F").resize((w, h), Image.LANCZOS)
        top = np.iinfo(arr.dtype).max
        res[..., k] = np.clip(np.round(np.asarray(band)), 0, top).astype(arr.dtype)
    return res


def upscale_image(image, model, tile: int | str | None = "auto",
                  tile_overlap: int = DEFAULT_OVERLAP, pre_pad: int = DEFAULT_PRE_PAD,
                  progress: bool | Progress = False, outscale: float | None = None,
                  size: tuple[int, int] | None = None, color_fix: bool = False,
                  on_note: Callable[[str], None] | None = None, source=None) -> np.ndarray:
    """Upscale one decoded image of any size by a generator; uint8 (uint16 for 16-bit input).

    This is the Python API behind the CLI (and the video and web front ends).

    Args:
        image: uint8 or uint16 array (H, W), (H, W, 1), (H, W, 2) LA, (H, W, 3) RGB or
            (H, W, 4) RGBA; a float array in [0, 1] (gives uint8); or a ``LoadedImage``.
        model: a runner (``load_generator``), an in-memory Keras generator, or a model path.
        tile: LR tile side; ``"auto"`` (default) picks it from the image size and the memory
            available (:func:`auto_tile`: the whole image when it fits); ``None`` or 0 runs the
            whole image at once.
        tile_overlap: LR pixels of context on each side of a tile, cropped away after.
        pre_pad: reflection padding at the image borders, cropped away after (0 = the network's
            own zero padding, as in the paper's evaluation).
        progress: ``True`` for a tqdm bar over the tiles when there are several, or a callable
            ``progress(lr_pixels_done, lr_pixels_total)`` called after every tile.
        outscale: final scale (e.g. 2.5): the network's output is resized by Lanczos.
        size: final (height, width) instead (see :func:`output_size`); wins over ``outscale``.
        color_fix: transfer the input's low-frequency colour onto the output
            (:class:`srgan_keras.inference.colorfix.ColorFixRunner`).
        on_note: called with one line when something had to be adapted (an OOM retry).
        source: the input's file (path or Pillow image), for a ``denoise_strength="auto"``
            runner to read its JPEG quality; without it only the noise is estimated.

    Returns the same layout as the input (gray stays gray, alpha kept; a ``LoadedImage`` gives
    (sH, sW) gray, (sH, sW, 2) LA, (sH, sW, 3) or (sH, sW, 4)), ``s`` times larger (or resized).
    """
    runner = as_runner(model)
    colour, alpha, gray, dtype, layout = _split(image)
    if hasattr(runner, "for_image"):  # denoise_strength="auto": this image's blend
        runner, _ = runner.for_image(colour, source)
    if color_fix:
        runner = ColorFixRunner(runner)
    h, w = colour.shape[:2]
    s = runner.scale
    if size is None and outscale is not None:
        size = output_size(h, w, s, outscale)
    if tile == "auto":
        tile = auto_tile(h, w, runner, tile_overlap, pre_pad)
    elif isinstance(tile, str):
        raise ValueError(f"tile must be an integer, None or 'auto', got {tile!r}")
    bar = None
    if progress is True:
        n_tiles = len(list(tile_grid(h, w, tile)))
        if n_tiles > 1:
            from tqdm import tqdm

            bar = tqdm(total=h * w, desc="tiles", unit="px", unit_scale=True, leave=False,
                       disable=None)

            def progress(done: int, total: int) -> None:
                bar.update(done - bar.n)
        else:
            progress = None
    elif progress is False:
        progress = None
    channels = {"2d": 1, "c1": 1, "la": 2, "rgb": 3, "rgba": 4}[layout]
    out = np.empty((h * s, w * s, channels), dtype=dtype)  # the only full-size array
    n_colour = 1 if gray else 3
    try:
        run_tiled(colour, runner, out[..., :n_colour], tile, tile_overlap, pre_pad,
                  to_gray=gray, progress=progress, on_note=on_note)
    finally:
        if bar is not None:
            bar.close()
    del colour
    if alpha is not None:
        run_tiled(alpha, BicubicRunner(s), out[..., n_colour:], tile, tile_overlap, pre_pad)
    if size is not None and tuple(size) != out.shape[:2]:
        out = resize_lanczos(out, tuple(size))
    return out[..., 0] if layout == "2d" else out
