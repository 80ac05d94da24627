"""The training data pipeline: ranges, shapes, degradation, paired folders, bad files."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from srgan_keras.data.degradation import bicubic_downscale
from srgan_keras.data.pipeline import training_dataset
from srgan_keras.data.sources import DataError, load_pool, validation_images
from srgan_keras.training.config import get_config


def _photo(h=80, w=96, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(base).resize((w, h), Image.BICUBIC))


def make_mixed_folder(root):
    """Every kind the loader must cope with, plus every bad kind."""
    root.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_photo(seed=1)).save(root / "rgb.png")
    Image.fromarray(_photo(seed=2)[..., 0]).save(root / "gray.png")
    Image.fromarray(np.dstack([_photo(seed=3), np.full((80, 96), 200, np.uint8)])).save(root / "rgba.png")
    Image.fromarray(_photo(seed=4)).convert("P").save(root / "palette.png")
    Image.fromarray(_photo(seed=5)[..., 0].astype(np.uint16) * 257).save(root / "sixteen.png")
    Image.fromarray(_photo(seed=6)).convert("CMYK").save(root / "cmyk.jpg")
    (sub := root / "nested").mkdir()
    Image.fromarray(_photo(seed=7)).save(sub / "deep.webp")
    # bad ones
    (root / "empty.png").write_bytes(b"")
    (root / "text.png").write_text("not an image")
    Image.fromarray(_photo(20, 20)).save(root / "small.png")
    good = (root / "rgb.png").read_bytes()
    (root / "truncated.png").write_bytes(good[: len(good) // 2])
    return 7  # usable images


def test_builtin_batches_have_the_papers_ranges_and_shapes():
    cfg = get_config("tiny", batch_size=3, hr_size=64)
    lr, hr, target = next(iter(training_dataset(cfg)))
    assert lr.shape == (3, 16, 16, 3) and hr.shape == (3, 64, 64, 3)
    assert float(lr.numpy().min()) >= 0 and float(lr.numpy().max()) <= 1  # LR in [0, 1]
    assert float(hr.numpy().min()) >= -1 and float(hr.numpy().max()) <= 1  # HR in [-1, 1]
    np.testing.assert_array_equal(hr.numpy(), target.numpy())
    # LR is the MATLAB-equivalent bicubic of HR, on 8-bit values: away from the crop's edges
    # (2 LR pixels, the antialiased x4 kernel's reach) the whole image's LR equals the crop's.
    hr255 = np.round((hr.numpy() + 1) * 127.5)
    inner = np.s_[:, 2:-2, 2:-2]
    np.testing.assert_allclose((lr.numpy() * 255)[inner], bicubic_downscale(hr255, 4).numpy()[inner],
                               atol=1.0 + 1e-3)


def test_batches_crop_distinct_images_and_vary(tmp_path):
    cfg = get_config("tiny", batch_size=4, hr_size=32)
    it = iter(training_dataset(cfg))
    a, b = next(it)[1].numpy(), next(it)[1].numpy()
    assert not np.array_equal(a, b)


def test_mixed_folder_skips_bad_files_with_one_summary_warning(tmp_path, capsys):
    usable = make_mixed_folder(tmp_path / "imgs")
    cfg = get_config("tiny", data=str(tmp_path / "imgs"), hr_size=32)
    pool = load_pool(cfg)
    assert len(pool.hr) == usable
    assert all(a.dtype == np.uint8 and a.shape[2] == 3 for a in pool.hr)
    err = capsys.readouterr().err
    assert err.count("warning: skipped 4 of 11") == 1
    for name in ("empty.png", "text.png", "small.png", "truncated.png"):
        assert name in err
    lr, hr, _ = next(iter(training_dataset(cfg)))
    assert hr.shape == (2, 32, 32, 3)


def test_streaming_path_when_the_cache_is_too_small(tmp_path):
    make_mixed_folder(tmp_path / "imgs")
    cfg = get_config("tiny", data=str(tmp_path / "imgs"), hr_size=32, cache_gib=0.0)
    assert isinstance(load_pool(cfg), list)  # paths, to stream
    lr, hr, _ = next(iter(training_dataset(cfg)))
    assert lr.shape == (2, 8, 8, 3) and hr.shape == (2, 32, 32, 3)


@pytest.mark.parametrize("make", ["empty_dir", "only_bad", "missing"])
def test_empty_or_all_bad_source_is_a_clear_error(tmp_path, make):
    folder = tmp_path / "d"
    if make != "missing":
        folder.mkdir()
    if make == "only_bad":
        (folder / "x.png").write_text("nope")
    cfg = get_config("tiny", data=str(folder))
    with pytest.raises(DataError, match="--data"):
        load_pool(cfg)


def test_paired_folders_align_hr_and_lr(tmp_path):
    hr_dir, lr_dir = tmp_path / "hr", tmp_path / "lr"
    hr_dir.mkdir()
    lr_dir.mkdir()
    for i in range(3):
        # HR made of constant 4x4 blocks: HR[::4, ::4] == LR under any flip or rotation, so a
        # misaligned HR/LR crop pair cannot pass the check below.
        lr = _photo(16, 24, seed=i)
        Image.fromarray(lr.repeat(4, 0).repeat(4, 1)).save(hr_dir / f"im{i}.png")
        Image.fromarray(lr).save(lr_dir / f"im{i}.png")
    cfg = get_config("tiny", data=str(hr_dir), lr_data=str(lr_dir), hr_size=32, batch_size=3)
    lr, hr, _ = next(iter(training_dataset(cfg)))
    hr255 = np.round((hr.numpy() + 1) * 127.5)
    np.testing.assert_allclose(lr.numpy() * 255, hr255[:, ::4, ::4], atol=1e-3)


def test_paired_folder_with_missing_lr_is_skipped(tmp_path, capsys):
    hr_dir, lr_dir = tmp_path / "hr", tmp_path / "lr"
    hr_dir.mkdir()
    lr_dir.mkdir()
    Image.fromarray(_photo(64, 64)).save(hr_dir / "a.png")
    Image.fromarray(_photo(64, 64)[::4, ::4]).save(lr_dir / "a.png")
    Image.fromarray(_photo(64, 64)).save(hr_dir / "b.png")
    pool = load_pool(get_config("tiny", data=str(hr_dir), lr_data=str(lr_dir), hr_size=32))
    assert len(pool.hr) == 1
    assert "no LR image named b" in capsys.readouterr().err


def test_validation_images_are_cropped_to_the_scale():
    cfg = dataclasses.replace(get_config("tiny"), val_images=0)
    items = validation_images(cfg)
    assert [n for n, _ in items] == ["builtin:astronaut", "builtin:coffee"]
    assert all(a.shape[0] % 4 == 0 and a.shape[1] % 4 == 0 for _, a in items)


def test_tfds_source_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    cfg = get_config("tiny", data="tfds:div2k/bicubic_x4", hr_size=32)
    with tfds.testing.mock_data(num_examples=4):
        lr, hr, _ = next(iter(training_dataset(cfg)))
    assert lr.shape == (2, 8, 8, 3) and hr.shape == (2, 32, 32, 3)


def test_bicubic_lr_crops_are_crops_of_the_whole_image_lr_as_at_evaluation(monkeypatch):
    """The LR of a training pair is cut from the whole image's LR (the evaluation protocol's),
    not made from the HR crop alone, whose edges the antialiased kernel would pad."""
    from srgan_keras.data import batches, sources
    from srgan_keras.data.degradation import make_lr_numpy

    cfg = get_config("tiny", batch_size=6, hr_size=32)
    pool = load_pool(cfg)
    assert pool.lr is not None and len(pool.lr) == len(pool.hr)
    for hr, lr in zip(pool.hr, pool.lr):
        assert hr.shape[0] % 4 == 0 and hr.shape[1] % 4 == 0
        np.testing.assert_array_equal(lr, make_lr_numpy(hr, 4))
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)  # every 32x32 window is unique
    pool = sources.ImagePool(names=["noise"], hr=[img])
    pool = sources._with_whole_image_lr(pool, cfg)
    monkeypatch.setattr(batches, "_augment_numpy", lambda rng, *arrays: list(arrays))
    hrs, lrs = next(batches.pool_batches(pool, cfg, seed=1))
    for hr_c, lr_c in zip(hrs, lrs):
        (y, x), = [(y, x) for y in range(0, 9, 4) for x in range(0, 17, 4)
                   if np.array_equal(img[y:y + 32, x:x + 32], hr_c)]
        np.testing.assert_array_equal(lr_c, pool.lr[0][y // 4:y // 4 + 8, x // 4:x // 4 + 8])
        assert not np.array_equal(lr_c, make_lr_numpy(hr_c, 4))  # the crop's own LR differs


def test_colour_jitter_and_realesrgan_keep_making_lr_per_crop():
    from srgan_keras.data.sources import whole_image_lr

    assert whole_image_lr(get_config("tiny"))
    assert not whole_image_lr(get_config("tiny", color_jitter=True))
    assert not whole_image_lr(get_config("tiny", degradation="realesrgan", hr_size=64))


def test_colour_jitter_changes_the_pixels_of_the_same_crops():
    """Seeded: with and without --color-jitter the batches are crops of the same places."""
    lr_a, hr_a, _ = next(iter(training_dataset(get_config("tiny", batch_size=4, hr_size=32))))
    lr_b, hr_b, _ = next(iter(training_dataset(get_config("tiny", batch_size=4, hr_size=32,
                                                           color_jitter=True))))
    assert not np.array_equal(hr_a.numpy(), hr_b.numpy())
    for a, b in zip(hr_a.numpy(), hr_b.numpy()):  # same places: the grey images correlate
        assert np.corrcoef(a.mean(-1).ravel(), b.mean(-1).ravel())[0, 1] > 0.95


@pytest.mark.slow
def test_light_degradation_trains_on_milder_lr_than_realesrgan():
    """--degradation light (the weak-denoise twin's data) runs the same second-order pipeline with
    the evaluation's light preset: on a flat grey crop the LR's noise is a fraction of
    realesrgan's (sigma up to 10 against up to 30 then 25, and no Poisson noise)."""
    import tensorflow as tf

    from srgan_keras.data.pipeline import make_pair
    from srgan_keras.data.realesrgan_degradation import seed_for
    from srgan_keras.data.sources import whole_image_lr

    grey = tf.fill((4, 64, 64, 3), tf.constant(128, tf.uint8))

    def noise(degradation):
        cfg = get_config("tiny", batch_size=4, hr_size=64, degradation=degradation)
        assert not whole_image_lr(cfg)
        stds = [float(tf.math.reduce_std(make_pair(grey, None, cfg, seed_for(0, k))[0] * 255))
                for k in range(6)]
        return float(np.mean(stds))

    light, full = noise("light"), noise("realesrgan")
    assert 0.5 < light < 0.4 * full, (light, full)
    with pytest.raises(ValueError, match="--lr-data cannot be used with --degradation light"):
        get_config("tiny", degradation="light", lr_data="x")
