"""The run folder's checkpoints: resume from the newest one that restores, never lose another.

Not a paper concept: the bookkeeping a long run needs to survive kills, full disks and corrupt
files. The files are exactly those of ``tf.train.CheckpointManager`` (``checkpoints/ckpt-N.index``
and ``ckpt-N.data-*``, and the ``checkpoint`` state file listing them), so a run started with the
manager resumes here and the other way round. What differs is what happens when something is
broken (our choices):

- The state file is a hint, not the truth: the candidates are every ``ckpt-N.index`` in the
  folder, newest (largest N) first, and the first that restores completely is used. One that
  does not (truncated by a kill or a full disk, unreadable, of another layout) is skipped with a
  note saying why; an unreadable state file is reported the same way. TensorFlow alone restarts
  from step 0 on a garbage state file, then overwrites ``ckpt-1`` ... with the new run.
- A checkpoint this process did not write is never deleted or overwritten when anything was
  skipped: new checkpoints get numbers above every existing one, and only this process's own
  checkpoints are rotated (``max_to_keep``). On a clean resume the state file's checkpoints are
  rotated as the manager would.
- When none restores, :class:`CheckpointError` is raised before anything is written.
- Weights that are not finite are never saved (:class:`NonFiniteError`), so a NaN checkpoint
  can never be reported later as "the last good one".
- :func:`clean_leftovers` removes, by their exact names, the temporary files a killed save leaves:
  TensorFlow's ``ckpt-N_temp/`` folders and ``checkpoint.tmp<hex>`` files, the temporaries of
  :func:`srgan_keras.data.files.atomic_write` whose process is gone (``.NAME.srgan-tmp-<pid>-...``;
  the state file and the run folder's outputs are written through it), and the older
  ``.NAME.XXXXXXXX.ext`` ones of earlier versions for the run folder's own outputs.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import tensorflow as tf

from srgan_keras.data.files import atomic_write, clean_stale_temps
from srgan_keras.errors import SrganKerasError, first_line

PREFIX = "ckpt"  # tf.train.CheckpointManager's default checkpoint_name
STATE_FILE = "checkpoint"  # its state file (a text CheckpointState proto)

_INDEX = re.compile(rf"^{PREFIX}-(\d+)\.index$")
_DATA = re.compile(rf"^{PREFIX}-(\d+)\.data-\d{{5}}-of-\d{{5}}$")
# TensorFlow's temporaries: the sharded saver writes "<prefix>_temp/part-*" before moving the
# shards into place (functional_saver.py); the state file is written as
# "checkpoint.tmp<uuid4 hex>" then renamed (file_io.atomic_write_string_to_file).
_TEMP_DIR = re.compile(rf"^{PREFIX}-\d+_temp$")
_STATE_TMP = re.compile(rf"^{STATE_FILE}\.tmp[0-9a-f]{{32}}$")
# atomic_write's temporaries (tempfile.mkstemp: prefix ".<stem>.", 8 random characters, suffix).
RUN_OUTPUTS = ("generator.keras", "samples.png", "result.json", "config.json")


class CheckpointError(SrganKerasError, RuntimeError):
    """No checkpoint in the folder restores; the message says which were tried and why."""


class NonFiniteError(RuntimeError):
    """The weights to be saved hold NaN or Inf."""


def _atomic_tmp_pattern(name: str) -> re.Pattern:
    stem, dot, suffix = name.rpartition(".")
    return re.compile(rf"^\.{re.escape(stem)}\.[A-Za-z0-9_]{{8}}{re.escape(dot + suffix)}$")


def clean_leftovers(run_dir: Path, ckpt_dir: Path) -> list[str]:
    """Delete the temporaries a killed run left behind; return what was removed (names).

    Only these exact patterns are touched, so nothing of the user's and no complete checkpoint
    can match. Call it before the run writes anything.
    """
    removed = []
    if ckpt_dir.is_dir():
        for p in sorted(ckpt_dir.iterdir()):
            if p.is_dir() and not p.is_symlink() and _TEMP_DIR.match(p.name):
                shutil.rmtree(p)
                removed.append(f"{ckpt_dir.name}/{p.name}/")
            elif p.is_file() and _STATE_TMP.match(p.name):
                p.unlink()
                removed.append(f"{ckpt_dir.name}/{p.name}")
        removed += [f"{ckpt_dir.name}/{p.name}" for p in clean_stale_temps(ckpt_dir)]
    if run_dir.is_dir():
        patterns = [_atomic_tmp_pattern(n) for n in RUN_OUTPUTS]
        for p in sorted(run_dir.iterdir()):
            if p.is_file() and any(pat.match(p.name) for pat in patterns):
                p.unlink()
                removed.append(p.name)
        removed += [p.name for p in clean_stale_temps(run_dir)]
    return removed


@dataclass
class Restored:
    """What :meth:`CheckpointStore.restore` did: the path used (None: a fresh start) and notes."""

    path: str | None = None
    notes: list[str] = field(default_factory=list)


class CheckpointStore:
    """Save and restore ``checkpoint`` (a ``tf.train.Checkpoint``) in ``directory``.

    ``finite`` lists the variables that must be finite for a save to happen (the networks').
    Call :meth:`restore` once before the first :meth:`save`.
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, directory: Path, max_to_keep: int = 3,
                 finite: list | None = None):
        self.checkpoint, self.directory = checkpoint, Path(directory)
        self.max_to_keep, self.finite = max_to_keep, list(finite or [])
        self.latest: str | None = None
        self._rotated: list[tuple[str, float]] = []  # (path, timestamp), oldest first
        self._last_preserved = time.time()
        self._restored = False

    # -- reading the folder ------------------------------------------------------------------
    def numbers(self) -> list[int]:
        """N of every ``ckpt-N`` with a file in the folder (complete or not), ascending."""
        if not self.directory.is_dir():
            return []
        found = set()
        for p in self.directory.iterdir():
            m = _INDEX.match(p.name) or _DATA.match(p.name)
            if m:
                found.add(int(m.group(1)))
        return sorted(found)

    def _read_state(self):
        """(state proto or None, note or None): None with a note when the file is unreadable."""
        path = self.directory / STATE_FILE
        if not path.exists():
            return None, None
        tf_logger = tf.get_logger()
        level = tf_logger.level
        tf_logger.setLevel(logging.ERROR)  # TF warns twice per garbage file; we say it once
        try:
            state = tf.train.get_checkpoint_state(str(self.directory))
        except Exception as e:  # noqa: BLE001 -- any unreadable state is reported, not fatal
            state, why = None, first_line(e, 160, with_type=True)
        else:
            why = "not a checkpoint state file"
        finally:
            tf_logger.setLevel(level)
        if state is None or not state.model_checkpoint_path:
            return None, f"{path} is unreadable ({why}); looked for checkpoints in the folder instead"
        return state, None

    def _prefix(self, n: int) -> str:
        return str(self.directory / f"{PREFIX}-{n}")

    # -- restore -----------------------------------------------------------------------------
    def _candidates(self, out: Restored) -> list[int]:
        numbers = self.numbers()
        candidates = [n for n in reversed(numbers) if (self.directory / f"{PREFIX}-{n}.index").is_file()]
        for n in numbers:
            if n not in candidates:
                out.notes.append(f"skipped {PREFIX}-{n}: its .index file is missing (an interrupted save)")
        return candidates

    def _none_restores(self, notes: list[str]) -> CheckpointError:
        # "skipped ckpt-3: why" notes with the same reason are said once: "ckpt-3, ckpt-2: why".
        by_reason: dict[str, list[str]] = {}
        other = []
        for note in notes:
            m = re.match(rf"^skipped ({PREFIX}-\d+): (.*)$", note)
            if m:
                by_reason.setdefault(m.group(2), []).append(m.group(1))
            else:
                other.append(note.split(";")[0])
        said = other + [f"{', '.join(names)}: {why}" for why, names in by_reason.items()]
        return CheckpointError(
            f"no checkpoint in {self.directory} restores ({'; '.join(said)}); nothing was "
            "changed: move that folder away or pass a new --out to start over")

    def preflight(self) -> None:
        """Before anything is written: raise :class:`CheckpointError` if checkpoints exist and
        none of them can even be read (every tensor is read; nothing is restored or written)."""
        _, state_note = self._read_state()
        notes = [state_note] if state_note else []
        candidates = self._candidates(Restored(notes=notes))
        if not candidates:
            if self.numbers():  # data files without an index
                raise self._none_restores(notes)
            return
        for n in candidates:
            try:
                reader = tf.train.load_checkpoint(self._prefix(n))
                for key in reader.get_variable_to_shape_map():
                    reader.get_tensor(key)
                return
            except Exception as e:  # noqa: BLE001 -- truncated or corrupt
                notes.append(f"skipped {PREFIX}-{n}: {first_line(e, 160, with_type=True)}")
        raise self._none_restores(notes)

    def restore(self) -> Restored:
        """Restore the newest checkpoint that restores cleanly; a fresh start if there is none.

        Raises :class:`CheckpointError` when checkpoints exist and none restores.
        """
        self._restored = True
        state, state_note = self._read_state()
        out = Restored(notes=[state_note] if state_note else [])
        candidates = self._candidates(out)
        if not candidates:
            if self.numbers():
                raise self._none_restores(out.notes)
            return out
        failures = []
        for n in candidates:
            prefix = self._prefix(n)
            try:
                self.checkpoint.restore(prefix).assert_existing_objects_matched()
            except Exception as e:  # noqa: BLE001 -- truncated, corrupt, or of another layout
                failures.append(f"skipped {PREFIX}-{n}: {first_line(e, 160, with_type=True)}")
                continue
            out.path = self.latest = prefix
            break
        out.notes += failures
        if out.path is None:
            raise self._none_restores(out.notes)
        if not out.notes and state is not None:
            # A clean resume, as the manager's: the state's checkpoints stay in the rotation (and
            # the restored one, if a kill came between its write and the state's update).
            stamps = list(state.all_model_checkpoint_timestamps) or [time.time()] * len(
                state.all_model_checkpoint_paths)
            self._rotated = [(str(self.directory / Path(p).name), t)
                             for p, t in zip(state.all_model_checkpoint_paths, stamps)]
            if out.path not in [p for p, _ in self._rotated]:
                self._rotated.append((out.path, time.time()))
            self._last_preserved = state.last_preserved_timestamp
        elif out.notes:
            out.notes.append("the checkpoints already in the folder are kept as they are; new "
                             "ones get higher numbers")
        return out

    # -- save --------------------------------------------------------------------------------
    def check_finite(self) -> None:
        bad = [v.name for v in self.finite if not bool(tf.reduce_all(tf.math.is_finite(v)))]
        if bad:
            raise NonFiniteError(f"{len(bad)} weight tensors hold NaN/Inf (first: {bad[0]})")

    def save(self) -> str:
        """Write ``ckpt-N`` (N above every number in the folder) and record it in the state file."""
        if not self._restored:
            raise RuntimeError("CheckpointStore.restore() must run before save()")
        self.check_finite()
        self.directory.mkdir(parents=True, exist_ok=True)
        counter = self.checkpoint.save_counter
        n = max([int(counter.numpy()), *self.numbers()]) + 1
        counter.assign(n)  # as CheckpointManager numbers by save_counter
        path = self.checkpoint.write(self._prefix(n))
        self.latest = path
        self._rotated = [(p, t) for p, t in self._rotated if p != path] + [(path, time.time())]
        self._record_state()  # first list the new one, then delete, then record again (as TF)
        while self.max_to_keep and len(self._rotated) > self.max_to_keep:
            old, _ = self._rotated.pop(0)
            for f in self.directory.glob(f"{Path(old).name}.*"):
                if _INDEX.match(f.name) or _DATA.match(f.name):
                    f.unlink(missing_ok=True)
        self._record_state()
        return path

    def _record_state(self) -> None:
        """Write the state file as the manager does: a text ``CheckpointState`` with names relative
        to the folder (so it can be moved), through the shared atomic write (a temporary of ours,
        flushed, then renamed)."""
        lines = [f'model_checkpoint_path: "{Path(self.latest).name}"']
        lines += [f'all_model_checkpoint_paths: "{Path(p).name}"' for p, _ in self._rotated]
        lines += [f"all_model_checkpoint_timestamps: {t!r}" for _, t in self._rotated]
        lines.append(f"last_preserved_timestamp: {self._last_preserved!r}")
        text = "\n".join(lines) + "\n"
        atomic_write(self.directory / STATE_FILE, lambda tmp: Path(tmp).write_text(text))
