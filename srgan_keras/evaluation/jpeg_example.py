"""Issue 12's first try as a new user, measured for the model card: "a 120x80 photo saved as JPEG
quality 40", upscaled as the upscale CLI does.

:func:`jpeg_example` gives per model PSNR-Y/SSIM-Y against the photo resized to the output's size
and the :func:`~srgan_keras.evaluation.metrics.blockiness` of the output (``--jpeg-example``), and
draws the figure ``jpeg_example.jpg``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from srgan_keras.evaluation.report import rounded

# Issue 12's first try as a new user: "a 120x80 photo saved as JPEG quality 40".
JPEG_EXAMPLE_SIZE = (120, 80)  # (width, height) of the JPEG
JPEG_EXAMPLE_QUALITY = 40
FIGURE_JPEG_QUALITY = 95  # our choice: jpeg_example.jpg's own encoding, 4:4:4, visually lossless


def photo_of(source: str):
    """(name, uint8 RGB) of ``builtin:NAME`` (scikit-image) or an image file."""
    from srgan_keras.data.imaging import builtin_images, load_rgb_uint8

    if source.startswith("builtin:"):
        try:
            return builtin_images([source.split(":", 1)[1]])[0]
        except AttributeError:
            raise ValueError(f"--jpeg-example {source}: scikit-image has no such photo") from None
    return Path(source).stem, load_rgb_uint8(source)


def jpeg_example(photo, models: list[Path], figure: Path | None = None,
                 figure_models: list[Path] | None = None) -> dict:
    """Issue 12's example on one ``(name, uint8 RGB)`` photo: shrink it (Lanczos) to 120x80, save
    it as JPEG quality 40, upscale the decoded JPEG by bicubic and each model with the upscale
    CLI's defaults; PSNR-Y/SSIM-Y against the photo resized (Lanczos) to the output's size, and
    the :func:`~srgan_keras.evaluation.metrics.blockiness` of each output (and of the JPEG).
    ``figure``: also draw JPEG | bicubic | each of ``figure_models`` | photo there."""
    import io

    from PIL import Image

    from srgan_keras.evaluation.metrics import blockiness, evaluate_pair
    from srgan_keras.inference.runners import BicubicRunner, load_generator
    from srgan_keras.inference.tiling import upscale_image

    name, rgb = photo
    buf = io.BytesIO()
    Image.fromarray(rgb).resize(JPEG_EXAMPLE_SIZE, Image.LANCZOS).save(
        buf, "JPEG", quality=JPEG_EXAMPLE_QUALITY)
    lr = np.asarray(Image.open(buf).convert("RGB"))
    out: dict = {"photo": name, "jpeg_bytes": buf.getbuffer().nbytes, "results": {}}
    runners = [("bicubic", BicubicRunner(4))] + [(m.name, load_generator(m)) for m in models]
    panels = [(f"JPEG q{JPEG_EXAMPLE_QUALITY}, {lr.shape[1]}x{lr.shape[0]} (nearest)", lr, None)]
    hr, outputs = None, {}
    for key, runner in runners:
        sr = outputs[key] = upscale_image(lr, runner)
        s = sr.shape[0] // lr.shape[0]
        if hr is None:
            hr = np.asarray(Image.fromarray(rgb).resize((sr.shape[1], sr.shape[0]), Image.LANCZOS))
            out["input_blockiness"] = round(blockiness(lr, 8), 3)
        metrics = {**rounded(evaluate_pair(sr, hr, border=s)), "blockiness": round(blockiness(sr, 8 * s), 3)}
        out["results"][key] = metrics
    drawn = ["bicubic"] + [m.name for m in (models if figure_models is None else figure_models)]
    panels += [(key, outputs[key], out["results"][key]) for key in drawn]  # --figure-model's order
    if figure is not None:
        panels.append((f"photo, Lanczos to {hr.shape[1]}x{hr.shape[0]}", hr, None))
        title = (f"{name}: a {lr.shape[1]}x{lr.shape[0]} JPEG (quality {JPEG_EXAMPLE_QUALITY}) "
                 f"upscaled x{s}  (PSNR/SSIM on Y)")
        save_panels_as(figure, title, hr, panels)
    return out


def save_panels_as(path: Path, title: str, hr, panels) -> None:
    """:func:`save_panels` to ``path``; a ``.jpg`` path is drawn as PNG, then re-encoded."""
    import tempfile

    from PIL import Image

    from srgan_keras.data.imaging import atomic_write
    from srgan_keras.evaluation.figures import save_panels

    if path.suffix.lower() not in (".jpg", ".jpeg"):
        save_panels(path, title, hr, panels)
        return
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "figure.png"
        save_panels(png, title, hr, panels)
        rgb = Image.open(png).convert("RGB")
        atomic_write(path, lambda f: rgb.save(f, "JPEG", quality=FIGURE_JPEG_QUALITY,
                                              subsampling=0))
