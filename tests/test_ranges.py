"""The value ranges (SRGAN §3.2) and their conversions, owned by srgan_keras.data.ranges."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.data import ranges as R

PACKAGE = Path(__file__).resolve().parents[1] / "srgan_keras"
ALL_U8 = np.arange(256, dtype=np.uint8)


def test_pixels_to_unit_numpy_and_tensorflow_agree_and_are_float32():
    unit = R.pixels_to_unit(ALL_U8)
    assert unit.dtype == np.float32 and unit[0] == 0.0 and unit[-1] == 1.0
    np.testing.assert_array_equal(unit, (ALL_U8 / np.float64(R.PIXEL_MAX)).astype(np.float32))
    tensor = R.pixels_to_unit(tf.constant(ALL_U8))
    assert tensor.dtype == tf.float32
    np.testing.assert_array_equal(tensor.numpy(), unit)
    u16 = np.array([0, 257, 65535], np.uint16)
    np.testing.assert_array_equal(R.pixels_to_unit(u16, R.PIXEL_MAX_16), np.float32([0.0, 1 / 255, 1.0]))


def test_every_pixel_value_survives_the_round_trips():
    np.testing.assert_array_equal(R.to_uint8(R.pixels_to_unit(ALL_U8)), ALL_U8)
    np.testing.assert_array_equal(R.signed_to_uint8(R.pixels_to_signed(ALL_U8)), ALL_U8)
    np.testing.assert_array_equal(R.to_uint8(R.signed_to_unit(R.unit_to_signed(R.pixels_to_unit(ALL_U8)))),
                                  ALL_U8)
    u16 = np.arange(0, 65536, 7, dtype=np.uint16)
    np.testing.assert_array_equal(R.to_pixels(R.pixels_to_unit(u16, R.PIXEL_MAX_16), np.uint16), u16)


def test_the_paper_ranges():
    """LR [0, 1], HR/SR [-1, 1]: black and white land on the ends, mid-grey on the middle."""
    np.testing.assert_allclose(R.pixels_to_signed(np.array([0, 255], np.uint8)), [-1.0, 1.0])
    np.testing.assert_allclose(R.unit_to_signed(np.array([0.0, 0.5, 1.0])), [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(R.signed_to_unit(np.array([-1.0, 0.0, 1.0])), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(R.signed_to_pixels(np.array([-1.0, 1.0])), [0.0, 255.0])
    np.testing.assert_allclose(R.unit_to_pixels(np.array([0.5])), [127.5])


def test_outputs_are_rounded_and_clipped():
    np.testing.assert_array_equal(R.to_uint8([-0.2, 0.5 / 255, 1.6 / 255, 1.3]), [0, 0, 2, 255])
    np.testing.assert_array_equal(R.signed_to_uint8([-1.5, 1.5]), [0, 255])
    np.testing.assert_array_equal(R.uint16_to_uint8(np.array([0, 128, 129, 257 * 200, 65535], np.uint16)),
                                  [0, 0, 1, 200, 255])
    q = R.quantize_unit(tf.constant([0.0, 0.31, 1.2, -0.1])).numpy()
    np.testing.assert_allclose(q, [0.0, 79 / 255, 1.0, 0.0], atol=1e-7)


def _inline_pixel_scales(path: Path) -> list[str]:
    """``* 255``, ``/ 255.0``, ``/ 127.5``, ``/ 65535`` ... in code (strings and comments skipped)."""
    found, prev = [], None
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if tok.type == tokenize.NUMBER and prev is not None and prev.string in ("*", "/", "//"):
            if float(tok.string) in (255.0, 127.5, 65535.0, 257.0):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{tok.start[0]}: {tok.line.strip()}")
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            prev = tok
    return found


def test_no_stage_converts_pixel_scales_inline():
    """Issue 15 item 2: every conversion goes through data/ranges.py (metrics' own 0..255 stays)."""
    found = [hit for p in sorted(PACKAGE.rglob("*.py")) if p.name != "ranges.py"
             for hit in _inline_pixel_scales(p)]
    assert not found, "convert through srgan_keras.data.ranges:\n" + "\n".join(found)


@pytest.mark.parametrize("fn", [R.pixels_to_unit, R.pixels_to_signed])
def test_tensor_input_keeps_float_tensors(fn):
    x = tf.constant([0.0, 255.0], tf.float32)
    assert fn(x).dtype == tf.float32
