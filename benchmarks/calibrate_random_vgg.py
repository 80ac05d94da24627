"""Where ``RANDOM_VGG_RESCALE`` (training/losses.py) comes from, and what the random VGG19 prefers.

SRGAN multiplied ImageNet VGG19's features by 1/12.75 "to obtain VGG losses of a scale that is
comparable to the MSE loss" (§3.2). For the seeded random VGG19 we do the same by measurement: on
HR crops of a training folder and their x4 bicubic round trips (the blur an MSE-trained network
converges towards), the feature scale that makes the random VGG54 loss equal the pixel MSE (in
[-1, 1]): sqrt(MSE / unscaled loss) for a mean of squares (VGG22/VGG54), MSE / unscaled loss for
the L1 criteria of ESRGAN and Real-ESRGAN. The median over seeds of VGG54's, rounded, is the
constant; every random-VGG kind trains with it, and the last line per kind says how far from the
MSE's size that puts the L1 kinds (``multi_preact``: 26x, issue 23's bundled SRGAN).

It also prints the paper's argument on the same crops: a candidate with HR's texture but
misaligned by one pixel against the blurred round trip. Pixel MSE prefers the blur; a useful
perceptual loss prefers the texture.

    python -m benchmarks.calibrate_random_vgg --data ../shared/data/train --crops 128 --seeds 0 1 2
"""

from __future__ import annotations

import argparse

import numpy as np


def crops(data: str, n: int, size: int, seed: int) -> np.ndarray:
    """``n`` HR crops (size x size, uint8) drawn from the images of ``data``, the same every run."""
    from srgan_keras.data.imaging import read_images

    rng = np.random.default_rng(seed)
    images = [img for _, img in read_images(data) if min(img.shape[:2]) >= size + 2]
    out = []
    for k in range(n):
        img = images[rng.integers(len(images))] if k >= len(images) else images[k]
        y = rng.integers(img.shape[0] - size - 1)
        x = rng.integers(img.shape[1] - size - 1)
        out.append(img[y:y + size + 1, x:x + size + 1])  # one extra row/column for the shift
    return np.stack(out)


def main(argv=None) -> None:
    import tensorflow as tf

    from srgan_keras.data.degradation import bicubic_downscale, bicubic_upscale
    from srgan_keras.data.ranges import pixels_to_signed
    from srgan_keras.training.losses import RANDOM_VGG_RESCALE, VGG_LOSSES, ContentLoss, pixel_loss

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data/train")
    p.add_argument("--crops", type=int, default=128)
    p.add_argument("--size", type=int, default=96)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--kinds", nargs="+", default=["vgg54", "vgg22"], choices=sorted(VGG_LOSSES))
    a = p.parse_args(argv)

    raw = crops(a.data, a.crops, a.size, seed=0)
    hr255 = raw[:, :-1, :-1].astype(np.float32)
    shifted255 = raw[:, 1:, 1:].astype(np.float32)  # HR's texture, one pixel off diagonally
    lr = bicubic_downscale(tf.constant(hr255), 4)
    blur255 = np.clip(np.round(bicubic_upscale(lr, 4).numpy()), 0, 255)
    hr, shifted, blur = (pixels_to_signed(tf.constant(x)) for x in (hr255, shifted255, blur255))
    mse_blur, mse_shift = float(pixel_loss("mse", hr, blur)), float(pixel_loss("mse", hr, shifted))
    print(f"{len(hr255)} crops of {a.size}x{a.size} from {a.data}")
    print(f"pixel MSE ([-1, 1]): bicubic round trip {mse_blur:.5f}, HR shifted (1, 1) {mse_shift:.5f}"
          f" -> prefers {'the blur' if mse_blur < mse_shift else 'the texture'}")
    for kind in a.kinds:
        ratios = []
        for seed in a.seeds:
            loss = ContentLoss(kind, f"random:{seed}")
            loss.feature_scale = 1.0  # unscaled, to measure the ratio
            vb, vs = float(loss(hr, blur)), float(loss(hr, shifted))
            # a mean of squares scales with the square of the feature scale, an L1 linearly
            scale = np.sqrt(mse_blur / vb) if VGG_LOSSES[kind][1] == "mse" else mse_blur / vb
            ratios.append(scale)
            print(f"{kind} random:{seed}: bicubic {vb:.5f}, shifted {vs:.5f} -> prefers "
                  f"{'the blur' if vb < vs else 'the texture'} (blur/shift {vb / vs:.2f}); "
                  f"feature scale for the MSE's size {scale:.5f} (1/{1 / scale:.0f})")
        print(f"{kind}: median feature scale over seeds 1/{1 / np.median(ratios):.0f}")
        # What the library trains with: every random-VGG kind at the one constant. The multi-layer
        # L1 kinds are not on the MSE's scale then (their loss grows linearly, not quadratically,
        # with the features); this line says how far, so the balance with 1e-3 x adversarial is
        # known for each kind.
        at_constant = [float(ContentLoss(kind, f"random:{s}")(hr, blur)) for s in a.seeds]
        print(f"{kind}: at RANDOM_VGG_RESCALE (1/{1 / RANDOM_VGG_RESCALE:.0f}) the bicubic pairs' loss"
              f" is {np.median(at_constant):.4f} = {np.median(at_constant) / mse_blur:.1f}x the pixel MSE")


if __name__ == "__main__":
    main()
