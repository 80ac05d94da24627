"""``python -m srgan_keras.app`` and ``srgan-app``: serve the local upscaling page (Gradio).

The command is :mod:`srgan_keras.inference.webapp`; this entry point imports nothing else, so
that ``--help`` answers without TensorFlow, and hands it to :func:`srgan_keras.startup.run_cli`.
"""

from __future__ import annotations

from typing import NoReturn

from srgan_keras.startup import run_cli


def main() -> NoReturn:
    """The ``srgan-app`` script (pyproject.toml) and ``python -m srgan_keras.app``."""
    run_cli("srgan_keras.inference.webapp", tensorflow="needs_tensorflow")


if __name__ == "__main__":
    main()
