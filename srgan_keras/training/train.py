"""``python -m srgan_keras.train``: SRResNet pre-training, then SRGAN (:mod:`.trainer` runs them).

    python -m srgan_keras.train                              # demo: built-in photos, < 10 min on a CPU
    python -m srgan_keras.train --preset paper --data DIR    # the paper's schedule (a GPU's work)

Running the same command again resumes from the run folder's newest intact checkpoint
(:mod:`srgan_keras.training.checkpoints`) and stops at the same total step count, with the weights
of an uninterrupted run. Ctrl-C or SIGTERM saves a checkpoint and exits (130 / 143; a second signal
waits for that save, :mod:`srgan_keras.training.interrupts`); a NaN/Inf loss stops the run and keeps
the last good checkpoint. The run folder (``--out``, default
``saved_models/<preset>``) holds ``config.json``, ``logs/`` (TensorBoard), ``checkpoints/``,
``samples.png`` and ``generator.keras``. Settings that cannot work are refused at start with one
sentence (exit 2); any other failure ends with one line (exit 1), its traceback with ``--debug``.
A folder that is not this run's (no config.json of ours, or another run's results) is refused
untouched, and so is a second run on a folder in use (:func:`srgan_keras.data.files.folder_lock`).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from dataclasses import replace
from pathlib import Path

from srgan_keras.errors import SrganKerasError, command, first_line
from srgan_keras.startup import add_verbose_flag, verbose_requested
from srgan_keras.training.config import PRESETS, TrainConfig, add_config_flags, config_from_args
from srgan_keras.training.errors import TrainingError

REPO_SAVED_MODELS = Path("saved_models")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m srgan_keras.train",
        description="Train SRResNet/SRGAN (Ledig et al. 2017). Every config field is a flag.")
    add_verbose_flag(p)
    p.add_argument("--preset", default="demo",
                   help=f"starting point: {', '.join(PRESETS)} (default demo; paper = the paper's values)")
    p.add_argument("--debug", action="store_true",
                   help="print the full traceback of an unexpected error (else one line)")
    add_config_flags(p)
    return p.parse_args(argv)


# Fields that change the networks' variables: a checkpoint made with other values cannot load.
ARCHITECTURE_FIELDS = ("generator", "num_blocks", "num_conv", "num_filters", "upsampler", "global_residual",
                       "discriminator", "disc_filters", "scale", "hr_size")


# What a finished run leaves beside config.json, checkpoints/ and logs/ (artifacts.py).
RUN_RESULTS = ("generator.keras", "samples.png", "result.json")


def _saved_config(run_dir: Path) -> dict | None:
    """The run folder's config.json if it is one of ours (a JSON object of TrainConfig's fields,
    as ``_train`` has written it since the first version), else None."""
    try:
        saved = json.loads((run_dir / "config.json").read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(saved, dict) or not {"scale", "hr_size", "batch_size"} <= saved.keys():
        return None
    return saved


def check_run_folder(run_dir: Path, cfg: TrainConfig) -> list[str]:
    """Refuse (TrainingError, one sentence) an ``--out`` that is not this run's folder; reads only.

    Accepted: a missing or empty folder (only our temporaries or lock in it), or a folder holding
    our config.json (issue 27.4: a folder of the user's, or another project's checkpoints, keeps
    its config.json, samples.png and result.json). Then, before resuming, the saved config is
    compared with this one: a different architecture, or EMA switched on or off, is an error (the
    checkpoint cannot load); so is any other difference in a folder holding a finished run's
    results but no checkpoint (this run would replace them). Other differences, such as more
    steps or another learning rate, are allowed and returned as a note, so that a changed schedule
    is never taken on silently.
    """
    from srgan_keras.data.files import LOCK_NAME, is_temp

    if not run_dir.exists():
        return []
    if not run_dir.is_dir():
        raise TrainingError(f"--out {run_dir} is a file, not a folder; pass a folder for the run")
    entries = [p.name for p in run_dir.iterdir() if p.name != LOCK_NAME and not is_temp(p)]
    if not entries:
        return []
    saved = _saved_config(run_dir)
    if saved is None:
        what = "a config.json that is not" if "config.json" in entries else "no config.json of"
        raise TrainingError(f"--out {run_dir} is a folder that holds files of its own and {what} "
                            "a run of this trainer; nothing was changed: pass a new or empty --out")
    now = json.loads(cfg.to_json())
    changed = {k: (saved.get(k), v) for k, v in now.items()
               if k != "out" and k in saved and saved[k] != v}
    arch = [k for k in changed if k in ARCHITECTURE_FIELDS]
    if arch:
        diffs = ", ".join(f"{k} {changed[k][0]} -> {changed[k][1]}" for k in arch)
        raise TrainingError(f"{run_dir} holds a run of another architecture ({diffs}); "
                            "pass a new --out, or delete that folder to start over")
    resumable = (run_dir / "checkpoints" / "checkpoint").is_file()
    if "ema_decay" in changed and resumable and (
            (changed["ema_decay"][0] > 0) != (changed["ema_decay"][1] > 0)):
        # Keras adds the averages to the optimizer's variable list, so its checkpoint layout
        # changes: the saved slots would restore into the wrong variables.
        raise TrainingError(f"{run_dir} was trained with --ema-decay {changed['ema_decay'][0]}: "
                            "EMA cannot be switched on or off when resuming; start a new --out "
                            "with --init-from <run>/generator.keras")
    results = [n for n in RUN_RESULTS if n in entries]
    if changed and not resumable and results:
        diffs = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items())
        raise TrainingError(f"{run_dir} holds the results of a run with other settings ({diffs}) "
                            f"and no checkpoint to continue; its {', '.join(results)} would be "
                            "replaced: pass a new --out")
    if changed and resumable:
        diffs = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items())
        return [f"note: continuing the run in {run_dir} with changed settings: {diffs}"]
    return []


def check_inputs(cfg: TrainConfig) -> None:
    """Raise TrainingError (one sentence) if a file or folder the config names is missing.

    Checked before TensorFlow sets anything up and before the run folder is made, so a typo in
    ``--data`` leaves nothing behind (issue 28.6). What is inside (usable images) is the data
    pipeline's to check.
    """
    sources = "a folder of HR images, builtin (the built-in photos) or tfds:NAME"
    if cfg.data != "builtin" and not cfg.data.startswith("tfds:") and not Path(cfg.data).exists():
        raise TrainingError(f"--data {cfg.data}: no such file or folder; give {sources}")
    if cfg.lr_data is not None and not Path(cfg.lr_data).is_dir():
        raise TrainingError(f"--lr-data {cfg.lr_data}: no such folder (LR images named as "
                            "--data's HR images)")
    if cfg.val_data != "builtin" and not Path(cfg.val_data).exists():
        raise TrainingError(f"--val-data {cfg.val_data}: no such file or folder; give a folder "
                            "of HR images or builtin")
    if cfg.init_from is not None and not Path(cfg.init_from).is_file():
        raise TrainingError(f"--init-from {cfg.init_from}: no such file (a generator .keras, "
                            "e.g. <run>/generator.keras)")


def settings_summary(cfg: TrainConfig, preset: str) -> str:
    """One line: the settings of ``cfg`` that differ from the preset's (``--out`` aside, which
    the run-folder line names). The full config is config.json's, and ``--verbose``'s."""
    base = json.loads(replace(TrainConfig(), **PRESETS[preset]).to_json())
    now = json.loads(cfg.to_json())
    changed = [f"{k.replace('_', '-')} {v}" for k, v in now.items() if k != "out" and base[k] != v]
    if not changed:
        return f"settings: the {preset} preset's"
    return f"settings: the {preset} preset's, except {', '.join(changed)}"


@command  # an error of ours (settings, the data, the folder, a checkpoint): its line and 2
def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = config_from_args(args)
        check_inputs(cfg)
    except SrganKerasError:
        raise  # TrainingError and the like: the decorator's line
    except (ValueError, TypeError) as e:  # built-in ones from the settings
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        return _train(cfg, args.preset, verbose=args.verbose or verbose_requested([]))
    except KeyboardInterrupt:  # before the loop's own handler is in place
        print("\ninterrupted before training started", file=sys.stderr)
        return 130
    except SrganKerasError:
        raise  # the decorator's one line
    except Exception as e:  # anything unexpected: one line, the traceback only with --debug
        if args.debug:
            traceback.print_exc()
        print(f"error: {first_line(e, 300, with_type=True)} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1


def _train(cfg: TrainConfig, preset: str, verbose: bool = False) -> int:
    from srgan_keras.data.files import folder_lock
    from srgan_keras.training.runtime import is_chief, setup_runtime

    run_dir = Path(cfg.out) if cfg.out else REPO_SAVED_MODELS / preset
    strategy = setup_runtime(cfg)
    print(f"srgan_keras training, preset {preset!r}, run folder {run_dir}")
    print(settings_summary(cfg, preset))
    print(f"  (all of them: {run_dir / 'config.json'}, or --verbose)" if not verbose else cfg.to_json())
    check_run_folder(run_dir, cfg)  # reads only: a folder that is not ours stays untouched
    if not is_chief(strategy):  # a worker of a multi-worker run: the chief owns the folder
        run_dir.mkdir(parents=True, exist_ok=True)
        return _run(cfg, preset, run_dir, strategy, chief=False)
    run_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(run_dir):  # issue 27.3: one run per folder (FolderInUseError), until it ends
        # Again under the lock: another run may have written its config.json meanwhile.
        for note in check_run_folder(run_dir, cfg):
            print(note)
        return _run(cfg, preset, run_dir, strategy, chief=True)


def _run(cfg: TrainConfig, preset: str, run_dir: Path, strategy, chief: bool) -> int:
    """The run in ``run_dir``: nothing is written there until its checkpoints have restored."""
    import tensorflow as tf

    from srgan_keras.data.batches import stream_failure
    from srgan_keras.data.imaging import atomic_write
    from srgan_keras.training.checkpoints import CheckpointStore, clean_leftovers
    from srgan_keras.training.trainer import Trainer

    if chief:  # before anything is written: a folder whose checkpoints all fail (CheckpointError)
        CheckpointStore(tf.train.Checkpoint(), run_dir / "checkpoints").preflight()  # is untouched
        for name in clean_leftovers(run_dir, run_dir / "checkpoints"):
            print(f"note: removed {name}, left by an interrupted run")
    try:
        trainer = Trainer(cfg, run_dir, strategy)
        trainer.restore_or_init()  # CheckpointError here has changed nothing (issue 27.4)
        if chief:
            atomic_write(run_dir / "config.json",
                         lambda tmp: Path(tmp).write_text(json.dumps(
                             {"preset": preset, **json.loads(cfg.to_json())}, indent=2)))
        return trainer.run(restore=False)
    except SrganKerasError:
        raise  # the data, the VGG weights, the folder, a checkpoint: main's decorator, one line
    except Exception as e:
        failure = stream_failure(e)  # a data stream's DataError, raised inside tf.data
        if failure is None:
            raise  # main() reports it in one line
        raise failure from None
