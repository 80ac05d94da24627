"""``python -m srgan_keras.export``: the export CLI of :mod:`srgan_keras.export.export`."""

import sys

from srgan_keras.export.export import main

sys.exit(main())
