"""Bundled generators through LiteRT, without TensorFlow: the runtime of ``--runtime auto`` (issue 29.1).

Deployment, not the paper. Importing TensorFlow takes seconds (4.1 s on the 2-core AMD EPYC of
issue 29, quiet), more than the model takes on a small photo; LiteRT's interpreter
(``ai_edge_litert``, XNNPACK on CPU) imports in a fraction of one. So where a bundled ``.keras``
generator has a bundled TFLite export that computes the same image, the upscale CLI, the Python
API (:func:`srgan_keras.inference.tiling.upscale_image` given a name or path) and the web page
run that export, and TensorFlow is never imported.

An export counts (:func:`bundled_tflite`) when, in ``saved_models/``:

- ``NAME_fp16.tflite`` is beside ``NAME.keras`` (``python -m srgan_keras.export --to tflite
  --quantize float16``, saved_models/MODEL_CARD.md), and both files are the ones the model card
  measured: their SHA-256 is the one ``metrics.json`` lists (so a retrained or recalibrated
  ``.keras`` file is never silently replaced by a stale export);
- its export report ``NAME_fp16.tflite.parity.json`` says it matches the Keras model within the
  bundled tolerance (every image's PSNR against the Keras output at least ``required_psnr_db``).

``--runtime auto`` (the CLI's default) runs the export when one counts and its report measured it
faster than the Keras model (``latency_ms`` below ``keras_latency_ms``); else, and for every
other model (a user's ``.keras`` file, a SavedModel), Keras. ``--runtime litert`` asks for the
export and fails in one line where there is none; ``--runtime keras`` is the Keras file as before.
A ``.tflite`` file given as the model always runs on LiteRT.

The denoise strength (``--denoise-strength S|auto``) blends the model with its weak-denoise twin
weight by weight. On LiteRT the blend is made from the two TFLite exports
(``realesr_x4_fp16.tflite`` and ``realesr_x4_wdn_fp16.tflite``) by
:mod:`srgan_keras.inference.tflite_blend`, and ``auto`` chooses the strength per photo exactly as
:class:`srgan_keras.inference.runners.AutoDenoiseRunner` does (same estimate, same 0.05 steps).
Things that need the Keras file stay on Keras under ``auto``: ``--precision bfloat16`` and a
``--wdn-model`` of the user's.

One interpreter per runner, re-planned (``resize_tensor_input`` + ``allocate_tensors``) when the
input shape changes: our choice, measured on the 2-core EPYC under a training run's load with the
default model. A 200x140 input re-plans in 0.08-0.13 s and runs in 1.0-1.4 s; a 500x333 photo in
128 px tiles (12 tiles, 9 shapes, since border tiles have less context) spent 1.0 s of 21 s
re-planning. One interpreter per shape would save at most that and hold up to nine activation
arenas; padding tiles to one size would compute the padding instead. The whole photo (what
``tile="auto"`` chooses for it: the widest layer is 64 floats per LR pixel, read from the
graph, :func:`widest_floats_per_pixel`) re-plans once.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srgan_keras.errors import SrganKerasError

RUNTIMES = ("auto", "keras", "litert")
EXPORT_SUFFIX = "_fp16.tflite"  # saved_models/MODEL_CARD.md: the float16 exports
PARITY_SUFFIX = ".parity.json"  # srgan_keras.export writes <output>.parity.json
# Our choice: blends kept ready, most recent first (a folder of photos mostly reuses a few
# strengths; each runner holds an interpreter and its activation arena).
BLENDS_KEPT = 2


class RuntimeUnavailableError(SrganKerasError, ValueError):
    """``--runtime litert`` for a model LiteRT cannot run as the Keras model; one line."""


@dataclass(frozen=True)
class RuntimeChoice:
    """Which runtime runs a model, and why (the ``--verbose`` line)."""

    runtime: str  # "litert", "keras" or "numpy" (bicubic)
    reason: str
    tflite: Path | None = None  # the bundled TFLite export LiteRT runs (None: a .tflite model, as given)
    wdn_tflite: Path | None = None  # its weak-denoise twin's export, for blends

    def describe(self) -> str:
        what = {"litert": "LiteRT", "keras": "Keras (TensorFlow)"}.get(self.runtime, "NumPy")
        return f"runtime {what}: {self.reason}"


def _sha256(path: Path) -> str:
    st = path.stat()
    return _sha256_of(path.resolve(), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _sha256_of(path: Path, mtime_ns: int, size: int) -> str:
    """SHA-256 of a file, once per version of it (the CLI asks at start-up and at load)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.lru_cache(maxsize=4)
def _measured_files(metrics: Path, mtime: float) -> dict[str, str]:
    """{file name: SHA-256} of the models ``metrics.json`` lists (the model card's files)."""
    try:
        models = json.loads(metrics.read_text())["models"]
        return {m["file"]: m["sha256"] for m in models.values()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _is_measured(path: Path) -> bool:
    metrics = path.parent / "metrics.json"
    try:
        listed = _measured_files(metrics, metrics.stat().st_mtime)
    except OSError:
        return False
    return listed.get(path.name) == _sha256(path)


def _in_saved_models(path: Path) -> bool:
    from srgan_keras.inference import bundled

    try:
        return path.resolve().parent == bundled.SAVED_MODELS.resolve()
    except OSError:
        return False


def parity_report(tflite: Path) -> dict | None:
    """The export report beside ``tflite``, or None when there is none or it is unreadable."""
    try:
        return json.loads(Path(str(tflite) + PARITY_SUFFIX).read_text())
    except (OSError, ValueError):
        return None


def within_tolerance(report: dict) -> bool:
    """Every image of the export report within the bundled tolerance (``required_psnr_db``)."""
    try:
        need = float(report["required_psnr_db"])
        worst = float(report.get("min_psnr_vs_keras_db", report["psnr_vs_keras_db"]))
        return bool(report.get("meets_minimum", True)) and worst >= need
    except (KeyError, TypeError, ValueError):
        return False


def measured_faster(report: dict) -> bool:
    """The report's LiteRT latency below the Keras one at every size it measured both."""
    lite, keras = report.get("latency_ms") or {}, report.get("keras_latency_ms") or {}
    sizes = set(lite) & set(keras)
    return bool(sizes) and all(float(lite[s]) < float(keras[s]) for s in sizes)


def bundled_tflite(keras_path: Path) -> tuple[Path | None, dict | None, str]:
    """(export, its parity report, "") for a bundled ``.keras`` file with a TFLite export that counts (see the
    module docstring); else (None, None, why not)."""
    keras_path = Path(keras_path)
    export = keras_path.with_name(keras_path.stem + EXPORT_SUFFIX)
    if not _in_saved_models(keras_path):
        return None, None, f"{keras_path} is not a bundled model (no TFLite export is checked)"
    if not export.is_file():
        return None, None, f"no {export.name} beside {keras_path.name}"
    report = parity_report(export)
    if report is None:
        return None, None, f"no readable export report {export.name}{PARITY_SUFFIX}"
    if not within_tolerance(report):
        return None, None, f"{export.name} is not within the parity tolerance of its report"
    for f in (keras_path, export):
        if not _is_measured(f):
            return None, None, (f"{f.name} is not the file saved_models/metrics.json lists "
                                "(changed since the model card measured it)")
    return export, report, ""


def _needs_blend(denoise_strength) -> bool:
    from srgan_keras.inference.degradation_estimate import AUTO

    return denoise_strength == AUTO or (denoise_strength is not None
                                        and float(denoise_strength) != 1.0)


def choose_runtime(path_or_name, runtime: str = "auto", denoise_strength=None, wdn=None,
                   precision: str = "float32") -> RuntimeChoice:
    """Which runtime :func:`srgan_keras.inference.runners.load_generator` uses (module docstring).

    Raises ``ModelNotFoundError`` for a model that does not exist, ``ValueError`` for an unknown
    runtime and :class:`RuntimeUnavailableError` for ``runtime="litert"`` where LiteRT cannot run
    the model as Keras would. Imports no TensorFlow.
    """
    from srgan_keras.inference.resolve import resolve_model_path
    from srgan_keras.nn.interpolation import wdn_candidates

    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")

    def keras(reason: str) -> RuntimeChoice:
        if runtime == "litert":
            raise RuntimeUnavailableError(f"--runtime litert: {reason}; leave --runtime out "
                                          "(auto) or use --runtime keras")
        return RuntimeChoice("keras", reason)

    if str(path_or_name) == "bicubic":  # whatever the runtime: no network to run
        return RuntimeChoice("numpy", "bicubic has no network (srgan_keras.inference.bicubic)")
    path = resolve_model_path(path_or_name)
    if path.is_file() and path.suffix.lower() == ".tflite":  # load_generator's own loader
        return RuntimeChoice("litert", f"{path.name} is a TFLite file")
    if runtime == "keras":
        return RuntimeChoice("keras", "asked for (--runtime keras)")
    if path.is_dir() or path.suffix.lower() != ".keras":
        return keras(f"{path.name} is not a .keras file with a bundled TFLite export")
    export, report, why = bundled_tflite(path)
    if export is None:
        return keras(why)
    if precision == "bfloat16":
        return keras("--precision bfloat16 runs the .keras file")
    if wdn is not None:
        return keras("--wdn-model blends .keras files")
    wdn_export = None
    wdn_keras = next((c for c in wdn_candidates(path) if c.is_file()), None)
    if _needs_blend(denoise_strength) and (wdn_keras is not None
                                           or denoise_strength != "auto"):
        if wdn_keras is None:
            return keras(f"no weak-denoise twin of {path.name} for --denoise-strength")
        wdn_export, _, why = bundled_tflite(wdn_keras)
        if wdn_export is None:
            return keras(f"the weak-denoise twin has no TFLite export that counts ({why})")
    if runtime == "auto" and not measured_faster(report):
        return RuntimeChoice("keras", f"{export.name}{PARITY_SUFFIX} measured Keras faster")
    psnr = float(report.get("min_psnr_vs_keras_db", report["psnr_vs_keras_db"]))
    what = (f"{export.name}, the bundled TFLite export of {path.name}" if wdn_export is None else
            f"{export.name} and {wdn_export.name}, the bundled TFLite exports of {path.name} and "
            f"{wdn_keras.name}, blended")
    return RuntimeChoice("litert", f"{what} (at least {psnr:.1f} dB PSNR against the Keras "
                         "model in the export report)", export, wdn_export)


def widest_floats_per_pixel(path: Path, probe: int = 16) -> float | None:
    """The widest activation of a ``.tflite`` graph, in floats per LR input pixel; None if the
    file will not say.

    Read from an interpreter without the XNNPACK delegate, resized to a ``probe`` x ``probe``
    input and allocated (not run): with the delegate, the tensors inside it keep their shapes
    from the export (1x1). Only named tensors count: the unnamed ones are the reference kernels'
    scratch buffers (im2col), which XNNPACK does not use. Bundled SRVGGNetCompact: 64 (Keras'
    estimate too); SRResNet: 1024 (256 channels at 2x).
    """
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        interp = Interpreter(model_path=str(path), experimental_op_resolver_type=(
            OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
        (inp,) = interp.get_input_details()
        interp.resize_tensor_input(inp["index"], [1, probe, probe, 3], strict=False)
        interp.allocate_tensors()
        sizes = [int(np.prod(d["shape"][1:])) for d in interp.get_tensor_details()
                 if d["name"] and len(d["shape"]) == 4 and d["shape"][0] == 1]
    except Exception:  # noqa: BLE001 -- a graph that will not say: tiling's fallback estimate
        return None
    return max(sizes) / probe**2 if sizes else None


def with_activation_estimate(runner):
    """``runner`` with tiling's activation estimate (:func:`srgan_keras.inference.tiling
    .bytes_per_pixel`): as for Keras, the widest layer x 4 bytes x ``LIVE_BUFFERS``."""
    from srgan_keras.inference.memory import LIVE_BUFFERS

    widest = widest_floats_per_pixel(runner.path)
    if widest:
        runner._bytes_per_pixel = int(widest * 4 * LIVE_BUFFERS)
    return runner


def _tflite_runner(path: Path, name: str, content: bytes | None = None, like=None):
    from srgan_keras.inference.exported import TFLiteRunner

    runner = TFLiteRunner(path, content=content, name=name,
                          scale=None if like is None else like.scale)
    runner.runtime = "litert"
    if like is not None:
        runner._bytes_per_pixel = getattr(like, "_bytes_per_pixel", None)
        return runner
    return with_activation_estimate(runner)


class LiteRTDenoiseRunner:
    """:class:`srgan_keras.inference.runners.AutoDenoiseRunner` on LiteRT: the model's TFLite export
    and its weak-denoise twin's, blended per image (:mod:`srgan_keras.inference.tflite_blend`)."""

    runtime = "litert"
    precision = "float32"  # float16 weights, float32 arithmetic (XNNPACK on x86)

    def __init__(self, model: Path, wdn: Path, name: str):
        from srgan_keras.inference.tflite_blend import check_same_layout

        self._paths = (Path(model), Path(wdn))
        self._bytes = (self._paths[0].read_bytes(), self._paths[1].read_bytes())
        check_same_layout(*self._bytes, names=(self._paths[0].name, self._paths[1].name))
        self.name = name
        self.strong = _tflite_runner(self._paths[0], name)
        self.scale = self.strong.scale
        self._bytes_per_pixel = getattr(self.strong, "_bytes_per_pixel", None)
        self._blends: OrderedDict[float, object] = OrderedDict()

    def at(self, strength: float):
        """The runner blended at ``strength`` (rounded to STRENGTH_STEP)."""
        from srgan_keras.inference.degradation_estimate import quantise_strength
        from srgan_keras.inference.tflite_blend import blend

        s = quantise_strength(strength)
        if s == 1.0:
            return self.strong
        if s not in self._blends:
            content = blend(*self._bytes, s, names=(self._paths[0].name, self._paths[1].name))
            self._blends[s] = _tflite_runner(self._paths[0], f"{self.name}_dn{s:g}", content,
                                             like=self.strong)
            while len(self._blends) > BLENDS_KEPT:
                self._blends.popitem(last=False)
        self._blends.move_to_end(s)
        return self._blends[s]

    def for_image(self, image, source=None):
        """(runner, estimate) for one image, as AutoDenoiseRunner.for_image."""
        from srgan_keras.inference.degradation_estimate import estimate

        est = estimate(image, source)
        return self.at(est.strength), est

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        return self.strong(lr)


def load_litert(choice: RuntimeChoice, name: str, denoise_strength=None):
    """The LiteRT runner of ``choice`` (from :func:`choose_runtime`), named as the Keras one."""
    from srgan_keras.inference.degradation_estimate import AUTO
    from srgan_keras.inference.tflite_blend import blend
    from srgan_keras.nn.interpolation import check_denoise_strength

    if choice.wdn_tflite is None:
        runner = _tflite_runner(choice.tflite, name)
    elif denoise_strength == AUTO:
        runner = LiteRTDenoiseRunner(choice.tflite, choice.wdn_tflite, name)
    else:
        s = float(denoise_strength)
        check_denoise_strength(s)
        a, b = choice.tflite.read_bytes(), choice.wdn_tflite.read_bytes()
        content = blend(a, b, s, names=(choice.tflite.name, choice.wdn_tflite.name))
        runner = _tflite_runner(choice.tflite, f"{name}_dn{s:g}", content)
    runner.runtime_choice = choice
    return runner

