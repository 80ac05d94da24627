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

Python API, also used by training's validation:

* :func:`evaluate_image` - one HR array -> metrics (and the images, for figures);
* :func:`evaluate_folder` - a folder (or ``"builtin"``, or ``(name, array)`` pairs) -> a dict
  with per-image rows and means, the same dict ``--json`` writes;
* :func:`evaluate_no_reference` - a folder of LR photos -> NIQE of the model and of bicubic.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srgan_keras.data.degradation import crop_to_multiple, make_lr_numpy
from srgan_keras.data.imaging import (
    ImageError,
    Source,
    atomic_write,
    image_sources,
    list_images,
)
from srgan_keras.data.realesrgan_config import DegradationConfig
from srgan_keras.evaluation import degraded
from srgan_keras.evaluation.figures import detail_box as detail_box  # re-exported: its old home
from srgan_keras.evaluation.figures import save_figure, save_panels
from srgan_keras.evaluation.metrics import ARTIFACTS, METRICS, SSIM_WINDOW, evaluate_pair
from srgan_keras.evaluation.report import format_table, to_csv
from srgan_keras.inference.precision import PRECISIONS
from srgan_keras.inference.runners import BicubicRunner, Runner, as_runner, load_generator
from srgan_keras.inference.tiling import DEFAULT_TILE, upscale_image
from srgan_keras.startup import add_verbose_flag, run_cli

# Receptive-field radius of the paper's SRResNet in LR pixels: 4 (k9 head) + 33 (k3 body
# convolutions) + 1 (k3 at 1x) + 0.5 (k3 at 2x) + 1 (k9 at 4x), rounded up. Tiles with this
# much context give the whole-image result, so tiling never changes a reported number.
EVAL_OVERLAP = 40
AUTO_TILE_PIXELS = 200 * 200  # our choice: larger LR inputs are tiled (memory; see tiling.py)
PROTOCOL = ("HR cropped to a multiple of scale; LR = MATLAB-equivalent bicubic (antialiased), "
            "8-bit; metrics on BT.601 Y (16-235) with `scale` border pixels removed; SSIM "
            "11x11 Gaussian sigma 1.5; psnr_rgb/ssim_rgb on R,G,B (SSIM averaged over channels)")
DEGRADED_PROTOCOL = ("HR cropped to a multiple of scale; LR = Real-ESRGAN second-order "
                     "degradation of the HR (preset and parameters in `degrade`), stateless seed "
                     "(seed, first 8 bytes of SHA-256 of the image name), 8-bit; metrics as the "
                     "bicubic protocol: BT.601 Y (16-235), `scale` border pixels removed, SSIM "
                     "11x11 Gaussian sigma 1.5")
NO_REFERENCE_PROTOCOL = ("no HR: the input photos are upscaled whole (tiled when large); NIQE "
                         "(Mittal et al. 2013, the authors' pristine model, 96x96 blocks) on "
                         "BT.601 Y rounded, `scale` border pixels removed; lower is more natural")


@dataclass
class ImageResult:
    """One image's metrics, and the arrays a figure needs (all uint8, HR geometry but ``lr``)."""

    name: str
    metrics: dict[str, float]
    bicubic: dict[str, float] | None
    lr: np.ndarray
    sr: np.ndarray
    bicubic_sr: np.ndarray | None
    hr: np.ndarray


def _upscale(lr: np.ndarray, runner: Runner, tile: int | None) -> np.ndarray:
    """SR of an 8-bit LR array with no border padding (the paper's whole-image convention)."""
    if tile is None and lr.shape[0] * lr.shape[1] > AUTO_TILE_PIXELS:
        tile = DEFAULT_TILE
    return upscale_image(lr, runner, tile=tile, tile_overlap=EVAL_OVERLAP, pre_pad=0)


def min_hr_side(scale: int, degrade: str | DegradationConfig | None = None) -> tuple[int, str]:
    """(the smallest HR side that can be scored at ``scale``, why): after cropping to a multiple
    of ``scale`` and removing ``scale`` pixels at each border, SSIM's 11x11 window must fit (20 px
    at x4); the Real-ESRGAN degradations need an LR of 11 px (44 px at x4)."""
    need = -(-(SSIM_WINDOW + 2 * scale) // scale) * scale  # a multiple of scale >= 2s + 11
    why = f"SSIM's {SSIM_WINDOW} px window inside the {scale} px border"
    if degrade is not None and degraded.min_hr_side(scale) > need:
        need, why = degraded.min_hr_side(scale), "the Real-ESRGAN degradations' 21x21 kernels"
    return need, why


def make_lr(hr: np.ndarray, scale: int, degrade: str | DegradationConfig | None = None,
            seed: int = 0, name: str = "image") -> np.ndarray:
    """The benchmark LR of a uint8 HR cropped to a multiple of ``scale``: bicubic (the paper's)
    or, with ``degrade``, the Real-ESRGAN pipeline seeded by ``(seed, name)``."""
    if degrade is None:
        return make_lr_numpy(hr, scale)  # (H/s, W/s, 3) uint8
    return degraded.degraded_lr(hr, scale, degrade, seed, name)


def evaluate_image(runner: Runner, hr: np.ndarray, scale: int | None = None,
                   tile: int | None = None, bicubic: bool = True,
                   name: str = "image", degrade: str | DegradationConfig | None = None,
                   seed: int = 0, niqe: bool = False, artifacts: bool = False) -> ImageResult:
    """Metrics of one uint8 HR image (H, W, 3): crop, LR, SR by ``runner``, compare.

    ``runner``: anything :func:`srgan_keras.inference.runners.as_runner` takes (a runner or a Keras
    generator). ``scale`` defaults to the runner's and must equal it. ``tile=None`` runs small
    images whole and tiles large ones with enough context to give the same numbers.
    ``bicubic=True`` also scores the bicubic baseline on the same LR. ``degrade`` (a preset name
    of :data:`srgan_keras.evaluation.degraded.PRESETS` or a config) replaces the bicubic LR by the
    Real-ESRGAN pipeline's, seeded by ``(seed, name)``. ``niqe=True`` adds the no-reference
    ``niqe`` of each output (None when it is too small for two 96x96 blocks), to read beside the
    full-reference numbers. ``artifacts=True`` adds :func:`artifact_metrics` of each output. An
    image too small to score raises ``ValueError`` saying so (:func:`min_hr_side`).
    """
    runner = as_runner(runner)
    s = runner.scale if scale is None else int(scale)
    if s != runner.scale:
        raise ValueError(f"--scale {s} does not match the model's scale {runner.scale}")
    hr = np.asarray(hr, dtype=np.uint8)[..., :3]
    need, why = min_hr_side(s, degrade)
    if min(hr.shape[:2]) < need:
        raise ValueError(f"{hr.shape[1]}x{hr.shape[0]} px is too small to evaluate at x{s} "
                         f"(at least {need} px per side, for {why})")
    hr = crop_to_multiple(hr, s)
    lr = make_lr(hr, s, degrade, seed, name)
    sr = _upscale(lr, runner, tile)
    metrics = evaluate_pair(sr, hr, border=s)
    if niqe:
        metrics["niqe"] = _niqe_or_none(sr, s)
    if artifacts:
        metrics |= artifact_metrics(sr, s, hr)
    bic_sr = bic = None
    if bicubic and not isinstance(runner, BicubicRunner):
        bic_sr = _upscale(lr, BicubicRunner(s), tile)
        bic = evaluate_pair(bic_sr, hr, border=s)
        if niqe:
            bic["niqe"] = _niqe_or_none(bic_sr, s)
        if artifacts:
            bic |= artifact_metrics(bic_sr, s, hr)
    return ImageResult(name, metrics, bic, lr, sr, bic_sr, hr)


def artifact_metrics(img: np.ndarray, scale: int, hr: np.ndarray) -> dict[str, float]:
    """``pattern``: :func:`~srgan_keras.evaluation.metrics.periodic_pattern` at period ``scale``
    (about 1 when no s x s tile repeats; Set14's HR photos 0.5-1.9); ``lr_grid``:
    :func:`~srgan_keras.evaluation.metrics.blockiness` at block ``scale`` (Y steps across the
    LR-pixel boundaries over those inside; Set14's HR 1.02 on average); ``hf_ratio``:
    :func:`~srgan_keras.evaluation.metrics.hf_ratio` of ``img`` against ``hr`` (1 for HR itself).
    Our measures, not the papers': read them beside the HR's, which the report gives as
    ``hr_artifacts_mean``."""
    from srgan_keras.evaluation.metrics import blockiness, hf_ratio, periodic_pattern

    return {"pattern": periodic_pattern(img, scale), "lr_grid": blockiness(img, scale),
            "hf_ratio": hf_ratio(img, hr)}


def _niqe_or_none(img: np.ndarray, border: int) -> float | None:
    from srgan_keras.evaluation.niqe import niqe

    try:
        return niqe(img, border=border)
    except ValueError:  # fewer than two 96x96 blocks: NIQE is undefined
        return None


def _each(sources: list[Source], progress: bool, skip_errors: bool, skipped: list[dict],
          desc: str) -> Iterator[tuple[str, str, np.ndarray]]:
    """(name, label, pixels) of each source; unreadable ones are skipped when ``skip_errors``
    (one line on stderr, recorded in ``skipped``), else their error is raised."""
    items: Iterable[Source] = sources
    if progress:
        from tqdm import tqdm

        items = tqdm(sources, desc=desc, unit="image", disable=None)
    for name, label, load in items:
        try:
            yield name, label, load()
        except (ImageError, OSError) as e:
            if not skip_errors:
                raise
            _skip(skipped, label, str(e))


def _skip(skipped: list[dict], label: str, message: str) -> None:
    """Record a skipped image and say so in one line (the message names the file once)."""
    line = message if message.startswith(label) else f"{label}: {message}"
    print(f"skipped: {line}", file=sys.stderr)
    skipped.append({"image": label, "error": line})


def _mean(rows: list[dict], keys: Iterable[str] = METRICS) -> dict[str, float | None]:
    """Means over images; a metric an image has no value for (None: NIQE of a small image) is
    averaged over the others, and is None if no image has it."""
    out = {}
    for k in keys:
        vals = [r[k] for r in rows if r.get(k) is not None]
        out[k] = float(np.mean(vals)) if vals else None
    return out


def _check_save_dir(save_lr: str | Path | None, data_dir) -> Path | None:
    """Refuse an LR folder that is a file, or the HR folder (or inside it): the LRs would
    replace HR files or be read as HR next time."""
    if save_lr is None:
        return None
    out = Path(save_lr)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--save-lr {out}: exists and is not a folder")
    if isinstance(data_dir, (str, Path)) and Path(data_dir).is_dir():
        data, dest = Path(data_dir).resolve(), out.resolve()
        if dest == data or data in dest.parents:
            raise ValueError(f"--save-lr {out} is inside the --data folder {data_dir}: choose "
                             "another folder (the LRs would mix with the HR images)")
    return out


def _data_files(data_dir) -> list[Path]:
    """The image files ``data_dir`` names (none for ``"builtin"`` or arrays)."""
    if not isinstance(data_dir, (str, Path)) or str(data_dir) == "builtin":
        return []
    return list_images(data_dir)


def _check_figure_dir(figure_dir: str | Path | None, data_dir) -> None:
    """Refuse a figure folder that holds an input image or lies in the --data folder: the
    figures (``<name>.png``) would replace the images evaluated, or be read as images next time
    (issue 27.2; the rule of ``--save-lr``)."""
    if figure_dir is None:
        return
    from srgan_keras.data.files import holds_input

    out = Path(figure_dir)
    held = holds_input(out, _data_files(data_dir))
    inside = (isinstance(data_dir, (str, Path)) and Path(data_dir).is_dir()
              and (out.resolve() == Path(data_dir).resolve()
                   or Path(data_dir).resolve() in out.resolve().parents))
    if held is not None or inside:
        why = f"holds the input {held}" if held is not None else f"is inside the --data folder {data_dir}"
        raise ValueError(f"--figure {out} {why}: choose another folder (the figures would replace "
                         "or mix with the images evaluated)")


def check_report_files(data_dir, model: str | None, **paths: str | Path | None) -> None:
    """Refuse a report file (``json=``, ``csv=``) that is one of the inputs: an image of
    ``data_dir`` or the model file (issue 27.2: it would be replaced by the report)."""
    from srgan_keras.data.files import is_input

    inputs = _data_files(data_dir) + ([Path(model)] if model and Path(model).is_file() else [])
    for flag, path in paths.items():
        if path is not None:
            same = is_input(path, inputs)
            if same is not None:
                raise ValueError(f"--{flag} {path} is the input {same}: choose another file")


def evaluate_folder(runner, data_dir, scale: int | None = None, tile: int | None = None,
                    bicubic: bool = True, figure_dir: str | Path | None = None,
                    progress: bool = False, degrade: str | DegradationConfig | None = None,
                    seed: int = 0, save_lr: str | Path | None = None,
                    skip_errors: bool = False, niqe: bool = False,
                    artifacts: bool = False) -> dict:
    """Evaluate every image of ``data_dir``; returns the report dict ``--json`` writes.

    ``data_dir``: a folder (recursive), ``"builtin"`` or an iterable of ``(name, uint8 HR)``.
    ``degrade``/``seed``: Real-ESRGAN-degraded LR (see :func:`evaluate_image`); ``save_lr``: a
    folder receiving each LR as ``<name>.png``; ``niqe``: a ``niqe`` column beside the others
    (report key ``"niqe": true``); ``artifacts``: ``pattern`` and ``lr_grid`` columns
    (:func:`artifact_metrics`), and the HR images' own under ``"hr_artifacts_mean"``.
    Returns ``{"model", "data", "scale", "border", "protocol", "degrade", "images": [row, ...],
    "mean": {psnr_y, ssim_y, psnr_rgb, ssim_rgb}, "bicubic_mean": {...} or None, "skipped"}``,
    where a row is ``{"image", "height", "width", "lr_sha256", <metrics>, "bicubic": {<metrics>}
    or None}``, ``degrade`` is None or ``{"preset", "seed", "config"}`` and ``skipped`` lists
    ``{"image", "error"}``. A file that cannot be read or is too small raises
    (:class:`srgan_keras.data.imaging.ImageError`, ``ValueError``) unless ``skip_errors``, which
    reports it in one line on stderr, skips it and lists it in ``skipped``.
    """
    runner = as_runner(runner)
    s = runner.scale if scale is None else int(scale)
    if s != runner.scale:
        raise ValueError(f"--scale {s} does not match the model's scale {runner.scale}")
    if degrade is not None:
        degraded.preset(degrade)  # an unknown preset fails before any work
    save_dir = _check_save_dir(save_lr, data_dir)
    _check_figure_dir(figure_dir, data_dir)
    keys = METRICS + (("niqe",) if niqe else ()) + (ARTIFACTS if artifacts else ())
    rows, results_bic, skipped, hr_artifacts = [], [], [], []
    sources = image_sources(data_dir)
    for name, label, hr in _each(sources, progress, skip_errors, skipped, "evaluate"):
        try:
            res = evaluate_image(runner, hr, s, tile=tile, bicubic=bicubic, name=name,
                                 degrade=degrade, seed=seed, niqe=niqe, artifacts=artifacts)
        except ValueError as e:
            if not skip_errors:
                raise ValueError(f"{label}: {e}") from e
            _skip(skipped, label, str(e))
            continue
        rows.append({"image": name, "height": int(res.hr.shape[0]), "width": int(res.hr.shape[1]),
                     "lr_sha256": degraded.lr_digest(res.lr), **res.metrics,
                     "bicubic": res.bicubic})
        if res.bicubic is not None:
            results_bic.append(res.bicubic)
        if artifacts:
            hr_artifacts.append(artifact_metrics(res.hr, s, res.hr))
        if save_dir is not None:
            note = ("bicubic (MATLAB-equivalent)" if degrade is None else
                    f"degrade={degraded.preset(degrade)[0]} seed={seed}") + f" x{s} of {name}"
            degraded.save_lr(save_dir / f"{name}.png", res.lr, note)
        if figure_dir is not None:
            save_figure(Path(figure_dir) / f"{name}.png", res, runner.name)
    if not rows:
        raise FileNotFoundError(f"{data_dir}: no images could be evaluated" if skipped else
                                f"{data_dir}: no images to evaluate")
    return {
        "model": runner.name, "data": str(data_dir) if isinstance(data_dir, (str, Path)) else
        "arrays", "scale": s, "border": s,
        "protocol": PROTOCOL if degrade is None else DEGRADED_PROTOCOL,
        "degrade": None if degrade is None else degraded.describe(degrade, seed),
        "niqe": niqe, "artifacts": artifacts, "images": rows, "mean": _mean(rows, keys),
        "hr_artifacts_mean": _mean(hr_artifacts, ARTIFACTS) if artifacts else None,
        "bicubic_mean": _mean(results_bic, keys) if results_bic else None, "skipped": skipped,
    }


def evaluate_no_reference(runner, data_dir, tile: int | None = None, bicubic: bool = True,
                          figure_dir: str | Path | None = None, progress: bool = False,
                          skip_errors: bool = False) -> dict:
    """NIQE of the model's upscale (and of bicubic's) of each LR photo of ``data_dir``.

    For real inputs that have no HR. Returns ``{"model", "data", "scale", "border",
    "protocol", "metric": "niqe", "images": [{"image", "height", "width", "niqe",
    "bicubic": {"niqe"} or None}], "mean": {"niqe"}, "bicubic_mean", "skipped"}`` (height and
    width of the input). Lower NIQE is more natural; it rewards sharpness and texture, noise
    included, so it is read beside full-reference numbers. An output too small for NIQE's two
    96x96 blocks counts as a bad image (see ``skip_errors`` in :func:`evaluate_folder`).
    """
    from srgan_keras.evaluation.niqe import niqe

    _check_figure_dir(figure_dir, data_dir)
    runner = as_runner(runner)
    s = runner.scale
    rows, results_bic, skipped = [], [], []
    for name, label, lr in _each(image_sources(data_dir), progress, skip_errors, skipped, "NIQE"):
        lr = np.asarray(lr, np.uint8)[..., :3]
        try:
            sr = _upscale(lr, runner, tile)
            metrics = {"niqe": niqe(sr, border=s)}
            bic_sr = bic = None
            if bicubic and not isinstance(runner, BicubicRunner):
                bic_sr = _upscale(lr, BicubicRunner(s), tile)
                bic = {"niqe": niqe(bic_sr, border=s)}
        except ValueError as e:
            if not skip_errors:
                raise ValueError(f"{label}: {e}") from e
            _skip(skipped, label, f"x{s} output: {e}")
            continue
        rows.append({"image": name, "height": int(lr.shape[0]), "width": int(lr.shape[1]),
                     **metrics, "bicubic": bic})
        if bic is not None:
            results_bic.append(bic)
        if figure_dir is not None:
            panels = [("input (nearest)", lr, None)]
            if bic_sr is not None:
                panels.append((f"bicubic\nNIQE {bic['niqe']:.2f}", bic_sr, None))
            panels.append((f"{runner.name}\nNIQE {metrics['niqe']:.2f}", sr, None))
            save_panels(Path(figure_dir) / f"{name}.png", f"{name}  x{s}  (no reference; "
                        "NIQE, lower is more natural)", sr, panels)
    if not rows:
        raise FileNotFoundError(f"{data_dir}: no images could be evaluated" if skipped else
                                f"{data_dir}: no images to evaluate")
    return {
        "model": runner.name, "data": str(data_dir) if isinstance(data_dir, (str, Path)) else
        "arrays", "scale": s, "border": s, "protocol": NO_REFERENCE_PROTOCOL, "metric": "niqe",
        "images": rows, "mean": _mean(rows, ("niqe",)),
        "bicubic_mean": _mean(results_bic, ("niqe",)) if results_bic else None,
        "skipped": skipped,
    }


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
    from srgan_keras.inference.runners import ModelNotFoundError

    try:  # outputs that cannot be written fail now, not after minutes of scoring
        for flag, path, folder in (("--json", args.json, False), ("--csv", args.csv, False),
                                   ("--figure", args.figure, True), ("--save-lr", args.save_lr, True)):
            if path is not None:
                check_writable(path, folder, flag)
        # an output that is an input is refused now, not after the scoring (issue 27.2)
        check_report_files(args.data, args.model, json=args.json, csv=args.csv)
        _check_figure_dir(args.figure, args.data)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        runner = load_generator(args.model, scale=args.scale or 4, precision=args.precision)
        if getattr(runner, "precision", "float32") != "float32":  # its rows say so
            runner.name = f"{runner.name}_{runner.precision}"
    except (ModelNotFoundError, ValueError, ImportError) as e:
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
    except (ImageError, FileNotFoundError, FileExistsError, ValueError) as e:
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
