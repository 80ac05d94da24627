"""Endless batches of HR crops, each a function of ``(seed, step)``: from a pool or streamed from disk.

Batch ``k`` of a folder or of the built-in photos, its crops, flips and rotations are drawn from
random generators seeded with ``(seed, k)`` (our design), so a run resumed at step ``k`` sees the
batches the uninterrupted run would have seen. Random flips and 90 degree rotations are our choice
(the paper is silent). :func:`pool_batches` crops an in-memory :class:`~srgan_keras.data.sources.ImagePool`;
:func:`streamed_batches` decodes files in parallel, skipping the broken ones.
"""

from __future__ import annotations

import itertools
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tensorflow as tf

from srgan_keras.data.imaging import ImageError
from srgan_keras.data.sources import DataError, DataSettings, ImagePool, decode_checked

CROPS_PER_IMAGE = 8  # streaming: random crops taken from each decoded file (our choice)
# Streaming: stop when this many files in a row failed to decode and none ever has (our choice;
# enough to rule out bad luck in a source that holds a few broken files).
MAX_FAILURES_BEFORE_FIRST_DECODE = 100
MAX_SKIP_WARNINGS = 20  # streaming: files named in a warning; the rest are counted (our choice)


def _augment_numpy(rng: np.random.Generator, *arrays: np.ndarray) -> list[np.ndarray]:
    """The same random flip and 90 degree rotation applied to every array (HR and its LR)."""
    k, flip = int(rng.integers(4)), bool(rng.integers(2))
    out = []
    for a in arrays:
        a = np.rot90(a, k) if k else a
        out.append(np.ascontiguousarray(a[:, ::-1] if flip else a))
    return out


def pool_batches(pool: ImagePool, cfg: DataSettings, seed: int, start_step: int = 0):
    """Endless batches of (HR uint8, LR uint8 or zeros) crops, each from a distinct image when
    possible; batch ``k`` (from ``start_step`` on) is a function of ``(seed, k)`` alone."""
    n, s, size = len(pool.hr), cfg.scale, cfg.hr_size
    lr_size = size // s
    for step in itertools.count(start_step):
        rng = np.random.default_rng([seed, step])
        idx = rng.choice(n, cfg.batch_size, replace=n < cfg.batch_size)
        hrs, lrs = [], []
        for i in idx:
            hr = pool.hr[i]
            # Offsets on the LR grid (HR offsets on multiples of the scale), with or without LR
            # images, so that the same seed gives the same crops either way.
            y = int(rng.integers((hr.shape[0] - size) // s + 1))
            x = int(rng.integers((hr.shape[1] - size) // s + 1))
            hr_c = hr[y * s:y * s + size, x * s:x * s + size]
            if pool.lr is not None:
                lr_c = pool.lr[i][y:y + lr_size, x:x + lr_size]
                hr_c, lr_c = _augment_numpy(rng, hr_c, lr_c)
                lrs.append(lr_c)
            else:
                (hr_c,) = _augment_numpy(rng, hr_c)
            hrs.append(hr_c)
        lr_batch = np.stack(lrs) if lrs else np.zeros((cfg.batch_size, 1, 1, 3), np.uint8)
        yield np.stack(hrs), lr_batch


_stream_failures: list[DataError] = []  # what a stream raised inside tf.data (see stream_failure)


def stream_failure(error: BaseException) -> DataError | None:
    """The :class:`DataError` that stopped a streamed source, if ``error`` is TensorFlow's
    wrapping of it (an exception inside a ``tf.data`` generator reaches the loop as an OpError)."""
    if isinstance(error, tf.errors.OpError) and _stream_failures:
        return _stream_failures[-1]
    return None


def _crops_of_file(path: Path, cfg: DataSettings, rng_seed: list[int]) -> np.ndarray:
    """CROPS_PER_IMAGE random augmented HR crops of one file; raises ImageError."""
    size = cfg.hr_size
    img = decode_checked(path, size)
    rng = np.random.default_rng(rng_seed)
    crops = []
    for _ in range(CROPS_PER_IMAGE):
        y = int(rng.integers(img.shape[0] - size + 1))
        x = int(rng.integers(img.shape[1] - size + 1))
        (c,) = _augment_numpy(rng, img[y:y + size, x:x + size])
        crops.append(c)
    return np.stack(crops)


def streamed_batches(paths: list[Path], cfg: DataSettings, seed: int, start_step: int = 0):
    """Endless HR batches decoded from disk, a function of ``(seed, step)`` like the pool's.

    Steps come in chunks of CROPS_PER_IMAGE: chunk ``c`` takes ``batch_size`` files in the
    order of a permutation drawn from ``(seed, c)``, decodes them in parallel (Pillow, so every
    format and mode works) and cuts CROPS_PER_IMAGE crops from each; batch ``r`` of the chunk
    holds crop ``r`` of every file, so a batch's crops come from distinct files. A file that
    fails to decode is replaced by the next in the permutation, named in a warning once, and not
    tried again. When every file has failed, or the first MAX_FAILURES_BEFORE_FIRST_DECODE tried
    all failed, the stream stops with a :class:`DataError` (it retried forever before).
    """
    n, b = len(paths), cfg.batch_size
    bad: dict[int, str] = {}
    decoded_any = False
    chunk, skip = divmod(start_step, CROPS_PER_IMAGE)

    def stop(why: str) -> DataError:
        first = next(iter(bad.values()))
        err = DataError(f"--data {cfg.data}: {why} (first: {first}); the streamed source cannot "
                        "make a batch: check the files, or remove the broken ones")
        _stream_failures.append(err)
        return err

    def work(item):  # (slot k of chunk c's permutation, file i, c) -> (k, crops or None, error)
        k, i, c = item
        try:
            return k, _crops_of_file(paths[i], cfg, [seed, c, k]), None
        except ImageError as e:
            return k, None, str(e)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        while True:
            rng = np.random.default_rng([seed, chunk])
            order = [int(i) for i in rng.permutation(n)]
            chosen: list[tuple[int, np.ndarray]] = []  # (slot in the permutation, crops)
            pos = 0
            while len(chosen) < b and pos < n:
                want = order[pos:pos + (b - len(chosen))]
                pos += len(want)
                todo = [(k, i, chunk) for k, i in enumerate(want, pos - len(want)) if i not in bad]
                for k, crops, err in pool.map(work, todo):
                    i = order[k]
                    if err is None:
                        chosen.append((k, crops))
                        decoded_any = True
                        continue
                    bad[i] = err
                    if len(bad) <= MAX_SKIP_WARNINGS:
                        print(f"warning: skipped {err}", file=sys.stderr)
                    elif len(bad) == MAX_SKIP_WARNINGS + 1:
                        print("warning: more files fail to decode; they are skipped without a "
                              "warning each", file=sys.stderr)
                if len(bad) == n:
                    raise stop(f"none of the {n} files decodes, although their headers read")
                if not decoded_any and len(bad) >= MAX_FAILURES_BEFORE_FIRST_DECODE:
                    raise stop(f"the first {len(bad)} files tried all fail to decode")
            chosen.sort(key=lambda kc: kc[0])
            crops = [c for _, c in chosen]
            while len(crops) < b:  # fewer good files than a batch: repeat them
                crops += crops[: b - len(crops)]
            stacked = np.stack(crops, axis=1)  # (CROPS_PER_IMAGE, B, size, size, 3)
            for r in range(skip, CROPS_PER_IMAGE):
                yield stacked[r]
            chunk, skip = chunk + 1, 0
