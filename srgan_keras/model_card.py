"""``python -m srgan_keras.model_card`` and ``srgan-model-card``: the bundled models' card.

The command is :mod:`srgan_keras.evaluation.model_card`; this entry point imports nothing else, so
that ``--help`` answers without TensorFlow, and hands it to :func:`srgan_keras.startup.run_cli`.
"""

from __future__ import annotations

from typing import NoReturn

from srgan_keras.startup import run_cli


def main() -> NoReturn:
    """The ``srgan-model-card`` script (pyproject.toml) and ``python -m srgan_keras.model_card``."""
    run_cli("srgan_keras.evaluation.model_card")


if __name__ == "__main__":
    main()
