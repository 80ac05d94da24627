"""Evaluate a generator like the paper: Y-channel PSNR/SSIM, border cropped, bicubic beside it.

SRGAN §3.1 (protocol) and §3.3 / Table 2 (the numbers).

    python -m srgan_keras.evaluate --model PATH|srresnet|srgan|bicubic --data DIR [--scale 4]
        [--json FILE] [--csv FILE] [--figure DIR] [--tile N]

Protocol (SRGAN §3.1 and Table 2; BasicSR): each HR image is cropped to a multiple of the scale;
its LR is the MATLAB-equivalent bicubic downscale that training uses
(:func:`srgan_keras.data.degradation.bicubic_downscale`), saved as 8-bit values; SR is the model's
output rounded to 8 bits; PSNR and SSIM (Wang et al. 2004: 11x11 Gaussian, sigma 1.5) are
computed on BT.601 Y (16..235) with ``scale`` pixels removed at every border
(:func:`srgan_keras.evaluation.metrics.evaluate_pair`). Means are over images, as the field reports them.
RGB PSNR and the R/G/B-averaged SSIM are extra columns for comparing with papers that use them.

Python API, also used by training's validation:

* :func:`evaluate_image` - one HR array -> metrics (and the images, for figures);
* :func:`evaluate_folder` - a folder (or ``"builtin"``, or ``(name, array)`` pairs) -> a dict
  with per-image rows and means, the same dict ``--json`` writes.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srgan_keras.data.degradation import crop_to_multiple, make_lr_numpy
from srgan_keras.data.imaging import (
    BUILTIN_VAL,
    ImageError,
    atomic_write,
    builtin_images,
    list_images,
    load_rgb_uint8,
)
from srgan_keras.evaluation.metrics import evaluate_pair, rgb_to_y
from srgan_keras.inference.runners import BicubicRunner, Runner, as_runner, load_generator
from srgan_keras.inference.tiling import DEFAULT_TILE, upscale_image

METRICS = ("psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb")
# Receptive-field radius of the paper's SRResNet in LR pixels: 4 (k9 head) + 33 (k3 body
# convolutions) + 1 (k3 at 1x) + 0.5 (k3 at 2x) + 1 (k9 at 4x), rounded up. Tiles with this
# much context give the whole-image result, so tiling never changes a reported number.
EVAL_OVERLAP = 40
AUTO_TILE_PIXELS = 200 * 200  # our choice: larger LR inputs are tiled (memory; see tiling.py)
PROTOCOL = ("HR cropped to a multiple of scale; LR = MATLAB-equivalent bicubic (antialiased), "
            "8-bit; metrics on BT.601 Y (16-235) with `scale` border pixels removed; SSIM "
            "11x11 Gaussian sigma 1.5; psnr_rgb/ssim_rgb on R,G,B (SSIM averaged over channels)")


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


def evaluate_image(runner: Runner, hr: np.ndarray, scale: int | None = None,
                   tile: int | None = None, bicubic: bool = True,
                   name: str = "image") -> ImageResult:
    """Metrics of one uint8 HR image (H, W, 3): crop, bicubic LR, SR by ``runner``, compare.

    ``runner``: anything :func:`srgan_keras.inference.runners.as_runner` takes (a runner or a Keras
    generator). ``scale`` defaults to the runner's and must equal it. ``tile=None`` runs small
    images whole and tiles large ones with enough context to give the same numbers.
    ``bicubic=True`` also scores the bicubic baseline on the same LR.
    """
    runner = as_runner(runner)
    s = runner.scale if scale is None else int(scale)
    if s != runner.scale:
        raise ValueError(f"--scale {s} does not match the model's scale {runner.scale}")
    hr = crop_to_multiple(np.asarray(hr, dtype=np.uint8)[..., :3], s)
    lr = make_lr_numpy(hr, s)  # (H/s, W/s, 3) uint8
    sr = _upscale(lr, runner, tile)
    metrics = evaluate_pair(sr, hr, border=s)
    bic_sr = bic = None
    if bicubic and not isinstance(runner, BicubicRunner):
        bic_sr = _upscale(lr, BicubicRunner(s), tile)
        bic = evaluate_pair(bic_sr, hr, border=s)
    return ImageResult(name, metrics, bic, lr, sr, bic_sr, hr)


def _hr_images(data) -> Iterable[tuple[str, np.ndarray]]:
    """(name, uint8 RGB) pairs of a folder, ``"builtin"`` (held-out photos) or given pairs."""
    if isinstance(data, (str, Path)):
        if str(data) == "builtin":
            yield from builtin_images(BUILTIN_VAL)
            return
        files = list_images(data)
        if not files:
            raise FileNotFoundError(f"{data}: no image files found")
        for f in files:
            yield f.stem, load_rgb_uint8(f)  # gray HR (Set14's bridge) is repeated to RGB
    else:
        yield from data


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in rows])) for k in METRICS}


def evaluate_folder(runner, data_dir, scale: int | None = None, tile: int | None = None,
                    bicubic: bool = True, figure_dir: str | Path | None = None,
                    progress: bool = False) -> dict:
    """Evaluate every image of ``data_dir``; returns the report dict ``--json`` writes.

    ``data_dir``: a folder (recursive), ``"builtin"`` or an iterable of ``(name, uint8 HR)``.
    Returns ``{"model", "data", "scale", "border", "protocol", "images": [row, ...],
    "mean": {psnr_y, ssim_y, psnr_rgb, ssim_rgb}, "bicubic_mean": {...} or None}``, where a row
    is ``{"image", "height", "width", <metrics>, "bicubic": {<metrics>} or None}``.
    Unreadable files raise :class:`srgan_keras.data.imaging.ImageError`.
    """
    runner = as_runner(runner)
    s = runner.scale if scale is None else int(scale)
    rows, results_bic = [], []
    items = _hr_images(data_dir)
    if progress:
        from tqdm import tqdm

        items = tqdm(list(items), desc="evaluate", unit="image", disable=None)
    for name, hr in items:
        res = evaluate_image(runner, hr, s, tile=tile, bicubic=bicubic, name=name)
        rows.append({"image": name, "height": int(res.hr.shape[0]), "width": int(res.hr.shape[1]),
                     **res.metrics, "bicubic": res.bicubic})
        if res.bicubic is not None:
            results_bic.append(res.bicubic)
        if figure_dir is not None:
            save_figure(Path(figure_dir) / f"{name}.png", res, runner.name)
    if not rows:
        raise FileNotFoundError(f"{data_dir}: no images to evaluate")
    return {
        "model": runner.name, "data": str(data_dir) if isinstance(data_dir, (str, Path)) else
        "arrays", "scale": s, "border": s, "protocol": PROTOCOL, "images": rows,
        "mean": _mean(rows), "bicubic_mean": _mean(results_bic) if results_bic else None,
    }


# ---------------------------------------------------------------- figures (SRGAN Fig. 2 style)

def detail_box(hr: np.ndarray, frac: float = 0.2) -> tuple[int, int, int]:
    """(y, x, side) of the square with the most gradient energy in HR: the zoomed inset.

    Our choice of region (papers pick theirs by hand): side = ``frac`` of the shorter edge.
    """
    y = rgb_to_y(hr)
    g = np.abs(np.diff(y, axis=0))[:, :-1] + np.abs(np.diff(y, axis=1))[:-1, :]
    side = max(8, int(min(g.shape) * frac))
    c = np.pad(np.cumsum(np.cumsum(g, 0), 1), ((1, 0), (1, 0)))
    energy = c[side:, side:] - c[:-side, side:] - c[side:, :-side] + c[:-side, :-side]
    by, bx = np.unravel_index(int(np.argmax(energy)), energy.shape)
    return int(by), int(bx), side


def save_figure(path: str | Path, res: ImageResult, model_name: str) -> None:
    """LR (nearest) | bicubic | SR | HR, each with the same zoomed inset, PSNR/SSIM in titles."""
    panels = [("LR (nearest)", res.lr, None)]
    if res.bicubic_sr is not None:
        panels.append(("bicubic", res.bicubic_sr, res.bicubic))
    label = "bicubic" if model_name == "bicubic" else model_name
    panels += [(label, res.sr, res.metrics), ("HR (original)", res.hr, None)]
    save_panels(path, f"{res.name}  x{res.hr.shape[0] // res.lr.shape[0]}  (PSNR/SSIM on Y)",
                res.hr, panels)


def save_panels(path: str | Path, title: str, hr: np.ndarray,
                panels: list[tuple[str, np.ndarray, dict | None]]) -> None:
    """One row of images drawn over HR's extent, each with the same zoomed inset of HR's most
    detailed square; a panel's metrics dict (``psnr_y``, ``ssim_y``) goes under its title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h, w = hr.shape[:2]
    by, bx, side = detail_box(hr)
    # the inset goes in the corner away from the region it magnifies
    ix = 0.0 if bx + side / 2 > w / 2 else 0.58
    iy = 0.58 if by + side / 2 > h / 2 else 0.0  # axes y runs upwards
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6 * h / w + 0.6))
    for ax, (label, img, m) in zip(axes, panels):
        extent = (0, w, h, 0)  # LR drawn over the HR extent with nearest pixels
        ax.imshow(img, interpolation="nearest", extent=extent)
        if m is not None:
            label += f"\n{m['psnr_y']:.2f} dB / {m['ssim_y']:.4f}"
        ax.set_title(label, fontsize=9)
        ax.set_axis_off()
        inset = ax.inset_axes([ix, iy, 0.42, 0.42])
        inset.imshow(img, interpolation="nearest", extent=extent)
        inset.set_xlim(bx, bx + side)
        inset.set_ylim(by + side, by)
        inset.set_xticks([])
        inset.set_yticks([])
        ax.indicate_inset_zoom(inset, edgecolor="red")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)


# ---------------------------------------------------------------- report formats

def format_table(report: dict) -> str:
    """Per-image table and mean, with the bicubic row beside the model's."""
    cols = METRICS
    head = f"{'image':<16}{'method':<14}" + "".join(f"{c:>10}" for c in cols)
    lines = [f"{report['model']} on {report['data']} x{report['scale']} "
             f"(border {report['border']})", head, "-" * len(head)]

    def row(name: str, method: str, m: dict) -> str:
        vals = "".join(f"{m[c]:>10.2f}" if c.startswith("psnr") else f"{m[c]:>10.4f}"
                       for c in cols)
        return f"{name[:15]:<16}{method[:13]:<14}{vals}"

    for r in report["images"]:
        if r["bicubic"] is not None:
            lines.append(row(r["image"], "bicubic", r["bicubic"]))
        lines.append(row(r["image"], report["model"], r))
    lines.append("-" * len(head))
    if report["bicubic_mean"] is not None:
        lines.append(row("mean", "bicubic", report["bicubic_mean"]))
    lines.append(row("mean", report["model"], report["mean"]))
    return "\n".join(lines)


def to_csv(report: dict) -> str:
    """One row per (image, method), mean rows last; model, data and scale on every row."""
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["model", "data", "scale", "image", "method", *METRICS])
    meta = [report["model"], report["data"], report["scale"]]
    for r in report["images"]:
        if r["bicubic"] is not None:
            wr.writerow([*meta, r["image"], "bicubic", *(r["bicubic"][k] for k in METRICS)])
        wr.writerow([*meta, r["image"], report["model"], *(r[k] for k in METRICS)])
    if report["bicubic_mean"] is not None:
        wr.writerow([*meta, "mean", "bicubic", *(report["bicubic_mean"][k] for k in METRICS)])
    wr.writerow([*meta, "mean", report["model"], *(report["mean"][k] for k in METRICS)])
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m srgan_keras.evaluate",
                                 description="PSNR/SSIM of a generator on a benchmark folder.")
    ap.add_argument("--model", required=True,
                    help="a .keras file, SavedModel folder, .tflite file, srresnet, srgan "
                         "or bicubic")
    ap.add_argument("--data", required=True, help="folder of HR images (or 'builtin')")
    ap.add_argument("--scale", type=int, default=None,
                    help="upscaling factor (default: the model's; 4 for bicubic)")
    ap.add_argument("--tile", type=int, default=None,
                    help="LR tile side (default: whole image when small, tiled when large)")
    ap.add_argument("--json", default=None, help="write the report as JSON")
    ap.add_argument("--csv", default=None, help="write per-image rows as CSV")
    ap.add_argument("--figure", default=None, metavar="DIR",
                    help="write one comparison figure per image")
    args = ap.parse_args(argv)
    from srgan_keras.inference.runners import ModelNotFoundError

    try:
        runner = load_generator(args.model, scale=args.scale or 4)
    except (ModelNotFoundError, ValueError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        report = evaluate_folder(runner, args.data, scale=args.scale, tile=args.tile,
                                 figure_dir=args.figure, progress=True)
    except (ImageError, FileNotFoundError, ValueError) as e:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
