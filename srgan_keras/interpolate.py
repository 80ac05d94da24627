"""``python -m srgan_keras.interpolate`` and ``srgan-interpolate``: blend a PSNR and a GAN generator.

The command is :mod:`srgan_keras.evaluation.interpolate`; this entry point imports nothing else, so
that ``--help`` answers without TensorFlow, and hands it to :func:`srgan_keras.startup.run_cli`.
"""

from __future__ import annotations

from typing import NoReturn

from srgan_keras.startup import run_cli


def main() -> NoReturn:
    """The ``srgan-interpolate`` script (pyproject.toml) and ``python -m srgan_keras.interpolate``."""
    run_cli("srgan_keras.evaluation.interpolate")


if __name__ == "__main__":
    main()
