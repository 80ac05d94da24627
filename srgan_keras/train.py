"""``python -m srgan_keras.train`` and ``srgan-train``: train SRResNet, then SRGAN (or ESRGAN, Real-ESRGAN).

The command is :mod:`srgan_keras.training.train`; this entry point imports nothing else, so that
``--help`` answers without TensorFlow, and hands it to :func:`srgan_keras.startup.run_cli`.
"""

from __future__ import annotations

from typing import NoReturn

from srgan_keras.startup import run_cli


def main() -> NoReturn:
    """The ``srgan-train`` script (pyproject.toml) and ``python -m srgan_keras.train``."""
    run_cli("srgan_keras.training.train")


if __name__ == "__main__":
    main()
