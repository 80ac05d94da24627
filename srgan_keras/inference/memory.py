"""Running out of memory while a network runs: the failure a smaller tile may avoid.

Tiling (:mod:`.tiling`) retries a tile in quarters after it, and the exported-model runners
(:mod:`.exported`) report it in one line. A leaf module, so both use it without importing each
other; TensorFlow is looked up only if something has already imported it (a LiteRT run never does).
"""

from __future__ import annotations

import sys

# Live activation buffers per pixel of a tile (issue 16.2, our choice, measured with
# benchmarks/bench_upscale.py): a conv layer's input, output, a residual skip and oneDNN's scratch.
# Tiling (Keras) and LiteRT size their tiles with it.
LIVE_BUFFERS = 4


def is_out_of_memory(e: BaseException) -> bool:
    """``MemoryError`` or TensorFlow's ``ResourceExhaustedError``: what a smaller tile may avoid."""
    if isinstance(e, MemoryError):
        return True
    tf = sys.modules.get("tensorflow")
    errors = getattr(tf, "errors", None)
    return errors is not None and isinstance(e, errors.ResourceExhaustedError)
