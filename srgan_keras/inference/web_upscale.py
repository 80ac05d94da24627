"""The web page's work, without Gradio: the models it offers, one upload upscaled, the previews,
and the job folders its results are written to.

:mod:`.webapp` puts these on a page; here they are plain functions, so they are tested without a
browser. An upload is held to the upscale command's own checks and lines, from its header before
anything is decoded or computed: more than ``max_pixels`` pixels (:data:`WEB_MAX_PIXELS` unless
``--max-pixels``), a result larger than its format allows (WebP's 16383 px per side) or than the
memory available is refused in one line naming the file. The result is named and written as the
command writes it (:func:`srgan_keras.data.outputs.output_name`,
:func:`srgan_keras.inference.image_io.write_output`: the input's format, ICC profile, EXIF, PNG
text and DPI), by the output rules of every command (:class:`srgan_keras.data.outputs.OutputPlan`:
an earlier result of ours is replaced, no other file), into a fresh job folder (:class:`JobFolders`).
"""

from __future__ import annotations

import functools
import inspect
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srgan_keras.data.imaging import ImageError, LoadedImage, check_pixels
from srgan_keras.data.metadata import SOFTWARE, is_ours, metadata_for, probe
from srgan_keras.data.outputs import (
    OutputExistsError,
    OutputIsInputError,
    OutputPlan,
    output_name,
    size_tag,
)
from srgan_keras.data.ranges import uint16_to_uint8
from srgan_keras.errors import SrganKerasError
from srgan_keras.inference.image_io import (
    FORMATS,
    output_format,
    read_input,
    sample_layout,
    side_limit_error,
    write_output,
)
from srgan_keras.inference.tiling import memory_refusal, upscale_image
from srgan_keras.startup import import_tensorflow

PREVIEW_SIDE = 2048  # our choice: the slider shows at most this many pixels on the long side
DENOISE_DEFAULT = "auto"  # as the CLI (issue 24.1): the strength chosen per image
SLIDER_DEFAULT = 0.5  # the slider's start when Auto is unticked: Real-ESRGAN's default for -dn
# Our choice: the page takes uploads of at most 4096x4096 pixels (16.8 MP; a x4 result is then
# 268 MP) unless --max-pixels says otherwise: it serves one request at a time, so one huge upload
# would hold the queue for minutes (issue 27.7: 9400x9400 took 7 GB and two minutes).
WEB_MAX_PIXELS = 4096 * 4096


class AppError(SrganKerasError, ValueError):
    """A request the page cannot serve; shown to the user as one line."""



def model_choices(extra: list[str] | None = None) -> list[str]:
    """Bundled models whose file exists (the default first), ``bicubic``, then ``extra`` paths."""
    from srgan_keras.inference import bundled as shipped

    order = list(shipped.DEFAULT_ORDER) + [k for k in shipped.BUNDLED
                                             if k not in shipped.DEFAULT_ORDER]
    bundled = [k for k in order if (shipped.SAVED_MODELS / shipped.BUNDLED[k]).exists()]
    from srgan_keras.inference import zoo

    # the zoo's models (downloaded on first use), but not the twins --denoise-strength blends in
    twins = {e.twin for e in zoo.ENTRIES}
    named = bundled + ["bicubic"] + [e.name for e in zoo.ENTRIES if e.name not in twins]
    return named + [str(m) for m in extra or [] if str(m) not in named]


def _loader_takes_denoise() -> bool:
    from srgan_keras.inference import runners

    return "denoise_strength" in inspect.signature(runners.load_generator).parameters


@functools.lru_cache(maxsize=4)
def load_runner(model: str, denoise_strength: float | str | None = None):
    """A runner for ``model`` (cached: a generator loads once per strength), on LiteRT where the
    model has a bundled TFLite export (``runtime="auto"``, issue 29.1); TensorFlow is imported, with
    its start-up lines filtered as at a CLI's start, only for a model that needs it."""
    from srgan_keras.inference.litert import choose_runtime
    from srgan_keras.inference.runners import ModelNotFoundError, load_generator

    try:
        if choose_runtime(model, "auto", denoise_strength, None, "auto").runtime == "keras":
            import_tensorflow()
        if denoise_strength is None:
            return load_generator(model, precision="auto", runtime="auto")
        return load_generator(model, denoise_strength=denoise_strength, precision="auto",
                              runtime="auto")
    except (ModelNotFoundError, ValueError, ImportError) as e:
        raise AppError(str(e)) from None


@functools.cache
def denoise_supported(model: str) -> bool:
    """True when ``model`` has a weak-denoise twin to blend with (``load_generator``'s
    ``denoise_strength``, issue 12.5): a ``.keras`` file with ``NAME_wdn.keras`` beside it.

    Feature detection, so the page follows the loading API: ``runners.supports_denoise_strength``
    where it exists; else the twin look-up of :mod:`srgan_keras.nn.interpolation`; else no.
    """
    from srgan_keras.inference import runners, zoo

    entry = zoo.lookup(model)
    if entry is not None and not zoo.is_cached(entry):  # known from the table: no download yet
        return entry.twin is not None
    check = getattr(runners, "supports_denoise_strength", None)
    if callable(check):
        return bool(check(model))
    if model == "bicubic" or not _loader_takes_denoise():
        return False
    try:
        from srgan_keras.nn.interpolation import wdn_candidates

        path = runners.resolve_model_path(model)
    except (ImportError, runners.ModelNotFoundError):
        return False
    return path.suffix.lower() == ".keras" and any(c.is_file() for c in wdn_candidates(path))


def _to_uint8(a: np.ndarray) -> np.ndarray:
    return uint16_to_uint8(a) if a.dtype == np.uint16 else a


@dataclass
class Result:
    """One upscaled upload: the written file, the decoded input, the output array, a summary."""

    path: Path
    image: LoadedImage
    out: np.ndarray
    summary: str


def previews(image: LoadedImage, out: np.ndarray):
    """(before, after) PIL images of one size for the slider, at most PREVIEW_SIDE on a side.

    *before* is the input (EXIF-rotated, as the model saw it) enlarged by bicubic interpolation;
    both keep the alpha channel, gray stays gray.
    """
    from PIL import Image

    from srgan_keras.data.imaging import to_uint8

    after = Image.fromarray(_to_uint8(out[..., 0] if out.ndim == 3 and out.shape[2] == 1 else out))
    w, h = after.size
    k = min(1.0, PREVIEW_SIDE / max(w, h))
    size = (max(1, round(w * k)), max(1, round(h * k)))
    if size != after.size:
        after = after.resize(size, Image.Resampling.LANCZOS)
    colour = image.rgb[..., :1] if image.gray else image.rgb
    if image.alpha is not None:
        colour = np.concatenate([colour, image.alpha[..., None]], axis=2)
    small = to_uint8(colour)
    before = Image.fromarray(small[..., 0] if small.shape[2] == 1 else small)
    return before.resize(size, Image.Resampling.BICUBIC), after


def upscale_file(path: str | os.PathLike, model: str, denoise_strength: float | str | None,
                 out_dir: str | os.PathLike, tile: int | str | None = "auto",
                 on_progress: Callable[[int, int | None], None] | None = None,
                 max_pixels: int = WEB_MAX_PIXELS) -> Result:
    """Upscale one uploaded file into ``out_dir/<stem>_x<s>.<ext>`` (the input's format).

    ``denoise_strength`` (a number in [0, 1] or ``"auto"``) applies to models that support it
    and is ignored for the others;
    ``tile`` as for :func:`~srgan_keras.inference.tiling.upscale_image` (``"auto"``: from the
    image size and the memory available); ``on_progress(done, total)`` (pixels) after every
    tile. Raises AppError with one line for a file that is not an image or a model that cannot
    load, and, from its header before anything is decoded or computed, for one with more than
    ``max_pixels`` pixels (0: Pillow's limit only) or whose result would be larger than its
    format allows or not fit the memory available: the CLI's own checks and lines.
    """
    src = Path(path)
    strength = None
    if denoise_strength is not None and denoise_supported(model):
        strength = "auto" if denoise_strength == "auto" else round(float(denoise_strength), 2)
    runner = load_runner(model, strength)
    fmt = output_format(src, None)
    try:
        header = probe(src)  # the decompression-bomb check, and the metadata to carry over
        check_pixels(src, header.width, header.height, max_pixels or None)
        k = runner.scale
        size = (header.height * k, header.width * k)
        too_big = (side_limit_error(src, size, fmt, "upload it as a PNG, or a smaller image")
                   or memory_refusal(src, header.height, header.width, *sample_layout(header), k,
                                     size, "use a smaller image"))
        if too_big:
            raise ImageError(too_big)
        # the output rules of every command: an earlier result of ours is replaced, no other file
        dst = Path(out_dir) / output_name(src, size_tag(k), fmt)
        claim = OutputPlan([src], overwrite=True).claim(src, dst, is_ours)
        image = read_input(src)
    except (ImageError, OutputExistsError, OutputIsInputError) as e:  # the upload's temporary
        # path means nothing to the user
        raise AppError(str(e).replace(str(src), src.name)) from None
    h, w = image.rgb.shape[:2]
    if on_progress is not None:
        on_progress(0, h * w)  # the model is loaded: the upscaling starts
    t0 = time.perf_counter()
    estimate = None
    if hasattr(runner, "for_image"):  # auto: this photo's blend, from its noise and JPEG tables
        runner, estimate = runner.for_image(image, src)
    out = upscale_image(image, runner, tile=tile, progress=on_progress or False)
    seconds = time.perf_counter() - t0
    meta = metadata_for(header, out.shape[1], out.shape[0], image.gray, FORMATS[fmt],
                        f"{SOFTWARE} ({runner.name})")
    note = write_output(dst, out, fmt, meta, overwrite=claim.replace)  # ICC, EXIF, text, DPI kept
    name = Path(model).name
    if estimate is not None:
        name += f", {estimate.describe()}"
    elif isinstance(strength, float):
        name += f", denoise {strength:.2f}"
    summary = (f"{w}x{h} -> {out.shape[1]}x{out.shape[0]} with {name} in {seconds:.1f} s"
               + (f" ({note})" if note else ""))
    return Result(dst, image, out, summary)




class JobFolders:
    """The page's job folders: one fresh folder per upload, under one work folder of the page's.

    Our choice, for a page left running for days: a finished job's folder is kept until the next
    upload starts, then removed (Gradio copies a result into its own cache once the request has
    returned, and the download is served from there, so the page's copy is not needed longer);
    a failed job's folder is removed at once; the work folder, with whatever is in it, when the
    page stops (:meth:`close`). The page holds at most one finished result of its own on disk,
    however many it has served.
    """

    def __init__(self, parent: str | os.PathLike | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="srgan_keras_app_", dir=parent))
        self._finished: list[Path] = []

    def new(self) -> Path:
        """A fresh folder for the next upload; the previous finished jobs' folders are removed."""
        for old in self._finished:
            shutil.rmtree(old, ignore_errors=True)
        self._finished.clear()
        return Path(tempfile.mkdtemp(dir=self.root))

    def finished(self, job: Path) -> None:
        """``job`` holds a result the page has shown: kept until the next upload starts."""
        self._finished.append(job)

    def failed(self, job: Path) -> None:
        """``job`` came to nothing: removed now."""
        shutil.rmtree(job, ignore_errors=True)

    def close(self) -> None:
        """The page stops: every job folder goes, and the work folder."""
        shutil.rmtree(self.root, ignore_errors=True)
        self._finished.clear()
