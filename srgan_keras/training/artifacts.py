"""What a finished run leaves in its folder: ``generator.keras``, ``samples.png``, ``result.json``.

Each file is written to a temporary name and renamed (``atomic_write``), so a kill leaves the
previous file or none, never half of one.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from srgan_keras.data.imaging import atomic_write


def write_artifacts(run_dir: Path, generator: keras.Model, samples: np.ndarray,
                    result: dict) -> Path:
    """Save the generator (the float32/EMA copy), the sample grid and the final scores."""
    gen_path = run_dir / "generator.keras"
    atomic_write(gen_path, lambda tmp: generator.save(tmp))
    atomic_write(run_dir / "samples.png", lambda tmp: Image.fromarray(samples).save(tmp))
    atomic_write(run_dir / "result.json",
                 lambda tmp: Path(tmp).write_text(json.dumps(result, indent=2)))
    return gen_path
