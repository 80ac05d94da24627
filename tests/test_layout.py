"""The layout by stage keeps what the flat layout promised: old import paths, CLIs, saved names."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import srgan_keras
from srgan_keras import _compat

REPO = Path(__file__).resolve().parents[1]
STAGES = ["nn", "data", "training", "evaluation", "inference", "export"]


@pytest.mark.parametrize("old", sorted(_compat.MOVED))
def test_old_module_name_is_the_new_module(old):
    new = importlib.import_module(f"srgan_keras.{_compat.MOVED[old]}")
    assert importlib.import_module(f"srgan_keras.{old}") is new


def test_old_attributes_of_modules_that_became_packages():
    from srgan_keras import data, export, inference
    from srgan_keras.data import pipeline
    from srgan_keras.export import export as export_module
    from srgan_keras.inference import runners

    assert data.training_dataset is pipeline.training_dataset
    assert data._augment_numpy is pipeline._augment_numpy
    assert inference.load_generator is runners.load_generator
    assert export.export_saved_model is export_module.export_saved_model
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        data.no_such_name  # noqa: B018


def test_registered_names_are_unchanged():
    """``.keras`` files name their layers ``srgan_keras>Class``; renaming one breaks saved files."""
    for module in ("nn.layers", "nn.spectral_norm", "training.losses", "training.optimizers",
                   "training.schedules", "training.srgan"):  # every module that registers names
        importlib.import_module(f"srgan_keras.{module}")
    ours = {name for name in keras.saving.get_custom_objects() if name.startswith("srgan_keras>")}
    assert ours == {f"srgan_keras>{c}" for c in (
        "BatchNormalization", "BicubicUpsample", "CropToInput", "NearestUpsample", "PReLU",
        "PadToMultiple", "PixelShuffle", "PixelUnshuffle", "Rescale", "FusedAdam", "LRSchedule",
        # issue 13: the losses, the SRGAN model and PyTorch-style spectral norm
        "PixelLoss", "ContentLoss", "VanillaGAN", "RelativisticAverageGAN", "SRGAN", "SpectralNorm")}


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_says_what_it_holds(stage):
    doc = importlib.import_module(f"srgan_keras.{stage}").__doc__
    modules = {p.stem for p in (REPO / "srgan_keras" / stage).glob("*.py")} - {"__init__", "__main__"}
    missing = {m for m in modules if f":mod:`.{m}`" not in doc}
    assert not missing, f"srgan_keras/{stage}/__init__.py does not name {sorted(missing)}"


def test_top_level_names():
    assert set(srgan_keras.__all__) <= set(dir(srgan_keras))


# train, upscale and evaluate run as `python -m` in test_train, test_bundled_models, test_export;
# export is a package's __main__, convert an old name run by _compat (as interpolate, model_card)
@pytest.mark.parametrize("cli", ["export", "convert"])
def test_cli_runs_as_module(cli):
    proc = subprocess.run([sys.executable, "-m", f"srgan_keras.{cli}", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("usage: ") and "--help" in proc.stdout
