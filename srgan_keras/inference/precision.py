"""Inference precision: run a Keras generator's trunk in bfloat16 where the CPU computes it natively.

Real-ESRGAN's inference script runs its networks in half precision unless asked not to
(``inference_realesrgan.py``: ``half=not args.fp32``); on a GPU that is float16. A CPU has no
fast float16, but recent ones multiply bfloat16 natively: AVX512-BF16 (AMD Zen 4, Intel Cooper
Lake and later) and AMX (Intel Sapphire Rapids and later). On such a CPU the bundled SRVGG x4/32
upscales a 500x333 photo about 1.5x faster in bfloat16 (``python -m benchmarks.bench_srvgg``).
Without native support bfloat16 is emulated and slower, so ``auto`` keeps float32 there.

What runs in bfloat16 (:func:`bfloat16_copy`) is what the library's mixed-precision training
runs in bfloat16 (Keras' ``mixed_bfloat16`` policy: float32 weights, bfloat16 arithmetic): every
layer upstream of the generator's last convolution. The last convolution and everything after
it stay float32, and so does any branch that does not feed the last convolution: SRVGG's
nearest-neighbour base and SRResNet's bicubic base carry the input's pixel values, which
bfloat16's 8-bit mantissa would round by up to half a grey level.

Our choices: ``auto`` is the default of the ``upscale`` CLI, the video path and the web app (what
people run to look at a photo), and float32 that of :func:`load_generator` and of ``evaluate``
(the model cards' numbers are float32). On Set14 the bundled real-world model's scores agree to
0.01 dB in either precision (``tests/test_precision.py`` checks the outputs' agreement).
"""

from __future__ import annotations

import functools
from pathlib import Path

PRECISIONS = ("auto", "float32", "bfloat16")
# Linux /proc/cpuinfo flags of native bfloat16 arithmetic (x86): AVX512-BF16 and AMX-BF16.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
CPUINFO = Path("/proc/cpuinfo")


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        text = CPUINFO.read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def native_bfloat16() -> bool:
    """True when the CPU multiplies bfloat16 natively and no GPU is visible to TensorFlow."""
    if not any(f in cpu_flags() for f in NATIVE_BF16_FLAGS):
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")  # our choice: GPUs keep float32


def resolve_precision(precision: str) -> str:
    """``auto`` -> ``bfloat16`` or ``float32`` for this machine; the others unchanged."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return precision


def bfloat16_copy(model):
    """The same generator (same weights) with its trunk under Keras' ``mixed_bfloat16`` policy.

    The trunk is every layer the last ``Conv2D`` depends on (see the module docstring). Raises
    ``ValueError`` for a model that is not a functional Keras model with a convolution.
    """
    import keras

    convs = [layer for layer in getattr(model, "layers", []) if isinstance(layer, keras.layers.Conv2D)]
    if not isinstance(model, keras.Model) or not convs or not hasattr(model, "inputs"):
        raise ValueError(f"{getattr(model, 'name', model)}: bfloat16 needs a functional Keras "
                         "generator with convolutions")
    last = convs[-1]  # functional models list layers in topological order
    trunk = keras.Model(model.inputs, last.input)
    names = {layer.name for layer in trunk.layers if not isinstance(layer, keras.layers.InputLayer)}
    policy = keras.dtype_policies.serialize(keras.DTypePolicy("mixed_bfloat16"))
    config = model.get_config()
    for layer in config["layers"]:
        if layer["config"].get("name") in names:
            layer["config"]["dtype"] = policy
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy
