"""Fit ``--denoise-strength auto``: the strength that serves each kind of photo best (issue 24.1).

On training photos only (never Set5/Set14/Urban100 or another evaluation folder): centre crops of
``--photos`` images spread over ``--data`` (every sub-folder), each degraded at every level below,
then upscaled by ``realesr_x4.keras`` blended with its weak-denoise twin at the strengths
{0, 0.25, 0.5, 0.75, 1}; PSNR-Y (border 4) against the HR crop. The levels:

- ``clean``: bicubic x4 downscaling only (SRGAN §3.1's LR);
- ``light``: the ``light`` preset as it is (evaluate --degrade light: a little blur, noise 0-10,
  JPEG 35-85 inside the pipeline), kept as a PNG, so its quality is not known to the estimator;
- ``s<sigma> q<quality>``: the ``light`` preset with its second noise fixed at ``sigma`` grey levels
  and its last JPEG switched off (quality 100), then saved by Pillow as a JPEG file at ``quality``
  (``png``: not compressed) and decoded again, so the quality estimator reads a real file's tables.

The noise and quality are estimated from each degraded LR as ``upscale`` would
(:mod:`srgan_keras.inference.degradation_estimate`), and the rule
``strength = clip(A + B sigma + C (100 - q) / 100, 0, 1)`` (no JPEG: q = 100) is fitted by grid
search (B, C >= 0: monotone) to the smallest mean PSNR-Y lost against each crop's best measured
strength (PSNR between the measured strengths linearly interpolated).

    python -m benchmarks.calibrate_denoise --data ../shared/data/train --photos 32

The run behind the constants in ``degradation_estimate.py``: see the module's AUTO_* comment.
"""

from __future__ import annotations

import argparse
import io
import itertools
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
SIGMAS = (0, 3, 6, 10, 15, 20, 30)
QUALITIES = (None, 90, 60, 30)
SCALE = 4


def photo_paths(data: str, n: int, size: int) -> list[Path]:
    """``n`` photos at least ``size`` px on each side, evenly spread over the sorted files of
    ``data`` (all sub-folders), so every source is represented."""
    from PIL import Image

    exts = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
    files = sorted(p for p in Path(data).rglob("*") if p.suffix.lower() in exts)
    fit = []
    for p in files:
        with Image.open(p) as im:
            if min(im.size) >= size:
                fit.append(p)
    if len(fit) < n:
        raise SystemExit(f"only {len(fit)} photos of {size}px or more in {data}")
    return [fit[i] for i in np.linspace(0, len(fit) - 1, n).round().astype(int)]


def centre_crop(path: Path, size: int) -> np.ndarray:
    from srgan_keras.data.imaging import load_image

    rgb = np.round(load_image(path).rgb * 255).astype(np.uint8)
    h, w = rgb.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return rgb[y:y + size, x:x + size]


def as_jpeg_file(lr: np.ndarray, quality: int | None):
    """(decoded uint8 LR, the Pillow image to read the quality from, or None for a PNG)."""
    from PIL import Image

    if quality is None:
        return lr, None
    buf = io.BytesIO()
    Image.fromarray(lr).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    im = Image.open(buf)
    return np.asarray(im.convert("RGB")), im


def levels():
    """(label, config or 'clean', file quality) of every degradation level."""
    from srgan_keras.data.realesrgan_config import LIGHT

    yield "clean", "clean", None
    yield "light", LIGHT, None
    for sigma, q in itertools.product(SIGMAS, QUALITIES):
        cfg = replace(LIGHT, noise_range2=(float(sigma), float(sigma)), jpeg_range2=(100.0, 100.0))
        yield f"s{sigma} q{q or 'png'}", cfg, q


def make_lr(hr: np.ndarray, cfg, name: str) -> np.ndarray:
    import tensorflow as tf

    from srgan_keras.data.degradation import bicubic_downscale
    from srgan_keras.evaluation.degraded import degraded_lr

    if cfg == "clean":
        lr = bicubic_downscale(tf.constant(hr[None].astype(np.float32)), SCALE).numpy()[0]
        return np.clip(np.round(lr), 0, 255).astype(np.uint8)
    return degraded_lr(hr, SCALE, cfg, 0, name)


def psnr_y(sr01: np.ndarray, hr: np.ndarray) -> float:
    from srgan_keras.evaluation.metrics import psnr, rgb_to_y, shave

    sr = np.round(np.clip(sr01, 0, 1) * 255)
    return psnr(shave(rgb_to_y(sr), SCALE), shave(rgb_to_y(hr.astype(np.float64)), SCALE))


def interpolated(psnrs: np.ndarray, s: np.ndarray) -> np.ndarray:
    """PSNR at strengths ``s`` (R,) from each record's measured row (R, len(STRENGTHS))."""
    grid = np.asarray(STRENGTHS)
    i = np.clip(np.searchsorted(grid, s, side="right") - 1, 0, len(grid) - 2)
    t = (s - grid[i]) / (grid[i + 1] - grid[i])
    rows = np.arange(len(s))
    return psnrs[rows, i] * (1 - t) + psnrs[rows, i + 1] * t


def fit(sigma: np.ndarray, q: np.ndarray, psnrs: np.ndarray):
    """Grid search of (A, B, C) for the least mean PSNR-Y lost against the best strength."""
    best_row = psnrs.max(axis=1)
    jpeg = (100 - q) / 100
    best = (np.inf, None)
    for a in np.arange(-2.0, 1.0001, 0.05):
        for b in np.arange(0.0, 0.2001, 0.005):
            for c in np.arange(0.0, 2.5001, 0.05):
                s = np.clip(a + b * sigma + c * jpeg, 0, 1)
                loss = float(np.mean(best_row - interpolated(psnrs, s)))
                if loss < best[0] - 1e-9:
                    best = (loss, (round(float(a), 3), round(float(b), 4), round(float(c), 3)))
    return best


def main(argv=None) -> None:
    from benchmarks.bench_upscale import cpu_name
    from srgan_keras.inference.degradation_estimate import jpeg_quality, noise_sigma
    from srgan_keras.inference.runners import load_generator

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data/train", help="training photos only")
    p.add_argument("--photos", type=int, default=32)
    p.add_argument("--lr-size", type=int, default=48, help="LR crop side (HR = 4x)")
    p.add_argument("--model", default="realesr")
    p.add_argument("--save", default=None, metavar="NPZ",
                   help="also write every crop's level, estimates and PSNR-Y row here")
    args = p.parse_args(argv)
    if any(k in str(Path(args.data).resolve()).lower() for k in ("set5", "set14", "urban100")):
        raise SystemExit("calibrate on training photos, never on an evaluation folder")
    t0 = time.time()
    hr_size = args.lr_size * SCALE
    paths = photo_paths(args.data, args.photos, hr_size)
    hrs = [centre_crop(pth, hr_size) for pth in paths]
    records = []  # (level, sigma, quality or 100, lr)
    for label, cfg, q in levels():
        for pth, hr in zip(paths, hrs):
            lr, im = as_jpeg_file(make_lr(hr, cfg, pth.stem), q)
            est_q = jpeg_quality(im) if im is not None else None
            records.append((label, noise_sigma(lr), 100 if est_q is None else est_q, lr))
    print(f"{len(records)} LR crops ({args.lr_size}px) from {len(paths)} photos in "
          f"{time.time() - t0:.0f} s", flush=True)
    n = len(paths)
    psnrs = np.zeros((len(records), len(STRENGTHS)))
    for j, s in enumerate(STRENGTHS):
        runner = load_generator(args.model, denoise_strength=s)
        for i in range(0, len(records), n):
            batch = np.stack([r[3] for r in records[i:i + n]]).astype(np.float32) / 255
            sr = runner(batch)
            for k in range(len(batch)):
                psnrs[i + k, j] = psnr_y(sr[k], hrs[k])
        print(f"strength {s}: done at {time.time() - t0:.0f} s", flush=True)
    sigma = np.array([r[1] for r in records])
    q = np.array([r[2] for r in records], dtype=np.float64)
    labels = [r[0] for r in records]
    if args.save:
        np.savez(args.save, labels=np.array(labels), sigma=sigma, quality=q, psnr=psnrs,
                 strengths=np.array(STRENGTHS))
    loss, (a, b, c) = fit(sigma, q, psnrs)
    rule = np.clip(a + b * sigma + c * (100 - q) / 100, 0, 1)
    print(f"\n| level | noise est. | JPEG q est. | PSNR-Y at {' / '.join(map(str, STRENGTHS))} "
          "| best | auto (mean) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for i in range(0, len(records), n):
        rows = slice(i, i + n)
        mean = psnrs[rows].mean(axis=0)
        qs = q[rows]
        qtext = "-" if (qs == 100).all() else f"{qs.mean():.0f}"
        print(f"| {labels[i]} | {sigma[rows].mean():.1f} | {qtext} | "
              f"{' / '.join(f'{v:.2f}' for v in mean)} | {STRENGTHS[int(mean.argmax())]} | "
              f"{rule[rows].mean():.2f} |")
    best_row = psnrs.max(axis=1)
    print("\nmean PSNR-Y lost against each crop's best measured strength:")
    for s in STRENGTHS:
        print(f"  always {s}: {np.mean(best_row - psnrs[:, STRENGTHS.index(s)]):.3f} dB")
    print(f"  auto: {loss:.3f} dB")
    print(f"\nAUTO_A = {a}\nAUTO_B = {b}\nAUTO_C = {c}")
    print(f"{len(paths)} photos from {args.data}, {len(records)} crops, {cpu_name()}, "
          f"{time.strftime('%Y-%m-%d')}, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
