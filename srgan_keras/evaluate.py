"""``python -m srgan_keras.evaluate`` and ``srgan-evaluate``: score a generator (PSNR/SSIM, NIQE).

The command is :mod:`srgan_keras.evaluation.evaluate`; this entry point imports nothing else, so
that ``--help`` answers without TensorFlow, and hands it to :func:`srgan_keras.startup.run_cli`.
"""

from __future__ import annotations

from typing import NoReturn

from srgan_keras.startup import run_cli


def main() -> NoReturn:
    """The ``srgan-evaluate`` script (pyproject.toml) and ``python -m srgan_keras.evaluate``."""
    run_cli("srgan_keras.evaluation.evaluate")


if __name__ == "__main__":
    main()
