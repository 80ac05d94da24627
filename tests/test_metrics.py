"""The field's metrics (SRGAN §3.1): BT.601 Y, PSNR, SSIM vs hand values and scikit-image."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from srgan_keras.evaluation.metrics import evaluate_pair, psnr, rgb_to_y, shave, ssim, ssim_rgb


@pytest.mark.parametrize("rgb, y", [
    ((0, 0, 0), 16.0),  # black -> foot of the studio range
    ((255, 255, 255), 235.0),  # white -> head: 16 + 65.481 + 128.553 + 24.966
    ((255, 0, 0), 16.0 + 65.481),
    ((0, 255, 0), 16.0 + 128.553),
    ((0, 0, 255), 16.0 + 24.966),
    ((128, 64, 32), 16.0 + (65.481 * 128 + 128.553 * 64 + 24.966 * 32) / 255),
])
def test_rgb_to_y_known_pixels(rgb, y):
    img = np.array(rgb, dtype=np.uint8).reshape(1, 1, 3)
    assert rgb_to_y(img)[0, 0] == pytest.approx(y, abs=1e-9)


def test_psnr_hand_values():
    a = np.zeros((8, 8))
    assert psnr(a, a + 10) == pytest.approx(10 * math.log10(255**2 / 100))  # 28.1308 dB
    assert psnr(a, a + 255) == pytest.approx(0.0)
    assert psnr(a, a) == math.inf
    b = a.copy()
    b[0, 0] = 8  # mse = 64 / 64 = 1 -> 48.13 dB
    assert psnr(a, b) == pytest.approx(20 * math.log10(255))
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(a, np.zeros((4, 4)))


def test_shave_removes_border_of_2d_and_rgb():
    assert shave(np.zeros((20, 30)), 4).shape == (12, 22)
    assert shave(np.zeros((20, 30, 3)), 4).shape == (12, 22, 3)
    assert shave(np.zeros((20, 30, 3)), 0).shape == (20, 30, 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ssim_matches_scikit_image(seed):
    rng = np.random.default_rng(seed)
    # smooth-ish content plus noise of varying strength, so SSIM is far from 0 and from 1
    base = rng.uniform(0, 255, (12, 16))
    a = np.kron(base, np.ones((6, 6)))[:70, :90] + rng.normal(0, 5, (70, 90))
    b = a + rng.normal(0, 10 + 10 * seed, a.shape)
    a, b = np.clip(a, 0, 255), np.clip(b, 0, 255)
    ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False, data_range=255)
    assert 0.2 < ref < 0.99
    assert ssim(a, b) == pytest.approx(ref, abs=2e-4)


def test_ssim_identity_symmetry_and_small_images():
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 255, (32, 32))
    b = rng.uniform(0, 255, (32, 32))
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-6)
    assert ssim(a, b) == pytest.approx(ssim(b, a), abs=1e-6)
    with pytest.raises(ValueError, match="11x11"):
        ssim(a[:10, :10], b[:10, :10])


def test_ssim_rgb_is_the_mean_over_channels():
    rng = np.random.default_rng(4)
    a = rng.uniform(0, 255, (24, 24, 3))
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255)
    per_channel = [ssim(a[..., c], b[..., c]) for c in range(3)]
    assert ssim_rgb(a, b) == pytest.approx(np.mean(per_channel), abs=1e-6)


def test_evaluate_pair_uses_y_and_shaves_border():
    rng = np.random.default_rng(5)
    hr = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)
    m = evaluate_pair(hr, hr, border=4)
    assert m["psnr_y"] == math.inf and m["ssim_y"] == pytest.approx(1.0, abs=1e-6)
    # damage confined to the 4-pixel border does not count
    sr = hr.copy()
    sr[:4] = 0
    sr[:, -4:] = 255
    assert evaluate_pair(sr, hr, border=4)["psnr_y"] == math.inf
    # a uniform +10 on every channel moves Y by 10 * (65.481+128.553+24.966)/255 = 8.588
    hr2 = np.clip(hr.astype(int), 0, 245)
    sr2 = hr2 + 10
    dy = 10 * sum((65.481, 128.553, 24.966)) / 255
    assert evaluate_pair(sr2, hr2, border=4)["psnr_y"] == pytest.approx(
        20 * math.log10(255 / dy), abs=1e-6)
    assert evaluate_pair(sr2, hr2, border=4)["psnr_rgb"] == pytest.approx(
        20 * math.log10(255 / 10), abs=1e-6)


def test_blockiness_sees_an_8x8_grid_and_not_a_smooth_or_phase_shifted_image():
    from srgan_keras.evaluation.metrics import blockiness

    rng = np.random.default_rng(0)
    smooth = np.clip(rng.normal(128, 20, (64, 96, 3)), 0, 255)
    assert 0.85 < blockiness(smooth, 8) < 1.15  # no grid: about 1
    blocks = smooth.copy()
    for y in range(0, 64, 8):  # a constant offset per 8x8 block: JPEG's coarse quantisation
        for x in range(0, 96, 8):
            blocks[y:y + 8, x:x + 8] += rng.normal(0, 25)
    assert blockiness(np.clip(blocks, 0, 255), 8) > 2.0
    # the grid shifted by half a block puts its edges at the blocks' middles: below 1
    assert blockiness(np.clip(blocks, 0, 255)[4:, 4:], 8) < 0.6
    # x4: the 8x8 grid is 32 px apart; a 4-pixel periodic pattern (a generator's own) cancels
    up = np.repeat(np.repeat(np.clip(blocks, 0, 255), 4, 0), 4, 1)
    assert blockiness(up, 32) > 2.0
    cells = np.repeat(np.repeat(smooth, 4, 0), 4, 1)  # nearest x4: steps only every 4 px
    assert 0.8 < blockiness(cells, 32) < 1.2
    with pytest.raises(ValueError, match="two blocks a side"):
        blockiness(smooth[:10], 8)


def test_periodic_pattern_sees_a_repeated_tile_at_any_phase_and_not_plain_content():
    from srgan_keras.data.imaging import builtin_images
    from srgan_keras.evaluation.metrics import periodic_pattern

    rng = np.random.default_rng(0)
    noise = np.clip(rng.normal(128, 20, (256, 256, 3)), 0, 255)
    assert 0.7 < periodic_pattern(noise, 4) < 1.5  # nothing repeats: about 1
    photo = builtin_images(["coffee"])[0][1][:256, :256].astype(np.float64)
    plain = periodic_pattern(photo, 4)
    assert plain < 1.5
    checker = (np.indices((256, 256)).sum(0) % 2 * 2 - 1)[..., None]  # +-1 grey level
    assert periodic_pattern(np.clip(photo + checker, 0, 255), 4) > 3 * plain
    tile = np.tile(rng.normal(0, 1, (4, 4)), (64, 64))[..., None]  # a generator's 4x4 cell pattern
    patterned = np.clip(photo + tile, 0, 255)
    assert periodic_pattern(patterned, 4) > 3 * plain
    assert periodic_pattern(patterned[1:, 2:], 4) > 3 * plain  # phase-free
    assert periodic_pattern(np.full((32, 32, 3), 7.0), 4) == 1.0  # flat: nothing to measure
    with pytest.raises(ValueError, match="at least 4 periods"):
        periodic_pattern(photo[:12], 4)


def _texture(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def test_hf_ratio_is_one_for_hr_and_falls_with_blur():
    from srgan_keras.evaluation.metrics import hf_ratio

    hr = _texture()
    assert hf_ratio(hr, hr) == pytest.approx(1.0)
    blurred = ((hr[:-1, :-1].astype(float) + hr[1:, :-1] + hr[:-1, 1:] + hr[1:, 1:]) / 4).astype(np.uint8)
    assert hf_ratio(blurred, hr[:-1, :-1]) < 0.6
    flat = np.full_like(hr, 128)
    assert hf_ratio(flat, hr) == 0.0
