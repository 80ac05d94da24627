"""A local web page to try the generators: images, several at once, or a short video.

    python -m srgan_keras.app [--port N] [--model PATH ...] [--tile N] [--max-pixels N] [--open]

Gradio (the ``[app]`` extra) serves one page on 127.0.0.1 only; nothing is fetched from the
internet while it runs: analytics and Gradio's version check are off, no share tunnel (frpc) is
started and no share link offered, server-side rendering (a Node process) is off, the theme's
fonts are the ones in the Gradio wheel, and no component keeps a stream open to the server. The
page has, on its left, the settings every tab uses:

- the model: the bundled generators (every entry of ``bundled.BUNDLED`` whose file exists,
  so models added later appear by themselves), ``bicubic`` as the baseline, the zoo's names
  (:mod:`srgan_keras.inference.zoo`: downloaded and converted the first time one runs), and any
  ``--model`` given on the command line;
- the denoise strength, shown only for a model that has a weak-denoise twin to interpolate
  with (issue 12.5; Real-ESRGAN's ``-dn``): *Auto* (ticked by default, as the CLI's
  ``--denoise-strength auto``) chooses it per image and the summary says the value chosen;
  unticked, the slider sets it;
- the output (issue 28.5), each control labelled with the upscale command's flag it is: the
  scale (``--outscale``) or a box to fit in (``--width``/``--height``), the format (the input's,
  PNG, JPEG or WebP: ``--format``), the quality of JPEG and WebP (``--quality``) and the colour
  fix (``--color-fix``). They are the command's flags, parsed by its parser and carried out by
  its code (:mod:`.web_settings`), so the page's file is the command's for the same settings,
  and each summary ends with that command.

and three tabs:

- **One image**: a drop zone (the original file is used, so 16-bit PNGs, alpha, gray and EXIF
  rotation are handled exactly as by ``python -m srgan_keras.upscale``), a before/after slider
  (Gradio's ``ImageSlider``; two images side by side on a Gradio without it; *before* is the
  input enlarged by bicubic interpolation to the output's size) and the result to download,
  named ``<stem>_x<s>.<ext>`` with the input's ICC profile, EXIF, PNG text and DPI
  (:mod:`.web_upscale`);
- **Several images**: a multi-file upload, a line per file (one that fails is its line, the
  others are done), one zip of the results, and the before/after of the one chosen in a menu
  (:mod:`.web_batch`: at most ``WEB_MAX_FILES`` files and ``--max-pixels`` pixels in all);
- **Video**: a short video (:mod:`.web_video`: bounded in length, frames, frame size and bytes)
  upscaled frame by frame with its audio, to download; without the ``[video]`` extra the tab is
  one line saying how to get it.

Every refusal is one line before the model runs: an upload over ``--max-pixels`` or whose result
would be larger than its format or the memory allows, a batch or video over its bounds, settings
the command refuses. Each request's results go to a job folder of their own, removed when the
next request starts (Gradio serves the downloads from its own cache by then) or at once if the
request failed; the page's work folder goes when it stops (Ctrl-C or SIGTERM), or, after a
``kill -9``, when the next page starts; so a page left running does not pile up results.

Images run tile by tile when large (:mod:`srgan_keras.inference.tiling`, the tile size chosen
from the memory available) with a progress bar, one request at a time (two would share the same
CPU cores and both finish later).
"""

from __future__ import annotations

import argparse
import inspect
import os
import signal
import sys
import time
from pathlib import Path

from srgan_keras.errors import command, first_line
from srgan_keras.inference.image_io import DEFAULT_QUALITY
from srgan_keras.inference.web_batch import WEB_MAX_FILES, upscale_batch
from srgan_keras.inference.web_settings import FORMAT_CHOICES, AppError, settings_from_controls
from srgan_keras.inference.web_upscale import (
    DENOISE_DEFAULT,
    SLIDER_DEFAULT,
    WEB_MAX_PIXELS,
    JobFolders,
    denoise_for,
    denoise_supported,
    file_previews,
    model_choices,
    previews,
    upscale_upload,
)
from srgan_keras.inference.web_video import (
    WEB_MAX_VIDEO_SECONDS,
    VideoLimits,
    upscale_video_upload,
    video_unavailable,
)

HOST = "127.0.0.1"  # local only: the page is never served on other interfaces
EXTRA_HINT = "pip install 'srgan_keras[app]'"


def _offline_gradio_env() -> None:
    """Before Gradio is imported: no usage analytics and no version check (both are HTTP requests
    to Gradio's servers), no Hugging Face Hub telemetry or look-ups (Gradio imports its client)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def needs_tensorflow(argv: list[str]) -> bool:
    """For :func:`srgan_keras.startup.run_cli`: the page starts without TensorFlow; a request for
    a model that needs it imports it then
    (:func:`srgan_keras.inference.web_upscale.load_runner`)."""
    return False


def build_ui(models: list[str], tile: int | str | None, jobs: JobFolders,
             max_pixels: int = WEB_MAX_PIXELS):
    """The page as a ``gradio.Blocks`` (not launched); each request's results go to a folder of
    ``jobs``."""
    _offline_gradio_env()
    import gradio as gr

    from srgan_keras.inference.bundled import BUNDLED

    has_slider = hasattr(gr, "ImageSlider")
    bundled = set(BUNDLED) | {"bicubic"}
    no_video = video_unavailable()

    def on_model(model: str):
        shown = denoise_supported(model)
        return gr.update(visible=shown), gr.update(visible=shown)

    def settings(model, auto, strength, outscale, width, height, fmt, quality, color_fix):
        try:
            return settings_from_controls(model, denoise_for(model, "auto" if auto else strength),
                                          outscale, width, height, fmt, quality, color_fix, tile)
        except AppError as e:  # a value no flag takes: the page's one line
            raise gr.Error(str(e)) from None

    def in_job(work):
        """Run ``work(job)`` in a fresh job folder (the previous request's goes); a failure
        removes the folder and becomes the page's one-line error."""
        job = jobs.new()
        try:
            out = work(job)
        except AppError as e:
            jobs.failed(job)
            raise gr.Error(str(e)) from None
        except BaseException:  # Gradio shows it; the folder must not stay behind
            jobs.failed(job)
            raise
        jobs.finished(job)
        return out

    def compare(pair):
        return (pair,) if has_slider else pair

    def run(path, *controls, progress=gr.Progress()):  # noqa: B008 (Gradio's API)
        if not path:
            raise gr.Error("Drop an image first.")
        progress(0, desc="loading the model")

        def tiles(done: int, total: int) -> None:  # pixels done (per tile; whole image: 0, all)
            progress(done / max(total, 1), desc="upscaling")

        chosen = settings(*controls)
        result = in_job(lambda job: upscale_upload(path, chosen, job, tiles, max_pixels))
        again = chosen.command([Path(path).name])
        return (*compare(previews(result.image, result.out)), str(result.path),
                f"{result.summary}\n\nThe same from a terminal: `{again}`")

    def run_batch(paths, *controls, progress=gr.Progress()):  # noqa: B008 (Gradio's API)
        paths = [p if isinstance(p, str) else p.name for p in paths or []]
        progress(0, desc="loading the model")

        def tiles(done: int, total: int | None) -> None:
            progress(done / max(total or 1, 1), desc="upscaling")

        chosen = settings(*controls)
        batch = in_job(lambda job: upscale_batch(paths, chosen, job, tiles, max_pixels))
        if batch.zip is None:
            raise gr.Error("; ".join(batch.lines))
        names = [dst.name for _, dst in batch.done]
        lines = "\n".join(f"- {line}" for line in batch.lines)
        head = f"{len(batch.done)} upscaled, {batch.failed} failed"
        compared.clear()  # the last batch's results only: the older ones' folder is gone
        compared.update((dst.name, (src, dst)) for src, dst in batch.done)
        again = chosen.command([Path(p).name for p in paths])
        return (f"{head}\n\n{lines}\n\nThe same from a terminal: `{again}`", str(batch.zip),
                gr.update(choices=names, value=names[0], visible=True),
                *compare(file_previews(*batch.done[0])))

    # the last batch's results by name, for its Compare menu: kept here, not in a gr.State,
    # which would open a heartbeat stream to the server for every page left open
    compared: dict[str, tuple[Path, Path]] = {}

    def pick(name):
        if name not in compared:
            raise gr.Error("Upscale the images again: a newer job replaced these results.")
        try:
            return compare(file_previews(*compared[name]))
        except AppError as e:
            raise gr.Error(str(e)) from None

    def run_video(path, *controls, progress=gr.Progress()):  # noqa: B008 (Gradio's API)
        if not path:
            raise gr.Error("Drop a video first.")
        progress(0, desc="loading the model")

        def frames(done: int, total: int | None) -> None:
            progress(done / max(total or 1, 1), desc=f"frame {done}")

        chosen = settings(*controls)
        limits = VideoLimits(pixels=max_pixels)  # all its frames: one image's budget
        result = in_job(lambda job: upscale_video_upload(path, chosen, job, frames, limits))
        again = chosen.command([Path(path).name])
        return str(result.path), f"{result.summary}\n\nThe same from a terminal: `{again}`"

    def before_after(elem_id: str):
        if has_slider:
            return [gr.ImageSlider(label="Before (bicubic) | after", type="pil", format="png",
                                   elem_id=elem_id)]
        return [gr.Image(label="Before (bicubic)", type="pil", format="png"),
                gr.Image(label="After", type="pil", format="png", elem_id=elem_id)]

    with gr.Blocks(title="srgan_keras: upscale an image", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## srgan_keras: upscale an image\nChoose a model and the output, drop an "
                    "image (or several, or a short video), press **Upscale**. Everything runs on "
                    "this computer, as `python -m srgan_keras.upscale` does with the same "
                    "settings.")
        with gr.Row():
            with gr.Column(scale=1):
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
                controls = [model, auto, strength, *output_controls(gr)]
            with gr.Column(scale=2), gr.Tabs():
                with gr.Tab("One image", id="one"):
                    # type="filepath" with image_mode=None hands over the uploaded file itself
                    # (any other mode re-encodes it): 16-bit samples, alpha, metadata intact
                    image = gr.Image(label="Image", type="filepath", image_mode=None,
                                     sources=["upload", "clipboard"], elem_id="input-image")
                    button = gr.Button("Upscale", variant="primary", elem_id="upscale")
                    results = before_after("compare")
                    download = gr.File(label="Download the result", elem_id="download")
                    info = gr.Markdown(elem_id="summary")
                with gr.Tab("Several images", id="several"):
                    files = gr.File(label="Images (several at once; at most "
                                          f"{WEB_MAX_FILES} files)", file_count="multiple",
                                    type="filepath", elem_id="batch-input")
                    batch_button = gr.Button("Upscale all", variant="primary",
                                             elem_id="upscale-batch")
                    batch_info = gr.Markdown(elem_id="batch-summary")
                    batch_zip = gr.File(label="Download all (zip)", elem_id="batch-zip")
                    chosen = gr.Dropdown([], label="Compare", visible=False, elem_id="batch-pick")
                    batch_results = before_after("batch-compare")
                with gr.Tab("Video", id="video"):
                    if no_video:
                        gr.Markdown(no_video, elem_id="video-missing")
                    else:
                        video_in = gr.File(label="A short video (at most "
                                                 f"{WEB_MAX_VIDEO_SECONDS} s and --max-pixels in "
                                                 "all its frames; the scale "
                                                 "and colour fix apply, the format is the "
                                                 "video's)",
                                           type="filepath", elem_id="video-input")
                        video_button = gr.Button("Upscale the video", variant="primary",
                                                 elem_id="upscale-video")
                        video_out = gr.File(label="Download the video", elem_id="video-download")
                        video_info = gr.Markdown(elem_id="video-summary")
        model.change(on_model, model, [auto, strength])
        fmt, quality = controls[6], controls[7]  # PNG is lossless: no quality to set
        fmt.change(lambda f: gr.update(visible=FORMAT_CHOICES[f] != "png"), fmt, quality)
        button.click(run, [image, *controls], [*results, download, info],
                     concurrency_limit=1, show_progress_on=results[-1])
        batch_button.click(run_batch, [files, *controls],
                           [batch_info, batch_zip, chosen, *batch_results],
                           concurrency_limit=1, show_progress_on=batch_info)
        chosen.input(pick, chosen, batch_results, concurrency_limit=1)
        if not no_video:
            video_button.click(run_video, [video_in, *controls], [video_out, video_info],
                               concurrency_limit=1, show_progress_on=video_info)
    return demo


def output_controls(gr) -> list:
    """The output settings, each the upscale command's flag of the same name (its label says
    which): scale or box, format, quality, colour fix."""
    with gr.Accordion("Output", open=True):
        outscale = gr.Number(None, label="Scale (--outscale; 0: the model's own)", minimum=0,
                             elem_id="outscale")
        with gr.Row():
            width = gr.Number(None, label="or fit in width (--width; 0: any)", precision=0, minimum=0,
                              elem_id="width")
            height = gr.Number(None, label="and height (--height; 0: any)", precision=0, minimum=0,
                               elem_id="height")
        fmt = gr.Dropdown(list(FORMAT_CHOICES), value=next(iter(FORMAT_CHOICES)),
                          label="Format (--format)", elem_id="format")
        quality = gr.Slider(1, 100, value=DEFAULT_QUALITY, step=1,
                            label="Quality of JPEG and WebP (--quality; WebP 100 = lossless)",
                            elem_id="quality")
        color_fix = gr.Checkbox(False, label="Colour fix (--color-fix): keep the input's colours",
                                elem_id="color-fix")
    return [outscale, width, height, fmt, quality, color_fix]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from srgan_keras.inference import zoo
    from srgan_keras.inference.upscale_args import parse_tile, tile_flag_error
    from srgan_keras.inference.zoo import add_list_models_flag

    ap = argparse.ArgumentParser(prog="python -m srgan_keras.app",
                                 description="A local web page to upscale images.")
    ap.add_argument("--port", type=int, default=None,
                    help="port on 127.0.0.1 (default: the first free one from 7860)")
    ap.add_argument("--model", action="append", default=[], metavar="PATH",
                    help="another generator to offer (.keras, SavedModel, .tflite, .onnx, .pth); repeatable "
                         "(the zoo's names are offered already)")
    add_list_models_flag(ap)
    ap.add_argument("--tile", type=parse_tile, default="auto",
                    help="LR tile side in pixels, 0 = whole image (default auto: from the image "
                         "size and the memory available)")
    ap.add_argument("--max-pixels", type=int, default=WEB_MAX_PIXELS,
                    help="refuse uploads with more pixels, and batches with more in all, from "
                         f"their headers (default {WEB_MAX_PIXELS}, 4096x4096; 0 = Pillow's "
                         "decompression-bomb limit per image, no bound in all)")
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


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


@command
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
    jobs = JobFolders()
    signal.signal(signal.SIGTERM, _stop)  # a service manager's stop: clean up as for Ctrl-C
    demo = None
    try:
        demo = build_ui(models, args.tile or None, jobs, args.max_pixels)
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
        why = "in use; pass another --port" if "empty port" in str(e) else first_line(e)
        print(f"error: cannot serve on {HOST}:{args.port or 7860}: {why}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        if demo is not None:
            demo.close()
        jobs.close()  # every job folder of the page's
    return 0
