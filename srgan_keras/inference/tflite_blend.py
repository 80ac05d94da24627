"""Deep network interpolation on ``.tflite`` files: ``s A + (1 - s) B``, weight by weight, no TensorFlow.

Real-ESRGAN's denoise strength (``RealESRGANer.dni``; Wang et al. 2019, "Deep Network
Interpolation", Eq. 4) blends a model's weights with its weak-denoise twin's.
:func:`srgan_keras.evaluation.interpolate.denoise_blend` does it on Keras models; this module does
the same on two TFLite files exported from the two ``.keras`` files by the same command, so that
:mod:`srgan_keras.inference.litert` can run any blend through LiteRT without importing TensorFlow.

A ``.tflite`` file is a FlatBuffer (the ``Model`` table of TFLite's ``schema.fbs``): operators and
tensors, and a list ``Model.buffers`` holding every constant tensor's bytes. Two exports of networks
with the same layers have the same graph and differ only in the bytes of their float weight
buffers. So a blend is file A with each float weight buffer replaced by ``s A + (1 - s) B``,
computed in float32 and stored back in the buffer's own type (float16 for the bundled
``*_fp16.tflite`` files: the blend of the two float16 weights, rounded once to float16).

The file is read by the few lines of FlatBuffer reading below (tables, vtables and vectors as the
FlatBuffers format defines them, little-endian): only ``Model.subgraphs[].tensors[]`` (type and
buffer index) and ``Model.buffers[].data``. A buffer's data becomes a NumPy view into the file's
bytes, so writing into it edits the model in place. (``ai_edge_litert`` ships a reader generated
from ``schema.fbs``; it reads the same views, as a test checks, but takes longer to import than
the whole blend takes to compute.)

Before blending, the two files must have the same layout (:func:`check_same_layout`): with the
bytes of every float weight buffer set to zero, the two files must be byte-for-byte equal (same
operators, tensors, shapes, types, buffer sizes and positions, same non-float constants). Anything
else is refused with :class:`BlendError`, as are weights stored outside the FlatBuffer (the
``offset``/``size`` fields files over 2 GiB use).
"""

from __future__ import annotations

import struct

import numpy as np

from srgan_keras.errors import SrganKerasError

FILE_IDENTIFIER = b"TFL3"  # schema.fbs: file_identifier "TFL3", at bytes 4..8
# Field indices (declaration order in schema.fbs; only the fields read here).
MODEL_SUBGRAPHS, MODEL_BUFFERS = 2, 4  # table Model { version, operator_codes, subgraphs,
#                                        description, buffers, ... }
SUBGRAPH_TENSORS = 0  # table SubGraph { tensors, inputs, outputs, operators, name, ... }
TENSOR_TYPE, TENSOR_BUFFER = 1, 2  # table Tensor { shape, type, buffer, name, ... }
BUFFER_DATA, BUFFER_OFFSET, BUFFER_SIZE = 0, 1, 2  # table Buffer { data, offset, size }
# TensorType values of schema.fbs that hold weights we blend, and their NumPy types.
FLOAT_TYPES = {0: np.float32, 1: np.float16}  # FLOAT32, FLOAT16


class BlendError(SrganKerasError, ValueError):
    """Two ``.tflite`` files that cannot be blended; the message says why, on one line."""


def _table(data: bytes, pos: int) -> tuple[int, int, int]:
    """(table position, vtable position, vtable length in bytes) of the table at ``pos``.

    A table starts with an int32 ``soffset``: its vtable is at ``pos - soffset``; the vtable is
    uint16 ``[vtable bytes, table bytes, field 0 offset, field 1 offset, ...]``.
    """
    vt = pos - struct.unpack_from("<i", data, pos)[0]
    return pos, vt, struct.unpack_from("<H", data, vt)[0]


def _field(data: bytes, table: tuple[int, int, int], index: int) -> int:
    """Absolute position of field ``index`` of ``table``, 0 when absent (its default applies)."""
    pos, vt, vt_len = table
    at = 4 + 2 * index
    if at >= vt_len:
        return 0
    off = struct.unpack_from("<H", data, vt + at)[0]
    return pos + off if off else 0


def _scalar(data: bytes, table, index: int, fmt: str, default: int = 0) -> int:
    at = _field(data, table, index)
    return struct.unpack_from(fmt, data, at)[0] if at else default


def _vector(data: bytes, table, index: int) -> tuple[int, int]:
    """(position of the first element, length) of a vector field; (0, 0) when absent."""
    at = _field(data, table, index)
    if not at:
        return 0, 0
    start = at + struct.unpack_from("<I", data, at)[0]  # a uoffset, relative to itself
    return start + 4, struct.unpack_from("<I", data, start)[0]


def _tables(data: bytes, table, index: int) -> list[tuple[int, int, int]]:
    """The tables of a vector-of-tables field (each element a uoffset relative to itself)."""
    start, n = _vector(data, table, index)
    return [_table(data, p + struct.unpack_from("<I", data, p)[0])
            for p in (start + 4 * i for i in range(n))]


def float_weights(data: bytearray, name: str = "model") -> list[np.ndarray]:
    """Writable views, into ``data``, of every float weight buffer of the model it holds.

    Each view has the tensor's element type (float32 or float16) and is listed once, in the
    order of ``Model.buffers``. Raises :class:`BlendError` for what this module does not handle
    (a file that is no TFLite FlatBuffer, weights outside it).
    """
    try:
        if data[4:8] != FILE_IDENTIFIER:
            raise BlendError(f"{name}: not a TFLite file (no {FILE_IDENTIFIER.decode()} identifier)")
        model = _table(data, struct.unpack_from("<I", data, 0)[0])
        buffers = _tables(data, model, MODEL_BUFFERS)
        kinds: dict[int, type | None] = {}
        for graph in _tables(data, model, MODEL_SUBGRAPHS):
            for tensor in _tables(data, graph, SUBGRAPH_TENSORS):
                b = _scalar(data, tensor, TENSOR_BUFFER, "<I")
                if b <= 0 or b >= len(buffers):
                    continue  # buffer 0: the empty buffer of every non-constant tensor
                kind = FLOAT_TYPES.get(_scalar(data, tensor, TENSOR_TYPE, "<b"))
                if kinds.setdefault(b, kind) is not kind:
                    raise BlendError(f"{name}: buffer {b} is read as two different types")
        views = []
        for b, buffer in enumerate(buffers):
            if _scalar(data, buffer, BUFFER_OFFSET, "<Q") or _scalar(data, buffer, BUFFER_SIZE, "<Q"):
                raise BlendError(f"{name}: buffer {b} is stored outside the FlatBuffer (a file "
                                 "over 2 GiB); not supported")
            start, n = _vector(data, buffer, BUFFER_DATA)
            kind = kinds.get(b)
            if kind is None or n == 0:
                continue
            if n % np.dtype(kind).itemsize or start + n > len(data):
                raise BlendError(f"{name}: buffer {b} of {n} bytes is not whole "
                                 f"{np.dtype(kind).name} values inside the file")
            views.append(np.frombuffer(data, np.uint8, n, start).view(kind))
    except (struct.error, IndexError):
        raise BlendError(f"{name}: a truncated or damaged TFLite file") from None
    return views


def check_same_layout(a: bytes, b: bytes, names: tuple[str, str] = ("A", "B")) -> None:
    """:class:`BlendError` unless ``a`` and ``b`` differ only in the values of float weights."""
    if len(a) != len(b):
        raise BlendError(f"{names[0]} and {names[1]} have different sizes ({len(a)} and "
                         f"{len(b)} bytes): not two exports of the same network")
    zeroed = []
    for data, name in zip((bytearray(a), bytearray(b)), names):
        for view in float_weights(data, name):
            view[...] = 0
        zeroed.append(data)
    if zeroed[0] != zeroed[1]:
        raise BlendError(f"{names[0]} and {names[1]} differ in more than their float weights "
                         "(graph, shapes or other constants): not two exports of the same network")


def blend(a: bytes, b: bytes, strength: float, names: tuple[str, str] = ("A", "B")) -> bytes:
    """The model ``strength * A + (1 - strength) * B``, weight by weight, as ``.tflite`` bytes.

    ``strength`` 1 returns ``a`` and 0 returns ``b`` unchanged. Buffers that are equal in both
    files (constants such as a clip bound) are left as they are.
    """
    if not 0.0 <= strength <= 1.0:
        raise BlendError(f"blend strength must be in [0, 1], got {strength}")
    check_same_layout(a, b, names)
    if strength == 1.0:
        return bytes(a)
    if strength == 0.0:
        return bytes(b)
    out = bytearray(a)
    s = np.float32(strength)
    for wa, wb in zip(float_weights(out, names[0]), float_weights(bytearray(b), names[1])):
        if np.array_equal(wa, wb):
            continue
        mixed = s * wa.astype(np.float32) + (np.float32(1.0) - s) * wb.astype(np.float32)
        wa[...] = mixed.astype(wa.dtype)  # float16 files: rounded once, to nearest
    return bytes(out)
