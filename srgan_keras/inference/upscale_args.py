"""The upscale command's arguments: parsing, checking, and ``--help``.

    python -m srgan_keras.upscale INPUT... | --example [-o OUT_DIR] [--model PATH] [--outscale F |
        --width W --height H] [--color-fix] [--format png|jpg|webp] [--quality Q]
        [--tile N] [--overwrite] [--denoise-strength auto|S] [--runtime auto|keras|litert]
        [-q | --verbose]

A value that cannot work is refused here, in one line with exit status 2, before a model is
loaded (a ``--tile`` below :data:`MIN_TILE_FLAG`, a negative ``--outscale``, ``--outscale`` with a
``--width``/``--height`` box, ...). :func:`needs_tensorflow` tells the entry point whether the
command line will need TensorFlow (not for a bundled model run on LiteRT), and
:func:`choose_model` picks a bundled x2 model for ``--outscale 2``. The web page uses the same
``--tile`` rule (:func:`parse_tile`, :func:`tile_flag_error`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
from pathlib import Path

from PIL import Image

from srgan_keras.inference import video
from srgan_keras.inference.image_io import DEFAULT_QUALITY
from srgan_keras.inference.inputs import INPUT_EXTENSIONS
from srgan_keras.inference.litert import RUNTIMES
from srgan_keras.inference.precision import PRECISIONS
from srgan_keras.inference.tiling import DEFAULT_OVERLAP, DEFAULT_PRE_PAD
from srgan_keras.samples import EXAMPLE, example_photo
from srgan_keras.startup import add_verbose_flag

# Our choice: --tile below 32 LR pixels is refused: with the default 10 px of context on each
# side, a tile of 32 already computes 2.6 times its own pixels; --tile 1 ran for minutes.
MIN_TILE_FLAG = 32


def parse_tile(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or a number of pixels, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return n


def tile_flag_error(tile: int | str | None) -> str | None:
    """The one line refusing a ``--tile`` below MIN_TILE_FLAG (the CLI and the web page), or None."""
    if isinstance(tile, int) and 0 < tile < MIN_TILE_FLAG:
        return (f"--tile {tile}: a tile must be at least {MIN_TILE_FLAG} LR pixels (smaller ones "
                "compute mostly overlap and take minutes); use auto, 0 for the whole image, or "
                f"{MIN_TILE_FLAG} and up")
    return None


def parse_strength(value: str) -> float | str:
    """``--denoise-strength``: ``auto`` or a number in [0, 1] (range checked at load time)."""
    if value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or a number from 0 to 1, got {value!r}"
                                         ) from None


def _help_epilog() -> str:
    """The part of ``--help`` that a flag's line cannot hold: output names, model kinds, videos."""
    videos = " ".join(sorted(e.lstrip(".") for e in video.VIDEO_EXTENSIONS))
    kept = ", ".join(sorted(video.KEEP_CONTAINER))
    sample = Path(EXAMPLE).stem
    return f"""\
outputs:
  OUT_DIR/<name>_x4.<ext>      an image, in its own format unless --format (a folder input
                               keeps its sub-folders); <name>_x2.5.<ext> with --outscale 2.5,
                               <name>_1920x1080.<ext> with --width 1920 --height 1080
  OUT_DIR/<name>_x4.mp4        a video ({kept} keep their container)
  existing outputs are kept unless --overwrite

models (--model):
  realesr                      bundled, the default: Real-ESRGAN's compact network trained on
                               blur, noise and JPEG; --denoise-strength auto (the default)
                               blends it with its weak-denoise twin per photo, from the
                               photo's noise and JPEG quality; 0..1 sets the blend by hand.
                               It runs on LiteRT from its bundled TFLite exports, without
                               loading TensorFlow (--runtime; --verbose says which ran)
  srresnet, srgan              bundled: the paper's models, for clean (bicubic-downscaled) inputs
  bicubic                      no network: the baseline
  RealESRGAN_x4plus, ...       Real-ESRGAN's and ESRGAN's published weights, downloaded into
                               ~/.cache/srgan_keras on first use (SRGAN_KERAS_HOME moves it),
                               checked and converted once (--list-models: names, licences)
  FILE.keras                   a trained generator (a training run's generator.keras)
  FOLDER                       an exported SavedModel (python -m srgan_keras.export)
  FILE.tflite, FILE.onnx       exported models (.onnx needs pip install -e .[onnx])
  FILE.pth                     PyTorch weights (BasicSR, Real-ESRGAN, ESRGAN): converted on first
                               use into the same cache, without torch; later runs load that

videos:
  a file named as an INPUT (folders are searched for images only), one of
  {videos}
  every frame is upscaled; audio and subtitles are kept; needs pip install -e .[video]

examples:
  python -m srgan_keras.upscale --example -o upscaled/      -> upscaled/{sample}_x4.jpg (the sample)
  python -m srgan_keras.upscale photo.jpg                   -> upscaled/photo_x4.jpg
  python -m srgan_keras.upscale scans/ "raw/*.png" -o out/ --model srresnet
  python -m srgan_keras.upscale clip.mp4 -o out/            -> out/clip_x4.mp4
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from srgan_keras.inference.zoo import add_list_models_flag

    ap = argparse.ArgumentParser(
        prog="python -m srgan_keras.upscale",
        description="Upscale photos, folders, globs and videos x4 (by default with realesr,\n"
                    "the bundled real-world model).",
        epilog=_help_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="*", metavar="INPUT",
                    help="image files (" + " ".join(e.lstrip(".") for e in INPUT_EXTENSIONS)
                         + "; GIF: its first frame), folders (searched recursively for images), "
                           "globs in quotes (\"raw/*.png\") or video files (see below)")
    ap.add_argument("--example", action="store_true",
                    help=f"also upscale the bundled sample photo ({EXAMPLE}: a 180x120 JPEG of "
                         "quality 30, shipped in the package), so a first run needs no photo: "
                         "python -m srgan_keras.upscale --example -o upscaled/")
    ap.add_argument("-o", "--out-dir", default="upscaled",
                    help="output folder (./upscaled); outputs are named <name>_x4.<ext> (see below)")
    ap.add_argument("--model", default=None,
                    help="realesr (the default: the bundled real-world model, for phone photos and "
                         "web JPEGs), srresnet or srgan (the paper's bundled models, for clean "
                         "inputs), bicubic, a zoo name (RealESRGAN_x4plus, ...: downloaded on "
                         "first use, see --list-models), a .keras file, a SavedModel folder, a "
                         ".tflite, .onnx or PyTorch .pth file (see below)")
    add_list_models_flag(ap)
    size = ap.add_argument_group("output size (default: the model's scale)")
    size.add_argument("--outscale", type=float, default=None,
                      help="final scale, e.g. 2.5: the network's output resized by Lanczos")
    size.add_argument("--width", type=int, default=None, help="fit inside this width")
    size.add_argument("--height", type=int, default=None, help="fit inside this height")
    ap.add_argument("--color-fix", action="store_true",
                    help="keep the input's low-frequency colour (wavelet colour fix)")
    ap.add_argument("--format", choices=("png", "jpg", "webp"), default=None,
                    help="output format (default: the input's, or png)")
    ap.add_argument("--quality", type=int, default=DEFAULT_QUALITY,
                    help=f"JPEG/WebP quality 1-100 (default {DEFAULT_QUALITY}, visually "
                         "lossless; JPEG >= 90 keeps full chroma; WebP 100 = lossless)")
    ap.add_argument("--tile", type=parse_tile, default="auto",
                    help=f"LR tile side in pixels, at least {MIN_TILE_FLAG}; 0 = whole image "
                         "(default auto: from the image size and the memory available)")
    ap.add_argument("--tile-overlap", type=int, default=DEFAULT_OVERLAP,
                    help=f"context pixels around each tile (default {DEFAULT_OVERLAP})")
    ap.add_argument("--pre-pad", type=int, default=DEFAULT_PRE_PAD,
                    help=f"reflection padding at the borders (default {DEFAULT_PRE_PAD})")
    ap.add_argument("--scale", type=int, default=4, help="scale of --model bicubic only")
    ap.add_argument("--overwrite", action="store_true",
                    help="replace existing outputs (only files this command wrote)")
    ap.add_argument("--denoise-strength", type=parse_strength, default="auto", metavar="S",
                    help="auto or 0..1, as Real-ESRGAN's -dn: blend the model's weights with its "
                         "weak-denoise twin (NAME_wdn.keras beside NAME.keras), "
                         "S * model + (1 - S) * twin, 1 = the model as trained. auto (the "
                         "default) chooses S per image from its noise and JPEG quality and "
                         "prints it; it is ignored for a model without a twin")
    ap.add_argument("--precision", choices=PRECISIONS, default="auto",
                    help="arithmetic of a .keras model's trunk (default auto: bfloat16 where the "
                         "CPU computes it natively, about 1.5x faster, as Real-ESRGAN runs half "
                         "precision unless --fp32; float32 otherwise and for exported models)")
    ap.add_argument("--runtime", choices=RUNTIMES, default="auto",
                    help="what runs the network. auto (the default): a bundled model's TFLite "
                         "export on LiteRT, without loading TensorFlow, where its export report "
                         "shows it matches the .keras model and ran faster; otherwise Keras. "
                         "keras: the .keras file through TensorFlow. litert: the TFLite export, "
                         "or an error. --verbose says which ran")
    ap.add_argument("--wdn-model", default=None, metavar="PATH",
                    help="the weak-denoise twin for --denoise-strength, if not beside the model")
    ap.add_argument("--max-pixels", type=int, default=None,
                    help="refuse inputs with more pixels (decompression-bomb guard; 0 = no "
                         f"limit; default Pillow's {Image.MAX_IMAGE_PIXELS})")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="no progress bar and no per-file lines (failures and the summary stay)")
    add_verbose_flag(ap)
    args = ap.parse_args(argv)
    if (why := tile_flag_error(args.tile)) is not None:
        ap.exit(2, f"error: {why}\n")
    if args.example:
        args.inputs.append(str(example_photo()))
    if not args.inputs:
        ap.error("give an INPUT (a photo, folder, glob or video), or --example for the bundled "
                 "sample photo")
    if args.tile_overlap < 0 or args.pre_pad < 0:
        ap.error("--tile-overlap and --pre-pad must be >= 0")
    if args.outscale is not None and not (args.outscale > 0 and math.isfinite(args.outscale)):
        ap.error("--outscale must be a positive number")
    if (args.width is not None and args.width < 1) or (args.height is not None and args.height < 1):
        ap.error("--width and --height must be positive")
    if args.outscale is not None and (args.width or args.height):
        ap.error("give either --outscale or --width/--height, not both")
    if not 1 <= args.quality <= 100:
        ap.error("--quality must be between 1 and 100")
    if args.max_pixels is not None and args.max_pixels < 0:
        ap.error("--max-pixels must be >= 0 (0 = no limit)")
    return args


def needs_tensorflow(argv: list[str]) -> bool:
    """Whether this command line will need TensorFlow (``run_cli`` then imports it at start-up,
    quietly and under its Ctrl-C guard): not for a model run on LiteRT (issue 29.1). A command
    line that fails to parse or names a missing model answers False: ``main`` reports the error,
    without it. (A 16-bit colour PNG imports it when read:
    :func:`srgan_keras.inference.image_io.read_input`.)"""
    from srgan_keras.inference.litert import choose_runtime

    try:
        with contextlib.redirect_stderr(io.StringIO()):  # a usage error is main()'s to print
            args = parse_args(argv)
        choice = choose_runtime(choose_model(args), args.runtime, args.denoise_strength,
                                args.wdn_model, args.precision)
    except (SystemExit, Exception):  # noqa: BLE001 -- main() parses again and says what is wrong
        return False
    return choice.runtime == "keras"


def choose_model(args: argparse.Namespace) -> str | None:
    """``--model``, or for ``--outscale <= 2`` a bundled x2 model of the default model if any."""
    if args.model is not None or args.outscale is None or args.outscale > 2:
        return args.model
    from srgan_keras.inference.runners import ModelNotFoundError, resolve_model_path

    try:
        default = resolve_model_path(None)
    except ModelNotFoundError:
        return None
    twin = default.with_name(default.name.replace("_x4", "_x2"))
    return str(twin) if twin != default and twin.exists() else None
