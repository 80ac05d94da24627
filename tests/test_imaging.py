"""Atomic writes: all or nothing, ordinary permissions."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from PIL import Image

from srgan_keras.data.imaging import ImageError, atomic_write


def test_atomic_write_gives_ordinary_permissions(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write(target, lambda tmp: open(tmp, "w").write("hello"))
    assert target.read_text() == "hello"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def boom(tmp):
        open(tmp, "w").write("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, boom)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_read_images_names_skips_and_says_why(tmp_path):
    """One HR-folder reader (data.imaging.read_images) for export, interpolate and evaluate."""
    from srgan_keras.data.imaging import read_images

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    img = np.zeros((8, 8, 3), np.uint8)
    Image.fromarray(img).save(tmp_path / "a" / "x.png")
    Image.fromarray(img).save(tmp_path / "b" / "x.png")
    (tmp_path / "b" / "bad.png").write_bytes(b"not a png")
    skipped: list[str] = []
    got = read_images(tmp_path, skipped)
    assert [n for n, _ in got] == ["a/x", "b/x"] and got[0][1].dtype == np.uint8
    assert len(skipped) == 1 and "bad.png" in skipped[0]
    with pytest.raises(ImageError, match="bad.png"):
        read_images(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        read_images(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no image files found"):
        read_images(tmp_path / "empty")
