"""The comparison figure of SRGAN Fig. 2 (and ESRGAN Fig. 1): images side by side, each with the
same zoomed inset and its PSNR/SSIM under the title.

Used by the evaluate CLI (``--figures``), the model card and the notebooks, so the figure is
drawn by one function: :func:`save_panels`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from srgan_keras.data.imaging import atomic_write
from srgan_keras.evaluation.metrics import rgb_to_y

if TYPE_CHECKING:
    from srgan_keras.evaluation.protocol import ImageResult


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
    detailed square; a panel's metrics dict (``psnr_y``, ``ssim_y``) goes under its title.

    Drawn on a bare ``matplotlib.figure.Figure``, not through pyplot, so it works with any backend
    and leaves the caller's (a notebook's inline figures) untouched.
    """
    from matplotlib.figure import Figure

    h, w = hr.shape[:2]
    by, bx, side = detail_box(hr)
    # the inset goes in the corner away from the region it magnifies
    ix = 0.0 if bx + side / 2 > w / 2 else 0.58
    iy = 0.58 if by + side / 2 > h / 2 else 0.0  # axes y runs upwards
    fig = Figure(figsize=(3.2 * len(panels), 3.6 * h / w + 0.6))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]  # one panel too
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


def save_crop_grid(path: str | Path, title: str,
                   rows: list[tuple[str, list[tuple[str, np.ndarray]]]], zoom: int = 2) -> None:
    """Rows of same-sized crops side by side (each row: its label, then (column title, crop)),
    every crop drawn with nearest pixels at ``zoom`` x, so a repeating tile or a painted stroke is
    seen as it is: the texture figure of the model card (issue 23.5)."""
    from matplotlib.figure import Figure

    ncols = max(len(cells) for _, cells in rows)
    side = max(max(c.shape[0], c.shape[1]) for _, cells in rows for _, c in cells)
    inches = side * zoom / 100
    fig = Figure(figsize=(inches * ncols + 0.4, (inches + 0.35) * len(rows) + 0.5))
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    for r, (row_label, cells) in enumerate(rows):
        for c in range(ncols):
            ax = axes[r][c]
            ax.set_axis_off()
            if c >= len(cells):
                continue
            col_label, crop = cells[c]
            ax.imshow(crop, interpolation="nearest")
            ax.set_title(col_label if r == 0 else "", fontsize=9)
        axes[r][0].text(-0.04, 0.5, row_label, transform=axes[r][0].transAxes, rotation=90,
                        ha="right", va="center", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))


__all__ = ["detail_box", "save_crop_grid", "save_figure", "save_panels"]
