"""One .keras loader for every stage (nn/saving.py): safe mode, and one line for each failure."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from srgan_keras.export.generator import ExportError, load_keras_generator
from srgan_keras.inference.runners import load_generator
from srgan_keras.nn.saving import ModelFileError, load_keras
from srgan_keras.nn.srresnet import build_srresnet


def _one_line(e) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_round_trip(tmp_path):
    model = build_srresnet(num_blocks=1, num_filters=8)
    model.save(tmp_path / "g.keras")
    loaded = load_keras(tmp_path / "g.keras")
    x = np.random.default_rng(0).random((1, 8, 8, 3), np.float32)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(ModelFileError) as e:
        load_keras(tmp_path / "nothing.keras")
    assert _one_line(e).endswith("no such model file")
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelFileError) as e:
        load_keras(bad)
    assert f"{bad}: not a loadable Keras model file" in _one_line(e)


def test_a_lambda_layer_is_refused_not_run(tmp_path):
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ModelFileError) as e:
        load_keras(tmp_path / "lambda.keras")
    assert "lambda.keras" in _one_line(e)


def test_every_stage_uses_it(tmp_path):
    """export, inference (and interpolate, train --init-from) report the same line."""
    with pytest.raises(ExportError, match="no such model file"):
        load_keras_generator(tmp_path / "nothing.keras")
    (tmp_path / "bad.keras").write_bytes(b"junk")
    with pytest.raises(ModelFileError, match="not a loadable Keras model file"):
        load_generator(str(tmp_path / "bad.keras"))
