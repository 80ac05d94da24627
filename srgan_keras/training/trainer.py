"""The CLI's training run: both phases, resume, checkpoints, NaN stop, validation, artifacts.

    pre-training   ``G.train_step((lr, target))``: Keras' own step for ``G.compile(loss=PixelLoss)``,
                   the one ``G.fit`` runs
    GAN            ``SRGAN.train_step((lr, hr, target))``: the one ``SRGAN.fit`` runs

Each step is run on every replica of the strategy (runtime.py) in a ``tf.function``. Logged values
are the Keras trackers' means over the ``--log-every`` interval; they are checked for NaN/Inf after
every step, and checkpoints (checkpoints.py) refuse non-finite weights. Signals are held while an
update and its step counter run (interrupts.py), so a checkpoint never holds one without the other.
EMA (ESRGAN/Real-ESRGAN): the GAN phase starts from the pre-training's averaged weights, as
Real-ESRGAN starts from ``params_ema``; validation and ``generator.keras`` use the EMA (float32_copy.py).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import keras
import tensorflow as tf
from tqdm import tqdm

from srgan_keras.data.pipeline import training_dataset
from srgan_keras.nn.saving import ModelFileError, load_keras
from srgan_keras.training.artifacts import write_artifacts
from srgan_keras.training.checkpoints import CheckpointStore, NonFiniteError
from srgan_keras.training.config import TrainConfig
from srgan_keras.training.errors import TrainingError
from srgan_keras.training.float32_copy import Float32Copy
from srgan_keras.training.interrupts import GracefulStop, Interrupted
from srgan_keras.training.runtime import batches, distributed_step, is_chief, use_xla
from srgan_keras.training.srgan import to_generator_range
from srgan_keras.training.state import build_state, ema_optimizer, newest_readable_checkpoint
from srgan_keras.training.validation import Validation


def _learning_rate(opt) -> float:
    lr = opt.learning_rate
    return float(lr.numpy()) if hasattr(lr, "numpy") else float(lr)


class Trainer:
    """Builds a run from its config (state.py) and runs both phases with the shared steps."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, strategy: tf.distribute.Strategy):
        self.cfg, self.run_dir, self.strategy = cfg, run_dir, strategy
        self.pre_steps, self.gan_steps = cfg.phase_steps()
        keras.utils.set_random_seed(cfg.seed)
        self.val = Validation(cfg)
        self.is_chief = is_chief(strategy)
        self.state = build_state(cfg, strategy, newest_readable_checkpoint(run_dir))
        # Multi-worker: every worker saves (the save is collective), only the chief into the run
        # folder; the others into a scratch folder, as tf.distribute's guide prescribes.
        ckpt_dir = run_dir / "checkpoints" if self.is_chief else Path(tempfile.mkdtemp())
        self.store = CheckpointStore(self.state.checkpoint, ckpt_dir, max_to_keep=3,
                                     finite=self.state.G.trainable_variables
                                     + self.state.D.trainable_variables)
        self.dataset = None  # made in run(), at the resumed step (the data order is f(seed, step))
        self._writer = None  # made on first use: a run refused at restore leaves no logs/
        self.float32 = Float32Copy(cfg)
        self.jit = use_xla(cfg, strategy)
        self.stop = GracefulStop()

    @property
    def G(self) -> keras.Model:
        return self.state.G

    @property
    def D(self) -> keras.Model:
        return self.state.D

    @property
    def writer(self):
        """TensorBoard's writer into ``logs/`` (the chief's; the others' write nothing)."""
        if self._writer is None:
            self._writer = (tf.summary.create_file_writer(str(self.run_dir / "logs"))
                            if self.is_chief else tf.summary.create_noop_writer())
        return self._writer

    def total_done(self) -> int:
        return self.state.total_done()

    # -- resume / init ---------------------------------------------------------------------
    def restore_or_init(self) -> None:
        s = self.state
        restored = self.store.restore()  # may raise CheckpointError, having changed nothing
        for note in restored.notes:
            print(f"note: {note}")
        if restored.path:
            print(f"resuming from step {s.total_done()} "
                  f"(pretrain {int(s.pre_done.numpy())}/{self.pre_steps}, "
                  f"gan {int(s.gan_done.numpy())}/{self.gan_steps}) in {self.run_dir}")
        elif self.cfg.init_from:
            try:
                src = load_keras(self.cfg.init_from)
            except ModelFileError as e:  # missing, not a .keras, Lambda layers, ...: one line
                reason = str(e).removeprefix(f"{self.cfg.init_from}: ")
                raise TrainingError(f"--init-from {self.cfg.init_from}: cannot be loaded in safe "
                                    f"mode ({reason}); pass a generator saved by this library "
                                    "(registered layers only)") from None
            try:
                s.G.set_weights(src.get_weights())
            except ValueError as e:
                raise TrainingError(f"--init-from {self.cfg.init_from}: its architecture does not "
                                    f"match this config's generator ({e})") from None
            print(f"initialised the generator from {self.cfg.init_from}")
            if self.cfg.icnr_project:
                from srgan_keras.nn.icnr import project_model

                names = project_model(s.G)
                print(f"averaged the phases of its sub-pixel convolutions (--icnr-project): "
                      f"{', '.join(names) or 'none found'}")

    # -- the two steps (one implementation each, shared with fit()) ----------------------------
    def _compiled(self, replica_step: Callable) -> Callable:
        """``replica_step(batch) -> logs`` as one compiled step over the strategy's replicas."""
        return distributed_step(self.strategy, replica_step, self.jit)

    def pretrain_step(self) -> Callable:
        """Keras' own ``G.train_step`` (``G.compile(loss=PixelLoss)``), what ``G.fit`` runs; the
        target in G's output range, so a unit-range G's L1 is taken on [0, 1] as BasicSR does."""
        G = self.state.G

        def replica_step(batch):
            lr, _, target = batch
            logs = G.train_step((lr, to_generator_range(target, G)))
            return {"g_loss": logs["loss"], "content_loss": logs["loss"]}

        return self._compiled(replica_step)

    def gan_step(self) -> Callable:
        """``SRGAN.train_step``, what ``SRGAN.fit`` runs."""
        return self._compiled(self.state.model.train_step)

    def validate(self) -> dict[str, float]:
        """Validation scores of the generator that would be saved now (:meth:`generator_to_save`)."""
        return self.val.scores(self.generator_to_save())

    def generator_to_save(self) -> keras.Model:
        """Float32, with the averaged weights of the phase that trained G last."""
        opt = self.state.g_opt if int(self.state.gan_done.numpy()) else self.state.pre_opt
        return self.float32.of(self.state.G, opt)

    # -- the loop --------------------------------------------------------------------------
    def run(self, restore: bool = True) -> int:
        """Both phases to the end; ``restore=False`` when :meth:`restore_or_init` already ran."""
        s = self.state
        if restore:
            self.restore_or_init()
        self.dataset = training_dataset(self.cfg, start_step=s.total_done())
        it = batches(self.strategy, self.dataset)
        phases = [("pretrain", self.pre_steps, s.pre_done, self.pretrain_step, s.pre_opt, s.G),
                  ("gan", self.gan_steps, s.gan_done, self.gan_step, s.g_opt, s.model)]
        with self.stop:
            try:
                for name, steps, done, make_step, opt, trained in phases:
                    if steps == 0 or int(done.numpy()) >= steps:
                        continue
                    if name == "gan":
                        self._start_gan_from_pretrain_ema()
                    if not self._run_phase(name, steps, done, make_step(), opt, trained, it):
                        return 3
                with self.stop.critical():
                    self.store.save()
            except NonFiniteError as e:
                print(f"error: {e} at step {s.total_done()}; stopping. The last good checkpoint "
                      f"is kept ({self.store.latest or 'none yet'}); lower the learning rate or "
                      "check the data.", file=sys.stderr)
                return 3
            except Interrupted as e:
                return self._save_on_interrupt(e)
            try:
                self.finish()  # atomic writes: an interrupt here leaves no partial file
            except Interrupted as e:
                print(f"\ninterrupted while writing the final files; all {s.total_done()} steps "
                      "are checkpointed: run the same command to write them")
                return e.exit_code
        return 0

    def _save_on_interrupt(self, e: Interrupted) -> int:
        """The emergency checkpoint of Ctrl-C / SIGTERM; exit 130 / 143, as a shell reports them."""
        try:
            with self.stop.shielded():  # a second signal cannot cut this save short
                path = self.store.save()
        except NonFiniteError as bad:
            print(f"\ninterrupted at step {self.total_done()}; not saved: {bad}. The last "
                  f"good checkpoint is kept ({self.store.latest or 'none yet'})", file=sys.stderr)
            return e.exit_code
        print(f"\ninterrupted at step {self.total_done()}: checkpoint saved to {path}; "
              "run the same command to resume")
        return e.exit_code

    def _start_gan_from_pretrain_ema(self) -> None:
        """Before GAN step 0 of a run that pre-trained with EMA: G <- the pre-training EMA
        (Real-ESRGAN's GAN starts from Real-ESRNet's ``params_ema``). Idempotent: the
        pre-training averages no longer change."""
        s = self.state
        if int(s.gan_done.numpy()) == 0 and int(s.pre_done.numpy()) > 0 and ema_optimizer(s.pre_opt):
            s.pre_opt.finalize_variable_values(s.G.trainable_variables)
            print("GAN phase starts from the pre-training EMA weights")

    def _run_phase(self, name: str, steps: int, done: tf.Variable, step: Callable, opt,
                   trained: keras.Model, it) -> bool:
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
            # Every step, so that no step before a checkpoint escapes (the means include it).
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
                trained.reset_metrics()  # the next line's means start afresh
                dt = time.perf_counter() - t0
                vals["steps_per_s"] = (i + 1 - n0) / dt if dt > 0 else 0.0
                t0, n0 = time.perf_counter(), i + 1
                vals["lr"] = _learning_rate(opt)
                with self.writer.as_default(step=g):
                    for k, v in vals.items():
                        tf.summary.scalar(f"{name}/{k}", v)
                bar.set_postfix({k: f"{v:.4g}" for k, v in vals.items()
                                 if k in ("g_loss", "d_loss", "d_real", "d_fake", "steps_per_s")})
            if (i + 1) % cfg.ckpt_every == 0:
                with self.stop.critical():
                    self.store.save()  # refuses NaN/Inf weights (NonFiniteError)
            if (i + 1) % cfg.val_every == 0 and i + 1 < steps:
                self._log_validation(g, bar, opt)
        bar.close()
        self._log_validation(offset + steps, None, opt)
        return True

    def _log_validation(self, g: int, bar, opt) -> dict:
        generator = self.float32.of(self.state.G, opt)
        m = self.val.scores(generator)
        line = (f"step {g}: val PSNR {m['psnr']:.2f} dB (bicubic {m['bicubic_psnr']:.2f}), "
                f"SSIM {m['ssim']:.4f} (bicubic {m['bicubic_ssim']:.4f})")
        (bar.write if bar is not None else print)(line)
        with self.writer.as_default(step=g):
            for k, v in m.items():
                tf.summary.scalar(f"val/{k}", v)
            tf.summary.image("samples LR|bicubic|SR|HR", self.val.sample_grid(generator)[None],
                             step=g)
        self.writer.flush()
        return m

    def finish(self) -> None:
        """Score and save the generator that will be published (float32, EMA weights)."""
        generator = self.generator_to_save()
        m = self.val.scores(generator)
        if not self.is_chief:
            return
        gen_path = write_artifacts(self.run_dir, generator, self.val.sample_grid(generator),
                                   {"steps": self.state.total_done(), **m})
        verdict = "above" if m["psnr"] > m["bicubic_psnr"] else "NOT above"
        print(f"final validation ({len(self.val)} images, Y, border {self.cfg.scale}): "
              f"PSNR {m['psnr']:.2f} dB vs bicubic {m['bicubic_psnr']:.2f} dB ({verdict} bicubic); "
              f"SSIM {m['ssim']:.4f} vs {m['bicubic_ssim']:.4f}")
        print(f"generator saved to {gen_path}")
