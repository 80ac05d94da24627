"""What the course's notebooks share, written once (tested in tests/test_course.py; not library code).

Every notebook starts with ``from _course import ...``: the paths and the fast mode, the demo training
commands that several notebooks reuse, a figure helper over the library's own panel function, the
TensorBoard reader, the texture measure of the perception-distortion plots, and ``say``, which turns
a formatted sentence into a markdown cell's output (so a number in the prose is the number computed).

``SRGAN_FAST=1`` (CI) makes every training command tiny; ``SRGAN_HEADLESS=1`` (set by ``_run.py`` and
the tests) shows the static fallback of each interactive cell; ``SRGAN_COURSE_RUNS`` moves the run folders
(the tests point it at a temporary folder); ``SRGAN_VGG_WEIGHTS`` (``imagenet`` or a ``.h5`` path)
gives the VGG cells real weights.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's C++ start-up messages

import numpy as np  # noqa: E402

import srgan_keras  # noqa: E402
from srgan_keras.data.sets import find_data  # noqa: E402
from srgan_keras.evaluation.metrics import hf_ratio  # noqa: E402, F401 -- the notebooks' texture measure

FAST = os.environ.get("SRGAN_FAST") == "1"  # CI sets SRGAN_FAST=1: training cells become tiny
# Executed without a person at the screen (notebooks/_run.py, the tests): widgets give way to their
# static fallbacks. A kernel cannot tell a browser from nbclient, so the runners say it.
HEADLESS = FAST or os.environ.get("SRGAN_HEADLESS") == "1"
REPO = Path(srgan_keras.__file__).resolve().parents[1]
# Set5 and Set14: $SRGAN_KERAS_DATA, else ../shared/data beside the checkout (read-only, never copied),
# else data/ in it (where `python -m srgan_keras.fetch_data` puts them); relative to the repository
# root, where setup() works from.
_found = find_data(REPO)
DATA = Path(os.path.relpath(_found, REPO)) if _found is not None else Path("data")
RUNS = Path(os.environ.get("SRGAN_COURSE_RUNS", "saved_models/course")) / ("fast" if FAST else "full")
VGG_WEIGHTS = os.environ.get("SRGAN_VGG_WEIGHTS") or None  # None = random VGG19 weights (offline)
BUNDLED = {"srresnet": Path("saved_models/srresnet_x4.keras"), "srgan": Path("saved_models/srgan_x4.keras")}

# Extra training flags under SRGAN_FAST=1: a 2-block, 16-filter model, no XLA (compiling costs more
# than it saves for a few steps), one validation image.
TINY = ["--num-blocks", "2", "--num-filters", "16", "--disc-filters", "16", "--batch-size", "2",
        "--no-jit-compile", "--val-images", "1", "--log-every", "1"] if FAST else []


def setup() -> None:
    """Work from the repository root (like the README's commands); readable figure defaults; TensorFlow
    imported with its C++ start-up lines filtered out of the cell's output, as every CLI does at start
    (``import srgan_keras`` itself sets nothing up)."""
    import matplotlib.pyplot as plt

    from srgan_keras.startup import import_tensorflow

    import_tensorflow()
    if (REPO / "pyproject.toml").exists():
        os.chdir(REPO)
    plt.rcParams.update({"figure.dpi": 90, "savefig.dpi": 90, "font.size": 9})
    where = DATA if (DATA / "Set5").is_dir() else "not found (python -m srgan_keras.fetch_data)"
    print(f"srgan_keras {srgan_keras.__version__} | FAST={FAST} | benchmark sets: {where}"
          f" | VGG19 weights: {VGG_WEIGHTS or 'random (offline)'}")


def vgg_note(real_would_show: str) -> str:
    """One sentence on which VGG19 weights a cell used; offline, plainly, what real ones would show."""
    if VGG_WEIGHTS:
        return f"These are VGG19 features with the `{VGG_WEIGHTS}` weights (ImageNet)."
    return ("**These features come from random VGG19 weights**: no ImageNet weights were available "
            "(set `SRGAN_VGG_WEIGHTS=imagenet` or a `.h5` path), so the layers, shapes and arithmetic are "
            "right but the values are not what a trained network computes. "
            f"With real weights: {real_would_show}")


def say(text: str) -> None:
    """Show ``text`` as markdown: prose whose numbers are formatted from the variables beside it."""
    from IPython.display import Markdown, display

    display(Markdown(text))


# ------------------------------------------------------------------ the demo runs (mechanics)

def srresnet_args() -> list[str]:
    """The README's demo pre-training (1,000 steps), the GAN phase left to notebook 05; validation
    every 100 steps instead of 250, for notebook 04's curves."""
    return ["--preset", "demo", "--out", str(RUNS / "srresnet"), "--gan-steps", "0",
            "--val-every", "2" if FAST else "100", *(["--pretrain-steps", "6"] if FAST else []), *TINY]


def srgan_args(init_from: Path, name: str = "srgan", adv_weight: float | None = None) -> list[str]:
    """Notebook 05's short GAN phase from the demo SRResNet: the paper's Eq. 3 with VGG54 content on
    the offline random VGG19 (seed 0; ImageNet's with ``SRGAN_VGG_WEIGHTS``). ``name`` is the run
    folder; ``adv_weight`` replaces the paper's 1e-3 (the run where D wins)."""
    return ["--preset", "demo", "--out", str(RUNS / name), "--phase", "gan",
            "--init-from", str(init_from), "--gan-steps", "4" if FAST else "80", "--gan-lr", "1e-4",
            "--content-loss", "vgg54", "--vgg-weights", VGG_WEIGHTS or "random:0",
            *(["--adv-weight", f"{adv_weight:g}"] if adv_weight is not None else []),
            "--val-every", "2" if FAST else "40", "--ckpt-every", "100", *TINY]


def srresnet_model() -> Path:
    """The demo SRResNet of notebook 04; trained here (the same command) if it is not there yet."""
    from srgan_keras.training import train

    path = RUNS / "srresnet" / "generator.keras"
    if not path.exists():
        assert train.main(srresnet_args()) == 0
    return path


def srgan_model() -> Path:
    """Notebook 05's demo SRGAN; trained here (the same command) if it is not there yet."""
    from srgan_keras.training import train

    path = RUNS / "srgan" / "generator.keras"
    if not path.exists():
        assert train.main(srgan_args(srresnet_model())) == 0
    return path


def benchmark(name: str) -> float:
    """A measured value from the table of BENCHMARKS.md (the quiet full run it documents), by row name,
    e.g. ``benchmark("srresnet_graph")``: seconds per paper SRResNet step, XLA off, 2 cores."""
    for line in (REPO / "BENCHMARKS.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 2 and cells[0] == name:
            return float(cells[2])
    raise KeyError(f"BENCHMARKS.md has no row {name!r}")


# ------------------------------------------------------------------ figures and measurements

# Photographic figures are embedded as JPEG, not PNG (our choice, for the size of the committed
# notebooks): a row of photos drawn at 110 dpi is 0.4-0.8 MB of lossless PNG, and notebook 00 held
# seven (4.1 MB). Scaled to at most FIGURE_WIDTH px, about the width Jupyter and GitHub show a
# notebook output at, and encoded at FIGURE_QUALITY without chroma subsampling, the same figure
# takes about a sixth: compression artefacts far below the blur, grain and JPEG blocks the figures
# compare. Plots (lines, text) stay PNG. Full-size lossless figures: ``evaluate --figure DIR``.
FIGURE_WIDTH = 1000
FIGURE_QUALITY = 82


def figure_jpeg(png: bytes):
    """A rendered photographic figure (PNG bytes) as the JPEG image the notebook embeds."""
    import io

    from IPython.display import Image as IPyImage
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    if img.width > FIGURE_WIDTH:
        img = img.resize((FIGURE_WIDTH, round(img.height * FIGURE_WIDTH / img.width)), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=FIGURE_QUALITY, subsampling=0, optimize=True)
    return IPyImage(data=buf.getvalue(), format="jpeg")


def show_panels(title: str, hr: np.ndarray, panels: list[tuple[str, np.ndarray, dict | None]]) -> None:
    """One row of images with the same zoomed inset, PSNR/SSIM under a panel's title when given: the
    library's own figure (``evaluate.save_panels``, the one ``evaluate --figure`` writes), shown inline
    (as JPEG, see ``FIGURE_WIDTH``)."""
    from IPython.display import display

    from srgan_keras.evaluation.figures import save_panels

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panels.png"
        save_panels(path, title, hr, panels)
        display(figure_jpeg(path.read_bytes()))


def show_figure(fig) -> None:
    """Show a matplotlib figure of photos (``plt.subplots`` + ``imshow``) as JPEG and close it, so the
    inline backend does not embed it a second time as PNG. Plots of lines keep ``plt.show()``."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")  # as the inline backend crops
    plt.close(fig)
    display(figure_jpeg(buf.getvalue()))


def nearest(lr: np.ndarray, scale: int = 4) -> np.ndarray:
    """LR drawn at HR size with nearest pixels (how the figures show an LR image)."""
    return np.repeat(np.repeat(lr, scale, 0), scale, 1)


def read_logs(logdir: Path) -> tuple[dict, dict]:
    """A run's TensorBoard logs: ``{tag: [(step, value)]}`` for scalars and ``{tag: [(step, png
    bytes)]}`` for images, in the order written (a resumed run's files one after the other)."""
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    files = sorted(Path(logdir).glob("events.out.tfevents.*"))
    if not files:
        raise FileNotFoundError(f"{logdir}: no events.out.tfevents.* files")
    scalars: dict = {}
    images: dict = {}
    for f in files:
        for record in tf.data.TFRecordDataset(str(f)):
            event = event_pb2.Event.FromString(record.numpy())
            for v in event.summary.value:
                t = tf.make_ndarray(v.tensor)
                if t.dtype == object:  # an image summary: [width, height, png, ...]
                    images.setdefault(v.tag, []).append((int(event.step), t[2]))
                else:
                    scalars.setdefault(v.tag, []).append((int(event.step), float(t)))
    return scalars, images


# Numbers the prose quotes from a source rather than from an output of the notebook (tests/test_notebooks.py
# accepts a prose number that an output prints or that is listed here, with where it comes from).
CITED: dict[str, str] = {
    "28.43": "SRGAN Table 2: bicubic PSNR on Set5 x4 (also printed by every bicubic row)",
    "32.05": "SRGAN Table 2: SRResNet PSNR on Set5 x4",
    "0.9019": "SRGAN Table 2: SRResNet SSIM on Set5 x4",
    "29.40": "SRGAN Table 2: SRGAN PSNR on Set5 x4",
    "0.8472": "SRGAN Table 2: SRGAN SSIM on Set5 x4",
    "3.56": "SRGAN Table 2: SRGAN mean opinion score on BSD100",
    "4.46": "SRGAN Table 2: HR mean opinion score on BSD100",
    "30.64": "SRGAN Table 1: SRGAN-MSE PSNR on Set5 (saved_models/MODEL_CARD.md)",
    "12.75": "SRGAN §3.2: the VGG feature rescaling 1/12.75",
    "1500": "saved_models/MODEL_CARD.md: the SRGAN-MSE file's GAN phase, 1,500 steps",
    "500": "saved_models/MODEL_CARD.md: the bundled SRGAN's GAN phase, 500 steps",
    "0.999": "Real-ESRGAN: the generator's EMA decay (its training options)",
    "0.299": "ITU-R BT.601: the red weight of luma Y",
    "0.587": "ITU-R BT.601: the green weight of luma Y",
    "0.114": "ITU-R BT.601: the blue weight of luma Y",
}
