"""Issue 26.3: no import cycle and no arrow running up a stage (``python tests/import_graph.py``)."""

from __future__ import annotations

import import_graph

# The one arrow left, on purpose until the data pipeline takes its own small config: it reads the
# data fields of a TrainConfig (data, hr_size, scale, batch_size, degradation, ...).
KNOWN_UPWARD = {("srgan_keras.data.pipeline", "srgan_keras.training.config")}


def test_no_import_cycle():
    assert import_graph.cycles(import_graph.edges()) == []


def test_no_new_upward_arrow():
    assert set(import_graph.upward_arrows(import_graph.edges())) == KNOWN_UPWARD


def test_the_checker_sees_cycles_and_upward_arrows():
    graph = {"srgan_keras.nn.a": {"srgan_keras.training.b"}, "srgan_keras.training.b": {"srgan_keras.nn.a"}}
    assert import_graph.cycles(graph) == [["srgan_keras.nn.a", "srgan_keras.training.b"]]
    assert import_graph.upward_arrows(graph) == [("srgan_keras.nn.a", "srgan_keras.training.b")]
    assert "srgan_keras.inference.runners" in import_graph.edges()["srgan_keras.inference.tiling"]
