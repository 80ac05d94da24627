"""``python -m srgan_keras.export``: the export CLI of :mod:`srgan_keras.export.export`."""

from srgan_keras.export.export import main
from srgan_keras.startup import run_cli

run_cli(main)
