"""``python -m srgan_keras.interpolate``: ESRGAN's network interpolation (§3.4, Eq. 4).

    theta_INTERP = (1 - alpha) * theta_PSNR + alpha * theta_GAN                       (Eq. 4)

Two generators of the same architecture -- one trained for PSNR (pre-training), one fine-tuned
as a GAN from it -- are blended weight by weight. ``alpha`` moves continuously from the smooth,
high-PSNR result (0) to the sharp, textured GAN result (1) with no retraining; ESRGAN shows the
blend has fewer artefacts than blending the two *images*.

    python -m srgan_keras.interpolate --psnr A.keras --gan B.keras --alpha 0.8 -o C.keras
    python -m srgan_keras.interpolate --psnr A.keras --gan B.keras \\
        --alphas 0,0.2,0.4,0.6,0.8,1 --out-dir DIR [--data ../shared/data/Set5] [--vgg-weights W]

The blend itself is :func:`srgan_keras.nn.interpolation.interpolate_models`; the same operation at
load time is Real-ESRGAN's denoise strength (:func:`srgan_keras.nn.interpolation.denoise_blend`,
used by ``load_generator(..., denoise_strength=s)`` and ``upscale --denoise-strength s``).

The sweep writes ``DIR/interp_alpha0.20.keras``, ... and, with ``--data``, evaluates each with
:mod:`srgan_keras.evaluation.protocol`'s protocol into ``DIR/sweep.csv``, ``DIR/sweep.md`` and
``DIR/perception_distortion.png``. Distortion is PSNR-Y/SSIM-Y. The perception axis is the VGG54
feature distance to HR (SRGAN Eq. 5's l_VGG/5,4), available when VGG19 weights are
(``--vgg-weights imagenet`` with a network, or a local ``.h5``); the perceptual index of the
ESRGAN paper (NIQE and Ma et al.'s score) needs models this project does not ship.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from srgan_keras.data.imaging import atomic_write
from srgan_keras.errors import command
from srgan_keras.nn.interpolation import (
    InterpolationError,
    check_alpha,
    interpolate_models,
)
from srgan_keras.startup import add_verbose_flag

if TYPE_CHECKING:  # Keras, and with it TensorFlow, is imported by the functions that build models
    import keras


def load(path: str | Path) -> keras.Model:
    from srgan_keras.nn.saving import ModelFileError, load_keras

    try:
        return load_keras(path)
    except ModelFileError as e:
        raise InterpolationError(str(e)) from None


def save(model: keras.Model, path: str | Path) -> None:
    if not str(path).endswith(".keras"):
        raise InterpolationError(f"{path}: the output must end in .keras")
    atomic_write(path, model.save)


def parse_alphas(text: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InterpolationError(f"--alphas {text!r}: expected numbers like 0,0.2,0.5,1") from None


def perceptual_distance(vgg_weights: str | None):
    """``fn(sr_uint8, hr_uint8) -> float``: VGG54 feature MSE (SRGAN Eq. 5), or None offline."""
    if not vgg_weights:
        return None
    from srgan_keras.data.ranges import pixels_to_unit, unit_to_signed
    from srgan_keras.nn import vgg

    try:  # phi_5,4 rescaled as SRGAN's VGG54 content loss does (training.losses.ContentLoss)
        extractor = vgg.vgg_feature_extractor(["block5_conv4"], vgg_weights)
    except vgg.VGGWeightsError as e:
        print(f"warning: no perception column: {e}", file=sys.stderr)
        return None
    flavour = vgg.vgg_flavour(vgg_weights)
    scale = vgg.RANDOM_VGG_RESCALE if flavour == "random" else vgg.VGG_RESCALE

    def features(img: np.ndarray) -> np.ndarray:  # (H, W, 3) uint8 -> phi_5,4 * scale
        signed = unit_to_signed(pixels_to_unit(img[None]))
        return np.asarray(extractor(vgg.vgg_preprocess(signed, flavour), training=False)) * scale

    def fn(sr: np.ndarray, hr: np.ndarray) -> float:
        return float(np.mean(np.square(features(hr) - features(sr))))

    return fn


def hr_images(data) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 HR) pairs of a folder, or ``data`` itself if it is already such pairs."""
    from srgan_keras.data.imaging import read_images

    if not isinstance(data, (str, Path)):
        return list(data)
    try:
        return read_images(data)
    except FileNotFoundError as e:
        raise InterpolationError(f"--data {e}") from None


def evaluate_blend(model: keras.Model, images, scale: int | None = None, distance=None) -> dict:
    """Mean PSNR-Y, SSIM-Y (and VGG54 distance) of ``model`` over ``images``, by the protocol
    of :func:`srgan_keras.evaluation.protocol.evaluate_image`."""
    from srgan_keras.evaluation.protocol import evaluate_image
    from srgan_keras.inference.runners import as_runner

    runner = as_runner(model)  # one traced function, shared by the images
    results = [evaluate_image(runner, hr, scale, bicubic=False, name=name) for name, hr in images]
    row = {"psnr_y": float(np.mean([r.metrics["psnr_y"] for r in results])),
           "ssim_y": float(np.mean([r.metrics["ssim_y"] for r in results]))}
    if distance is not None:
        row["vgg54"] = float(np.mean([distance(r.sr, r.hr) for r in results]))
    return row


def sweep_table(rows: list[dict]) -> str:
    cols = [c for c in ("psnr_y", "ssim_y", "vgg54") if c in rows[0]]
    lines = ["| alpha | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for r in rows:
        lines.append(f"| {r['alpha']:.2f} | " + " | ".join(
            f"{r[c]:.2f}" if c == "psnr_y" else f"{r[c]:.4f}" for c in cols) + " |")
    return "\n".join(lines)


def sweep_plot(rows: list[dict], path: str | Path) -> None:
    """Perception (VGG54 distance, lower is better) against distortion (PSNR-Y), or, without
    the perception column, PSNR-Y and SSIM-Y against alpha (a bare Figure: pyplot's backend is
    left as the caller has it)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    psnr = [r["psnr_y"] for r in rows]
    if "vgg54" in rows[0]:
        ax.plot(psnr, [r["vgg54"] for r in rows], "o-")
        for r in rows:
            ax.annotate(f"{r['alpha']:.2f}", (r["psnr_y"], r["vgg54"]), fontsize=8)
        ax.set_xlabel("PSNR-Y (dB): distortion, higher is better")
        ax.set_ylabel("VGG54 distance: perception, lower is better")
        ax.set_title("Network interpolation: perception-distortion")
    else:
        alphas = [r["alpha"] for r in rows]
        ax.plot(alphas, psnr, "o-", label="PSNR-Y")
        ax.set_xlabel("alpha (0 = PSNR model, 1 = GAN model)")
        ax.set_ylabel("PSNR-Y (dB)")
        ax2 = ax.twinx()
        ax2.plot(alphas, [r["ssim_y"] for r in rows], "s--", color="C1", label="SSIM-Y")
        ax2.set_ylabel("SSIM-Y")
        ax.set_title("Network interpolation (no VGG weights: distortion only)")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))


def run_sweep(psnr: keras.Model, gan: keras.Model, alphas: list[float], out_dir: str | Path,
              data=None, scale: int | None = None, vgg_weights: str | None = None) -> list[dict]:
    """Write one model per alpha into ``out_dir``; with ``data``, the table and the plot too."""
    out_dir = Path(out_dir)
    for alpha in alphas:  # all checked before anything is written
        check_alpha(alpha)
    images = hr_images(data) if data is not None else None
    distance = perceptual_distance(vgg_weights) if images else None
    rows = []
    for alpha in alphas:
        model = interpolate_models(psnr, gan, alpha)
        path = out_dir / f"interp_alpha{alpha:.2f}.keras"
        save(model, path)
        print(f"wrote {path}")
        if images:
            rows.append({"alpha": alpha, **evaluate_blend(model, images, scale, distance)})
    if not rows:
        return []
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    table = sweep_table(rows)
    atomic_write(out_dir / "sweep.csv", lambda tmp: Path(tmp).write_text(buf.getvalue()))
    atomic_write(out_dir / "sweep.md", lambda tmp: Path(tmp).write_text(table + "\n"))
    sweep_plot(rows, out_dir / "perception_distortion.png")
    print(table)
    return rows


@command  # mismatched models, a bad alpha, an unreadable image: the line and 2, nothing written
def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m srgan_keras.interpolate",
                                description="ESRGAN network interpolation (Eq. 4) of two "
                                            "generators with the same architecture.")
    add_verbose_flag(p)
    p.add_argument("--psnr", required=True, help="the PSNR-oriented generator (.keras)")
    p.add_argument("--gan", required=True, help="the GAN generator fine-tuned from it (.keras)")
    p.add_argument("--alpha", type=float, help="one blend: 0 = PSNR model, 1 = GAN model")
    p.add_argument("-o", "--output", help="the .keras file to write (with --alpha)")
    p.add_argument("--alphas", help="a sweep, e.g. 0,0.2,0.4,0.6,0.8,1 (with --out-dir)")
    p.add_argument("--out-dir", help="folder for the sweep's models, table and plot")
    p.add_argument("--data", help="sweep: HR images to evaluate each blend on (e.g. Set5)")
    p.add_argument("--scale", type=int, default=None, help="default: the models' scale")
    p.add_argument("--vgg-weights", default=None,
                   help="sweep: VGG19 weights for the perception column (imagenet or a .h5)")
    a = p.parse_args(argv)
    single, many = a.alpha is not None, a.alphas is not None
    if single == many or (single and not a.output) or (many and not a.out_dir):
        p.error("give either --alpha A -o OUT.keras, or --alphas A,B,... --out-dir DIR")
    try:
        psnr, gan = load(a.psnr), load(a.gan)
        if single:
            save(interpolate_models(psnr, gan, a.alpha), a.output)
            print(f"wrote {a.output}: (1 - {a.alpha}) * {a.psnr} + {a.alpha} * {a.gan}")
        else:
            run_sweep(psnr, gan, parse_alphas(a.alphas), a.out_dir, a.data, a.scale,
                      a.vgg_weights)
    except FileNotFoundError as e:  # built-in: a --data folder that is not there
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
