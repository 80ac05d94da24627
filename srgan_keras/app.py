"""Command line: ``python -m srgan_keras.app`` serves the local upscaling page (issue 16.7).

The page itself lives in :mod:`srgan_keras.inference.webapp`; this module only makes it a ``-m`` target.
"""

from __future__ import annotations

import sys

from srgan_keras.inference.webapp import main

if __name__ == "__main__":
    sys.exit(main())
