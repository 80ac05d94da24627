"""Time to the first pixel (issue 29.1): the upscale CLI from the shell prompt to the written file.

    python -m benchmarks.bench_first_pixel [--runs 3]

Two photos with the default command (``realesr``, ``--denoise-strength auto``): the bundled sample
(180x120 JPEG, ``--example``) and a 500x333 JPEG (scikit-image's ``coffee`` resized, quality 90,
written to a temporary folder). Each is upscaled by ``python -m srgan_keras.upscale`` in a
subprocess, ``--runtime keras`` (before issue 29: TensorFlow imported, the ``.keras`` files
blended) and the default ``--runtime auto`` (after: the bundled TFLite exports on LiteRT); the
wall time is the median of ``--runs``. Beside it, the model time: ``upscale_image`` on the
decoded photo with the runner of that runtime, already loaded and its blend built (median of
``--runs`` after one untimed call), i.e. the network, tiling and the strength's estimate, none
of the start-up or the file I/O. Then ``--help``'s wall time.

Targets (issue 29.1, on the 2-core AMD EPYC): the sample <= 2 s from prompt to file; the 500x333
photo <= 1.5x its model time; ``--help`` < 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from benchmarks.bench_upscale import cpu_name

REPO = Path(__file__).resolve().parents[1]
SIZE = (500, 333)  # issue 29.1's larger photo
FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16")  # what XNNPACK/oneDNN use


def cpu_summary() -> str:
    from srgan_keras.inference.precision import cpu_flags

    have = [f for f in FLAGS if f in cpu_flags()]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"CPU: {cpu_name()}, {os.cpu_count()} logical CPUs, flags {' '.join(have) or 'none'} "
            f"(of {' '.join(FLAGS)}); load average {load}")


def larger_photo(folder: Path) -> Path:
    import skimage.data

    path = folder / "coffee_500x333.jpg"
    Image.fromarray(skimage.data.coffee()).resize(SIZE, Image.LANCZOS).save(path, quality=90)
    return path


def wall(cmd: list[str], runs: int) -> float:
    """Median wall seconds of ``cmd`` (each run must succeed)."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return statistics.median(times)


def model_seconds(photo: Path, runtime: str, runs: int) -> float:
    """Median seconds of upscale_image with the CLI's runner of ``runtime``, loaded and warm."""
    from srgan_keras.data.imaging import load_image
    from srgan_keras.inference.runners import load_generator
    from srgan_keras.inference.tiling import upscale_image

    runner = load_generator(None, denoise_strength="auto", precision="auto", runtime=runtime)
    image = load_image(photo)
    chosen, _ = runner.for_image(image, photo)
    upscale_image(image, chosen)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        chosen, _ = runner.for_image(image, photo)
        upscale_image(image, chosen)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(cpu_summary())
    cli = [sys.executable, "-m", "srgan_keras.upscale"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        from srgan_keras.samples import example_photo

        photos = [("sample 180x120 (--example)", example_photo(), ["--example"]),
                  (f"coffee {SIZE[0]}x{SIZE[1]}", larger_photo(tmp), None)]
        print("\n| photo | runtime | prompt to file (s) | model (s) | file / model |")
        print("| --- | --- | ---: | ---: | ---: |")
        for label, path, inputs in photos:
            for runtime in ("keras", "auto"):
                out = tmp / f"out_{runtime}"
                cmd = [*cli, *(inputs or [str(path)]), "-o", str(out), "--overwrite", "-q",
                       "--runtime", runtime]
                total = wall(cmd, args.runs)
                model = model_seconds(path, runtime, args.runs)
                name = "keras (before)" if runtime == "keras" else "auto (after)"
                print(f"| {label} | {name} | {total:.2f} | {model:.2f} | {total / model:.2f}x |",
                      flush=True)
        print(f"\n--help: {wall([*cli, '--help'], args.runs):.2f} s (median of {args.runs})")
    print("targets: the sample <= 2 s prompt to file; 500x333 <= 1.5x its model time; "
          "--help < 0.5 s")


if __name__ == "__main__":
    main()
