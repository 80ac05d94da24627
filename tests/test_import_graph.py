"""Issue 26.3: no import cycle and no arrow running up a stage (``python tests/import_graph.py``)."""

from __future__ import annotations

import import_graph


def test_no_import_cycle():
    assert import_graph.cycles(import_graph.edges()) == []


def test_no_upward_arrow():
    assert import_graph.upward_arrows(import_graph.edges()) == []


def test_a_training_config_has_every_setting_the_data_pipeline_reads():
    """The pipeline names what it reads (DataSettings) instead of importing TrainConfig."""
    import dataclasses
    import typing

    from srgan_keras.data.sources import DataSettings
    from srgan_keras.training.config import TrainConfig

    fields = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    wanted = typing.get_type_hints(DataSettings)
    assert wanted and set(wanted) <= set(fields)


def test_the_checker_sees_cycles_and_upward_arrows():
    graph = {"srgan_keras.nn.a": {"srgan_keras.training.b"}, "srgan_keras.training.b": {"srgan_keras.nn.a"}}
    assert import_graph.cycles(graph) == [["srgan_keras.nn.a", "srgan_keras.training.b"]]
    assert import_graph.upward_arrows(graph) == [("srgan_keras.nn.a", "srgan_keras.training.b")]
    assert "srgan_keras.inference.runners" in import_graph.edges()["srgan_keras.inference.tiling"]
