"""``python -m srgan_keras.training.snapshot RUN -o G.keras``: a run's generator from a checkpoint.

A long run writes ``generator.keras`` only when it finishes; to evaluate it on the way (or to keep
the model of step N), this rebuilds the networks from the run folder's ``config.json``, restores
one checkpoint read-only and saves what the run itself would save at that step: the float32 copy
with the EMA weights of the phase that trained G last (:mod:`srgan_keras.training.float32_copy`). A run
that is still training is not disturbed: nothing in its folder is written or locked.

    python -m srgan_keras.training.snapshot /runs/realesr_x4 -o /tmp/step.keras          # newest
    python -m srgan_keras.training.snapshot /runs/realesr_x4 -o g.keras --checkpoint 12  # ckpt-12

Not a paper concept: our tool, for runs that last longer than a session.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from srgan_keras.errors import SrganKerasError, command, first_line
from srgan_keras.startup import add_verbose_flag, import_tensorflow, run_cli


class SnapshotError(SrganKerasError, RuntimeError):
    """A run folder or checkpoint that cannot give a generator; printed as one line."""


def load_run_config(run_dir: Path):
    """The :class:`TrainConfig` a run folder's ``config.json`` was written from."""
    from srgan_keras.training.config import TrainConfig

    path = run_dir / "config.json"
    if not path.is_file():
        raise SnapshotError(f"{run_dir} is not a run folder (no config.json)")
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SnapshotError(f"{path} is unreadable: {e}") from None
    if not isinstance(saved, dict):
        raise SnapshotError(f"{path} is not a run's config (a JSON {type(saved).__name__}, not an "
                            "object of settings); pass the --out folder of a training run")
    defaults = TrainConfig()
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {}
    for name, value in saved.items():
        if name in known:  # "preset" and fields of newer code are not TrainConfig's
            tuple_field = isinstance(getattr(defaults, name), tuple)
            values[name] = tuple(value) if tuple_field and value is not None else value
    return TrainConfig(**values)


def checkpoint_prefix(run_dir: Path, number: int | None) -> str:
    """``checkpoints/ckpt-N`` (newest readable one when ``number`` is None)."""
    from srgan_keras.training.state import newest_readable_checkpoint

    if number is None:
        prefix = newest_readable_checkpoint(run_dir)
        if prefix is None:
            raise SnapshotError(f"{run_dir / 'checkpoints'} holds no readable checkpoint")
        return prefix
    prefix = run_dir / "checkpoints" / f"ckpt-{number}"
    if not Path(f"{prefix}.index").is_file():
        raise SnapshotError(f"{prefix}.index does not exist")
    return str(prefix)


def snapshot(run_dir: Path, out: Path, number: int | None = None, overwrite: bool = True) -> dict:
    """Save the generator of checkpoint ``number`` (newest when None) of ``run_dir`` to ``out``.

    ``overwrite=False`` keeps an ``out`` that exists when the file is ready
    (:class:`srgan_keras.data.files.OutputExistsError`). Returns ``{"checkpoint",
    "pretrain_steps", "gan_steps"}``. Only G, the two optimizers that
    can hold its EMA and the step counters are restored (the discriminator and its optimizer are
    skipped), so the networks are built exactly as the run built them, under its precision.
    """
    import keras
    import tensorflow as tf

    from srgan_keras.data.files import atomic_write
    from srgan_keras.training.float32_copy import Float32Copy
    from srgan_keras.training.networks import build_generator
    from srgan_keras.training.state import make_optimizer

    cfg = load_run_config(run_dir)
    prefix = checkpoint_prefix(run_dir, number)
    pre_steps, gan_steps = cfg.phase_steps()
    ema = cfg.ema_decay > 0
    policy = keras.mixed_precision.global_policy()
    if cfg.mixed_precision != "none":
        keras.mixed_precision.set_global_policy(f"mixed_{cfg.mixed_precision}")
    try:
        G = build_generator(cfg)
        pre_opt = make_optimizer(cfg, cfg.pretrain_lr, pre_steps, cfg.pretrain_milestones, ema)
        g_opt = make_optimizer(cfg, cfg.gan_lr, gan_steps, cfg.gan_milestones, ema)
        pre_opt.build(G.trainable_variables)
        g_opt.build(G.trainable_variables)
        pre_done = tf.Variable(0, dtype=tf.int64)
        gan_done = tf.Variable(0, dtype=tf.int64)
        ckpt = tf.train.Checkpoint(generator=G, pretrain_optimizer=pre_opt, g_optimizer=g_opt,
                                   pretrain_steps_done=pre_done, gan_steps_done=gan_done)
        try:
            ckpt.read(prefix).expect_partial().assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            first = first_line(e, 200)
            raise SnapshotError(f"{prefix} does not restore into this run's generator: {first}") from None
    finally:
        keras.mixed_precision.set_global_policy(policy)
    opt = g_opt if int(gan_done.numpy()) else pre_opt
    generator = Float32Copy(cfg).of(G, opt)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda tmp: generator.save(tmp), overwrite=overwrite)
    return {"checkpoint": prefix, "pretrain_steps": int(pre_done.numpy()),
            "gan_steps": int(gan_done.numpy())}


@command  # not this run's checkpoint, an output in the way or that appeared meanwhile: 2
def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m srgan_keras.training.snapshot",
        description="Save a run's generator (EMA, float32) from one of its checkpoints.")
    add_verbose_flag(p)
    p.add_argument("run", type=Path, help="the run folder (--out of the training command)")
    p.add_argument("-o", "--output", type=Path, required=True, help="the .keras file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--checkpoint", type=int, default=None, metavar="N",
                   help="use checkpoints/ckpt-N (default: the newest readable one)")
    args = p.parse_args(argv)
    if args.output.suffix != ".keras":
        print(f"error: {args.output} must end in .keras", file=sys.stderr)
        return 2
    from srgan_keras.data.files import check_output, write_failure

    check_output(args.output, args.overwrite)  # at start, and again (no-clobber) at the rename
    import_tensorflow(args.verbose)
    try:
        info = snapshot(args.run, args.output, args.checkpoint, overwrite=args.overwrite)
    except OSError as e:  # a full disk, a read-only folder: the temporary is already removed
        line = write_failure(args.output, e)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 2
    print(f"{info['checkpoint']}: pre-training step {info['pretrain_steps']}, GAN step "
          f"{info['gan_steps']} -> {args.output}")
    return 0


if __name__ == "__main__":
    run_cli(main)  # exit with main()'s status; Ctrl-C: startup.run_cli
