"""``python -m srgan_keras.convert`` and ``srgan-convert``: ``.pth`` weights (BasicSR) into a ``.keras`` file.

The command is :mod:`srgan_keras.export.convert`; this entry point imports nothing else, so that
``--help`` answers without TensorFlow, and hands it to :func:`srgan_keras.startup.run_cli`.
"""

from __future__ import annotations

from typing import NoReturn

from srgan_keras.startup import run_cli


def main() -> NoReturn:
    """The ``srgan-convert`` script (pyproject.toml) and ``python -m srgan_keras.convert``."""
    run_cli("srgan_keras.export.convert")


if __name__ == "__main__":
    main()
