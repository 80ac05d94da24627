"""Where the time of the SRResNet MSE step goes (batch 16, HR 96), and what thread settings do.

    python -m benchmarks.profile_step profile [--which srgan] [--jit] [--steps 3] [--top 20]
    python -m benchmarks.profile_step profile --report-only --logdir DIR   # re-read a trace
    python -m benchmarks.profile_step sweep [--steps 3] [--modes graph,xla]
    python -m benchmarks.profile_step time [--jit] [--inter N] [--intra N] [--steps 3]

``profile``: runs :func:`benchmarks.train_step.median_step_seconds` (the trainer's own pre-training
step, ``G.train_step``) under ``tf.profiler.experimental``, then reads the trace (XPlane protobuf,
no TensorBoard needed) and sums the kernel time of every op on TensorFlow's compute threads:
by category (conv forward, conv gradient w.r.t. input and w.r.t. filter, batch norm,
elementwise, optimizer, pixel shuffle) and the top ops by name. The totals cover every step of
the run, warm-up included, so shares matter more than absolute numbers.

``sweep``: the same step timed in a fresh process per setting (threads are fixed when
TensorFlow starts): inter-op / intra-op pool sizes and ``TF_ENABLE_ONEDNN_OPTS=0``.

``time``: one such timing (what ``sweep`` runs), printed as a JSON line.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Spans that contain the kernels (TF executor; XLA's thunk executor and task dispatcher).
WRAPPERS = ("ExecutorState::Process", "ThreadpoolListener", "ThunkExecutor::Execute",
            "TaskDispatcher::dispatch")
XLA_COMPILER = re.compile(r"Pass$|Compile|Canonicalizer|^CSE$|Inliner|^mlir::|LoopInvariant")


def category(name: str) -> str:
    """Coarse kind of a traced TF op from its ``scope/name:OpType`` event name."""
    if XLA_COMPILER.search(name):
        return "XLA: compiling (first step only)"
    if name.startswith("convolution"):
        return "XLA: convolution thunks"
    if "reduce-window" in name:
        return "XLA: reduce-window thunks"
    if "fusion" in name:
        return "XLA: reduction fusions" if "reduce" in name else "XLA: elementwise fusions"
    scope, _, op = name.rpartition(":")
    low = scope.lower()
    if "adam" in low or op.startswith(("ResourceApply", "AssignVariable", "AssignAdd", "AssignSub")):
        return "optimizer (Adam updates)"
    if "BackpropInput" in op:
        return "conv: gradient w.r.t. input"
    if "BackpropFilter" in op:
        return "conv: gradient w.r.t. filter (+ bias)"
    if "Conv2D" in op:
        return "conv: forward (+ bias)"
    if "BatchNorm" in op:
        return "batch norm (forward + gradient)"
    if op in ("DepthToSpace", "SpaceToDepth"):
        return "pixel shuffle (forward + gradient)"
    if op.startswith(("_Mkl", "Mkl")) and "Reorder" in op:
        return "oneDNN layout reorders"
    return "elementwise / other (PReLU, adds, loss, casts)"


SRRESNET_LAYER = re.compile(r"srresnet(?:_\d+)?/([A-Za-z0-9_]+?)_\d+/")  # .../block3_bn1_1/... -> block3_bn1


def layer_kind(name: str) -> str:
    """The Keras layer type an op belongs to, from its scope (``.../block3_bn1_1/...`` -> ``bn``)."""
    if ":" not in name:
        return "untyped events (XLA thunks, runtime)"
    m = SRRESNET_LAYER.search(name)
    if not m:
        return "outside the model (loss, optimizer)"
    layer = re.sub(r"^(block\d+|up\d+|head|body|tail|long)_", "", m.group(1))
    return {"conv1": "conv", "conv2": "conv", "bn1": "bn", "bn2": "bn", "skip": "add"}.get(layer, layer)


def read_trace(logdir: str) -> tuple[collections.Counter, collections.Counter, int, float]:
    """(ps per op name, executions per op name, compute threads, wall ps of the python line)."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True))
    space = xplane_pb2.XSpace()
    space.ParseFromString(Path(files[-1]).read_bytes())
    per_op: collections.Counter = collections.Counter()
    count: collections.Counter = collections.Counter()
    threads, wall = 0, 0.0
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        for line in plane.lines:
            names = [(plane.event_metadata[e.metadata_id].name, e.duration_ps) for e in line.events]
            if line.name == "python":
                wall = max((d for n, d in names if n == "step" or n.startswith("step")), default=0)
                continue
            kernels = [(n, d) for n, d in names if not n.startswith(WRAPPERS) and d > 0]
            if kernels:
                threads += 1
            for n, d in kernels:
                per_op[n] += d
                count[n] += 1
    return per_op, count, threads, wall


def share_table(title: str, counter: collections.Counter, total_ps: float, steps: int,
                top: int | None = None) -> None:
    """A markdown table: key, share of all kernel time, seconds per step."""
    print(f"\n| {title} | share of kernel time | s per step |\n| --- | --- | --- |")
    for key, ps in counter.most_common(top):
        print(f"| {key[:110]} | {100 * ps / total_ps:.1f} % | {ps / 1e12 / steps:.3f} |")


def report(logdir: str, steps: int, top: int) -> None:
    """Summarise the trace in ``logdir`` (``steps`` steps traced) as markdown tables."""
    per_op, count, threads, _ = read_trace(logdir)
    total = float(sum(per_op.values()))
    print(f"kernel time {total / 1e12:.1f} s on {threads} compute threads: "
          f"{total / 1e12 / steps:.2f} s and {sum(count.values()) / steps:.0f} op runs per step")
    groups = {"category": category, "layer kind (forward + its gradient)": layer_kind,
              "op type": lambda n: re.sub(r"\.\d+$", "", n.rpartition(":")[2] or n)}
    for title, key in groups.items():
        c: collections.Counter = collections.Counter()
        for name, ps in per_op.items():
            c[key(name)] += ps
        share_table(title, c, total, steps, top)
    share_table("top op (scope:type)", per_op, total, steps, top)


def conv_efficiency(logdir: str, steps: int, batch: int, hr: int) -> None:
    """Achieved GFLOP/s of the SRResNet's convolutions, by layer family, from a trace.

    A family's FLOPs per step are 3x its forward FLOPs (forward, gradient w.r.t. input, w.r.t.
    weights; the head's input gradient is not computed, so it is 2x there); its time is the
    kernel time of its Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter ops divided by the
    compute threads, i.e. as if each kernel had all cores. Compare with the matmul ceiling.
    """
    from benchmarks.flops import per_layer_flops
    from srgan_keras.nn.srresnet import build_srresnet

    per_op, _, threads, _ = read_trace(logdir)
    flops = per_layer_flops(build_srresnet(), (hr // 4, hr // 4))
    family = lambda name: re.sub(r"^block\d+_conv\d", "block convs (32)", name)  # noqa: E731
    fam_flops: collections.Counter = collections.Counter()
    for name, f in flops.items():
        fam_flops[family(name)] += f * batch * (2 if name == "head_conv" else 3)
    fam_ps: collections.Counter = collections.Counter()
    for op_name, ps in per_op.items():
        m = SRRESNET_LAYER.search(op_name)
        if m and m.group(1) in flops and "Conv2D" in op_name:
            fam_ps[family(m.group(1))] += ps
    print("\n| conv layers | GFLOP per step | conv kernel s per step (/ threads) | GFLOP/s |\n"
          "| --- | --- | --- | --- |")
    for fam, f in fam_flops.most_common():
        sec = fam_ps[fam] / 1e12 / steps / max(threads, 1)
        print(f"| {fam} | {f / 1e9:.1f} | {sec:.3f} | {f / 1e9 / sec if sec else 0:.0f} |")


def profile(args: argparse.Namespace) -> None:
    if args.report_only:
        report(args.logdir, args.steps + 2, args.top)
        conv_efficiency(args.logdir, args.steps + 2, args.batch, args.hr)
        return
    import tensorflow as tf

    from benchmarks.train_step import median_step_seconds

    logdir = args.logdir or tempfile.mkdtemp(prefix="srgan_prof_")
    tf.profiler.experimental.start(logdir)
    t = time.perf_counter()
    median = median_step_seconds(args.which, args.batch, args.hr, args.steps, args.jit)
    total_wall = time.perf_counter() - t
    tf.profiler.experimental.stop()
    title = "SRResNet MSE step" if args.which == "srresnet" else "SRGAN D+G step (MSE content)"
    print(f"{title}, batch {args.batch}, HR {args.hr}, XLA {'on' if args.jit else 'off'}: "
          f"median {median:.3f} s/step under the profiler; {args.steps + 2} steps (2 warm-up) "
          f"traced in {total_wall:.1f} s")
    report(logdir, args.steps + 2, args.top)  # two warm-up steps are traced too
    conv_efficiency(logdir, args.steps + 2, args.batch, args.hr)
    print(f"\ntrace: {logdir} (re-read: profile --report-only --logdir {logdir})")


def time_one(args: argparse.Namespace) -> None:
    import tensorflow as tf

    if args.inter:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter)
    if args.intra:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra)
    from benchmarks.train_step import median_step_seconds

    s = median_step_seconds("srresnet", args.batch, args.hr, args.steps, args.jit)
    print(json.dumps({"jit": args.jit, "inter": args.inter, "intra": args.intra,
                      "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"), "s": s}))


SWEEP = (  # (label, extra argv, extra env)
    ("TF defaults", [], {}),
    ("inter 1, intra 2", ["--inter", "1", "--intra", "2"], {}),
    ("inter 2, intra 2", ["--inter", "2", "--intra", "2"], {}),
    ("inter 1, intra 1", ["--inter", "1", "--intra", "1"], {}),
    ("TF_ENABLE_ONEDNN_OPTS=0", [], {"TF_ENABLE_ONEDNN_OPTS": "0"}),
)


def sweep(args: argparse.Namespace) -> None:
    rows = []
    for mode in args.modes.split(","):
        for label, argv, env in SWEEP:
            cmd = [sys.executable, "-m", "benchmarks.profile_step", "time", "--steps", str(args.steps),
                   *argv, *(["--jit"] if mode == "xla" else [])]
            out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                                 env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env})
            try:
                s = json.loads(out.stdout.strip().splitlines()[-1])["s"]
            except (IndexError, ValueError, KeyError):
                s = None
                print(out.stderr[-500:], file=sys.stderr)
            rows.append((mode, label, s))
            print(f"{mode:<6} {label:<26} {s if s is None else round(s, 3)} s/step "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    print("\n| mode | setting | s/step |\n| --- | --- | --- |")
    for mode, label, s in rows:
        print(f"| {mode} | {label} | {'failed' if s is None else f'{s:.3f}'} |")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("profile", "sweep", "time"))
    p.add_argument("--jit", action="store_true", help="XLA (jit_compile=True)")
    p.add_argument("--which", default="srresnet", choices=("srresnet", "srgan"),
                   help="profile: the SRResNet MSE step or the full SRGAN D+G step")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--hr", type=int, default=96)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--logdir", default=None, help="profiler output (default: a temporary folder)")
    p.add_argument("--report-only", action="store_true", help="profile: only re-read --logdir")
    p.add_argument("--inter", type=int, default=0, help="inter-op threads (0: TF's default)")
    p.add_argument("--intra", type=int, default=0, help="intra-op threads (0: TF's default)")
    p.add_argument("--modes", default="graph,xla", help="sweep: graph, xla or both")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    {"profile": profile, "sweep": sweep, "time": time_one}[args.what](args)


if __name__ == "__main__":
    main()
