"""Shared fixtures: tiny models and the shared image sets beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "Set5").is_dir():
        pytest.skip(f"shared image sets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_generator():
    """A 2-block, 8-filter x4 SRResNet: same graph as the paper's, seconds to run."""
    import keras

    from srgan_keras.nn.srresnet import build_srresnet

    keras.utils.set_random_seed(0)
    return build_srresnet(scale=4, num_blocks=2, num_filters=8)


@pytest.fixture(scope="session")
def tiny_model_path(tiny_generator, tmp_path_factory) -> Path:
    """The tiny generator saved as a .keras file, for the CLIs."""
    path = tmp_path_factory.mktemp("model") / "tiny_x4.keras"
    tiny_generator.save(path)
    return path
