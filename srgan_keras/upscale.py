"""``python -m srgan_keras.upscale`` and ``srgan-upscale``: upscale photos, folders and videos.

The command is :mod:`srgan_keras.inference.upscale`; this entry point hands it to
:func:`srgan_keras.startup.run_cli`, which imports TensorFlow only when the command needs it
(``--help`` never; a bundled model run on LiteRT neither: issue 29.1).
"""

from __future__ import annotations

from typing import NoReturn

from srgan_keras.startup import run_cli


def main() -> NoReturn:
    """The ``srgan-upscale`` script (pyproject.toml) and ``python -m srgan_keras.upscale``."""
    run_cli("srgan_keras.inference.upscale", tensorflow="needs_tensorflow")


if __name__ == "__main__":
    main()
