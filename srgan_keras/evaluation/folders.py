"""Scoring every image of a folder: the report dict ``--json`` writes, full- or no-reference.

:func:`evaluate_folder` runs the protocol of :mod:`srgan_keras.evaluation.protocol` on each HR
image (a folder, ``"builtin"`` or ``(name, array)`` pairs) and averages over images, as the field
reports them; :func:`evaluate_no_reference` scores the upscales of real LR photos by NIQE. A file
that cannot be read or is too small is skipped in one line naming it (``skip_errors``) and listed
in the report. Outputs that would land on the inputs (``--save-lr``, ``--figure``, ``--json``,
``--csv``) are refused before any work (issue 27.2).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from srgan_keras.data.imaging import ImageError, Source, image_sources, list_images
from srgan_keras.data.realesrgan_config import DegradationConfig
from srgan_keras.evaluation import degraded
from srgan_keras.evaluation.figures import save_figure, save_panels
from srgan_keras.evaluation.metrics import ARTIFACTS, METRICS
from srgan_keras.evaluation.protocol import (
    DEGRADED_PROTOCOL,
    NO_REFERENCE_PROTOCOL,
    PROTOCOL,
    artifact_metrics,
    evaluate_image,
    niqe_or_none,
    upscale_lr,
)
from srgan_keras.inference.runners import BicubicRunner, as_runner


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


def check_figure_dir(figure_dir: str | Path | None, data_dir) -> None:
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
    (report key ``"niqe": true``); ``artifacts``: ``pattern``, ``lr_grid`` and ``hf_ratio``
    columns (:func:`artifact_metrics`), and the HR images' own under ``"hr_artifacts_mean"``
    (their ``niqe`` too when both are asked).
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
    check_figure_dir(figure_dir, data_dir)
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
            own = artifact_metrics(res.hr, s, res.hr)
            if niqe:  # the HR images' own NIQE: where a natural photo of this set scores
                own["niqe"] = niqe_or_none(res.hr, s)
            hr_artifacts.append(own)
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
        "hr_artifacts_mean": _mean(hr_artifacts, ARTIFACTS + (("niqe",) if niqe else ()))
        if artifacts else None,
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

    check_figure_dir(figure_dir, data_dir)
    runner = as_runner(runner)
    s = runner.scale
    rows, results_bic, skipped = [], [], []
    for name, label, lr in _each(image_sources(data_dir), progress, skip_errors, skipped, "NIQE"):
        lr = np.asarray(lr, np.uint8)[..., :3]
        try:
            sr = upscale_lr(lr, runner, tile)
            metrics = {"niqe": niqe(sr, border=s)}
            bic_sr = bic = None
            if bicubic and not isinstance(runner, BicubicRunner):
                bic_sr = upscale_lr(lr, BicubicRunner(s), tile)
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
