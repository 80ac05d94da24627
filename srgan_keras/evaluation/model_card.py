"""``python -m srgan_keras.model_card``: measure bundled generators and write what their card shows.

    python -m srgan_keras.model_card \\
        --model saved_models/srresnet_x4.keras --model saved_models/srgan_x4.keras \\
        --model saved_models/srresnet_x4_fp16.tflite \\
        --data ../shared/data/Set5 --data ../shared/data/Set14 \\
        --figure-image ../shared/data/Set14/comic.png --out saved_models

For every model and folder it runs :func:`srgan_keras.evaluation.evaluate.evaluate_folder` (what the
evaluate CLI runs: the field's protocol, bicubic on the same LR) and writes into ``--out``:

- ``metrics.json``: per model its file size, SHA-256 and mean PSNR-Y/SSIM-Y per folder, plus
  bicubic's; ``tests/test_bundled_models.py`` re-measures Set5 from it, so the numbers on the
  card are the files in the repository;
- ``comparison.png``: one image, LR | bicubic | each model | HR, with a zoomed inset;
  ``--figure-degraded`` makes its LR by ``--degrade`` (the input a real-world model is for);
- ``MODEL_CARD.md``: the table between ``<!-- evaluation:begin -->`` and
  ``<!-- evaluation:end -->`` is replaced; the prose around it is the author's.

``--degraded-data DIR`` (repeat) adds columns measured on LR degraded by ``--degrade PRESET
--seed N`` (:mod:`srgan_keras.evaluation.degraded`, as ``evaluate --degrade``), keyed
``"<folder> <preset>/<seed>"``, e.g. ``Set14 realesrgan/0``: the real-world models' numbers.

Every file is written to a temporary name and renamed, so an interrupted run leaves the old ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from srgan_keras.evaluation.run_logs import read_logs
from srgan_keras.startup import add_verbose_flag

BEGIN, END = "<!-- evaluation:begin -->", "<!-- evaluation:end -->"


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file (of every file, in name order, for a SavedModel folder)."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() \
        else path.stat().st_size


def measure(models: list[Path], folders: list[Path], degraded: list[Path] = (),
            degrade: str = "realesrgan", seed: int = 0) -> dict:
    """Evaluate every model on every folder (and on each ``degraded`` folder with LR made by
    ``degrade``/``seed``); returns the ``metrics.json`` dict."""
    from srgan_keras.evaluation.degraded import describe
    from srgan_keras.evaluation.evaluate import DEGRADED_PROTOCOL, PROTOCOL, evaluate_folder
    from srgan_keras.inference.runners import load_generator

    out: dict = {"protocol": PROTOCOL, "datasets": {}, "bicubic": {}, "models": {}}
    if degraded:
        out["degraded_protocol"] = DEGRADED_PROTOCOL
    columns = [(f.name, f, None) for f in folders] + [
        (f"{f.name} {degrade}/{seed}", f, degrade) for f in degraded]
    for model in models:
        runner = load_generator(model)
        entry = {"file": model.name, "bytes": _size(model), "sha256": sha256(model),
                 "scale": runner.scale, "results": {}}
        for key, folder, preset in columns:
            report = evaluate_folder(runner, folder, bicubic=key not in out["bicubic"],
                                     degrade=preset, seed=seed)
            out["datasets"][key] = {"images": len(report["images"])}
            if preset is not None:
                out["datasets"][key]["degrade"] = describe(preset, seed)
            if report["bicubic_mean"] is not None:
                out["bicubic"][key] = _rounded(report["bicubic_mean"])
            entry["results"][key] = _rounded(report["mean"])
        out["models"][model.name] = entry
    return out


def training_summary(run_dir: Path) -> dict:
    """Steps, wall hours and the validation curve of a training run, from its TensorBoard logs.

    Every process that trained in the run folder (a first start and each resume) wrote one
    events file; its wall time runs from the file's creation to its last event. Steps that a
    killed process did after its last checkpoint were done again by the next one: they count in
    ``wall_hours`` (the compute spent) but not in the step counts. Start-up before the summary
    writer opened (seconds per process) is not counted.
    """
    try:
        logs = read_logs(run_dir / "logs")
    except FileNotFoundError:
        raise FileNotFoundError(f"{run_dir}: no logs/events.out.tfevents.* to read") from None
    steps = {}
    for tag, points in logs.scalars.items():
        phase, _, name = tag.partition("/")
        if name == "steps_per_s":
            steps[phase] = max(step for step, _ in points)
    curve = {step: round(v, 2) for step, v in logs.scalars.get("val/psnr", [])}
    seconds = sum(last - first for first, last in logs.spans)
    return {"run": run_dir.name, "processes": len(logs.spans), "wall_hours": round(seconds / 3600, 2),
            "last_logged_step": steps, "val_psnr_y": dict(sorted(curve.items()))}


def _rounded(mean: dict) -> dict:
    return {k: round(float(mean[k]), 4) for k in ("psnr_y", "ssim_y")}


def table(metrics: dict) -> str:
    """Markdown: one row per model (bicubic first), PSNR-Y / SSIM-Y per folder."""
    names = list(metrics["datasets"])
    head = "| model | file size | " + " | ".join(f"{n} PSNR-Y / SSIM-Y" for n in names) + " |"
    rule = "| --- | --- | " + " | ".join("---" for _ in names) + " |"

    def cells(results: dict) -> str:
        return " | ".join(f"{results[n]['psnr_y']:.2f} dB / {results[n]['ssim_y']:.4f}"
                          if n in results else "-" for n in names)

    rows = [f"| bicubic | - | {cells(metrics['bicubic'])} |"]
    for name, m in metrics["models"].items():
        rows.append(f"| `{name}` | {m['bytes'] / 2**20:.2f} MiB | {cells(m['results'])} |")
    counts = ", ".join(f"{n} {d['images']} images" for n, d in metrics["datasets"].items())
    notes = [f"x{_scale(metrics)}; {counts}. {metrics['protocol']}."]
    if "degraded_protocol" in metrics:
        notes.append(f"Columns `<set> <preset>/<seed>`: {metrics['degraded_protocol']}.")
    return "\n".join([head, rule, *rows, "", *notes])


def _scale(metrics: dict) -> int:
    return next(iter(metrics["models"].values()))["scale"] if metrics["models"] else 4


def _card_text(card: Path) -> str:
    text = card.read_text()
    if BEGIN not in text or END not in text or text.index(BEGIN) > text.index(END):
        raise ValueError(f"{card}: no {BEGIN} ... {END} block to fill")
    return text


def update_card(card: Path, block: str) -> None:
    """Replace the text between the evaluation markers of ``card`` (atomically)."""
    from srgan_keras.data.imaging import atomic_write

    text = _card_text(card)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{block}\n{END}{tail}"
    atomic_write(card, lambda tmp: Path(tmp).write_text(new))


def comparison_figure(path: Path, name: str, hr, models: list[Path], degrade: str | None = None,
                      seed: int = 0) -> None:
    """LR | bicubic | each model | HR of one uint8 HR image, PSNR/SSIM under each title; the LR
    degraded by ``degrade``/``seed`` when given (seeded by the file's stem, as evaluate does)."""
    from srgan_keras.evaluation.evaluate import evaluate_image
    from srgan_keras.evaluation.figures import save_panels
    from srgan_keras.inference.runners import load_generator

    panels, res = [], None
    stem = Path(name).stem
    for model in models:
        res = evaluate_image(load_generator(model), hr, name=stem, bicubic=res is None,
                             degrade=degrade, seed=seed)
        if not panels:
            label = "LR (nearest)" if degrade is None else f"LR {degrade}/{seed} (nearest)"
            panels = [(label, res.lr, None), ("bicubic", res.bicubic_sr, res.bicubic)]
        panels.append((model.name, res.sr, res.metrics))
    panels.append(("HR (original)", res.hr, None))
    s = res.hr.shape[0] // res.lr.shape[0]
    save_panels(path, f"{name}  x{s}  (PSNR/SSIM on Y)", res.hr, panels)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_verbose_flag(p)
    p.add_argument("--model", action="append", required=True, type=Path,
                   help="a generator file (repeat); its file name is its key in metrics.json")
    p.add_argument("--data", action="append", required=True, type=Path,
                   help="a folder of HR images (repeat); its folder name is the table's column")
    p.add_argument("--degraded-data", action="append", default=[], type=Path,
                   help="a folder of HR images (repeat) measured with LR made by --degrade")
    p.add_argument("--degrade", default="realesrgan",
                   help="degradation preset of --degraded-data and --figure-degraded "
                        "(realesrgan or light; see evaluate --degrade)")
    p.add_argument("--seed", type=int, default=0, help="seed of the --degrade draws")
    p.add_argument("--figure-image", type=Path, default=None, help="image of comparison.png")
    p.add_argument("--figure-degraded", action="store_true",
                   help="comparison.png starts from the --degrade LR instead of bicubic's")
    p.add_argument("--run", action="append", default=[], metavar="FILE=RUN_DIR",
                   help="the training run folder of a model (repeat): its steps, wall hours and "
                        "validation curve go into metrics.json, read from the TensorBoard logs")
    p.add_argument("--out", type=Path, default=Path("saved_models"),
                   help="folder of metrics.json, comparison.png and MODEL_CARD.md")
    args = p.parse_args(argv)

    from srgan_keras.data.imaging import ImageError, atomic_write, load_rgb_uint8
    from srgan_keras.inference.runners import ModelNotFoundError

    try:
        # Every input that can be wrong is read before the (minutes-long) measuring and before
        # anything is written: the card's block, the run logs, the figure's image.
        card = args.out / "MODEL_CARD.md"
        if card.exists():
            _card_text(card)
        names = [m.name for m in args.model]
        training = {}
        for pair in args.run:
            name, sep, run_dir = pair.partition("=")
            if not sep or name not in names:
                raise ValueError(f"--run {pair}: expected FILE=RUN_DIR with FILE one of "
                                 f"{', '.join(names)}")
            training[name] = training_summary(Path(run_dir))
        from srgan_keras.evaluation.degraded import preset

        preset(args.degrade)  # an unknown preset fails before the measuring
        figure_hr = load_rgb_uint8(args.figure_image) if args.figure_image is not None else None
        metrics = measure(args.model, args.data, args.degraded_data, args.degrade, args.seed)
        for name, summary in training.items():
            metrics["models"][name]["training"] = summary
        block = table(metrics)
        print(block)
        if figure_hr is not None:
            comparison_figure(args.out / "comparison.png", args.figure_image.name, figure_hr,
                              args.model, args.degrade if args.figure_degraded else None,
                              args.seed)
            print(f"wrote {args.out / 'comparison.png'}")
        atomic_write(args.out / "metrics.json",
                     lambda tmp: Path(tmp).write_text(json.dumps(metrics, indent=2) + "\n"))
        if card.exists():
            update_card(card, block)
            print(f"updated {card}")
    except (ModelNotFoundError, ImageError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
