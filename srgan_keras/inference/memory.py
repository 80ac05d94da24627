"""Running out of memory while a network runs: the failure a smaller tile may avoid.

Tiling (:mod:`.tiling`) retries a tile in quarters after it, and the exported-model runners
(:mod:`.exported`) report it in one line. A leaf module, so both use it without importing each
other; TensorFlow is looked up only if something has already imported it (a LiteRT run never does).
"""

from __future__ import annotations

import sys


def is_out_of_memory(e: BaseException) -> bool:
    """``MemoryError`` or TensorFlow's ``ResourceExhaustedError``: what a smaller tile may avoid."""
    if isinstance(e, MemoryError):
        return True
    tf = sys.modules.get("tensorflow")
    errors = getattr(tf, "errors", None)
    return errors is not None and isinstance(e, errors.ResourceExhaustedError)
