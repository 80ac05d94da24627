"""The web page's work on one image, without Gradio: the models it offers, one upload upscaled as
the upscale command does it, the previews, and the job folders results are written to.

:mod:`.webapp` puts these on a page; here they are plain functions, so they are tested without a
browser. An upload is the command's input with the page's settings as its flags
(:mod:`.web_settings`): its plan (:func:`srgan_keras.inference.upscale_plan.plan_images`: the
output's name, size and format, checked from the header before anything is decoded or computed:
a result larger than its format allows, WebP's 16383 px per side, or than the memory available is
refused in the command's line) and its work (:func:`srgan_keras.inference.upscale.upscale_job`:
read, upscaled with ``--outscale`` or the box and ``--color-fix``, written in ``--format`` at
``--quality`` with the input's ICC profile, EXIF, PNG text and DPI, by the output rules of every
command, :class:`srgan_keras.data.outputs.OutputPlan`: an earlier result of ours is replaced, no
other file). The page adds its own bound, ``max_pixels`` (:data:`WEB_MAX_PIXELS` unless
``--max-pixels``), and its lines name the uploaded file, never its temporary path. Results go into
a fresh job folder (:class:`JobFolders`).
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srgan_keras.data.imaging import ImageError, LoadedImage, check_pixels
from srgan_keras.data.metadata import probe
from srgan_keras.data.outputs import OutputPlan
from srgan_keras.data.ranges import uint16_to_uint8
from srgan_keras.inference.upscale_plan import plan_images
from srgan_keras.inference.web_settings import AppError, Settings, cli_args, named
from srgan_keras.startup import filtered_stderr, import_tensorflow

__all__ = ["AppError", "JobFolders", "Result", "Settings", "denoise_for", "denoise_supported",
           "file_previews", "load_runner", "model_choices", "previews", "upscale_file", "upscale_upload"]

PREVIEW_SIDE = 2048  # our choice: the slider shows at most this many pixels on the long side
DENOISE_DEFAULT = "auto"  # as the CLI (issue 24.1): the strength chosen per image
SLIDER_DEFAULT = 0.5  # the slider's start when Auto is unticked: Real-ESRGAN's default for -dn
# Our choice: the page takes uploads of at most 4096x4096 pixels (16.8 MP; a x4 result is then
# 268 MP) unless --max-pixels says otherwise: it serves one request at a time, so one huge upload
# would hold the queue for minutes (issue 27.7: 9400x9400 took 7 GB and two minutes).
WEB_MAX_PIXELS = 4096 * 4096


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
        with filtered_stderr(False):  # a TFLite interpreter announces its XNNPACK delegate
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


def file_previews(src: str | os.PathLike, dst: str | os.PathLike):
    """:func:`previews` of an upload and its written result, read back from their files (a
    batch's chosen image: its arrays are not kept); :class:`AppError` if either is gone."""
    from srgan_keras.data.imaging import to_uint8
    from srgan_keras.inference.image_io import read_input

    try:
        image, result = read_input(Path(src)), read_input(Path(dst))
    except (ImageError, OSError):
        raise AppError(f"{Path(dst).name}: the result is gone (a newer job replaced it); "
                       "upscale again") from None
    colour = result.rgb[..., :1] if result.gray else result.rgb
    if result.alpha is not None:
        colour = np.concatenate([colour, result.alpha[..., None]], axis=2)
    return previews(image, to_uint8(colour))


def denoise_for(model: str, denoise_strength: float | str | None) -> float | str | None:
    """The strength the page asks for ``model``: ``"auto"``, a number rounded to 0.01 (the
    slider's step), or None where the model has no weak-denoise twin (the control is hidden)."""
    if denoise_strength is None or not denoise_supported(model):
        return None
    return "auto" if denoise_strength == "auto" else round(float(denoise_strength), 2)


def upscale_file(path: str | os.PathLike, model: str, denoise_strength: float | str | None,
                 out_dir: str | os.PathLike, tile: int | str | None = "auto",
                 on_progress: Callable[[int, int | None], None] | None = None,
                 max_pixels: int = WEB_MAX_PIXELS, **output) -> Result:
    """Upscale one uploaded file into ``out_dir/<stem>_x<s>.<ext>`` (the input's format).

    ``denoise_strength`` (a number in [0, 1] or ``"auto"``) applies to models that support it
    and is ignored for the others; ``output``: the other :class:`~.web_settings.Settings`
    (``outscale``, ``width``, ``height``, ``format``, ``quality``, ``color_fix``). The rest as
    :func:`upscale_upload`.
    """
    settings = Settings(model, denoise_for(model, denoise_strength), tile=tile, **output)
    return upscale_upload(path, settings, out_dir, on_progress, max_pixels)


def upscale_upload(path: str | os.PathLike, settings: Settings, out_dir: str | os.PathLike,
                   on_progress: Callable[[int, int | None], None] | None = None,
                   max_pixels: int = WEB_MAX_PIXELS, outputs: OutputPlan | None = None) -> Result:
    """Upscale one uploaded file as the upscale command would with the same settings.

    The command's arguments (:func:`~.web_settings.cli_args`), plan
    (:func:`~srgan_keras.inference.upscale_plan.plan_images`: the output's name and size, a
    result too large for its format or the memory available refused from the header) and work
    (:func:`~srgan_keras.inference.upscale.upscale_job`: read, upscale with ``--outscale`` or the
    box and ``--color-fix``, write in ``--format`` at ``--quality`` with the input's metadata).
    ``on_progress(done, total)`` (pixels): once when the model is loaded, then after every tile.
    Raises :class:`AppError` with one line naming the file (not its temporary path): not an
    image, more than ``max_pixels`` pixels (0: Pillow's limit only), a model that cannot load,
    a refusal of the command's. ``outputs``: the plan shared by a batch (two uploads never
    write the same file); None: a plan for this upload alone.
    """
    from srgan_keras.inference.upscale import failure_line, upscale_job

    src = Path(path)
    runner = load_runner(settings.model, settings.denoise)
    args = cli_args(settings, [src], out_dir)
    try:
        header = probe(src)  # the decompression-bomb check
        check_pixels(src, header.width, header.height, max_pixels or None)
    except ImageError as e:
        raise AppError(named(str(e), src)) from None
    refusals: list[str] = []
    jobs = plan_images(args, [(src, Path())], runner.scale, outputs or OutputPlan([src], True),
                       lambda msg, skip=False: refusals.append(msg), refusals.append)
    if not jobs:
        raise AppError(named(refusals[0] if refusals else f"{src}: not upscaled", src))
    job = jobs[0]
    h, w = header.height, header.width
    if on_progress is not None:
        on_progress(0, h * w)  # the model is loaded: the upscaling starts
    t0 = time.perf_counter()
    try:
        done = upscale_job(args, job, runner, progress=on_progress, keep=True)
    except Exception as e:  # noqa: BLE001 -- the command's line for a failed input
        raise AppError(named(failure_line(job.src, job.dst, e), src)) from None
    seconds = time.perf_counter() - t0
    name = Path(settings.model).name
    if done.estimate is not None:
        name += f", {done.estimate.describe()}"
    elif isinstance(settings.denoise, float):
        name += f", denoise {settings.denoise:.2f}"
    summary = (f"{w}x{h} -> {job.size[1]}x{job.size[0]} with {name} in {seconds:.1f} s"
               + (f" ({done.note})" if done.note else ""))
    return Result(job.dst, done.image, done.out, summary)


WORK_PREFIX = "srgan_keras_app_"
_WORK_NAME = re.compile(rf"^{WORK_PREFIX}(?P<pid>\d+)_\w+$")


def remove_dead_pages(parent: Path) -> list[Path]:
    """Remove the work folders in ``parent`` of pages whose process is gone; return them."""
    from srgan_keras.data.temporaries import writer_alive

    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for path in entries:
        m = _WORK_NAME.match(path.name)
        if m is None or not path.is_dir() or path.is_symlink():
            continue
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if not writer_alive(int(m.group("pid")), mtime):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class JobFolders:
    """The page's job folders: one fresh folder per upload, under one work folder of the page's.

    Our choice, for a page left running for days: a finished job's folder is kept until the next
    upload starts, then removed (Gradio copies a result into its own cache once the request has
    returned, and the download is served from there, so the page's copy is not needed longer);
    a failed job's folder is removed at once; the work folder, with whatever is in it, when the
    page stops (:meth:`close`). The page holds at most one finished result of its own on disk,
    however many it has served. A page killed with no chance to clean up (``kill -9``, a power
    cut) leaves its work folder; the work folder carries the page's pid in its name
    (``srgan_keras_app_<pid>_<random>``), and the next page started with the same temporary folder
    removes those whose process is gone (:func:`srgan_keras.data.temporaries.writer_alive`: the
    rule the CLIs' temporaries follow, issue 27.12).
    """

    def __init__(self, parent: str | os.PathLike | None = None):
        parent = Path(parent) if parent is not None else Path(tempfile.gettempdir())
        self.removed = remove_dead_pages(parent)
        self.root = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}_", dir=parent))
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
