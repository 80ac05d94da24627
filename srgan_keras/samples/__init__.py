"""The sample photo that ``python -m srgan_keras.upscale --example`` upscales (issue 28.1).

``coffee.jpg``: scikit-image's ``coffee`` photo (CC0, by Rachel Michetti; see ``NOTICE`` here),
shrunk to 180x120 and saved as a JPEG of quality 30, so it is degraded as a web thumbnail is and
the upscale visibly helps. It ships inside the package (pyproject.toml's package-data), so a
non-editable install finds it too.
"""

from __future__ import annotations

from pathlib import Path

EXAMPLE = "coffee.jpg"


def example_photo() -> Path:
    """The path of the bundled sample photo (an installed package is a folder on disk)."""
    from importlib.resources import files

    return Path(str(files(__name__) / EXAMPLE))
