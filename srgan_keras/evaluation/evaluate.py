"""Evaluate a generator like the paper: Y-channel PSNR/SSIM, border cropped, bicubic beside it.

SRGAN §3.1 (protocol) and §3.3 / Table 2 (the numbers).

    python -m srgan_keras.evaluate --model PATH|realesr|srresnet|srgan|bicubic --data DIR [--scale 4]
        [--json FILE] [--csv FILE] [--figure DIR] [--tile N]
        [--degrade realesrgan|light --seed N [--save-lr DIR]] [--niqe] | [--no-reference]

Protocol (SRGAN §3.1 and Table 2; BasicSR): each HR image is cropped to a multiple of the scale;
its LR is the MATLAB-equivalent bicubic downscale that training uses
(:func:`srgan_keras.data.degradation.bicubic_downscale`), saved as 8-bit values; SR is the model's
output rounded to 8 bits; PSNR and SSIM (Wang et al. 2004: 11x11 Gaussian, sigma 1.5) are
computed on BT.601 Y (16..235) with ``scale`` pixels removed at every border
(:func:`srgan_keras.evaluation.metrics.evaluate_pair`). Means are over images, as the field reports them.
RGB PSNR and the R/G/B-averaged SSIM are extra columns for comparing with papers that use them.

Two more modes:

* ``--degrade PRESET --seed N``: the LR is the HR degraded by Real-ESRGAN's second-order
  pipeline with a per-image seed (:mod:`srgan_keras.evaluation.degraded`), the same on every run; the
  rest of the protocol is unchanged, bicubic of that LR beside the model;
* ``--no-reference``: ``--data`` holds real LR photos with no HR; the model's output and bicubic
  are scored by NIQE (:mod:`srgan_keras.evaluation.niqe`, lower is more natural, ``scale`` border removed).
  NIQE rewards sharpness, not cleanliness: read it beside the full-reference numbers.
  ``--niqe`` adds that column to the full-reference modes, so both are read in one table.

A file that cannot be read or is too small is reported in one line naming it and skipped; the
others are scored and the CLI exits with 1 (the report lists the skipped files).

This module is the command. Its Python API, also used by training's validation:

* :func:`srgan_keras.evaluation.protocol.evaluate_image` - one HR array -> metrics (and the
  images, for figures);
* :func:`srgan_keras.evaluation.folders.evaluate_folder` - a folder (or ``"builtin"``, or
  ``(name, array)`` pairs) -> a dict with per-image rows and means, the same dict ``--json``
  writes;
* :func:`srgan_keras.evaluation.folders.evaluate_no_reference` - a folder of LR photos -> NIQE of
  the model and of bicubic.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from srgan_keras.data.imaging import ImageError, atomic_write
from srgan_keras.errors import command
from srgan_keras.evaluation import degraded
from srgan_keras.evaluation.folders import (
    check_figure_dir,
    check_report_files,
    evaluate_folder,
    evaluate_no_reference,
)
from srgan_keras.evaluation.report import format_table, to_csv
from srgan_keras.inference.precision import PRECISIONS
from srgan_keras.inference.runners import load_generator
from srgan_keras.startup import add_verbose_flag, run_cli


def check_writable(path: str | Path, folder: bool, flag: str) -> None:
    """Raise ``OSError`` (one sentence) if ``path`` cannot become a file (or, ``folder``, a
    folder): the wrong kind already there, or a nearest existing parent that is not a writable
    folder."""
    p = Path(path)
    if p.exists() and p.is_dir() != folder:
        raise NotADirectoryError(f"{flag} {p}: exists and is not a folder") if folder else \
            IsADirectoryError(f"{flag} {p}: is a folder, not a file")
    parent = p if folder and p.exists() else p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(f"{flag} {p}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"{flag} {p}: {parent} is not writable")


@command  # a model that cannot be found or loaded (ModelNotFoundError, ...): its line and 2
def main(argv: list[str] | None = None) -> int:
    from srgan_keras.inference.zoo import add_list_models_flag

    ap = argparse.ArgumentParser(prog="python -m srgan_keras.evaluate",
                                 description="PSNR/SSIM of a generator on a benchmark folder "
                                             "(or NIQE of its output on real LR photos).")
    add_verbose_flag(ap)
    ap.add_argument("--model", required=True,
                    help="a .keras file, SavedModel folder, .tflite file, realesr, srresnet, "
                         "srgan, bicubic or a zoo name (downloaded on first use; --list-models) "
                         "(required: a score names its model)")
    add_list_models_flag(ap)
    ap.add_argument("--data", required=True,
                    help="folder of HR images (or 'builtin'); with --no-reference, LR photos")
    ap.add_argument("--scale", type=int, default=None,
                    help="upscaling factor (default: the model's; 4 for bicubic)")
    ap.add_argument("--tile", type=int, default=None,
                    help="LR tile side (default: whole image when small, tiled when large)")
    ap.add_argument("--precision", choices=PRECISIONS, default="float32",
                    help="arithmetic of a .keras model's trunk (default float32, what the model "
                         "cards report; bfloat16 / auto as in the upscale CLI, to check them)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--degrade", choices=sorted(degraded.PRESETS), default=None,
                      help="make each LR by Real-ESRGAN's second-order degradations instead of "
                           "bicubic: realesrgan (official x4plus settings) or light (our milder "
                           "preset); the same LR on every run for a given --seed")
    mode.add_argument("--no-reference", action="store_true",
                      help="--data holds real LR photos without HR: score the model's and "
                           "bicubic's upscales by NIQE (lower is more natural)")
    ap.add_argument("--niqe", action="store_true",
                    help="add NIQE (no-reference, lower is more natural) beside PSNR/SSIM")
    ap.add_argument("--artifacts", action="store_true",
                    help="add pattern (a fixed scale x scale tile repeated: the pixel-shuffle "
                         "checkerboard) and lr_grid (steps at the LR-pixel boundaries), with the "
                         "HR images' own values; about 1 = none")
    ap.add_argument("--seed", type=int, default=None,
                    help="seed of the --degrade draws (per image: this seed and the image name; "
                         "default 0)")
    ap.add_argument("--save-lr", default=None, metavar="DIR",
                    help="write each LR used as DIR/<image>.png (8-bit; replaces files of that "
                         "name)")
    ap.add_argument("--json", default=None, help="write the report as JSON")
    ap.add_argument("--csv", default=None, help="write per-image rows as CSV")
    ap.add_argument("--figure", default=None, metavar="DIR",
                    help="write one comparison figure per image")
    args = ap.parse_args(argv)
    if args.no_reference and args.save_lr:
        ap.error("--save-lr needs HR images to make LRs from; --no-reference takes LR photos")
    if args.niqe and args.no_reference:
        ap.error("--no-reference scores NIQE already; --niqe adds it to the PSNR/SSIM modes")
    if args.artifacts and args.no_reference:
        ap.error("--artifacts compares with the HR images' own values; --no-reference has none")
    if args.seed is not None and args.degrade is None:
        ap.error("--seed chooses the --degrade draws; without --degrade the LR is bicubic's")
    try:  # outputs that cannot be written fail now, not after minutes of scoring
        for flag, path, folder in (("--json", args.json, False), ("--csv", args.csv, False),
                                   ("--figure", args.figure, True), ("--save-lr", args.save_lr, True)):
            if path is not None:
                check_writable(path, folder, flag)
        # an output that is an input is refused now, not after the scoring (issue 27.2)
        check_report_files(args.data, args.model, json=args.json, csv=args.csv)
        check_figure_dir(args.figure, args.data)
    except (OSError, ValueError) as e:  # built-in errors of the checks: nothing written yet
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        runner = load_generator(args.model, scale=args.scale or 4, precision=args.precision)
        if getattr(runner, "precision", "float32") != "float32":  # its rows say so
            runner.name = f"{runner.name}_{runner.precision}"
    except (ValueError, ImportError) as e:  # Keras' or an optional runtime's, not ours alone
        print(f"error: {e}", file=sys.stderr)
        return 2
    # a folder's unreadable images are skipped, one line each, and the others scored; a single
    # file's failure is the run's one error line (not a skip line, then "nothing evaluated")
    skip = not Path(args.data).is_file()
    try:
        if args.no_reference:
            if args.scale is not None and args.scale != runner.scale:
                raise ValueError(f"--scale {args.scale} does not match the model's scale "
                                 f"{runner.scale}")
            report = evaluate_no_reference(runner, args.data, tile=args.tile,
                                           figure_dir=args.figure, progress=True,
                                           skip_errors=skip)
        else:
            report = evaluate_folder(runner, args.data, scale=args.scale, tile=args.tile,
                                     figure_dir=args.figure, progress=True, degrade=args.degrade,
                                     seed=args.seed or 0, save_lr=args.save_lr, skip_errors=skip,
                                     niqe=args.niqe, artifacts=args.artifacts)
    except (ImageError, FileNotFoundError, FileExistsError, ValueError) as e:  # the data: 1
        print(f"error: {e}", file=sys.stderr)
        return 1
    report["model"] = runner.name
    report["model_path"] = str(args.model)
    print(format_table(report))
    if args.json:
        text = json.dumps(report, indent=2)
        atomic_write(args.json, lambda tmp: Path(tmp).write_text(text))
    if args.csv:
        text = to_csv(report)
        atomic_write(args.csv, lambda tmp: Path(tmp).write_text(text))
    return 1 if report["skipped"] else 0


if __name__ == "__main__":
    run_cli(main)  # exit with main()'s status; Ctrl-C: startup.run_cli
