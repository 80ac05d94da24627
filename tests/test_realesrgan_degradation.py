"""Real-ESRGAN's second-order degradations: each stage against its formula or its statistics,
then the whole pipeline (shapes, 8-bit output, seeds, tf.data)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage, special

from srgan_keras.data import realesrgan_degradation as rd
from srgan_keras.data import realesrgan_kernels as rk
from srgan_keras.data import realesrgan_stages as rs


def grid(k=21):
    ax = np.arange(-(k // 2), k // 2 + 1, dtype=np.float64)
    xx, yy = np.meshgrid(ax, ax)
    return np.stack([xx, yy], -1)


def basicsr_quadratic(sx, sy, theta, k=21):
    """BasicSR's ``sigma_matrix2`` and the quadratic form of ``pdf2``, transcribed."""
    d = np.diag([sx**2, sy**2])
    u = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    inv = np.linalg.inv(u @ d @ u.T)
    g = grid(k)
    return np.sum((g @ inv) * g, -1)


def normalised(k):
    return k / k.sum()


@pytest.mark.parametrize("family,beta", [(0, 1.0), (1, 0.6), (1, 3.0), (2, 1.5)])
def test_kernels_match_basicsr_formulas(family, beta):
    sx, sy, theta, ksize = 2.5, 0.9, 0.7, 15
    q = basicsr_quadratic(sx, sy, theta, ksize)
    ref = [np.exp(-0.5 * q), np.exp(-0.5 * q**beta), 1.0 / (q**beta + 1.0)][family]
    ref = np.pad(normalised(ref), 3)  # 15x15 zero-padded to 21x21, as the dataset does
    ours = rk.mixed_kernel(family, ksize, sx, sy, theta, beta).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_sinc_kernel_matches_the_circular_lowpass_formula():
    omega, ksize = 1.3, 13
    c = (ksize - 1) / 2
    x, y = np.meshgrid(np.arange(ksize), np.arange(ksize), indexing="ij")
    r = np.hypot(x - c, y - c)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = omega * special.j1(omega * r) / (2 * np.pi * r)
    ref[int(c), int(c)] = omega**2 / (4 * np.pi)
    ref = np.pad(normalised(ref), 4)
    np.testing.assert_allclose(rk.sinc_kernel(omega, ksize).numpy(), ref, atol=1e-6)
    assert ref.min() < 0  # the ringing lobes


@pytest.mark.slow
def test_random_kernels_sum_to_one_and_stay_in_their_window():
    sizes = set()
    for i in range(60):
        for k in rk.sample_kernels((7, i)):
            k = k.numpy()
            assert k.shape == (21, 21)
            assert k.sum() == pytest.approx(1.0, abs=1e-5)
            nz = np.argwhere(k != 0)
            half = int(np.abs(nz - 10).max())
            sizes.add(2 * half + 1)
    assert sizes <= set(range(1, 22, 2))  # 1 = the pulse (final sinc skipped)
    assert {7, 21} <= sizes


def test_filter2d_is_a_reflect_padded_correlation():
    img = np.random.default_rng(0).random((20, 24, 3)).astype(np.float32)
    kernel = rk.random_blur_kernel((1, 1), rd.DEFAULT.kernel_prob, 0.0, (0.5, 3.0), (0.5, 4.0),
                                   (1.0, 2.0)).numpy()
    ref = np.stack([ndimage.correlate(img[..., c], kernel, mode="mirror") for c in range(3)], -1)
    np.testing.assert_allclose(rs.filter2d(img, kernel).numpy(), ref, atol=1e-5)
    np.testing.assert_allclose(rs.filter2d(img, rk.pulse_kernel()).numpy(), img, atol=1e-7)


def test_resize_reaches_the_size_by_every_mode():
    img = tf.random.uniform((40, 30, 3))
    for mode in range(3):
        assert rs.resize(img, [17, 55], tf.constant(mode)).shape == (17, 55, 3)
    assert rs.resize(img, [3, 4], tf.constant(0)).shape == (rd.MIN_SIZE, rd.MIN_SIZE, 3)


@pytest.mark.slow
def test_random_scale_has_the_official_odds_and_ranges():
    cfg = rd.DEFAULT
    s = np.array([float(rs.random_scale((3, i), cfg.resize_prob, cfg.resize_range))
                  for i in range(1500)])
    up, down, keep = np.mean(s > 1), np.mean(s < 1), np.mean(s == 1)
    assert (up, down, keep) == pytest.approx(cfg.resize_prob, abs=0.04)
    assert s.min() >= cfg.resize_range[0] and s.max() <= cfg.resize_range[1]


def test_gaussian_noise_has_the_requested_sigma():
    img = tf.fill((128, 128, 3), 0.5)
    for sigma in (1.0, 10.0, 30.0):
        noise = rs.add_gaussian_noise(img, sigma, tf.constant(False), (0, 1)) - img
        assert float(tf.math.reduce_std(noise)) == pytest.approx(sigma / 255, rel=0.05)
    gray = rs.add_gaussian_noise(img, 20.0, tf.constant(True), (0, 2)).numpy()
    assert np.array_equal(gray[..., 0], gray[..., 2]) and gray.std() > 0.05


def test_poisson_noise_variance_follows_the_intensity():
    # 256 distinct levels -> vals = 256 photons per unit intensity: var = x / 256 * scale^2
    ramp = np.tile(np.linspace(0.0, 1.0, 256, dtype=np.float32), (256, 1))
    img = np.repeat(ramp[..., None], 3, -1)
    scale = 0.5
    noise = (rs.add_poisson_noise(img, scale, tf.constant(False), (0, 3)) - img).numpy()
    mid = slice(64, 192)  # away from the clipping at 0 and 1
    expected = np.mean(img[:, mid]) / 256 * scale**2
    assert noise[:, mid].var() == pytest.approx(expected, rel=0.1)
    assert abs(noise[:, mid].mean()) < 1e-3
    gray = rs.add_poisson_noise(img, scale, tf.constant(True), (0, 4)).numpy()
    assert np.array_equal(gray[..., 0] - img[..., 0], gray[..., 1] - img[..., 1])


@pytest.mark.slow
def test_noise_draws_follow_the_config():
    cfg = rd.DEFAULT
    draws = [rs.random_noise_draw((5, i), cfg.gaussian_noise_prob, cfg.noise_range,
                                  cfg.poisson_scale_range, cfg.gray_noise_prob)
             for i in range(800)]
    assert np.mean([bool(d.gaussian) for d in draws]) == pytest.approx(0.5, abs=0.05)
    assert np.mean([bool(d.gray) for d in draws]) == pytest.approx(0.4, abs=0.05)
    sigmas = [float(d.sigma) for d in draws]
    assert min(sigmas) >= 1.0 and max(sigmas) <= 30.0


def test_jpeg_quality_orders_error_and_file_size():
    rng = np.random.default_rng(0)
    img = ndimage.gaussian_filter(rng.random((64, 64, 3)), (1.5, 1.5, 0)).astype(np.float32)
    errors, sizes = [], []
    for q in (30, 60, 95):
        errors.append(float(np.mean((rs.jpeg(img, float(q)).numpy() - img) ** 2)))
        sizes.append(len(tf.io.encode_jpeg(tf.cast(img * 255, tf.uint8), quality=q).numpy()))
    assert errors[0] > errors[1] > errors[2] > 0
    assert sizes[0] < sizes[1] < sizes[2]


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_jpeg_matches_pillow_and_keeps_the_colours(name):
    """Issue 24.3: the fast IDCT of ``tf.image.adjust_jpeg_quality`` darkened red and blue by
    ~1.2 grey levels per pass, and the real-world model learned to add that back (a cast)."""
    import io

    import skimage.data
    from PIL import Image

    img8 = getattr(skimage.data, name)()[:128, :128]
    for q in (30, 75):
        ours = np.round(rs.jpeg(img8.astype(np.float32) / 255, float(q)).numpy() * 255)
        buf = io.BytesIO()
        Image.fromarray(img8).save(buf, "JPEG", quality=q)
        pillow = np.asarray(Image.open(buf), np.float64)
        assert np.abs(ours - pillow).mean() < 0.1  # the same libjpeg settings, the same pixels
        shift = ours.reshape(-1, 3).mean(0) - img8.reshape(-1, 3).mean(0)
        assert np.all(np.abs(shift) < 0.6), shift  # fast IDCT: about -1.2 on red and blue


def test_usm_sharpens_edges_and_leaves_flat_areas_alone():
    img = np.full((64, 64, 3), 0.3, np.float32)
    img[:, 32:] = 0.7
    out = rs.usm_sharpen(img).numpy()
    assert out[:, 31].mean() < 0.3 and out[:, 32].mean() > 0.7  # overshoot at the edge
    np.testing.assert_allclose(out[:, :4], img[:, :4], atol=1e-6)  # far from it: unchanged
    flat = np.full((40, 40, 3), 0.5, np.float32)
    np.testing.assert_allclose(rs.usm_sharpen(flat).numpy(), flat, atol=1e-6)
    batch = rs.usm_sharpen(np.stack([img, img]))
    np.testing.assert_allclose(batch[1], out, atol=1e-6)


def test_the_defaults_are_the_official_options():
    cfg = rd.DEFAULT
    assert cfg.kernel_prob == (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    assert (cfg.blur_sigma, cfg.blur_sigma2) == ((0.2, 3.0), (0.2, 1.5))
    assert (cfg.resize_prob, cfg.resize_prob2) == ((0.2, 0.7, 0.1), (0.3, 0.4, 0.3))
    assert (cfg.resize_range, cfg.resize_range2) == ((0.15, 1.5), (0.3, 1.2))
    assert (cfg.noise_range, cfg.noise_range2) == ((1, 30), (1, 25))
    assert (cfg.poisson_scale_range, cfg.poisson_scale_range2) == ((0.05, 3), (0.05, 2.5))
    assert cfg.jpeg_range == cfg.jpeg_range2 == (30, 95)
    assert (cfg.sinc_prob, cfg.second_blur_prob, cfg.final_sinc_prob) == (0.1, 0.8, 0.8)
    assert cfg.kernel_sizes == tuple(range(7, 22, 2))


def test_pipeline_output_is_8bit_lr_and_reproducible():
    hr = tf.random.stateless_uniform((64, 64, 3), (0, 0))
    a = rd.degrade_image(hr, 4, rd.DEFAULT, (1, 2)).numpy()
    assert a.shape == (16, 16, 3)
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_allclose(a * 255, np.round(a * 255), atol=1e-4)
    np.testing.assert_array_equal(a, rd.degrade_image(hr, 4, rd.DEFAULT, (1, 2)).numpy())
    assert not np.array_equal(a, rd.degrade_image(hr, 4, rd.DEFAULT, (1, 3)).numpy())


def test_pipeline_records_every_stage_in_eager_mode():
    stages = []
    rd.degrade_image(tf.random.uniform((64, 64, 3)), 4, rd.DEFAULT, (0, 1), stages)
    names = [n for n, _, _ in stages]
    assert names[:7] == ["blur 1", "resize 1", "noise 1", "JPEG 1", "blur 2", "resize 2",
                         "noise 2"]
    assert set(names[7:9]) == {"resize + sinc", "JPEG 2"} and names[-1] == "LR"


@pytest.mark.slow
def test_batches_in_tf_data_get_distinct_degradations():
    hr = tf.random.stateless_uniform((3, 64, 64, 3), (0, 1))
    ds = tf.data.Dataset.from_tensors(hr).repeat(2).enumerate().map(
        lambda i, x: rd.realesrgan_triplet(x, 4, rd.DEFAULT, rd.seed_for(7, i)))
    (lr0, hr0, usm0), (lr1, _, _) = list(ds)
    assert lr0.shape == (3, 16, 16, 3) and usm0.shape == hr0.shape == (3, 64, 64, 3)
    assert not np.array_equal(lr0[0], lr0[1])  # images within a batch differ
    assert not np.array_equal(lr0, lr1)  # and so do the batches
    one = rd.realesrgan_triplet(hr[2], 4, rd.DEFAULT, tf.random.experimental.stateless_fold_in(
        rd.seed_for(7, 0), 2))[0]
    np.testing.assert_allclose(one, lr0[2], atol=1e-6)  # per-image seeds: map before or after


def test_too_small_crops_fail_with_a_sentence():
    for fn, hr in ((rd.degrade_batch, tf.zeros((1, 32, 32, 3))),
                   (rd.degrade_image, tf.zeros((40, 48, 3))),
                   (rd.realesrgan_triplet, tf.zeros((2, 20, 20, 3)))):
        with pytest.raises(ValueError, match="HR crops of at least 44 px at x4"):
            fn(hr, 4, rd.DEFAULT, (0, 0))


def test_grid_figure_is_written(tmp_path):
    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    fig = rd.degradation_grid_figure(img, tmp_path / "grid.png")
    assert (tmp_path / "grid.png").stat().st_size > 10_000
    assert sum(ax.has_data() for ax in fig.axes) == 15  # HR, USM, 9 stages, LR, 3 kernels
