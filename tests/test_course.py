"""notebooks/_course.py: the helpers the course's notebooks share (issue 14), each used by several."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "notebooks"))
import _course  # noqa: E402


def _texture(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def test_read_logs_returns_scalars_and_images_in_step_order(tmp_path):
    tf = pytest.importorskip("tensorflow")
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for step in range(3):
            tf.summary.scalar("pretrain/g_loss", 1.0 / (step + 1), step=step)
        tf.summary.image("samples", np.zeros((1, 4, 4, 3), np.float32), step=2)
    writer.flush()
    scalars, images = _course.read_logs(tmp_path)
    assert [s for s, _ in scalars["pretrain/g_loss"]] == [0, 1, 2]
    assert scalars["pretrain/g_loss"][1][1] == pytest.approx(0.5)
    step, png = images["samples"][0]
    assert step == 2 and png[:4] == b"\x89PNG"
    with pytest.raises(FileNotFoundError, match="no events"):
        _course.read_logs(tmp_path / "missing")


def test_benchmark_reads_the_documented_row():
    value = _course.benchmark("srresnet_graph")
    lines = (ROOT / "BENCHMARKS.md").read_text().splitlines()
    row = next(ln for ln in lines if ln.startswith("| srresnet_graph |"))
    assert f"{value:g}" in row and 0.05 < value < 10
    with pytest.raises(KeyError, match="no row"):
        _course.benchmark("not_a_row")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    return img.size


def test_show_panels_displays_the_library_figure_as_a_small_jpeg(monkeypatch, shared_data):
    """Six photo panels: the library's 110-dpi PNG is ~2100 px wide; the notebook embeds a JPEG of at
    most FIGURE_WIDTH px (00 held seven such PNGs, 4.1 MB), a fraction of the PNG's size."""
    pytest.importorskip("IPython")
    import tempfile

    import IPython.display

    from srgan_keras.data.imaging import load_rgb_uint8
    from srgan_keras.evaluation.figures import save_panels

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    hr = load_rgb_uint8(shared_data / "Set5" / "butterfly.png")  # 256 x 256, detailed
    panels = [("a", hr, {"psnr_y": 30.0, "ssim_y": 0.9})] + [(str(i), hr, None) for i in range(5)]
    _course.show_panels("t", hr, panels)
    assert len(shown) == 1 and shown[0].format == "jpeg"
    width, height = _jpeg_size(shown[0].data)
    assert width == _course.FIGURE_WIDTH and 200 < height < 400  # scaled, aspect kept
    with tempfile.TemporaryDirectory() as tmp:
        save_panels(Path(tmp) / "p.png", "t", hr, panels)
        png = (Path(tmp) / "p.png").stat().st_size
    assert len(shown[0].data) < png / 3


def test_show_figure_embeds_a_jpeg_once_and_closes_the_figure(monkeypatch):
    pytest.importorskip("IPython")
    import IPython.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.imshow(_texture())
    _course.show_figure(fig)
    assert len(shown) == 1 and shown[0].format == "jpeg"
    assert _jpeg_size(shown[0].data)[0] <= _course.FIGURE_WIDTH
    assert not plt.fignum_exists(fig.number)  # closed: the inline backend will not draw it again


def test_training_commands_follow_the_fast_mode():
    args = _course.srresnet_args()
    assert args[:2] == ["--preset", "demo"] and "--gan-steps" in args
    assert ("--pretrain-steps" in args) == _course.FAST
    gan = _course.srgan_args(Path("G.keras"))
    assert "--init-from" in gan and "--adv-weight" not in gan  # the paper's 1e-3 from the preset
    assert gan[gan.index("--content-loss") + 1] == "vgg54"  # 05 runs the paper's loss, offline
    assert gan[gan.index("--vgg-weights") + 1] == (_course.VGG_WEIGHTS or "random:0")
    wins = _course.srgan_args(Path("G.keras"), "srgan_d_wins", adv_weight=0.1)
    assert wins[wins.index("--adv-weight") + 1] == "0.1" and str(_course.RUNS / "srgan_d_wins") in wins


def test_plots_after_show_panels_still_draw_inline():
    """A later ``plt.show()`` in the notebook still draws after the library's panel figure."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    import os

    cells = ["import numpy as np, matplotlib.pyplot as plt\nfrom _course import show_panels",
             "hr = np.zeros((32, 32, 3), np.uint8)\nshow_panels('t', hr, [('a', hr, None), ('b', hr, None)])",
             "plt.plot([1, 2]); plt.show()"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    env = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "notebooks"), os.environ.get("PYTHONPATH")]))
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env
    try:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    assert any("image/png" in o.get("data", {}) for o in nb.cells[2].outputs)
