"""``python -m srgan_keras.fetch_data`` and ``srgan-fetch-data``: Set5 and Set14 into ``data/``.

The command is :mod:`srgan_keras.data.sets`; it needs no TensorFlow, and this entry point hands it
to :func:`srgan_keras.startup.run_cli` without importing it.
"""

from __future__ import annotations

from typing import NoReturn

from srgan_keras.startup import run_cli


def main() -> NoReturn:
    """The ``srgan-fetch-data`` script (pyproject.toml) and ``python -m srgan_keras.fetch_data``."""
    run_cli("srgan_keras.data.sets", tensorflow=False)


if __name__ == "__main__":
    main()
