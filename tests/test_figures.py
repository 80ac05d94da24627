"""The comparison figure (evaluation/figures.py): the inset finds the detail, the PNG is written whole."""

from __future__ import annotations

import numpy as np
from PIL import Image

from srgan_keras.evaluation.figures import detail_box, save_panels


def _flat_with_texture(y0: int, x0: int) -> np.ndarray:
    img = np.full((120, 160, 3), 128, np.uint8)
    rng = np.random.default_rng(0)
    img[y0:y0 + 24, x0:x0 + 24] = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    return img


def test_detail_box_lands_on_the_only_textured_square():
    by, bx, side = detail_box(_flat_with_texture(70, 110))
    assert side == int(119 * 0.2)  # 0.2 of the gradient map's shorter edge (120 rows, 119 differences)
    assert abs(by - 70) <= 2 and abs(bx - 110) <= 2


def test_save_panels_writes_one_png_and_nothing_else(tmp_path):
    hr = _flat_with_texture(10, 10)
    lr = hr[::4, ::4]
    panels = [("LR", lr, None), ("SR", hr, {"psnr_y": 30.0, "ssim_y": 0.9}), ("HR", hr, None)]
    save_panels(tmp_path / "fig.png", "title", hr, panels)
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]
    with Image.open(tmp_path / "fig.png") as im:
        assert im.format == "PNG" and im.width > im.height > 100


def test_save_panels_takes_one_panel_and_leaves_pyplot_alone(tmp_path):
    """A single panel works, and the caller's pyplot backend and open figures are untouched (a
    notebook's inline figures must keep drawing after the library's figure)."""
    import matplotlib.pyplot as plt

    backend, figures = plt.get_backend(), plt.get_fignums()
    hr = _flat_with_texture(10, 10)
    save_panels(tmp_path / "one.png", "title", hr, [("HR", hr, None)])
    assert (tmp_path / "one.png").is_file()
    assert plt.get_backend() == backend and plt.get_fignums() == figures
