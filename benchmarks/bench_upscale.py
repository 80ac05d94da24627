"""Tiled upscaling on this machine: seams and memory (issue 3), speed and memory (issue 16.2).

    python -m benchmarks.bench_upscale seams   [--tile 64] [--overlaps 0 8 16 24 40]
    python -m benchmarks.bench_upscale memory  [--size 2000x1500] [--tile N]
    python -m benchmarks.bench_upscale speed   [--size 400x300] [--tiles 128 256] [--models F ...]
    python -m benchmarks.bench_upscale peak    [--size 4000x3000] [--seconds 60|0] [--model M]

Both use the paper-size SRResNet (B=16, 64 features), untrained (random weights, BatchNorm in
inference mode), saved to a temporary ``.keras`` file: memory and seams depend on the graph, not
on the weights.

``seams``: a 600x400 photo (Urban100 img_004 resized; a synthetic one if the shared data are
missing) upscaled whole and in tiles; max and mean |tiled - whole| in grey levels per overlap.
Acceptance: tile 64, overlap >= 16 -> max <= 2, mean < 0.1.

``memory``: ``python -m srgan_keras.upscale`` on a WxH photo in a subprocess; its peak RSS
(``ru_maxrss`` of the child) against the budget output bytes + 1 GiB (the 2000x1500 -> 8000x6000
case). Peak RSS includes TensorFlow's own ~0.6 GiB after import.

``speed`` (issue 16.2): seconds per output megapixel of every bundled model in ``saved_models/``
on a WxH photo, before (the old fixed 80 px tile, 16 px overlap) and after (``tile="auto"``),
plus a sweep of fixed tiles for the first model, and max |auto - whole| in grey levels.

``peak`` (issue 16.2): the CLI on a WxH photo (4000x3000 -> 16000x12000) in a subprocess, with
``--tile 80`` (before) and the automatic tile (after); its peak RSS (``VmHWM``) sampled for at
most ``--seconds`` (``0``: until the run ends, output file written), then the child is stopped.
The output array (``np.empty``) only becomes resident as tiles are written, so a stopped run's
peak is the activation peak measured here plus at most the output bytes printed beside it; a
finished run's peak is the whole run's, encoding included. ``--model`` (default: the CLI's).
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


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown CPU (no lscpu)"
    return next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                 if ln.startswith("Model name")), "unknown CPU")


def bundled_models() -> list[Path]:
    from srgan_keras.inference.bundled import SAVED_MODELS

    return sorted(p for p in SAVED_MODELS.iterdir() if p.suffix in (".keras", ".tflite"))


def speed(args: argparse.Namespace, tmp: Path) -> None:
    from srgan_keras.inference.runners import load_generator
    from srgan_keras.inference.tiling import DEFAULT_OVERLAP, auto_tile, upscale_image

    w, h = (int(v) for v in args.size.lower().split("x"))
    img = photo(w, h)
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; {w}x{h} -> x4, overlap {DEFAULT_OVERLAP}")

    def timed(runner, tile) -> tuple[float, np.ndarray]:
        t = time.perf_counter()
        out = upscale_image(img, runner, tile=tile)
        return time.perf_counter() - t, out

    print(f"{'model':<26} {'tile':>12} {'s/output Mpx':>13} {'max|d| vs whole':>16}")
    models = [p for p in bundled_models() if not args.models or p.name in args.models]
    for i, path in enumerate(models):
        runner = load_generator(path)
        upscale_image(img[:32, :32], runner, tile=None)  # warm-up: trace / allocate once
        mpx = w * h * runner.scale**2 / 1e6
        t_whole, whole = timed(runner, None)
        chosen = auto_tile(h, w, runner)
        rows = [(80, "before: 80")] + ([(t, str(t)) for t in args.tiles] if i == 0 else [])
        rows.append(("auto", f"after: {chosen or 'whole'}"))
        for tile, label in rows:
            sec, out = timed(runner, tile)
            d = np.abs(out.astype(int) - whole).max()
            print(f"{path.name:<26} {label:>12} {sec / mpx:>13.2f} {d:>16}", flush=True)
        print(f"{path.name:<26} {'whole':>12} {t_whole / mpx:>13.2f} {0:>16}", flush=True)


def peak(args: argparse.Namespace, tmp: Path) -> None:
    w, h = (int(v) for v in args.size.lower().split("x"))
    src = tmp / "photo.png"
    Image.fromarray(photo(w, h)).save(src)
    out_mib = w * 4 * h * 4 * 3 / 2**20
    print(f"CPU: {cpu_name()}; {w}x{h} -> {4 * w}x{4 * h} (output array {out_mib:.0f} MiB)")
    for label, extra in (("before (--tile 80)", ["--tile", "80"]), ("after (auto)", [])):
        cmd = [sys.executable, "-m", "srgan_keras.upscale", str(src), "-o", str(tmp / "out"),
               "-q", "--overwrite", *extra, *(["--model", args.model] if args.model else [])]
        err = tmp / "stderr.txt"
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with err.open("w") as err_file:
            child = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err_file)
        hwm, t0 = 0, time.time()
        while child.poll() is None and (args.seconds <= 0 or time.time() - t0 < args.seconds):
            try:
                status = Path(f"/proc/{child.pid}/status").read_text()
                hwm = max(hwm, int(next(ln.split()[1] for ln in status.splitlines()
                                        if ln.startswith("VmHWM"))))
            except (OSError, StopIteration):
                pass
            time.sleep(0.2)
        finished = child.poll() is not None
        if not finished:
            child.kill()  # our own child, by its handle
            child.wait()
        if finished and child.returncode:
            last = (err.read_text().strip().splitlines() or ["(nothing on stderr)"])[-1]
            print(f"{label:<20} FAILED (exit {child.returncode}) after {time.time() - t0:.0f} s: "
                  f"{last}", flush=True)
        elif finished:
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
            print(f"{label:<20} peak RSS {hwm / 1024:>6.0f} MiB, whole run "
                  f"in {time.time() - t0:.0f} s wall, {cpu:.0f} s CPU", flush=True)
        else:
            print(f"{label:<20} peak RSS {hwm / 1024:>6.0f} MiB in the first {time.time() - t0:.0f} s"
                  f" (stopped); full run <= that + {out_mib:.0f} MiB of output", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("seams")
    s.add_argument("--tile", type=int, default=64)
    s.add_argument("--overlaps", type=int, nargs="+", default=[0, 8, 16, 24, 40])
    m = sub.add_parser("memory")
    m.add_argument("--size", default="2000x1500")
    m.add_argument("--tile", type=int, default=None, help="default: the CLI's")
    sp = sub.add_parser("speed")
    sp.add_argument("--size", default="400x300")
    sp.add_argument("--tiles", type=int, nargs="*", default=[128, 256])
    sp.add_argument("--models", nargs="*", default=None, metavar="FILE",
                    help="file names in saved_models/ (default: every bundled model)")
    pk = sub.add_parser("peak")
    pk.add_argument("--size", default="4000x3000")
    pk.add_argument("--seconds", type=float, default=60, help="0: until the run ends")
    pk.add_argument("--model", default=None, help="default: the CLI's default model")
    args = ap.parse_args()
    run = {"seams": seams, "memory": memory, "speed": speed, "peak": peak}[args.what]
    with tempfile.TemporaryDirectory() as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
