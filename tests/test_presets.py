"""Presets are plain dicts in one file, each naming only config fields and giving a valid config."""

from __future__ import annotations

import dataclasses

import pytest

from srgan_keras.training import config, presets


def test_the_presets_file_is_the_whole_list():
    assert config.PRESETS is presets.PRESETS
    assert list(presets.PRESETS) == ["paper", "demo", "tiny", "esrgan", "realesrgan"]
    assert presets.PRESETS["esrgan"] is presets.ESRGAN and presets.PRESETS["realesrgan"] is presets.REALESRGAN


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_each_preset_names_config_fields_and_validates(name):
    fields = {f.name for f in dataclasses.fields(config.TrainConfig)}
    assert set(presets.PRESETS[name]) <= fields
    cfg = config.get_config(name)
    assert all(getattr(cfg, k) == v for k, v in presets.PRESETS[name].items())


def test_register_preset_refuses_unknown_fields():
    with pytest.raises(ValueError, match="unknown config fields"):
        config.register_preset("mine", {"no_such_field": 1})
    assert "mine" not in presets.PRESETS
