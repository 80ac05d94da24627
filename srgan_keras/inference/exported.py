"""Running an exported generator: SavedModel and TFLite (LiteRT) files behind the runner protocol.

Deployment, not the paper: SRGAN (Ledig et al. 2017) ends at the trained generator of Fig. 4;
this module runs the files that :mod:`srgan_keras.export.export` writes, so that the upscale and evaluate
CLIs treat them like a ``.keras`` file (``srgan_keras.inference.runners.load_generator`` picks the runner).

The runner protocol: ``runner.scale`` (int), ``runner.name`` (str) and
``runner(lr) -> sr`` with ``lr`` float32 ``(N, H, W, 3)`` in [0, 1] and ``sr`` float32
``(N, sH, sW, 3)`` in [0, 1], clipped. The exported graphs already return [0, 1] (the paper's
[-1, 1] output is converted inside them), so a runner here only feeds and fetches tensors.

Any H, W works: a model exported with a dynamic size is resized per call; one exported with a
fixed ``--input-size`` is run tile by tile with an overlap (our choice: ``TILE_MARGIN`` LR pixels
of context on each inner side, cropped away, so that tile seams do not show).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from srgan_keras.data.ranges import pixels_to_unit, to_uint8
from srgan_keras.errors import SrganKerasError

FLOAT_SIGNATURE = "upscale_float"  # float32 [0, 1] -> float32 [0, 1]; see export.py
UINT8_SIGNATURE = "serving_default"  # uint8 0..255 -> uint8 0..255
TILE_MARGIN = 16  # our choice: LR pixels of overlap context per inner tile side (fixed-size models)
PROBE_SIZE = 16  # LR side of the zero image used to measure the scale of a dynamic-size model


class ExportedModelError(SrganKerasError, ValueError):
    """An exported model that cannot be loaded or run; the message is one line naming the file."""


def _spans(n: int, tile: int, margin: int) -> list[tuple[int, int, int]]:
    """Tiles of length ``tile`` covering ``[0, n)`` (``n >= tile``) as (start, keep_lo, keep_hi).

    Consecutive tiles overlap by at least ``2 * margin``; each keeps the part of its output at
    least ``margin`` pixels away from an inner edge, and the kept parts tile ``[0, n)`` exactly.
    """
    if n <= tile:
        return [(0, 0, n)]
    margin = min(margin, (tile - 1) // 2)
    step = tile - 2 * margin
    starts = list(range(0, n - tile, step)) + [n - tile]
    spans, lo = [], 0
    for i, s in enumerate(starts):
        hi = n if i == len(starts) - 1 else s + tile - margin
        spans.append((s, lo, hi))
        lo = hi
    return spans


class _Runner:
    """Shared part of the runners: input checks, batch/tile loops, clipping."""

    scale: int
    name: str
    fixed_size: tuple[int, int] | None = None  # (H, W) if the exported graph has a fixed size
    fixed_batch: bool = False  # True if the graph takes exactly one image per call

    def _run(self, lr: np.ndarray) -> np.ndarray:  # (N, H, W, 3) -> (N, sH, sW, 3)
        raise NotImplementedError

    def _run_batch(self, lr: np.ndarray) -> np.ndarray:
        if self.fixed_batch and lr.shape[0] != 1:
            return np.concatenate([self._run(lr[i : i + 1]) for i in range(lr.shape[0])])
        return self._run(lr)

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        lr = np.asarray(lr, dtype=np.float32)
        if lr.ndim != 4 or lr.shape[-1] != 3:
            raise ValueError(f"{self.name}: expected (N, H, W, 3) input, got shape {lr.shape}")
        try:
            if self.fixed_size is None or tuple(lr.shape[1:3]) == self.fixed_size:
                return np.clip(self._run_batch(lr), 0.0, 1.0)
            return np.clip(self._run_tiled(lr), 0.0, 1.0)
        except Exception as e:  # noqa: BLE001 - as in _probe_scale
            from srgan_keras.inference.memory import is_out_of_memory

            if is_out_of_memory(e):
                raise  # tiling's out-of-memory fallback halves the tile
            raise self._failed(e) from None

    def _run_tiled(self, lr: np.ndarray) -> np.ndarray:
        th, tw = self.fixed_size
        n, h, w, _ = lr.shape
        # Images smaller than the fixed size are mirror-padded up to it, and the pad cropped away.
        padded = np.pad(lr, [(0, 0), (0, max(th - h, 0)), (0, max(tw - w, 0)), (0, 0)],
                        mode="symmetric")
        s = self.scale
        out = np.zeros((n, h * s, w * s, 3), np.float32)
        for y0, ylo, yhi in _spans(max(h, th), th, TILE_MARGIN):
            for x0, xlo, xhi in _spans(max(w, tw), tw, TILE_MARGIN):
                ylo, yhi, xlo, xhi = min(ylo, h), min(yhi, h), min(xlo, w), min(xhi, w)
                if ylo >= yhi or xlo >= xhi:
                    continue
                sr = self._run_batch(padded[:, y0 : y0 + th, x0 : x0 + tw])  # (N, s th, s tw, 3)
                out[:, ylo * s : yhi * s, xlo * s : xhi * s] = sr[
                    :, (ylo - y0) * s : (yhi - y0) * s, (xlo - x0) * s : (xhi - x0) * s]
        return out

    def _failed(self, e: Exception) -> ExportedModelError:
        """The one line for a model that loads but fails when run, naming its file."""
        first = (str(e).strip().splitlines() or [""])[0][:200]
        return ExportedModelError(f"{getattr(self, 'path', self.name)}: the exported model fails "
                                  f"when run ({type(e).__name__}: {first})")

    def _probe_scale(self) -> int:
        h, w = self.fixed_size or (PROBE_SIZE, PROBE_SIZE)
        try:
            out = self._run(np.zeros((1, h, w, 3), np.float32))
        except Exception as e:  # noqa: BLE001 - TF, LiteRT and ORT raise many types: one line
            raise self._failed(e) from None
        if out.ndim != 4 or out.shape[1] % h or out.shape[1] // h != out.shape[2] // w:
            raise ExportedModelError(f"{self.name}: output shape {out.shape} for a {h}x{w} input "
                                     "is not an upscaled image; is this an exported generator?")
        return out.shape[1] // h

    def __repr__(self) -> str:
        size = "dynamic" if self.fixed_size is None else "x".join(map(str, self.fixed_size))
        return f"{type(self).__name__}({self.name!r}, scale={self.scale}, input={size})"


class SavedModelRunner(_Runner):
    """A SavedModel folder written by ``export_saved_model``, through its float signature.

    Falls back to the uint8 ``serving_default`` signature (with the /255 conversions done here)
    for a SavedModel that only has that one.
    """

    def __init__(self, path: str | os.PathLike):
        import tensorflow as tf

        self.path = Path(path)
        self.name = self.path.name
        if not (self.path / "saved_model.pb").is_file():
            raise ExportedModelError(f"{self.path}: not a SavedModel folder (no saved_model.pb)")
        try:
            self._loaded = tf.saved_model.load(str(self.path))
        except Exception as e:  # noqa: BLE001 - TF raises many types; one line for the user
            raise ExportedModelError(f"{self.path}: cannot load the SavedModel "
                                     f"({str(e).splitlines()[0]})") from None
        sigs = self._loaded.signatures
        if FLOAT_SIGNATURE in sigs:
            self._fn, self._uint8 = sigs[FLOAT_SIGNATURE], False
        elif UINT8_SIGNATURE in sigs:
            self._fn, self._uint8 = sigs[UINT8_SIGNATURE], True
        else:
            raise ExportedModelError(f"{self.path}: no {FLOAT_SIGNATURE!r} or {UINT8_SIGNATURE!r} "
                                     f"signature (found {sorted(sigs)})")
        (self._input_name, spec), = self._fn.structured_input_signature[1].items()
        shape = spec.shape.as_list()
        if len(shape) != 4 or shape[-1] != 3:
            raise ExportedModelError(f"{self.path}: signature input {shape} is not (N, H, W, 3)")
        if shape[1] is not None and shape[2] is not None:
            self.fixed_size = (shape[1], shape[2])
        self.fixed_batch = shape[0] is not None
        self.scale = self._probe_scale()

    def _run(self, lr: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        if self._uint8:
            x = tf.constant(to_uint8(lr))
        else:
            x = tf.constant(lr)
        (out,) = self._fn(**{self._input_name: x}).values()
        out = out.numpy()
        return pixels_to_unit(out) if self._uint8 else out


class TFLiteRunner(_Runner):
    """A ``.tflite`` file through LiteRT's interpreter (``ai_edge_litert``, XNNPACK on CPU).

    Float32, float16 and dynamic-range files take float input. A full-integer file takes int8
    (or uint8) input: values are quantized here with the input tensor's (scale, zero point), and
    the output dequantized with its own, so callers always see float [0, 1].
    """

    def __init__(self, path: str | os.PathLike, num_threads: int = 2, content: bytes | None = None,
                 name: str | None = None, scale: int | None = None):
        """``content``: the model's bytes, when they are not ``path``'s (a blend of two files,
        :mod:`srgan_keras.inference.tflite_blend`); ``path`` then only names it in messages.
        ``scale``: known already (a blend of a probed file), so not probed again."""
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        self.name = name or self.path.name
        if content is None and not self.path.is_file():
            raise ExportedModelError(f"{self.path}: no such file")
        try:
            self._interp = (Interpreter(model_path=str(self.path), num_threads=num_threads)
                            if content is None else
                            Interpreter(model_content=content, num_threads=num_threads))
        except Exception as e:  # noqa: BLE001 - one line for the user whatever LiteRT raises
            raise ExportedModelError(f"{self.path}: not a TFLite model "
                                     f"({str(e).splitlines()[0] if str(e) else type(e).__name__})"
                                     ) from None
        ins, outs = self._interp.get_input_details(), self._interp.get_output_details()
        if len(ins) != 1 or len(outs) != 1:
            raise ExportedModelError(f"{self.path}: expected one input and one output, "
                                     f"found {len(ins)} and {len(outs)}")
        self._in, self._out = ins[0], outs[0]
        sig = [int(d) for d in self._in["shape_signature"]]
        if len(sig) != 4 or sig[-1] != 3:
            raise ExportedModelError(f"{self.path}: input shape {sig} is not (N, H, W, 3)")
        if sig[1] > 0 and sig[2] > 0:
            self.fixed_size = (sig[1], sig[2])
        self.fixed_batch = sig[0] > 0
        self._shape: tuple[int, ...] | None = None
        self.scale = self._probe_scale() if scale is None else int(scale)

    @staticmethod
    def _qparams(detail) -> tuple[float, int] | None:
        scale, zero = detail["quantization"]
        return (float(scale), int(zero)) if scale else None

    def _run(self, lr: np.ndarray) -> np.ndarray:
        it = self._interp
        if self._shape != lr.shape:
            it.resize_tensor_input(self._in["index"], list(lr.shape), strict=False)
            it.allocate_tensors()
            self._shape = lr.shape
        dtype = self._in["dtype"]
        q = self._qparams(self._in)
        if q is not None and np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            x = np.clip(np.round(lr / q[0] + q[1]), info.min, info.max).astype(dtype)
        else:
            x = lr.astype(dtype)
        it.set_tensor(self._in["index"], x)
        it.invoke()
        y = it.get_tensor(self._out["index"])
        q = self._qparams(self._out)
        if q is not None and np.issubdtype(y.dtype, np.integer):
            return (y.astype(np.float32) - q[1]) * q[0]
        return y.astype(np.float32)  # get_tensor returns a copy


class OnnxRunner(_Runner):
    """An ``.onnx`` file written by ``export_onnx`` (optional extra), through onnxruntime on CPU."""

    def __init__(self, path: str | os.PathLike, num_threads: int = 2):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ExportedModelError(f"{path}: running ONNX needs the optional extra: "
                                     "pip install -e .[onnx]") from None
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.is_file():
            raise ExportedModelError(f"{self.path}: no such file")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(self.path), opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - one line for the user whatever ORT raises
            raise ExportedModelError(f"{self.path}: not an ONNX model "
                                     f"({str(e).splitlines()[0][:200]})") from None
        ins = self._session.get_inputs()
        if len(ins) != 1 or len(ins[0].shape) != 4 or ins[0].shape[-1] != 3:
            raise ExportedModelError(f"{self.path}: expected one (N, H, W, 3) input, found "
                                     f"{[(i.name, i.shape) for i in ins]}")
        self._input = ins[0].name
        n, h, w, _ = ins[0].shape
        if isinstance(h, int) and isinstance(w, int):
            self.fixed_size = (h, w)
        self.fixed_batch = isinstance(n, int)
        self.scale = self._probe_scale()

    def _run(self, lr: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: lr})[0].astype(np.float32)
