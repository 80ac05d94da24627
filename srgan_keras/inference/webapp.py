"""A local web page to try the generators: drop an image, choose a model, compare, download.

    python -m srgan_keras.app [--port N] [--model PATH ...] [--tile N] [--open]

Gradio (the ``[app]`` extra) serves one page on 127.0.0.1 only; nothing is fetched from the
internet while it runs: analytics and Gradio's version check are off, no share tunnel (frpc) is
started, server-side rendering (a Node process) is off, and the theme's fonts are the ones in the
Gradio wheel. The page has

- an image drop zone (the original file is used, so 16-bit PNGs, alpha, gray and EXIF rotation
  are handled exactly as by ``python -m srgan_keras.upscale``);
- the model: the bundled generators (every entry of ``bundled.BUNDLED`` whose file exists,
  so models added later appear by themselves), ``bicubic`` as the baseline, the zoo's names
  (:mod:`srgan_keras.inference.zoo`: downloaded and converted the first time one runs), and any
  ``--model`` given on the command line;
- the denoise strength, shown only for a model that has a weak-denoise twin to interpolate
  with (issue 12.5; Real-ESRGAN's ``-dn``), detected from the loading API: *Auto* (ticked by
  default, as the CLI's ``--denoise-strength auto``) chooses it per image from the photo's noise
  and JPEG quality and the summary line says the value chosen; unticked, the slider sets it;
- a before/after slider (Gradio's ``ImageSlider``; two images side by side on a Gradio without
  it), where *before* is the input enlarged by bicubic interpolation to the output's size;
- the result as a file to download, in the input's format, named ``<stem>_x<s>.<ext>``, with
  the input's ICC profile, EXIF, PNG text and DPI, as the CLI writes it.

Images run tile by tile when large (:mod:`srgan_keras.inference.tiling`, the tile size chosen
from the memory available) with a progress bar, one request at a time (two would share the same
CPU cores and both finish later).
"""

from __future__ import annotations

import argparse
import functools
import inspect
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srgan_keras.data.imaging import LoadedImage
from srgan_keras.data.ranges import uint16_to_uint8
from srgan_keras.errors import SrganKerasError
from srgan_keras.startup import import_tensorflow

HOST = "127.0.0.1"  # local only: the page is never served on other interfaces
PREVIEW_SIDE = 2048  # our choice: the slider shows at most this many pixels on the long side
EXTRA_HINT = "pip install 'srgan_keras[app]'"
DENOISE_DEFAULT = "auto"  # as the CLI (issue 24.1): the strength chosen per image
SLIDER_DEFAULT = 0.5  # the slider's start when Auto is unticked: Real-ESRGAN's default for -dn
# Our choice: the page takes uploads of at most 4096x4096 pixels (16.8 MP; a x4 result is then
# 268 MP) unless --max-pixels says otherwise: it serves one request at a time, so one huge upload
# would hold the queue for minutes (issue 27.7: 9400x9400 took 7 GB and two minutes).
WEB_MAX_PIXELS = 4096 * 4096


def _offline_gradio_env() -> None:
    """Before Gradio is imported: no usage analytics and no version check (both are HTTP requests
    to Gradio's servers), no Hugging Face Hub telemetry or look-ups (Gradio imports its client)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


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
    model has a bundled TFLite twin (``runtime="auto"``, issue 29.1); TensorFlow is imported, with
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


def needs_tensorflow(argv: list[str]) -> bool:
    """For :func:`srgan_keras.startup.run_cli`: the page starts without TensorFlow; a request for
    a model that needs it imports it then (:func:`load_runner`)."""
    return False


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
    load, and, from its header before anything is decoded, for one with more than ``max_pixels``
    pixels (0: Pillow's limit only) or whose result would not fit the memory available: the
    CLI's own checks and lines.
    """
    from srgan_keras.data.imaging import ImageError, check_pixels
    from srgan_keras.data.metadata import SOFTWARE, metadata_for, probe
    from srgan_keras.inference.tiling import memory_refusal, upscale_image
    from srgan_keras.inference.upscale import (
        FORMATS,
        output_format,
        read_input,
        sample_layout,
        write_output,
    )

    src = Path(path)
    strength = None
    if denoise_strength is not None and denoise_supported(model):
        strength = "auto" if denoise_strength == "auto" else round(float(denoise_strength), 2)
    runner = load_runner(model, strength)
    try:
        header = probe(src)  # the decompression-bomb check, and the metadata to carry over
        check_pixels(src, header.width, header.height, max_pixels or None)
        k = runner.scale
        too_big = memory_refusal(src, header.height, header.width, *sample_layout(header), k,
                                 (header.height * k, header.width * k), "use a smaller image")
        if too_big:
            raise ImageError(too_big)
        image = read_input(src)
    except ImageError as e:  # the upload's temporary path means nothing to the user
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
    fmt = output_format(src, None)
    dst = Path(out_dir) / f"{src.stem}_x{runner.scale}.{fmt}"
    meta = metadata_for(header, out.shape[1], out.shape[0], image.gray, FORMATS[fmt],
                        f"{SOFTWARE} ({runner.name})")
    note = write_output(dst, out, fmt, meta)  # ICC profile, EXIF, PNG text and DPI kept
    name = Path(model).name
    if estimate is not None:
        name += f", {estimate.describe()}"
    elif isinstance(strength, float):
        name += f", denoise {strength:.2f}"
    summary = (f"{w}x{h} -> {out.shape[1]}x{out.shape[0]} with {name} in {seconds:.1f} s"
               + (f" ({note})" if note else ""))
    return Result(dst, image, out, summary)


def build_ui(models: list[str], tile: int | str | None, work_dir: Path,
             max_pixels: int = WEB_MAX_PIXELS):
    """The page as a ``gradio.Blocks`` (not launched)."""
    _offline_gradio_env()
    import gradio as gr

    from srgan_keras.inference.bundled import BUNDLED

    has_slider = hasattr(gr, "ImageSlider")
    bundled = set(BUNDLED) | {"bicubic"}

    def on_model(model: str):
        shown = denoise_supported(model)
        return gr.update(visible=shown), gr.update(visible=shown)

    def run(path, model, auto, strength, progress=gr.Progress()):  # noqa: B008 (Gradio's API)
        if not path:
            raise gr.Error("Drop an image first.")
        progress(0, desc="loading the model")
        job = Path(tempfile.mkdtemp(dir=work_dir))

        def tiles(done: int, total: int) -> None:  # pixels done (per tile; whole image: 0, all)
            progress(done / max(total, 1), desc="upscaling")

        try:
            result = upscale_file(path, model, "auto" if auto else strength, job, tile, tiles,
                                  max_pixels)
        except AppError as e:
            shutil.rmtree(job, ignore_errors=True)
            raise gr.Error(str(e)) from None
        before, after = previews(result.image, result.out)
        if has_slider:
            return (before, after), str(result.path), result.summary
        return before, after, str(result.path), result.summary

    with gr.Blocks(title="srgan_keras: upscale an image", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## srgan_keras: upscale an image\nDrop an image, choose a model, press "
                    "**Upscale**. Everything runs on this computer.")
        with gr.Row():
            with gr.Column(scale=1):
                # type="filepath" with image_mode=None hands over the uploaded file itself (any
                # other mode re-encodes it), so 16-bit samples, alpha and metadata arrive intact
                image = gr.Image(label="Image", type="filepath", image_mode=None,
                                 sources=["upload", "clipboard"], elem_id="input-image")
                labels = [(Path(m).name if m not in bundled else m, m) for m in models]
                model = gr.Dropdown(labels, value=models[0], label="Model", elem_id="model")
                auto = gr.Checkbox(value=DENOISE_DEFAULT == "auto",
                                   label="Auto denoise strength (from the photo's noise and JPEG "
                                         "quality; the result line says the value chosen)",
                                   visible=denoise_supported(models[0]), elem_id="denoise-auto")
                strength = gr.Slider(0, 1, value=SLIDER_DEFAULT, step=0.05,
                                     label="Denoise strength when Auto is off (0 = the weak-denoise "
                                           "twin, 1 = the model as trained)",
                                     visible=denoise_supported(models[0]), elem_id="denoise")
                button = gr.Button("Upscale", variant="primary", elem_id="upscale")
            with gr.Column(scale=2):
                if has_slider:
                    results = [gr.ImageSlider(label="Before (bicubic) | after", type="pil",
                                              format="png", elem_id="compare")]
                else:
                    results = [gr.Image(label="Before (bicubic)", type="pil", format="png"),
                               gr.Image(label="After", type="pil", format="png",
                                        elem_id="compare")]
                download = gr.File(label="Download the result", elem_id="download")
                info = gr.Markdown(elem_id="summary")
        model.change(on_model, model, [auto, strength])
        button.click(run, [image, model, auto, strength], [*results, download, info],
                     concurrency_limit=1, show_progress_on=results[-1])
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from srgan_keras.inference import zoo
    from srgan_keras.inference.upscale import parse_tile, tile_flag_error
    from srgan_keras.inference.zoo import add_list_models_flag

    ap = argparse.ArgumentParser(prog="python -m srgan_keras.app",
                                 description="A local web page to upscale images.")
    ap.add_argument("--port", type=int, default=None,
                    help="port on 127.0.0.1 (default: the first free one from 7860)")
    ap.add_argument("--model", action="append", default=[], metavar="PATH",
                    help="another generator to offer (.keras, SavedModel, .tflite, .onnx); repeatable "
                         "(the zoo's names are offered already)")
    add_list_models_flag(ap)
    ap.add_argument("--tile", type=parse_tile, default="auto",
                    help="LR tile side in pixels, 0 = whole image (default auto: from the image "
                         "size and the memory available)")
    ap.add_argument("--max-pixels", type=int, default=WEB_MAX_PIXELS,
                    help="refuse uploads with more pixels, from their header (default "
                         f"{WEB_MAX_PIXELS}, 4096x4096; 0 = Pillow's decompression-bomb limit)")
    ap.add_argument("--open", action="store_true", help="open the page in the default browser")
    args = ap.parse_args(argv)
    if args.max_pixels < 0:
        ap.error("--max-pixels must be >= 0 (0 = Pillow's limit)")
    if (why := tile_flag_error(args.tile)) is not None:  # the CLI's minimum (issue 27.13)
        ap.exit(2, f"error: {why}\n")
    for m in args.model:
        if not Path(m).exists() and zoo.lookup(m) is None:
            ap.error(f"--model {m}: no such file or folder")
    return args


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _offline_gradio_env()
    try:
        import gradio  # noqa: F401
    except ImportError:
        print(f"error: the web page needs Gradio, which is not installed: {EXTRA_HINT}",
              file=sys.stderr)
        return 2
    models = model_choices(args.model)
    work_dir = Path(tempfile.mkdtemp(prefix="srgan_keras_app_"))
    signal.signal(signal.SIGTERM, _stop)  # a service manager's stop: clean up as for Ctrl-C
    demo = None
    try:
        demo = build_ui(models, args.tile or None, work_dir, args.max_pixels)
        demo.queue(default_concurrency_limit=1)
        # No Node server for server-side rendering, no web-app manifest, no MCP endpoint, where
        # this Gradio has those switches at all.
        launch_params = inspect.signature(demo.launch).parameters
        extras = {k: False for k in ("ssr_mode", "pwa", "mcp_server") if k in launch_params}
        # Gradio's own lines offer a public share link, which this page never makes (issue 28.5):
        # quiet, and the one line a user needs is ours.
        extras.update({"quiet": True} if "quiet" in launch_params else {})
        demo.launch(server_name=HOST, server_port=args.port, share=False, inbrowser=args.open,
                    show_error=True, prevent_thread_lock=True, **extras)
        print(f"the page is at http://{HOST}:{demo.server_port}/ (this computer only; Ctrl-C stops it)",
              flush=True)
        while demo.is_running:  # until Ctrl-C or SIGTERM
            time.sleep(0.2)
    except OSError as e:  # the port is taken
        why = "in use; pass another --port" if "empty port" in str(e) else _first_line(e)
        print(f"error: cannot serve on {HOST}:{args.port or 7860}: {why}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        if demo is not None:
            demo.close()
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0
