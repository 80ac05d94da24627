"""The colour shift of the bundled real-world models, and its removal (issue 24.3).

Measures, per model file, the mean RGB shift against bicubic over LR images made from a training
folder (centre crops, x4 bicubic downscale: clean inputs, so what is measured is the model's own
offset and not a restoration; ``--lr real``: the photos' own pixels, as a user upscales them) and
the flat-grey shift at 64, 128 and 192. With ``--write`` it subtracts an offset from the bias
before the pixel shuffle (``inference/color_shift.remove_offset``), writes the file in place,
atomically, and measures again. Calibrate on training photos only, never on an evaluation folder.

The offset removed is the mean of the flat-128 shift and the photos' shift (our choice). The two
differ: the flat shift is the image-independent cast, the photos add a content-dependent part
(about +1 grey level on red and green for ``realesr_x4.keras``, from its sharpening); removing
either one alone leaves the other test about 1 level off, the mean splits the difference.

    python -m benchmarks.calibrate_color --data ../shared/data/train --images 64 \\
        saved_models/realesr_x4.keras saved_models/realesr_x4_wdn.keras [--write]
"""

from __future__ import annotations

import argparse

import numpy as np

GREYS = (64.0, 128.0, 192.0)


def lr_images(data: str, n: int, size: int, scale: int, kind: str = "bicubic") -> list[np.ndarray]:
    """``n`` LR images (size/scale square, [0, 1]) from ``data``'s first ``n`` images (sorted by
    path) that are at least ``size`` pixels: their centre crops bicubic-downscaled by ``scale``
    (``kind="bicubic"``), or centre crops of size/scale taken as they are (``"real"``: the photos'
    own noise and JPEG, what a user upscales)."""
    import tensorflow as tf

    from srgan_keras.data.degradation import bicubic_downscale
    from srgan_keras.data.imaging import read_images

    out = []
    for _, img in read_images(data):
        h, w = img.shape[:2]
        if min(h, w) < size:
            continue
        if kind == "real":
            side = size // scale
            y, x = (h - side) // 2, (w - side) // 2
            out.append((img[y:y + side, x:x + side] / 255.0).astype(np.float32))
            if len(out) == n:
                break
            continue
        y, x = (h - size) // 2, (w - size) // 2
        hr = tf.constant(img[None, y:y + size, x:x + size].astype(np.float32))
        lr = np.clip(np.round(bicubic_downscale(hr, scale).numpy()[0]), 0, 255) / 255.0
        out.append(lr.astype(np.float32))
        if len(out) == n:
            break
    return out


def report(label: str, runner, images) -> np.ndarray:
    """Print the shifts; return the offset ``--write`` removes (module doc)."""
    from srgan_keras.inference.color_shift import flat_shift, mean_shift

    photos = mean_shift(runner, images)
    flat = {g: flat_shift(runner, g) for g in GREYS}
    text = "  ".join(f"{g:.0f}: {np.array2string(v, precision=2)}" for g, v in flat.items())
    print(f"{label:<34} photos {np.array2string(photos, precision=2)}   flat {text}", flush=True)
    return (photos + flat[128.0]) / 2


def main(argv=None) -> None:
    import keras

    from benchmarks.bench_upscale import cpu_name
    from srgan_keras.data.files import atomic_write
    from srgan_keras.inference.color_shift import remove_offset
    from srgan_keras.inference.runners import KerasRunner
    from srgan_keras.nn.saving import load_keras

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", help=".keras files of unit-range SRVGG generators")
    p.add_argument("--data", default="../shared/data/train")
    p.add_argument("--images", type=int, default=64)
    p.add_argument("--size", type=int, default=256, help="HR crop side")
    p.add_argument("--lr", choices=("bicubic", "real"), default="bicubic",
                   help="LR images: bicubic downscales of the crops, or the photos' pixels as they are")
    p.add_argument("--write", action="store_true", help="remove the photos' mean shift in place")
    a = p.parse_args(argv)

    print(f"CPU: {cpu_name()}; {a.images} {a.lr} LR images from {a.data}, "
          f"{a.size} px HR crops; shifts in grey levels (R, G, B), SR - bicubic")
    for path in a.models:
        model = load_keras(path)
        runner = KerasRunner(model, name=path)
        images = lr_images(a.data, a.images, a.size, runner.scale, a.lr)
        shift = report(path, runner, images)
        if a.write:
            remove_offset(model, shift)
            atomic_write(path, lambda tmp, m=model: m.save(tmp), suffix=".keras")
            report("  after removing it", KerasRunner(load_keras(path), name=path), images)
    keras.backend.clear_session()


if __name__ == "__main__":
    main()
