"""Issue 7's benchmarks in one command: one table, one JSON file, PyTorch side by side.

    python -m benchmarks.run                 # full run (about half an hour on 2 cores)
    python -m benchmarks.run --quick         # few repeats, smaller inference/RSS sizes
    python -m benchmarks.run --no-torch --json /tmp/bench.json
    python -m benchmarks.run --only ceiling,train   # sections: ceiling train data infer rss

Every time is a median over repeated runs after warm-up. The pieces are the existing benchmark
modules (train_step, bench_esrgan, bench_upscale) and the library's own export/runner code;
this file only schedules them, counts FLOPs (:mod:`benchmarks.flops`) and compares:

- ``ceiling``: the machine's float32 matmul GFLOP/s (``tf.linalg.matmul``, N x N), the roof
  that every step's achieved GFLOP/s is set against.
- ``train``: SRResNet MSE step, SRGAN D+G step (MSE content, as ``torch_ref.py gan``) and with
  VGG54 content (``weights=None``), batch 16, HR 96, XLA off (graph) and on; RRDBNet L1 step,
  batch 4, HR 128.
- ``data``: images/s of ``srgan_keras.data.pipeline.training_dataset`` on Urban100 (bicubic, batch 16,
  96 px; Real-ESRGAN degradations, batch 4, 128 px), against the consuming step's images/s.
- ``infer``: one x4 forward of a SIZE x SIZE LR image (256; 128 with --quick): Keras eager,
  tf.function, tf.function + XLA, SavedModel, TFLite fp32 / fp16 / int8 through LiteRT
  (XNNPACK, 2 threads).
- ``rss``: peak RSS of ``python -m srgan_keras.upscale`` (tiled) on a 2000x1500 photo
  (1000x750 with --quick), measured by ``benchmarks.bench_upscale memory`` in a subprocess.
- PyTorch: ``../shared/tools/torch_ref.py`` (train / gan / infer) in a subprocess, run right
  after our matching measurement, when ``torch`` is importable and ``--no-torch`` is not given;
  the SRResNet and SRGAN steps alternate with it 3 times (once with --quick), medians compared.
- ``stock_*``: the SRResNet and SRGAN steps with Keras' own BatchNormalization, PReLU and Adam in
  place of the library's fused ones (:mod:`srgan_keras.nn.layers`, :mod:`srgan_keras.training.optimizers`).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TORCH_REF = REPO.parent / "shared" / "tools" / "torch_ref.py"
URBAN100 = REPO.parent / "shared" / "data" / "Urban100"
DEFAULT_JSON = REPO / "benchmarks" / "results" / "latest.json"
SECTIONS = ("ceiling", "train", "data", "infer", "rss")

# Issue 7's targets: PyTorch time / our time must reach these (speed-ups), and the steps'
# achieved FLOP/s this fraction of the matmul ceiling.
TARGET_SRGAN_SPEEDUP = 1.15
TARGET_SRRESNET_SPEEDUP = 1.0  # "at least at parity"
TARGET_INFER_SPEEDUP = 1.3
TARGET_CEILING_FRACTION = 0.85


# ------------------------------------------------------------------------------------------
# Machine and helpers
# ------------------------------------------------------------------------------------------
def machine_info() -> dict:
    """CPU model, cores, load, library versions and the date, for the table's caption."""
    import keras
    import numpy as np
    import tensorflow as tf

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    torch_version = None
    if importlib.util.find_spec("torch") is not None:
        out = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True)
        torch_version = out.stdout.strip() or None
    return {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "torch": torch_version,
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset: on)"),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def median_seconds(fn: Callable[[], object], runs: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``runs`` calls after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None and TORCH_REF.is_file()


def torch_ref(*args: object) -> float | None:
    """Median seconds printed by ``torch_ref.py ARGS`` (None if it fails)."""
    cmd = [sys.executable, str(TORCH_REF), *map(str, args)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        print(f"torch_ref {' '.join(map(str, args))} failed: {out.stderr[-400:]}", file=sys.stderr)
        return None


class Results:
    """Rows of the table (a dict per measurement), printed as they come and kept for JSON."""

    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}

    def add(self, key: str, what: str, value: float | None, unit: str, **extra) -> dict:
        row = {"what": what, "value": value, "unit": unit, **extra}
        self.rows[key] = row
        shown = "failed" if value is None else f"{value:.4g} {unit}"
        print(f"  {key:<28} {shown}" + (f"  (torch {extra['torch_s']:.4g} s)"
                                        if extra.get("torch_s") else ""), flush=True)
        return row

    def get(self, key: str, field: str = "value"):
        return self.rows.get(key, {}).get(field)


def guarded(fn: Callable[..., None]) -> Callable[..., None]:
    """Run a section; on an exception, record it and go on with the next section."""
    def wrapper(res: Results, *args, **kwargs) -> None:
        try:
            fn(res, *args, **kwargs)
        except Exception as e:  # noqa: BLE001 - one failed section must not lose the others
            print(f"section {fn.__name__} failed: {type(e).__name__}: {e}", file=sys.stderr)
            res.rows[f"error_{fn.__name__}"] = {"what": f"{fn.__name__} failed", "value": None,
                                                "unit": "", "error": f"{type(e).__name__}: {e}"}
    wrapper.__name__ = fn.__name__
    return wrapper


# ------------------------------------------------------------------------------------------
# Sections
# ------------------------------------------------------------------------------------------
@guarded
def ceiling(res: Results, n: int, runs: int, use_torch: bool, key: str = "matmul_ceiling",
            label: str = "") -> None:
    """float32 N x N matmul GFLOP/s (2 N^3 FLOPs), the roof for the steps' achieved rate.

    Measured at the start and again at the end of the run; the roof is the higher of the two
    TF numbers (on a loaded machine a single reading can be far under the CPU's ability).
    """
    import tensorflow as tf

    a = tf.random.uniform((n, n))
    b = tf.random.uniform((n, n))
    s = median_seconds(lambda: tf.linalg.matmul(a, b).numpy(), runs, warmup=2)
    res.add(key, f"float32 matmul {n}x{n} (tf.linalg.matmul){label}", 2 * n**3 / s / 1e9,
            "GFLOP/s", seconds=s)
    if use_torch:  # cross-check: the same product through PyTorch's BLAS, same process layout
        code = ("import statistics, time, torch\n"
                f"a = torch.rand({n}, {n}); b = torch.rand({n}, {n}); t = []\n"
                f"for i in range({runs} + 2):\n"
                "    s = time.perf_counter(); a @ b; t.append(time.perf_counter() - s)\n"
                "print(statistics.median(t[2:]))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        try:
            ts = float(out.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            return
        res.add(f"torch_{key}", f"float32 matmul {n}x{n} (torch, cross-check){label}",
                2 * n**3 / ts / 1e9, "GFLOP/s", seconds=ts)


@guarded
def train(res: Results, steps: int, use_torch: bool, rounds: int = 1) -> None:
    """Step times (XLA off/on) of the SRResNet, SRGAN (MSE, VGG54) and RRDBNet steps."""
    import keras
    import tensorflow as tf

    from benchmarks.bench_esrgan import time_step
    from benchmarks.flops import forward_flops, srgan_step_flops, srresnet_step_flops
    from benchmarks.train_step import median_step_seconds
    from srgan_keras.nn.rrdbnet import build_rrdbnet
    from srgan_keras.nn.srgan_discriminator import build_discriminator
    from srgan_keras.nn.srresnet import build_srresnet
    from srgan_keras.training.losses import ContentLoss

    batch, hr = 16, 96
    g, d = build_srresnet(), build_discriminator(hr)
    vgg = ContentLoss("vgg54", vgg_weights=None).extractor
    flops = {
        "srresnet": srresnet_step_flops(g, batch, (hr // 4, hr // 4)),
        "srgan_mse": srgan_step_flops(g, d, batch, (hr // 4, hr // 4)),
        "srgan_vgg54": srgan_step_flops(g, d, batch, (hr // 4, hr // 4), vgg),
    }
    torch_mode = {"srresnet": "train", "srgan_mse": "gan"}
    names = {"srresnet": "SRResNet MSE step", "srgan_mse": "SRGAN D+G step, MSE content",
             "srgan_vgg54": "SRGAN D+G step, VGG54 content"}
    for kind in ("srresnet", "srgan_mse", "srgan_vgg54"):
        which = "srresnet" if kind == "srresnet" else "srgan"
        content = "vgg54" if kind == "srgan_vgg54" else "mse"
        for jit in (False, True):
            # The PyTorch comparison alternates ours and theirs ``rounds`` times and compares
            # medians, so a change in the machine's load during the run hits both sides.
            paired = not jit and use_torch and kind in torch_mode
            ours, theirs = [], []
            for _ in range(rounds if paired else 1):
                ours.append(median_step_seconds(which, batch, hr, steps, jit, content))
                if paired:
                    theirs.append(torch_ref(torch_mode[kind], batch, hr // 4, steps))
                    print(f"  {'torch ' + torch_mode[kind]:<28} {theirs[-1]} s/step", flush=True)
            s = statistics.median(ours)
            theirs = [t for t in theirs if t is not None]
            res.add(f"{kind}_{'xla' if jit else 'graph'}",
                    f"{names[kind]}, batch {batch}, HR {hr}, XLA {'on' if jit else 'off'}", s,
                    "s/step", gflop=flops[kind] / 1e9, images_per_s=batch / s,
                    runs=[round(x, 4) for x in ours],
                    torch_s=statistics.median(theirs) if theirs else None,
                    torch_runs=[round(x, 4) for x in theirs] or None)
        if kind in torch_mode:
            res.rows[f"{kind}_xla"]["torch_s"] = res.get(f"{kind}_graph", "torch_s")
            # What the fused BatchNormalization, PReLU and Adam buy: the same step, Keras' own.
            s = median_step_seconds(which, batch, hr, steps, False, content, stock=True)
            res.add(f"stock_{kind}_graph", f"{names[kind]}, XLA off, Keras' own BatchNormalization, "
                    "PReLU and Adam (ablation)", s, "s/step", gflop=flops[kind] / 1e9,
                    images_per_s=batch / s, torch_s=res.get(f"{kind}_graph", "torch_s"))
            # Mixed bfloat16 (what --mixed-precision bfloat16 trains with): not like for like with
            # torch_ref.py's float32, so it is listed beside the targets, not counted in them.
            s = median_step_seconds(which, batch, hr, steps, False, content,
                                    precision="mixed_bfloat16")
            res.add(f"bf16_{kind}_graph", f"{names[kind]}, XLA off, mixed_bfloat16", s, "s/step",
                    gflop=flops[kind] / 1e9, images_per_s=batch / s,
                    torch_s=res.get(f"{kind}_graph", "torch_s"))

    # XLA with TensorFlow's oneDNN rewrites off: a fresh process (the variable is read at import),
    # through train_step's own CLI. The profile sweep found this the fastest setting here.
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "steps.json"
        cmd = [sys.executable, "-m", "benchmarks.train_step", "--which", "srresnet,srgan",
               "--steps", str(steps), "--jit-only", "--json", str(out)]
        subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"})
        nodnn = json.loads(out.read_text()) if out.is_file() else {}
    for kind, which in (("srresnet", "srresnet"), ("srgan_mse", "srgan")):
        s = nodnn.get(f"{which}_xla")
        res.add(f"{kind}_xla_nodnn", f"{names[kind]}, batch {batch}, HR {hr}, XLA on, "
                f"TF_ENABLE_ONEDNN_OPTS=0", s, "s/step", gflop=flops[kind] / 1e9,
                images_per_s=batch / s if s else None,
                torch_s=res.get(f"{kind}_graph", "torch_s"))

    rb, rhr = 4, 128
    lr = tf.random.uniform((rb, rhr // 4, rhr // 4, 3))
    target = tf.random.uniform((rb, rhr, rhr, 3))
    rflops = 3 * rb * forward_flops(build_rrdbnet(4), (rhr // 4, rhr // 4))
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        s, first = time_step(build_rrdbnet(4), lr, target, jit, steps)
        res.add(f"rrdbnet_{'xla' if jit else 'graph'}",
                f"RRDBNet L1 step, batch {rb}, HR {rhr}, XLA {'on' if jit else 'off'}", s, "s/step",
                gflop=rflops / 1e9, images_per_s=rb / s, first_step_s=first)


@guarded
def data(res: Results, batches: int) -> None:
    """images/s of the training input pipeline, bicubic and Real-ESRGAN, on Urban100."""
    from srgan_keras.data.pipeline import training_dataset
    from srgan_keras.training.config import get_config

    configs = {  # key: (label, config, batches to time: many more of the cheap bicubic ones)
        "data_bicubic": ("bicubic pipeline, Urban100, batch 16, HR 96",
                         get_config("paper", data=str(URBAN100), batch_size=16, hr_size=96),
                         10 * batches),
        "data_realesrgan": ("Real-ESRGAN degradations, Urban100, batch 4, HR 128",
                            get_config("paper", data=str(URBAN100), batch_size=4, hr_size=128,
                                       degradation="realesrgan", usm_gt=True), batches),
    }
    for key, (what, cfg, n) in configs.items():
        it = iter(training_dataset(cfg))
        for _ in range(3):  # trace and start the prefetching; n is far larger than its buffer
            next(it)
        t = time.perf_counter()
        for _ in range(n):
            lr, _, _ = next(it)
        lr.numpy()
        dt = time.perf_counter() - t
        res.add(key, what, n * cfg.batch_size / dt, "images/s", batches=n)


@guarded
def infer(res: Results, size: int, runs: int, use_torch: bool) -> None:
    """Latency of one x4 forward of a size x size LR image along every inference path."""
    import keras
    import numpy as np
    import tensorflow as tf

    from benchmarks.flops import forward_flops
    from srgan_keras.export.formats import export_saved_model, export_tflite
    from srgan_keras.export.parity import median_latency_ms
    from srgan_keras.inference.exported import SavedModelRunner, TFLiteRunner
    from srgan_keras.nn.srresnet import build_srresnet

    keras.utils.set_random_seed(0)
    model = build_srresnet()
    gflop = forward_flops(model, (size, size)) / 1e9
    fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    xla = tf.function(lambda x: model(x, training=False), jit_compile=True)
    paths: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
        "infer_keras_eager": ("Keras eager (model(x))", lambda x: np.asarray(model(x, training=False))),
        "infer_tf_function": ("tf.function", lambda x: fn(tf.constant(x)).numpy()),
        "infer_tf_function_xla": ("tf.function + XLA", lambda x: xla(tf.constant(x)).numpy()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        paths["infer_saved_model"] = ("SavedModel (upscale_float)", SavedModelRunner(
            export_saved_model(model, Path(tmp) / "sm")))
        for q, label in (("none", "fp32"), ("float16", "fp16"), ("int8", "int8")):
            path = export_tflite(model, Path(tmp) / f"g_{q}.tflite", quantize=q)
            paths[f"infer_tflite_{label}"] = (f"TFLite {label} (LiteRT, XNNPACK, 2 threads)",
                                              TFLiteRunner(path, num_threads=2))
        for key, (what, run) in paths.items():
            s = median_latency_ms(run, size, runs=runs) / 1e3
            res.add(key, f"x4 inference {size}x{size}: {what}", s, "s", gflop=gflop)
    if use_torch:
        t = torch_ref("infer", size, runs)
        res.rows["torch_infer"] = {"what": f"x4 inference {size}x{size}: PyTorch channels_last",
                                   "value": t, "unit": "s", "gflop": gflop}
        print(f"  {'torch infer':<28} {t} s", flush=True)


@guarded
def rss(res: Results, size: str) -> None:
    """Peak RSS of tiled upscaling, from ``benchmarks.bench_upscale memory`` in a subprocess."""
    cmd = [sys.executable, "-m", "benchmarks.bench_upscale", "memory", "--size", size]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    m = re.search(r"exit (\d+), (\d+) s, peak RSS (\d+) MiB, budget (\d+) MiB", out.stdout)
    if not m:
        raise RuntimeError(f"bench_upscale memory printed no result: {out.stdout[-300:]} "
                           f"{out.stderr[-300:]}")
    code, secs, peak, budget = (int(v) for v in m.groups())
    w, h = (int(v) for v in size.split("x"))
    res.add("rss_tiled_upscale", f"peak RSS, tiled x4 upscale {size} -> {4 * w}x{4 * h} "
            f"(budget: output + 1 GiB = {budget} MiB)", peak, "MiB", budget_mib=budget,
            exit_code=code, seconds=secs)


# ------------------------------------------------------------------------------------------
# Table and targets
# ------------------------------------------------------------------------------------------
def derive(res: Results) -> list[dict]:
    """Achieved GFLOP/s, PyTorch ratios, and issue 7's targets as met / not met."""
    roof = max((res.get(k) for k in ("matmul_ceiling", "matmul_ceiling_end") if res.get(k)),
               default=None)
    res.rows["roof"] = {"what": "roof used below: the higher TF matmul reading", "value": roof,
                        "unit": "GFLOP/s"}
    for key, row in res.rows.items():
        if row.get("gflop") and row.get("value"):
            row["gflops_per_s"] = row["gflop"] / row["value"]
            if roof and not key.startswith("bf16_"):  # the roof is a float32 matmul's
                row["ceiling_fraction"] = row["gflops_per_s"] / roof
        if row.get("torch_s") and row.get("value"):
            row["ours_over_torch"] = row["value"] / row["torch_s"]
            row["speedup_vs_torch"] = row["torch_s"] / row["value"]

    def best(prefix: str) -> tuple[str | None, float | None]:
        keys = [k for k in res.rows if k.startswith(prefix) and res.get(k)]
        k = min(keys, key=lambda k: res.get(k), default=None)
        return k, (res.get(k) if k else None)

    targets = []

    def target(name: str, measured: float | None, need: float | None, detail: str) -> None:
        """need None: informational, listed beside the targets."""
        targets.append({"target": name, "measured": measured, "need": need, "detail": detail,
                        "met": None if measured is None or need is None else measured >= need})

    for kind, need, label in (("srgan_mse", TARGET_SRGAN_SPEEDUP, "SRGAN step (MSE) vs PyTorch"),
                              ("srresnet", TARGET_SRRESNET_SPEEDUP, "SRResNet MSE step vs PyTorch")):
        k, s = best(kind + "_")
        t = res.get(f"{kind}_graph", "torch_s")
        target(label + " (speed-up)", t / s if (t and s) else None, need,
               f"fastest ours {k}: {s and round(s, 3)} s, PyTorch {t} s")
        s = res.get(f"bf16_{kind}_graph")
        target(label + ", ours in mixed_bfloat16 (informational: PyTorch runs float32)",
               t / s if (t and s) else None, None, f"bf16_{kind}_graph: {s and round(s, 3)} s, "
               f"PyTorch {t} s")
    k, s = best("infer_")
    t = res.get("torch_infer")
    target("fastest inference vs PyTorch (speed-up)", t / s if (t and s) else None,
           TARGET_INFER_SPEEDUP, f"fastest ours {k}: {s and round(s, 3)} s, PyTorch {t} s")
    for kind in ("srresnet", "srgan_mse", "srgan_vgg54", "rrdbnet"):
        k, _ = best(kind + "_")
        target(f"{kind} step FLOP/s vs matmul ceiling", res.get(k, "ceiling_fraction") if k else None,
               TARGET_CEILING_FRACTION, f"{k}: {res.get(k, 'gflops_per_s') or 0:.1f} GFLOP/s, "
               f"ceiling {roof or 0:.1f} GFLOP/s")
    for data_key, step_prefix in (("data_bicubic", "srresnet_"), ("data_realesrgan", "rrdbnet_")):
        k, s = best(step_prefix)
        rate = res.get(data_key)
        step_rate = res.get(k, "images_per_s") if k else None
        target(f"{data_key} images/s / fastest {step_prefix[:-1]} step images/s (>= 1: never starves)",
               rate / step_rate if (rate and step_rate) else None, 1.0,
               f"{rate and round(rate, 1)} vs {step_rate and round(step_rate, 2)} images/s")
    return targets


def fmt(v: float | None, spec: str = ".3g") -> str:
    return "–" if v is None else format(v, spec)


def table(res: Results, targets: list[dict]) -> str:
    """The markdown table of measurements, then the targets."""
    lines = ["| key | measurement | value | unit | GFLOP | GFLOP/s | of ceiling | PyTorch s | "
             "ours / PyTorch |", "|" + " --- |" * 9]
    for key, r in res.rows.items():
        torch_s = r.get("torch_s")
        lines.append(
            f"| {key} | {r['what']} | {fmt(r['value'], '.4g')} | {r['unit']} | "
            f"{fmt(r.get('gflop'), '.1f')} | "
            f"{fmt(r.get('gflops_per_s'), '.1f')} | "
            f"{fmt(r['ceiling_fraction'] * 100, '.0f') + ' %' if r.get('ceiling_fraction') else '–'} | "
            f"{fmt(torch_s, '.3f')} | {fmt(r.get('ours_over_torch'), '.2f')} |")
    lines += ["", "| target | measured | needed | met | detail |", "| --- | --- | --- | --- | --- |"]
    for t in targets:
        met = "–" if t["met"] is None else ("met" if t["met"] else "NOT met")
        lines.append(f"| {t['target']} | {fmt(t['measured'], '.2f')} | {fmt(t['need'], '.2f')} | {met} | "
                     f"{t['detail']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="few repeats, smaller inference/RSS sizes")
    p.add_argument("--json", default=str(DEFAULT_JSON), help=f"output file (default {DEFAULT_JSON})")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch reference")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    args = p.parse_args(argv)
    from srgan_keras.startup import import_tensorflow

    import_tensorflow()  # as every CLI: no cuInit/oneDNN start-up lines (issue 28's quiet start-up)
    sections = set(args.only.split(","))
    q = args.quick
    use_torch = not args.no_torch and torch_available()
    settings = {"steps": 3 if q else 10, "rounds": 1 if q else 3, "matmul_n": 4096,
                "matmul_runs": 3 if q else 10, "data_batches": 15 if q else 50,
                "infer_size": 128 if q else 256, "infer_runs": 2 if q else 5,
                "rss_size": "1000x750" if q else "2000x1500"}
    info = machine_info()
    print(f"machine: {info}\nsettings: {settings}\ntorch reference: "
          f"{'yes' if use_torch else 'no'}", flush=True)
    res = Results()
    t0 = time.time()
    if "ceiling" in sections:
        ceiling(res, settings["matmul_n"], settings["matmul_runs"], use_torch)
    if "train" in sections:
        train(res, settings["steps"], use_torch, settings["rounds"])
    if "data" in sections:
        data(res, settings["data_batches"])
    if "infer" in sections:
        infer(res, settings["infer_size"], settings["infer_runs"], use_torch)
    if "rss" in sections:
        rss(res, settings["rss_size"])
    if "ceiling" in sections and "train" in sections:  # the roof again: did the load change?
        ceiling(res, settings["matmul_n"], settings["matmul_runs"], use_torch,
                "matmul_ceiling_end", ", again at the end")
    info["load_average_at_end"] = os.getloadavg()
    info["wall_seconds"] = round(time.time() - t0)
    targets = derive(res)
    text = table(res, targets)
    print("\n" + text)
    out = {"machine": info, "settings": {**settings, "quick": q, "torch": use_torch},
           "rows": res.rows, "targets": targets, "table_markdown": text}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=2, default=str))
    print(f"\nwrote {args.json} ({info['wall_seconds']} s)")
    return out


if __name__ == "__main__":
    main()
