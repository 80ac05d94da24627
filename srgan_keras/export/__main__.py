"""``python -m srgan_keras.export`` and ``srgan-export``: export a generator, with a parity check.

The command is :mod:`srgan_keras.export.export`; this entry point imports nothing else, so that
``--help`` answers without TensorFlow, and hands it to :func:`srgan_keras.startup.run_cli`.
"""

from __future__ import annotations

from typing import NoReturn

from srgan_keras.startup import run_cli


def main() -> NoReturn:
    """The ``srgan-export`` script (pyproject.toml) and ``python -m srgan_keras.export``."""
    run_cli("srgan_keras.export.export")


if __name__ == "__main__":
    main()
