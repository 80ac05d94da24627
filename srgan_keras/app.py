"""Command line: ``python -m srgan_keras.app`` serves the local upscaling page (issue 16.7).

The page itself lives in :mod:`srgan_keras.inference.webapp`; this module only makes it a ``-m`` target.
"""

from __future__ import annotations

from srgan_keras.inference.webapp import main
from srgan_keras.startup import run_cli

if __name__ == "__main__":
    run_cli(main)  # exit with main()'s status; Ctrl-C: startup.run_cli
