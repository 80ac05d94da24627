"""The layout by stage: what each stage holds, the names saved files rely on, the top-level names.

The flat layout's module names (``srgan_keras.generator``, ...) are gone (issue 26): each module
is imported by its one name, and ``python -m srgan_keras.<cli>`` runs a real module
(tests/test_imports.py).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import keras
import pytest

import srgan_keras

REPO = Path(__file__).resolve().parents[1]
STAGES = ["nn", "data", "training", "evaluation", "inference", "export"]


def test_registered_names_are_unchanged():
    """``.keras`` files name their layers ``srgan_keras>Class``; renaming one breaks saved files."""
    for module in ("nn.layers", "nn.icnr", "nn.spectral_norm", "training.losses", "training.optimizers",
                   "training.schedules", "training.srgan"):  # every module that registers names
        importlib.import_module(f"srgan_keras.{module}")
    ours = {name for name in keras.saving.get_custom_objects() if name.startswith("srgan_keras>")}
    assert ours == {f"srgan_keras>{c}" for c in (
        "BatchNormalization", "BicubicUpsample", "CropToInput", "NearestUpsample", "PReLU",
        "PadToMultiple", "PixelShuffle", "PixelUnshuffle", "Rescale", "FusedAdam", "LRSchedule",
        # issue 13: the losses, the SRGAN model and PyTorch-style spectral norm
        "PixelLoss", "ContentLoss", "VanillaGAN", "RelativisticAverageGAN", "SRGAN", "SpectralNorm",
        "ICNR",  # issue 23: the initialiser of every convolution that feeds a pixel shuffle
        "LowFrequencyLoss", "ShuffleTileLoss")}  # issue 23: the GAN phase's regularisers


def test_the_loader_registers_what_a_saved_network_names():
    """``import srgan_keras.nn.saving`` is what ``keras.saving.load_model`` needs first."""
    from srgan_keras.nn import icnr, layers, saving, spectral_norm

    assert (saving.layers, saving.icnr, saving.spectral_norm) == (layers, icnr, spectral_norm)


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_says_what_it_holds(stage):
    doc = importlib.import_module(f"srgan_keras.{stage}").__doc__
    modules = {p.stem for p in (REPO / "srgan_keras" / stage).glob("*.py")} - {"__init__", "__main__"}
    missing = {m for m in modules if f":mod:`.{m}`" not in doc}
    assert not missing, f"srgan_keras/{stage}/__init__.py does not name {sorted(missing)}"


def test_top_level_names():
    assert set(srgan_keras.__all__) <= set(dir(srgan_keras))
    from srgan_keras.inference.tiling import upscale_image

    assert srgan_keras.upscale_image is upscale_image
    with pytest.raises(AttributeError, match="no attribute 'generator'"):
        srgan_keras.generator  # noqa: B018  (a 0.1 flat name: gone)
