"""Issue 3's two acceptance numbers for tiled upscaling, on this machine.

    python -m benchmarks.bench_upscale seams   [--tile 64] [--overlaps 0 8 16 24 40]
    python -m benchmarks.bench_upscale memory  [--size 2000x1500] [--tile N]

Both use the paper-size SRResNet (B=16, 64 features), untrained (random weights, BatchNorm in
inference mode), saved to a temporary ``.keras`` file: memory and seams depend on the graph, not
on the weights.

``seams``: a 600x400 photo (Urban100 img_004 resized; a synthetic one if the shared data are
missing) upscaled whole and in tiles; max and mean |tiled - whole| in grey levels per overlap.
Acceptance: tile 64, overlap >= 16 -> max <= 2, mean < 0.1.

``memory``: ``python -m srgan_keras.upscale`` on a WxH photo in a subprocess; its peak RSS
(``ru_maxrss`` of the child) against the budget output bytes + 1 GiB (the 2000x1500 -> 8000x6000
case). Peak RSS includes TensorFlow's own ~0.6 GiB after import.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO.parent / "shared" / "data" / "Urban100" / "img_004.png"


def photo(w: int, h: int) -> np.ndarray:
    if PHOTO.exists():
        return np.asarray(Image.open(PHOTO).convert("RGB").resize((w, h), Image.BICUBIC))
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([127 + 100 * np.sin(xx / 17.0) * np.cos(yy / 23.0),
                    127 + 90 * np.sin((xx + yy) / 9.0), xx * 255.0 / w], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def paper_model(folder: Path) -> Path:
    import keras

    from srgan_keras.nn.srresnet import build_srresnet

    keras.utils.set_random_seed(0)
    path = folder / "srresnet_untrained_x4.keras"
    build_srresnet().save(path)
    return path


def seams(args: argparse.Namespace, tmp: Path) -> None:
    from srgan_keras.inference.runners import load_generator
    from srgan_keras.inference.tiling import upscale_image

    runner = load_generator(paper_model(tmp))
    img = photo(600, 400)
    whole = upscale_image(img, runner, tile=None).astype(int)
    print(f"600x400 -> {whole.shape[1]}x{whole.shape[0]}, tile {args.tile}")
    for ov in args.overlaps:
        d = np.abs(upscale_image(img, runner, tile=args.tile, tile_overlap=ov) - whole)
        print(f"overlap {ov:>3}: max |diff| {d.max():>3}  mean |diff| {d.mean():.5f}")


def memory(args: argparse.Namespace, tmp: Path) -> None:
    w, h = (int(v) for v in args.size.lower().split("x"))
    model = paper_model(tmp)
    src = tmp / "photo.png"
    Image.fromarray(photo(w, h)).save(src)
    cmd = [sys.executable, "-m", "srgan_keras.upscale", str(src), "-o", str(tmp / "out"),
           "--model", str(model)]
    if args.tile:
        cmd += ["--tile", str(args.tile)]
    t = time.time()
    rc = subprocess.run(cmd, cwd=REPO, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}).returncode
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    out_bytes = w * 4 * h * 4 * 3
    budget = out_bytes + 2**30
    print(f"{w}x{h} -> {4 * w}x{4 * h}: exit {rc}, {time.time() - t:.0f} s, peak RSS "
          f"{peak / 2**20:.0f} MiB, budget {budget / 2**20:.0f} MiB (output "
          f"{out_bytes / 2**20:.0f} MiB + 1 GiB): {'ok' if peak <= budget else 'OVER'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("seams")
    s.add_argument("--tile", type=int, default=64)
    s.add_argument("--overlaps", type=int, nargs="+", default=[0, 8, 16, 24, 40])
    m = sub.add_parser("memory")
    m.add_argument("--size", default="2000x1500")
    m.add_argument("--tile", type=int, default=None, help="default: the CLI's")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (seams if args.what == "seams" else memory)(args, Path(tmp))


if __name__ == "__main__":
    main()
