"""The generators shipped in ``saved_models/`` and the names ``--model`` knows them by.

A leaf module: :mod:`.runners` resolves the names, :mod:`.zoo` lists them beside the downloadable
ones, and neither imports the other for it.
"""

from __future__ import annotations

from pathlib import Path


def _bundled_models_dir() -> Path:
    """``saved_models/`` of the repository checkout (clone, editable install), else of the wheel.

    pyproject.toml maps the repository's ``saved_models/`` to the data package
    ``srgan_keras.saved_models``, so a regular install has the same files beside this module.
    """
    checkout = Path(__file__).resolve().parents[2] / "saved_models"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parents[1] / "saved_models"


SAVED_MODELS = _bundled_models_dir()
# Bundled models by name; ``None`` (no --model) tries them in this order. Issue 12.6: the real-world
# model (SRVGGNetCompact trained on Real-ESRGAN's degradations; saved_models/MODEL_CARD.md) first,
# since real inputs are what users have; then, as issue 7 chose, the paper's PSNR model before the
# GAN one, which invents texture. ``realesr_x4_wdn.keras`` is not a name: it is the weak-denoise
# twin that ``--denoise-strength`` finds beside ``realesr_x4.keras``.
BUNDLED = {"realesr": "realesr_x4.keras", "srgan": "srgan_x4.keras", "srresnet": "srresnet_x4.keras"}
DEFAULT_ORDER = ("realesr", "srresnet", "srgan")
# Every name --model takes, in the order the messages list them.
MODEL_NAMES = (*DEFAULT_ORDER, "bicubic")
