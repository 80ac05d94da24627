"""The flat module names of srgan_keras 0.1 (``srgan_keras.generator``, ``srgan_keras.metrics``, ...).

The package is laid out by stage since 0.2 (``nn/``, ``data/``, ``training/``, ``evaluation/``,
``inference/``, ``export/``). Code written for the flat layout keeps working for now: each old
name is an *alias* of its new module -- the same module object, so nothing is imported or
registered twice -- and ``python -m srgan_keras.<old name>`` runs the new module as a script.
The three old modules whose names are now packages (``data``, ``inference``, ``export``) are
forwarded by their package's ``__getattr__`` instead. Remove this file once nothing imports the
old names (the notebooks are the last users).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import CodeType, ModuleType

PACKAGE = "srgan_keras"

# old module name -> its module in the layout by stage
MOVED = {
    "layers": "nn.layers",
    "generator": "nn.srresnet",
    "discriminator": "nn.discriminator",
    "rrdbnet": "nn.rrdbnet",
    "srvgg": "nn.srvgg",
    "unet_discriminator": "nn.unet_discriminator",
    "models": "nn.models",
    "imaging": "data.imaging",
    "degradation": "data.degradation",
    "realesrgan_degradation": "data.realesrgan_degradation",
    "config": "training.config",
    "recipes": "training.presets",
    "losses": "training.losses",
    "optimizers": "training.optimizers",
    "schedules": "training.schedules",
    "srgan": "training.srgan",
    "train": "training.trainer",
    "metrics": "evaluation.metrics",
    "evaluate": "evaluation.evaluate",
    "interpolate": "evaluation.interpolate",
    "model_card": "evaluation.model_card",
    "exported": "inference.exported",
    "tiling": "inference.tiling",
    "upscale": "inference.upscale",
    "convert": "export.convert",
    "torch_pickle": "export.torch_pickle",
}

# old modules whose names are packages now: package -> the module their old attributes live in
FORWARDED = {"data": "pipeline", "inference": "runners", "export": "export"}


class _OldNames(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``srgan_keras.<old name>`` and hands out the new module under it."""

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        prefix, _, name = fullname.partition(".")
        if prefix != PACKAGE or name not in MOVED:
            return None
        new = importlib.util.find_spec(f"{PACKAGE}.{MOVED[name]}")
        return importlib.util.spec_from_loader(fullname, self, origin=new.origin if new else None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{MOVED[spec.name.partition('.')[2]]}")

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: :meth:`create_module` returned the imported new module."""

    def get_code(self, fullname: str) -> CodeType | None:
        """For ``python -m srgan_keras.<old name>`` (runpy runs this code as ``__main__``)."""
        new = f"{PACKAGE}.{MOVED[fullname.partition('.')[2]]}"
        return importlib.util.find_spec(new).loader.get_code(new)


def install() -> None:
    """Put the finder first on ``sys.meta_path``, once (``srgan_keras/__init__.py`` calls this)."""
    if not any(isinstance(f, _OldNames) for f in sys.meta_path):
        sys.meta_path.insert(0, _OldNames())  # before the path finders: an old file must not win


def forward(package: str, name: str) -> object:
    """The old module's attribute ``name`` for a package's ``__getattr__`` (see :data:`FORWARDED`)."""
    missing = AttributeError(f"module {PACKAGE}.{package} has no attribute {name!r}")
    if name.startswith("__") or importlib.util.find_spec(f"{PACKAGE}.{package}.{name}") is not None:
        raise missing  # a dunder, or a submodule: the import system loads it
    module = importlib.import_module(f"{PACKAGE}.{package}.{FORWARDED[package]}")
    try:
        return getattr(module, name)
    except AttributeError:
        raise missing from None
