"""``python -m srgan_keras.train``: SRResNet pre-training, then SRGAN, in a custom tf.function loop.

    python -m srgan_keras.train                              # demo: built-in photos, < 10 min on a CPU
    python -m srgan_keras.train --preset paper --data DIR    # the paper's schedule (a GPU's work)

Running the same command again resumes from the run folder's newest intact checkpoint
(:mod:`srgan_keras.training.checkpoints`) and stops at the same total step count, with the weights
of an uninterrupted run. Ctrl-C or SIGTERM saves a checkpoint and exits (130 / 143; a second signal
waits for that save, :mod:`srgan_keras.training.interrupts`); a NaN/Inf loss stops the run and keeps
the last good checkpoint. The run folder (``--out``, default
``saved_models/<preset>``) holds ``config.json``, ``logs/`` (TensorBoard), ``checkpoints/``,
``samples.png`` and ``generator.keras``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from srgan_keras.data.ranges import pixels_to_unit, signed_to_uint8, to_uint8
from srgan_keras.nn.saving import ModelFileError, load_keras
from srgan_keras.startup import add_verbose_flag
from srgan_keras.training.checkpoints import CheckpointError, CheckpointStore, NonFiniteError, clean_leftovers
from srgan_keras.training.config import PRESETS, TrainConfig, add_config_flags, config_from_args
from srgan_keras.training.interrupts import GracefulStop, Interrupted

REPO_SAVED_MODELS = Path("saved_models")


class TrainingError(RuntimeError):
    """A failure the user can act on; printed as one line."""


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m srgan_keras.train",
        description="Train SRResNet/SRGAN (Ledig et al. 2017). Every config field is a flag.")
    add_verbose_flag(p)
    p.add_argument("--preset", default="demo",
                   help=f"starting point: {', '.join(PRESETS)} (default demo; paper = the paper's values)")
    add_config_flags(p)
    return p.parse_args(argv)


def _setup_runtime(cfg: TrainConfig):
    """Devices, precision and distribution strategy; must run before any TensorFlow op."""
    import keras
    import tensorflow as tf

    if cfg.logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * cfg.logical_cpus)
    if cfg.mixed_precision != "none":
        keras.mixed_precision.set_global_policy(f"mixed_{cfg.mixed_precision}")
    if cfg.strategy == "mirrored":
        devices = None
        if cfg.logical_cpus > 1 and not tf.config.list_physical_devices("GPU"):
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if cfg.strategy == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


# Fields that change the networks' variables: a checkpoint made with other values cannot load.
ARCHITECTURE_FIELDS = ("generator", "num_blocks", "num_conv", "num_filters", "upsampler", "global_residual",
                       "discriminator", "disc_filters", "scale", "hr_size")


def check_resumable(run_dir: Path, cfg: TrainConfig) -> None:
    """Before resuming, compare with the config saved in the run folder.

    A different architecture, or EMA switched on or off, is an error (the checkpoint cannot
    load); other differences, such as more steps or another learning rate, are allowed and
    listed, so that a changed schedule is never taken on silently.
    """
    saved_path = run_dir / "config.json"
    if not saved_path.is_file() or not (run_dir / "checkpoints" / "checkpoint").is_file():
        return
    saved = json.loads(saved_path.read_text())
    now = json.loads(cfg.to_json())
    changed = {k: (saved.get(k), v) for k, v in now.items() if k in saved and saved[k] != v}
    arch = [k for k in changed if k in ARCHITECTURE_FIELDS]
    if arch:
        diffs = ", ".join(f"{k} {changed[k][0]} -> {changed[k][1]}" for k in arch)
        raise TrainingError(f"{run_dir} holds a run of another architecture ({diffs}); "
                            "pass a new --out, or delete that folder to start over")
    if "ema_decay" in changed and (changed["ema_decay"][0] > 0) != (changed["ema_decay"][1] > 0):
        # Keras adds the averages to the optimizer's variable list, so its checkpoint layout
        # changes: the saved slots would restore into the wrong variables.
        raise TrainingError(f"{run_dir} was trained with --ema-decay {changed['ema_decay'][0]}: "
                            "EMA cannot be switched on or off when resuming; start a new --out "
                            "with --init-from <run>/generator.keras")
    if changed:
        diffs = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items())
        print(f"note: continuing the run in {run_dir} with changed settings: {diffs}")


def is_chief(strategy) -> bool:
    """True unless this process is a non-chief worker of a multi-worker strategy."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (task_type == "worker" and task_id == 0
                                    and "chief" not in resolver.cluster_spec().as_dict())


def _grid(rows: list[list[np.ndarray]]) -> np.ndarray:
    """Tile uint8 images (all the same size) into one picture with 4-pixel white gutters."""
    h, w = rows[0][0].shape[:2]
    gap = 4
    out = np.full((len(rows) * (h + gap) - gap, len(rows[0]) * (w + gap) - gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = img
    return out


class Trainer:
    """Builds everything a run needs from the config and runs both phases."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, strategy):
        import keras
        import tensorflow as tf

        from srgan_keras.data.degradation import bicubic_downscale, bicubic_upscale
        from srgan_keras.data.pipeline import validation_images
        from srgan_keras.nn.models import build_critic, build_generator
        from srgan_keras.training.losses import ContentLoss, adversarial_loss
        from srgan_keras.training.optimizers import FusedAdam
        from srgan_keras.training.schedules import LRSchedule
        from srgan_keras.training.srgan import SRGAN

        self.cfg, self.run_dir, self.strategy = cfg, run_dir, strategy
        self.pre_steps, self.gan_steps = cfg.phase_steps()
        keras.utils.set_random_seed(cfg.seed)

        # Validation images and their bicubic baseline, once.
        self.val = []
        for name, hr in validation_images(cfg):
            lr = bicubic_downscale(hr, cfg.scale).numpy()
            bic = bicubic_upscale(lr, cfg.scale).numpy().astype(np.uint8)
            self.val.append((name, hr, pixels_to_unit(lr), bic))

        content = None
        if self.gan_steps:
            content = ContentLoss(cfg.content_loss, cfg.vgg_weights)  # may raise VGGWeightsError

        def adam(lr_value, steps, milestones):
            sched = LRSchedule(cfg.lr_schedule, lr_value, steps, milestones, cfg.lr_gamma,
                               cfg.warmup_steps, cfg.min_lr_ratio)
            opt = FusedAdam(sched, beta_1=cfg.beta1, beta_2=cfg.beta2,
                            use_ema=cfg.ema_decay > 0, ema_momentum=cfg.ema_decay or 0.99)
            if cfg.mixed_precision == "float16":
                opt = keras.optimizers.LossScaleOptimizer(opt)
            return opt

        with strategy.scope():
            self.G = build_generator(cfg)
            self.D = build_critic(cfg)
            self.pre_opt = adam(cfg.pretrain_lr, self.pre_steps, cfg.pretrain_milestones)
            self.g_opt = adam(cfg.gan_lr, self.gan_steps, cfg.gan_milestones)
            self.d_opt = adam(cfg.gan_lr, self.gan_steps, cfg.gan_milestones)
            # Build the optimizers' slots now so that a checkpoint restores into them (NOTES-TF).
            self.pre_opt.build(self.G.trainable_variables)
            self.g_opt.build(self.G.trainable_variables)
            self.d_opt.build(self.D.trainable_variables)
            self.pre_done = tf.Variable(0, dtype=tf.int64, name="pretrain_steps_done")
            self.gan_done = tf.Variable(0, dtype=tf.int64, name="gan_steps_done")
        self.model = SRGAN(
            self.G, self.D, content_loss=content, adversarial=adversarial_loss(cfg.adv_loss),
            content_weight=cfg.content_weight, adv_weight=cfg.adv_weight,
            pixel_kind=cfg.pixel_loss, pixel_weight=cfg.pixel_weight,
            pretrain_kind=cfg.pretrain_loss, pretrain_optimizer=self.pre_opt,
            g_optimizer=self.g_opt, d_optimizer=self.d_opt,
            num_replicas=strategy.num_replicas_in_sync)

        self.ckpt = tf.train.Checkpoint(
            generator=self.G, discriminator=self.D, pretrain_optimizer=self.pre_opt,
            g_optimizer=self.g_opt, d_optimizer=self.d_opt,
            pretrain_steps_done=self.pre_done, gan_steps_done=self.gan_done)
        # Multi-worker: every worker saves (the save is collective), only the chief into the run
        # folder; the others into a scratch folder, as tf.distribute's guide prescribes.
        self.is_chief = is_chief(strategy)
        ckpt_dir = run_dir / "checkpoints" if self.is_chief else Path(tempfile.mkdtemp())
        self.store = CheckpointStore(self.ckpt, ckpt_dir, max_to_keep=3,
                                     finite=self.G.trainable_variables + self.D.trainable_variables)
        self.dataset = None  # made in run(), at the resumed step (the data order is f(seed, step))
        self.writer = (tf.summary.create_file_writer(str(run_dir / "logs")) if self.is_chief
                       else tf.summary.create_noop_writer())
        self._twin = None  # float32 copy of G under mixed precision (float32_generator)
        self.jit = cfg.jit_compile and strategy.num_replicas_in_sync == 1
        if cfg.jit_compile and not self.jit:
            print("note: XLA is off under a multi-replica strategy (TF cannot compile it on CPU)")

    # -- resume / init ---------------------------------------------------------------------
    def restore_or_init(self) -> None:
        restored = self.store.restore()  # may raise CheckpointError, having changed nothing
        for note in restored.notes:
            print(f"note: {note}")
        if restored.path:
            print(f"resuming from step {self.total_done()} "
                  f"(pretrain {int(self.pre_done.numpy())}/{self.pre_steps}, "
                  f"gan {int(self.gan_done.numpy())}/{self.gan_steps}) in {self.run_dir}")
        elif self.cfg.init_from:
            try:
                src = load_keras(self.cfg.init_from)
            except ModelFileError as e:  # missing, not a .keras, Lambda layers, ...: one line
                reason = str(e).removeprefix(f"{self.cfg.init_from}: ")
                raise TrainingError(f"--init-from {self.cfg.init_from}: cannot be loaded in safe "
                                    f"mode ({reason}); pass a generator saved by this library "
                                    "(registered layers only)") from None
            try:
                self.G.set_weights(src.get_weights())
            except ValueError as e:
                raise TrainingError(f"--init-from {self.cfg.init_from}: its architecture does not "
                                    f"match this config's generator ({e})") from None
            print(f"initialised the generator from {self.cfg.init_from}")

    def total_done(self) -> int:
        return int(self.pre_done.numpy()) + int(self.gan_done.numpy())

    # -- compiled steps --------------------------------------------------------------------
    def _compiled(self, step_fn):
        import tensorflow as tf

        strategy = self.strategy

        def replica_step(lr, hr, target):
            logs = step_fn(lr, hr, target)
            logs.pop("sr", None)
            return logs

        inner = tf.function(replica_step, jit_compile=self.jit)

        @tf.function
        def distributed_step(batch):
            per_replica = strategy.run(inner, args=batch)
            return {k: strategy.reduce("MEAN", v, axis=None) for k, v in per_replica.items()}

        return distributed_step

    # -- validation ------------------------------------------------------------------------
    def float32_generator(self):
        """The generator that validation runs and ``generator.keras`` holds.

        G itself, or under mixed precision a float32 twin carrying G's (float32) weights: a
        generator saved with a ``mixed_bfloat16`` policy would compute in bfloat16 on every
        machine that loads it, and validation should score the file that is saved.
        """
        if self.cfg.mixed_precision == "none":
            return self.G
        import keras

        from srgan_keras.nn.models import build_generator

        if self._twin is None:
            policy = keras.mixed_precision.global_policy()
            keras.mixed_precision.set_global_policy("float32")
            try:
                self._twin = build_generator(self.cfg)
            finally:
                keras.mixed_precision.set_global_policy(policy)
        self._twin.set_weights(self.G.get_weights())
        return self._twin

    def validate(self) -> dict[str, float]:
        """Mean Y-PSNR/SSIM (border = scale) of the model and of bicubic on the validation images,
        by the evaluation protocol itself (:func:`srgan_keras.evaluation.evaluate.evaluate_image`)."""
        from srgan_keras.evaluation.evaluate import evaluate_image
        from srgan_keras.inference.runners import KerasRunner

        model_rows, bic_rows = [], []
        runner = KerasRunner(self.float32_generator())
        for name, hr, _, _ in self.val:
            result = evaluate_image(runner, hr, self.cfg.scale, name=name)
            model_rows.append(result.metrics)
            bic_rows.append(result.bicubic)
        mean = lambda rows, k: float(np.mean([r[k] for r in rows]))  # noqa: E731
        return {"psnr": mean(model_rows, "psnr_y"), "ssim": mean(model_rows, "ssim_y"),
                "bicubic_psnr": mean(bic_rows, "psnr_y"), "bicubic_ssim": mean(bic_rows, "ssim_y")}

    def sample_grid(self) -> np.ndarray:
        """LR (nearest) | bicubic | SR | HR of a centre crop of each validation image (2 at most)."""
        rows, s = [], self.cfg.scale
        generator = self.float32_generator()
        for _, hr, lr01, bic in self.val[:2]:
            size = min(128, hr.shape[0] // s * s, hr.shape[1] // s * s)
            y, x = (hr.shape[0] - size) // 2 // s * s, (hr.shape[1] - size) // 2 // s * s
            lr_c = lr01[y // s:(y + size) // s, x // s:(x + size) // s]
            sr = self.model.super_resolve(lr_c[None], False, generator)[0].numpy()
            sr8 = signed_to_uint8(sr)
            lr8 = to_uint8(lr_c).repeat(s, 0).repeat(s, 1)
            rows.append([lr8, bic[y:y + size, x:x + size], sr8, hr[y:y + size, x:x + size]])
        return _grid(rows)

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> int:
        import tensorflow as tf
        from tqdm import tqdm

        from srgan_keras.data.pipeline import training_dataset

        self.restore_or_init()
        self.dataset = training_dataset(self.cfg, start_step=self.total_done())
        if self.strategy.num_replicas_in_sync > 1:
            it = iter(self.strategy.experimental_distribute_dataset(self.dataset))
        else:
            it = iter(self.dataset)
        phases = [("pretrain", self.pre_steps, self.pre_done, self.model.pretrain_step, self.pre_opt),
                  ("gan", self.gan_steps, self.gan_done, self.model.train_step, self.g_opt)]
        total = self.pre_steps + self.gan_steps
        last_opt = None
        with GracefulStop() as self.stop:
            try:
                for name, steps, done, step_fn, opt in phases:
                    if steps == 0:
                        continue
                    last_opt = opt
                    if int(done.numpy()) >= steps:
                        continue
                    if not self._run_phase(name, steps, done, self._compiled(step_fn), it, total, tqdm):
                        return 3
                with self.stop.critical():
                    self.store.save()
            except NonFiniteError as e:
                print(f"error: {e} at step {self.total_done()}; stopping. The last good checkpoint "
                      f"is kept ({self.store.latest or 'none yet'}); lower the learning rate or "
                      "check the data.", file=sys.stderr)
                return 3
            except Interrupted as e:
                try:
                    with self.stop.shielded():  # a second signal cannot cut this save short
                        path = self.store.save()
                except NonFiniteError as bad:
                    print(f"\ninterrupted at step {self.total_done()}; not saved: {bad}. The last "
                          f"good checkpoint is kept ({self.store.latest or 'none yet'})",
                          file=sys.stderr)
                    return e.exit_code
                print(f"\ninterrupted at step {self.total_done()}: checkpoint saved to {path}; "
                      "run the same command to resume")
                return e.exit_code  # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports them
            if last_opt is not None and self.cfg.ema_decay:
                last_opt.finalize_variable_values(self.G.trainable_variables)  # G <- its EMA
            try:
                self.finish(tf)  # atomic writes: an interrupt here leaves no partial file
            except Interrupted as e:
                print(f"\ninterrupted while writing the final files; all {self.total_done()} steps "
                      "are checkpointed: run the same command to write them")
                return e.exit_code
        return 0

    def _run_phase(self, name, steps, done, step, it, total, tqdm) -> bool:
        import tensorflow as tf

        cfg = self.cfg
        offset = self.pre_steps if name == "gan" else 0
        start = int(done.numpy())
        bar = tqdm(total=steps, initial=start, desc=name, unit="step", dynamic_ncols=True,
                   file=sys.stdout, mininterval=1.0)
        t0, n0 = time.perf_counter(), start
        for i in range(start, steps):
            with self.stop.critical():  # an update and its counter, never one without the other
                logs = step(next(it))
                done.assign_add(1)
            bar.update(1)
            g = offset + i + 1  # global step across both phases
            # Every step, so that no step before a checkpoint escapes (the losses are computed).
            vals = {k: float(v) for k, v in logs.items()}
            bad = [k for k, v in vals.items() if not math.isfinite(v)]
            if bad:
                bar.close()
                last = self.store.latest or "none yet"
                flag = "--pretrain-lr" if name == "pretrain" else "--gan-lr"
                print(f"error: {', '.join(bad)} became NaN/Inf at step {g}; stopping. The last "
                      f"good checkpoint is kept ({last}); lower {flag} or check the data.",
                      file=sys.stderr)
                return False
            if (i + 1) % cfg.log_every == 0 or i + 1 == steps:
                dt = time.perf_counter() - t0
                vals["steps_per_s"] = (i + 1 - n0) / dt if dt > 0 else 0.0
                t0, n0 = time.perf_counter(), i + 1
                opt = self.pre_opt if name == "pretrain" else self.g_opt
                vals["lr"] = float(opt.learning_rate.numpy()) if hasattr(
                    opt.learning_rate, "numpy") else float(opt.learning_rate)
                with self.writer.as_default(step=g):
                    for k, v in vals.items():
                        tf.summary.scalar(f"{name}/{k}", v)
                bar.set_postfix({k: f"{v:.4g}" for k, v in vals.items()
                                 if k in ("g_loss", "d_loss", "d_real", "d_fake", "steps_per_s")})
            if (i + 1) % cfg.ckpt_every == 0:
                with self.stop.critical():
                    self.store.save()  # refuses NaN/Inf weights (NonFiniteError)
            if (i + 1) % cfg.val_every == 0 and i + 1 < steps:
                self._log_validation(g, bar)
        bar.close()
        self._log_validation(offset + steps, None)
        return True

    def _log_validation(self, g: int, bar) -> dict:
        import tensorflow as tf

        m = self.validate()
        line = (f"step {g}: val PSNR {m['psnr']:.2f} dB (bicubic {m['bicubic_psnr']:.2f}), "
                f"SSIM {m['ssim']:.4f} (bicubic {m['bicubic_ssim']:.4f})")
        (bar.write if bar is not None else print)(line)
        with self.writer.as_default(step=g):
            for k, v in m.items():
                tf.summary.scalar(f"val/{k}", v)
            tf.summary.image("samples LR|bicubic|SR|HR", self.sample_grid()[None], step=g)
        self.writer.flush()
        return m

    def finish(self, tf) -> None:
        from PIL import Image

        from srgan_keras.data.imaging import atomic_write

        m = self.validate()
        if not self.is_chief:
            return
        gen_path = self.run_dir / "generator.keras"
        generator = self.float32_generator()
        atomic_write(gen_path, lambda tmp: generator.save(tmp))
        atomic_write(self.run_dir / "samples.png",
                     lambda tmp: Image.fromarray(self.sample_grid()).save(tmp))
        result = {"steps": self.total_done(), **m}
        atomic_write(self.run_dir / "result.json",
                     lambda tmp: Path(tmp).write_text(json.dumps(result, indent=2)))
        verdict = "above" if m["psnr"] > m["bicubic_psnr"] else "NOT above"
        print(f"final validation ({len(self.val)} images, Y, border {self.cfg.scale}): "
              f"PSNR {m['psnr']:.2f} dB vs bicubic {m['bicubic_psnr']:.2f} dB ({verdict} bicubic); "
              f"SSIM {m['ssim']:.4f} vs {m['bicubic_ssim']:.4f}")
        print(f"generator saved to {gen_path}")


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = config_from_args(args)
    except (ValueError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    run_dir = Path(cfg.out) if cfg.out else REPO_SAVED_MODELS / args.preset
    strategy = _setup_runtime(cfg)

    from srgan_keras.data.imaging import atomic_write
    from srgan_keras.data.pipeline import DataError, stream_failure
    from srgan_keras.training.losses import VGGWeightsError

    print(f"srgan_keras training, preset {args.preset!r}, run folder {run_dir}")
    print(cfg.to_json())
    try:
        check_resumable(run_dir, cfg)
    except TrainingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if is_chief(strategy):
        import tensorflow as tf

        try:  # before anything is written: a folder whose checkpoints all fail stays untouched
            CheckpointStore(tf.train.Checkpoint(), run_dir / "checkpoints").preflight()
        except CheckpointError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        for name in clean_leftovers(run_dir, run_dir / "checkpoints"):
            print(f"note: removed {name}, left by an interrupted run")
    run_dir.mkdir(parents=True, exist_ok=True)
    if is_chief(strategy):
        atomic_write(run_dir / "config.json",
                     lambda tmp: Path(tmp).write_text(json.dumps(
                         {"preset": args.preset, **json.loads(cfg.to_json())}, indent=2)))
    try:
        trainer = Trainer(cfg, run_dir, strategy)
        return trainer.run()
    except (DataError, VGGWeightsError, TrainingError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        failure = stream_failure(e)  # a data stream's DataError, raised inside tf.data
        if failure is None:
            raise
        print(f"error: {failure}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
