"""``python -m srgan_keras.model_card``: measure bundled generators and write what their card shows.

    python -m srgan_keras.model_card \\
        --model saved_models/srresnet_x4.keras --model saved_models/srgan_x4.keras \\
        --model saved_models/srresnet_x4_fp16.tflite \\
        --data ../shared/data/Set5 --data ../shared/data/Set14 \\
        --figure-image ../shared/data/Set14/comic.png --out saved_models

For every model and folder it runs :func:`srgan_keras.evaluation.folders.evaluate_folder` (what the
evaluate CLI runs: the field's protocol, bicubic on the same LR) and writes into ``--out``:

- ``metrics.json``: per model its file size, SHA-256 and mean PSNR-Y/SSIM-Y per folder, plus
  bicubic's; ``tests/test_bundled_models.py`` re-measures Set5 from it, so the numbers on the
  card are the files in the repository;
- ``comparison.png``: one image, LR | bicubic | each model | HR, with a zoomed inset;
  ``--figure-degraded`` makes its LR by ``--degrade`` (the input a real-world model is for);
- ``MODEL_CARD.md``: the table between ``<!-- evaluation:begin -->`` and
  ``<!-- evaluation:end -->`` is replaced; the prose around it is the author's.

``--degraded-data DIR`` (repeat) adds columns measured on LR degraded by ``--degrade PRESET``
(repeat for several presets) ``--seed N`` (:mod:`srgan_keras.evaluation.degraded`, as ``evaluate
--degrade``), keyed ``"<folder> <preset>/<seed>"``, e.g. ``Set14 realesrgan/0``: the real-world
models' numbers.

``--jpeg-example PHOTO`` (repeat; ``builtin:NAME`` for a scikit-image photo, or a file) is issue
12's first try: the photo shrunk to 120x80, saved as JPEG quality 40 and upscaled as the upscale
CLI does; per model its PSNR-Y/SSIM-Y against the photo resized to the output's size and its
:func:`~srgan_keras.evaluation.metrics.blockiness` go to ``metrics.json`` and the card, and the
first photo is drawn to ``jpeg_example.jpg`` (input | bicubic | each ``--figure-model`` | photo;
JPEG quality 95 with full chroma, far below the quality-40 blocks it shows, so the README's figure
stays under 300 KB: as PNG it is 600 KB).

``--texture-crop IMAGE@Y,X,SIZE`` (repeat) draws ``texture_crops.png``: each square of an HR
image as HR | bicubic | each ``--texture-model`` (default: each ``--figure-model``), from bicubic
x4 LR, at 2x with nearest pixels. What a GAN's texture is made of (fur or a repeating 4x4 tile,
hair or painted strokes) is seen there, not in a table (issue 23.5).

``--run FILE=RUN_DIR@STEP`` reads a run's logs up to ``STEP`` only: the steps, hours and
validation of a snapshot taken from a run that is still training. A model given without ``--run``
keeps the training summary the previous ``metrics.json`` in ``--out`` holds for the same file
(same SHA-256), so re-measuring after one model changed does not need every old run folder.

Every file is written to a temporary name and renamed, so an interrupted run leaves the old ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from srgan_keras.errors import command
from srgan_keras.evaluation.card_markdown import card_text, table, update_card
from srgan_keras.evaluation.jpeg_example import jpeg_example, photo_of
from srgan_keras.evaluation.report import rounded
from srgan_keras.evaluation.run_logs import read_logs
from srgan_keras.startup import add_verbose_flag, run_cli


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
            degrade: str | list[str] = "realesrgan", seed: int = 0,
            artifacts: bool = False, niqe: bool = False) -> dict:
    """Evaluate every model on every folder (and on each ``degraded`` folder with LR made by
    each preset of ``degrade`` with ``seed``); returns the ``metrics.json`` dict. ``artifacts``
    adds ``pattern``, ``lr_grid`` and ``hf_ratio`` (``evaluate --artifacts``) to every result, and
    the HR images' own per folder under ``"hr_artifacts"``; ``niqe`` adds ``niqe`` (``evaluate
    --niqe``), the HR images' own too when ``artifacts`` is set."""
    from srgan_keras.evaluation.degraded import describe
    from srgan_keras.evaluation.folders import evaluate_folder
    from srgan_keras.evaluation.protocol import DEGRADED_PROTOCOL, PROTOCOL
    from srgan_keras.inference.runners import load_generator

    out: dict = {"protocol": PROTOCOL, "datasets": {}, "bicubic": {}, "models": {}}
    if degraded:
        out["degraded_protocol"] = DEGRADED_PROTOCOL
    presets = [degrade] if isinstance(degrade, str) else list(degrade)
    columns = [(f.name, f, None) for f in folders] + [
        (f"{f.name} {p}/{seed}", f, p) for p in presets for f in degraded]
    for model in models:
        runner = load_generator(model)
        entry = {"file": model.name, "bytes": _size(model), "sha256": sha256(model),
                 "scale": runner.scale, "results": {}}
        for key, folder, preset in columns:
            report = evaluate_folder(runner, folder, bicubic=key not in out["bicubic"],
                                     degrade=preset, seed=seed, artifacts=artifacts, niqe=niqe)
            if report.get("hr_artifacts_mean"):
                out.setdefault("hr_artifacts", {})[key] = rounded(report["hr_artifacts_mean"])
            out["datasets"][key] = {"images": len(report["images"])}
            if preset is not None:
                out["datasets"][key]["degrade"] = describe(preset, seed)
            if report["bicubic_mean"] is not None:
                out["bicubic"][key] = rounded(report["bicubic_mean"])
            entry["results"][key] = rounded(report["mean"])
        out["models"][model.name] = entry
    return out


GAN_DIAGNOSTICS = ("d_real", "d_fake", "d_loss", "adv_loss", "content_loss")


def training_summary(run_dir: Path, up_to_step: int | None = None) -> dict:
    """Steps, wall hours and the validation curve of a training run, from its TensorBoard logs,
    and, for a GAN phase, ``gan_log``: :data:`GAN_DIAGNOSTICS` at each logged step.

    ``up_to_step``: only what was logged up to that step (a snapshot of a run still training);
    each process's wall time then ends at its last event of a step <= ``up_to_step``.

    Every process that trained in the run folder (a first start and each resume) wrote one
    events file; its wall time runs from the file's creation to its last event. Steps that a
    killed process did after its last checkpoint were done again by the next one: they count in
    ``wall_hours`` (the compute spent) but not in the step counts. Start-up before the summary
    writer opened (seconds per process) is not counted.
    """
    try:
        logs = read_logs(run_dir / "logs", max_step=up_to_step)
    except FileNotFoundError:
        raise FileNotFoundError(f"{run_dir}: no logs/events.out.tfevents.* to read") from None
    steps = {}
    for tag, points in logs.scalars.items():
        phase, _, name = tag.partition("/")
        if name == "steps_per_s":
            steps[phase] = max(step for step, _ in points)
    curve = {step: round(v, 2) for step, v in logs.scalars.get("val/psnr", [])}
    seconds = sum(last - first for first, last in logs.spans)
    out = {"run": run_dir.name, "processes": len(logs.spans), "wall_hours": round(seconds / 3600, 2),
           "last_logged_step": steps, "val_psnr_y": dict(sorted(curve.items()))}
    # the GAN phase's diagnostics at every logged step (notebook 05 plots a bundled model's)
    gan = {}
    for key in GAN_DIAGNOSTICS:
        for step, v in logs.scalars.get(f"gan/{key}", []):
            gan.setdefault(step, {})[key] = round(v, 4)  # a step logged twice (resumed): the last
    if gan:
        out["gan_log"] = dict(sorted(gan.items()))
    if up_to_step is not None:
        out["up_to_step"] = up_to_step
    return out



def _keep_training_summaries(metrics: dict, old_path: Path) -> None:
    """Copy ``training`` from the old ``metrics.json`` into models without one, where an old
    entry measured the same file (same SHA-256), under its name or another (a renamed file keeps
    its run); an unreadable old file is ignored."""
    try:
        old = json.loads(old_path.read_text())["models"]
        by_sha = {e["sha256"]: e for e in old.values() if isinstance(e, dict) and "training" in e}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    for name, entry in metrics["models"].items():
        before = old.get(name)
        if not (isinstance(before, dict) and before.get("sha256") == entry["sha256"]):
            before = by_sha.get(entry["sha256"])
        if "training" not in entry and isinstance(before, dict) and "training" in before:
            entry["training"] = before["training"]


def comparison_figure(path: Path, name: str, hr, models: list[Path], degrade: str | None = None,
                      seed: int = 0) -> None:
    """LR | bicubic | each model | HR of one uint8 HR image, PSNR/SSIM under each title; the LR
    degraded by ``degrade``/``seed`` when given (seeded by the file's stem, as evaluate does)."""
    from srgan_keras.evaluation.figures import save_panels
    from srgan_keras.evaluation.protocol import evaluate_image
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


def texture_crop_of(spec: str) -> tuple[str, np.ndarray, tuple[int, int, int]]:
    """``IMAGE@Y,X,SIZE`` -> (the image's name, its HR pixels cropped to a multiple of 4, the
    square), read and checked before any measuring: a square outside the image is refused."""
    from srgan_keras.data.degradation import crop_to_multiple
    from srgan_keras.data.imaging import load_rgb_uint8

    image, at, box = spec.rpartition("@")
    parts = box.split(",")
    if not at or len(parts) != 3 or not all(v.isdigit() for v in parts):
        raise ValueError(f"--texture-crop {spec}: expected IMAGE@Y,X,SIZE (whole numbers)")
    y, x, size = (int(v) for v in parts)
    hr = crop_to_multiple(load_rgb_uint8(Path(image)), 4)
    if size < 8 or y + size > hr.shape[0] or x + size > hr.shape[1]:
        raise ValueError(f"--texture-crop {spec}: the square is not inside the "
                         f"{hr.shape[1]}x{hr.shape[0]} image (SIZE at least 8)")
    return Path(image).name, hr, (y, x, size)


def texture_figure(path: Path, crops: list[tuple[str, np.ndarray, tuple[int, int, int]]],
                   models: list[Path]) -> None:
    """Issue 23.5's figure: each square as HR | bicubic | each model, from bicubic x4 LR (the
    evaluation's own degradation), every model run on the whole LR image, then cropped."""
    from srgan_keras.data.degradation import bicubic_upscale, make_lr_numpy
    from srgan_keras.evaluation.figures import save_crop_grid
    from srgan_keras.inference.runners import load_generator
    from srgan_keras.inference.tiling import upscale_image

    generators = [(m.name, load_generator(m)) for m in models]
    rows = []
    for name, hr, (y, x, size) in crops:
        lr = make_lr_numpy(hr, 4)  # the card's models are x4
        bic = np.asarray(bicubic_upscale(lr, 4)).astype(np.uint8)
        cut = (slice(y, y + size), slice(x, x + size))
        cells = [("HR", hr[cut]), ("bicubic", bic[cut])]
        cells += [(label, upscale_image(lr, g, tile=0)[cut]) for label, g in generators]
        rows.append((f"{name} ({y},{x})", cells))
    save_crop_grid(path, "x4 from bicubic LR: crops at 2x, nearest pixels", rows)


@command  # a model not found, an unreadable image (errors of ours): their line and 2
def main(argv: list[str] | None = None) -> int:
    from srgan_keras.inference.zoo import add_list_models_flag

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_verbose_flag(p)
    p.add_argument("--model", action="append", required=True, type=Path,
                   help="a generator file, a bundled name (realesr, srresnet, srgan) or a zoo "
                        "name (downloaded on first use; --list-models) (repeat); its file name "
                        "(realesr_x4.keras for realesr) is its key in metrics.json")
    add_list_models_flag(p)
    p.add_argument("--data", action="append", required=True, type=Path,
                   help="a folder of HR images, or builtin (scikit-image's held-out photos) "
                        "(repeat); its folder name is the table's column")
    p.add_argument("--degraded-data", action="append", default=[], type=Path,
                   help="a folder of HR images (repeat) measured with LR made by --degrade")
    p.add_argument("--degrade", action="append", default=None,
                   help="degradation preset of --degraded-data (repeat for several; default "
                        "realesrgan) and --figure-degraded (the first): realesrgan or light, "
                        "see evaluate --degrade")
    p.add_argument("--seed", type=int, default=0, help="seed of the --degrade draws")
    p.add_argument("--figure-image", type=Path, default=None, help="image of comparison.png")
    p.add_argument("--figure-degraded", action="store_true",
                   help="comparison.png starts from the --degrade LR instead of bicubic's")
    p.add_argument("--figure-model", action="append", default=None, metavar="FILE",
                   help="a --model's file name (or bundled name) to draw in the figures, in the "
                        "order given (repeat; default: every --model)")
    p.add_argument("--texture-crop", action="append", default=[], metavar="IMAGE@Y,X,SIZE",
                   help="an HR image and a square of it (repeat): texture_crops.png shows each "
                        "square as HR | bicubic | each --texture-model, from bicubic x4 LR, at 2x "
                        "with nearest pixels (a repeating tile or a painted stroke is seen)")
    p.add_argument("--texture-model", action="append", default=None, metavar="FILE",
                   help="a --model's file name (or bundled name) to draw in texture_crops.png, in "
                        "the order given (repeat; default: the --figure-model ones)")
    p.add_argument("--jpeg-example", action="append", default=[], metavar="PHOTO",
                   help="builtin:NAME or an image file (repeat): measured as a 120x80 JPEG of "
                        "quality 40; the first is drawn to jpeg_example.jpg")
    p.add_argument("--run", action="append", default=[], metavar="FILE=RUN_DIR[@STEP]",
                   help="the training run folder of a model (repeat): its steps, wall hours and "
                        "validation curve go into metrics.json, read from the TensorBoard logs "
                        "(up to STEP only, for a snapshot of a run still training)")
    p.add_argument("--artifacts", action="store_true",
                   help="also pattern and lr_grid per folder (evaluate --artifacts), with the HR "
                        "images' own")
    p.add_argument("--niqe", action="store_true",
                   help="also NIQE per folder (evaluate --niqe; no reference, lower is more "
                        "natural), with the HR images' own when --artifacts is given too")
    p.add_argument("--out", type=Path, default=Path("saved_models"),
                   help="folder of metrics.json, comparison.png and MODEL_CARD.md")
    args = p.parse_args(argv)

    from srgan_keras.data.imaging import atomic_write, load_rgb_uint8
    from srgan_keras.inference.bundled import BUNDLED
    from srgan_keras.inference.runners import resolve_model_path

    if any(str(m) == "bicubic" for m in args.model):
        p.error("--model bicubic: every card has the bicubic row already")
    from srgan_keras.inference import zoo

    def file_name(name: str) -> str:
        entry = zoo.lookup(name)
        return BUNDLED.get(name) or (zoo.keras_path(entry).name if entry else name)

    # a bundled or zoo name in --run FILE=... and --figure-model stands for its file, as in --model
    args.run = [file_name(name) + sep + run
                for name, sep, run in (pair.partition("=") for pair in args.run)]
    if args.figure_model:
        args.figure_model = [file_name(f) for f in args.figure_model]
    if args.texture_model:
        args.texture_model = [file_name(f) for f in args.texture_model]
    try:
        # a bundled name (--model realesr) is its file in saved_models/; a mistyped one is
        # refused here, with the names and the closest one
        args.model = [resolve_model_path(m) for m in args.model]
        # Every input that can be wrong is read before the (minutes-long) measuring and before
        # anything is written: the card's block, the run logs, the figure's image.
        card = args.out / "MODEL_CARD.md"
        if card.exists():
            card_text(card)
        names = [m.name for m in args.model]
        training = {}
        for pair in args.run:
            name, sep, run_dir = pair.partition("=")
            if not sep or name not in names:
                raise ValueError(f"--run {pair}: expected FILE=RUN_DIR[@STEP] with FILE one of "
                                 f"{', '.join(names)}")
            run_dir, at, step = run_dir.rpartition("@") if "@" in run_dir else (run_dir, "", "")
            if at and not step.isdigit():
                raise ValueError(f"--run {pair}: STEP after @ must be a whole number")
            training[name] = training_summary(Path(run_dir), int(step) if at else None)
        by_name = {m.name: m for m in args.model}

        def chosen(flag: str, files: list[str] | None) -> list[Path] | None:
            unknown = [f for f in files or [] if f not in names]
            if unknown:
                raise ValueError(f"{flag} {unknown[0]}: not one of the --model files "
                                 f"({', '.join(names)})")
            return [by_name[f] for f in files] if files else None  # drawn in this order

        figure_models = chosen("--figure-model", args.figure_model)
        texture_models = chosen("--texture-model", args.texture_model) or figure_models
        from srgan_keras.evaluation.degraded import preset

        degrades = args.degrade or ["realesrgan"]
        for d in degrades:
            preset(d)  # an unknown preset fails before the measuring
        figure_hr = load_rgb_uint8(args.figure_image) if args.figure_image is not None else None
        crops = [texture_crop_of(spec) for spec in args.texture_crop]
        photos = [photo_of(source) for source in args.jpeg_example]
        metrics = measure(args.model, args.data, args.degraded_data, degrades, args.seed,
                          artifacts=args.artifacts, niqe=args.niqe)
        for name, summary in training.items():
            metrics["models"][name]["training"] = summary
        _keep_training_summaries(metrics, args.out / "metrics.json")
        if photos:
            figure = args.out / "jpeg_example.jpg"
            metrics["jpeg_examples"] = [
                jpeg_example(photo, args.model, figure if i == 0 else None, figure_models)
                for i, photo in enumerate(photos)]
            print(f"wrote {figure}")
        block = table(metrics)
        print(block)
        if figure_hr is not None:
            comparison_figure(args.out / "comparison.png", args.figure_image.name, figure_hr,
                              figure_models or args.model,
                              degrades[0] if args.figure_degraded else None, args.seed)
            print(f"wrote {args.out / 'comparison.png'}")
        if crops:
            texture_figure(args.out / "texture_crops.png", crops, texture_models or args.model)
            print(f"wrote {args.out / 'texture_crops.png'}")
        atomic_write(args.out / "metrics.json",
                     lambda tmp: Path(tmp).write_text(json.dumps(metrics, indent=2) + "\n"))
        if card.exists():
            update_card(card, block)
            print(f"updated {card}")
    except (FileNotFoundError, ValueError) as e:  # built-in ones (a run's logs, a --run pair)
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    run_cli(main)  # exit with main()'s status; Ctrl-C: startup.run_cli
