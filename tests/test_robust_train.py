"""Hostile run folders and interrupts (issue 17 cases 1, 3, 4, 6, 7, 8, 9; issue 13 item 6).

Each test makes its hostile files itself: a garbage checkpoint state file, truncated checkpoints,
the leftovers of a killed save, images that pass the header check but do not decode, a ``.keras``
with a Lambda layer; and signals sent at chosen steps.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from srgan_keras.data import batches, sources
from srgan_keras.data import pipeline as data
from srgan_keras.training import train
from srgan_keras.training import trainer as trainer_module
from srgan_keras.training.checkpoints import CheckpointStore, clean_leftovers
from srgan_keras.training.config import get_config

REPO = Path(__file__).resolve().parents[1]
PRETRAIN = ["--preset", "tiny", "--phase", "pretrain", "--val-every", "1000", "--log-every", "1000"]


def _run(out, *extra) -> int:
    return train.main([*PRETRAIN, "--out", str(out), *extra])


def _snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under ``folder``: (size, mtime_ns, first bytes), to prove nothing changed."""
    snap = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            st = p.stat()
            snap[str(p.relative_to(folder))] = (st.st_size, st.st_mtime_ns, p.read_bytes()[:64])
    return snap


def _checkpoint_files(out: Path, n: int) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (out / "checkpoints").glob(f"ckpt-{n}.*")}


def _step_of(prefix: str) -> int:
    reader = tf.train.load_checkpoint(prefix)
    keys = reader.get_variable_to_shape_map()
    pre = next(k for k in keys if k.startswith("pretrain_steps_done"))
    gan = next(k for k in keys if k.startswith("gan_steps_done"))
    return int(reader.get_tensor(pre)) + int(reader.get_tensor(gan))


def _truncate_data(out: Path, n: int) -> None:
    (data_file,) = (out / "checkpoints").glob(f"ckpt-{n}.data-*")
    with open(data_file, "r+b") as f:
        f.truncate(data_file.stat().st_size // 3)


@pytest.fixture(scope="module")
def _finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished") / "run"
    assert _run(out, "--pretrain-steps", "3", "--ckpt-every", "1") == 0
    names = sorted(p.name for p in (out / "checkpoints").glob("ckpt-*.index"))
    assert names == ["ckpt-2.index", "ckpt-3.index", "ckpt-4.index"], names
    return out


@pytest.fixture
def three_step_run(_finished_run, tmp_path):
    """A copy of a finished 3-step run with a checkpoint after every step: ckpt-2 (step 2),
    ckpt-3 and ckpt-4 (both step 3; the last one is the end-of-run save)."""
    return Path(shutil.copytree(_finished_run, tmp_path / "run"))


# -- 17.1: garbage state file -------------------------------------------------------------------
@pytest.mark.slow
def test_garbage_state_file_resumes_from_the_newest_checkpoint_and_keeps_the_old_ones(
        three_step_run, capsys):
    out = three_step_run
    capsys.readouterr()
    (out / "checkpoints" / "checkpoint").write_bytes(b"\x00garbage{{ not a proto \xff\n")
    kept = {n: _checkpoint_files(out, n) for n in (2, 3, 4)}
    assert _run(out, "--pretrain-steps", "5", "--ckpt-every", "1") == 0
    text = capsys.readouterr().out
    assert "checkpoints/checkpoint is unreadable" in text
    assert "resuming from step 3" in text  # not a restart from step 0
    for n, files in kept.items():  # neither deleted nor overwritten
        assert _checkpoint_files(out, n) == files, n
    assert _step_of(tf.train.latest_checkpoint(str(out / "checkpoints"))) == 5


# -- 17.3: newest checkpoint truncated ------------------------------------------------------------
@pytest.mark.slow
def test_truncated_newest_checkpoint_falls_back_to_the_previous_one(three_step_run, capsys):
    out = three_step_run
    capsys.readouterr()
    _truncate_data(out, 4)
    broken = _checkpoint_files(out, 4)
    assert _run(out, "--pretrain-steps", "4", "--ckpt-every", "1") == 0
    text = capsys.readouterr().out
    assert "skipped ckpt-4: " in text and "resuming from step 3" in text
    assert _checkpoint_files(out, 4) == broken  # the broken one is left for the user to inspect
    latest = tf.train.latest_checkpoint(str(out / "checkpoints"))
    assert Path(latest).name == "ckpt-6" and _step_of(latest) == 4  # numbered above ckpt-4


@pytest.mark.slow
def test_when_no_checkpoint_restores_exit_2_with_one_line_and_nothing_touched(three_step_run, capsys):
    out = three_step_run
    for n in (2, 3, 4):
        _truncate_data(out, n)
    (out / "checkpoints" / "ckpt-3_temp").mkdir()  # a leftover: not even that is cleaned now
    (out / "checkpoints" / "ckpt-3_temp" / "part-00000-of-00001").write_bytes(b"x")
    before = _snapshot(out)
    capsys.readouterr()
    assert _run(out, "--pretrain-steps", "5") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no checkpoint in ") and "ckpt-2" in err[0]
    assert _snapshot(out) == before


# -- 17.7: leftovers of a kill ---------------------------------------------------------------------
def test_leftovers_of_a_killed_run_are_cleaned_by_their_exact_names(tmp_path):
    run, ck = tmp_path / "run", tmp_path / "run" / "checkpoints"
    ck.mkdir(parents=True)
    leftovers = [ck / "ckpt-7_temp" / "part-00000-of-00001.data-00000-of-00001",
                 ck / ("checkpoint.tmp" + "0123456789abcdef" * 2),
                 run / ".generator.k2_x9abc.keras", run / ".samples.abcdefgh.png",
                 run / ".result.a1b2c3d4.json", run / ".config.zz_zz_zz.json"]
    lookalikes = [ck / "ckpt-7.index", ck / "ckpt-7.data-00000-of-00001", ck / "checkpoint",
                  ck / "ckpt-7_temp_notes.txt", ck / "checkpoint.tmp-mine",
                  run / ".generator.keras", run / ".generator.too_long_xx.keras",
                  run / "my.generator.abcdefgh.keras", run / ".photo.abcdefgh.png"]
    (ck / "ckpt-7_temp").mkdir()
    for p in leftovers + lookalikes:
        p.write_bytes(b"")
    removed = clean_leftovers(run, ck)
    assert len(removed) == len(leftovers)
    assert not any(p.exists() for p in leftovers) and not (ck / "ckpt-7_temp").exists()
    assert all(p.exists() for p in lookalikes)


@pytest.mark.slow
def test_the_training_cli_removes_the_leftovers_before_it_starts(tmp_path, capsys):
    out = tmp_path / "run"
    (out / "checkpoints" / "ckpt-1_temp").mkdir(parents=True)
    # A killed run's folder holds its config.json (written before training starts; issue 27.4)
    cfg = train.config_from_args(train.parse_args([*PRETRAIN, "--out", str(out)]))
    (out / "config.json").write_text(json.dumps({"preset": "tiny", **json.loads(cfg.to_json())}))
    (out / ".generator.abcd1234.keras").write_bytes(b"")  # 0 bytes: killed inside generator.save
    assert _run(out, "--pretrain-steps", "1") == 0
    text = capsys.readouterr().out
    assert "note: removed .generator.abcd1234.keras" in text and "checkpoints/ckpt-1_temp/" in text
    assert sorted(p.name for p in out.glob(".*")) == []


_SIGTERM_WHILE_SAVING_THE_GENERATOR = """
import os, signal, sys, time
import keras
from srgan_keras.training import train
real_save = keras.Model.save
def save(self, path, *a, **k):
    open(path, "wb").write(b"partial")
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1)
    real_save(self, path, *a, **k)
keras.Model.save = save
sys.exit(train.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_sigterm_while_writing_the_generator_leaves_no_partial_file(tmp_path):
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-c", _SIGTERM_WHILE_SAVING_THE_GENERATOR, *PRETRAIN,
                          "--out", str(out), "--pretrain-steps", "1"],
                         cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert res.returncode == 143, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    assert "interrupted while writing the final files" in res.stdout
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "config.json", "logs"]


# -- 17.6: a second signal during the emergency checkpoint ----------------------------------------
def _hook_steps(monkeypatch, hook):
    """Call ``hook(trainer, global_step, logs)`` after every compiled training step."""
    real = trainer_module.Trainer._compiled

    def compiled(self, step_fn):
        inner = real(self, step_fn)

        def step(batch):
            logs = inner(batch)
            hook(self, self.total_done() + 1, logs)  # the counter is incremented after this
            return logs

        return step

    monkeypatch.setattr(trainer_module.Trainer, "_compiled", compiled)


@pytest.mark.slow
def test_second_sigterm_during_the_emergency_checkpoint_does_not_lose_it(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    _hook_steps(monkeypatch, lambda t, g, logs: g == 2 and os.kill(os.getpid(), signal.SIGTERM))
    real_write = tf.train.Checkpoint.write

    def write(self, prefix, *a, **k):  # the emergency save: signalled again while it runs
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        return real_write(self, prefix, *a, **k)

    monkeypatch.setattr(tf.train.Checkpoint, "write", write)
    assert _run(out, "--pretrain-steps", "100", "--ckpt-every", "1000") == 143
    captured = capsys.readouterr()
    assert "interrupted at step 2: checkpoint saved" in captured.out
    assert "still saving the checkpoint" in captured.err
    monkeypatch.undo()
    assert _step_of(tf.train.latest_checkpoint(str(out / "checkpoints"))) == 2


@pytest.mark.slow
def test_second_ctrl_c_just_after_the_emergency_checkpoint_changes_nothing(tmp_path, monkeypatch,
                                                                           capsys):
    """It raised a second Interrupted on the way out: exit 1, "error: Interrupted: SIGINT"."""
    out = tmp_path / "run"
    _hook_steps(monkeypatch, lambda t, g, logs: g == 2 and os.kill(os.getpid(), signal.SIGINT))
    real_save = trainer_module.Trainer._save_on_interrupt

    def save_then_ctrl_c_again(self, e):
        code = real_save(self, e)
        os.kill(os.getpid(), signal.SIGINT)  # as its message appears
        return code

    monkeypatch.setattr(trainer_module.Trainer, "_save_on_interrupt", save_then_ctrl_c_again)
    assert _run(out, "--pretrain-steps", "100", "--ckpt-every", "1000") == 130
    captured = capsys.readouterr()
    assert "interrupted at step 2: checkpoint saved" in captured.out
    assert captured.err.split() == "SIGINT again: still stopping, please wait".split()
    assert _step_of(tf.train.latest_checkpoint(str(out / "checkpoints"))) == 2


# -- 17.8: a resumed run equals the uninterrupted one ---------------------------------------------
def _folder_of_photos(folder: Path, n: int = 3, size: int = 96) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        smooth = rng.uniform(0, 255, (size // 8, size // 8, 3)).astype(np.uint8)
        Image.fromarray(smooth).resize((size, size), Image.BICUBIC).save(folder / f"p{i}.png")
    return folder


@pytest.mark.slow
def test_run_killed_twice_ends_with_the_weights_of_the_uninterrupted_run(tmp_path, monkeypatch):
    """The in-memory pool end to end; the streamed and Real-ESRGAN paths' batches are compared
    with the uninterrupted stream's in the next test."""
    args = ["--preset", "tiny", "--pretrain-steps", "3", "--gan-steps", "3", "--ckpt-every", "1000",
            "--val-every", "1000", "--log-every", "1000"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert train.main([*args, "--out", str(whole)]) == 0

    kill_at = {2, 4}  # one in each phase; each at a step no checkpoint was planned for

    def hook(trainer, g, logs):
        if g in kill_at:
            kill_at.discard(g)
            os.kill(os.getpid(), signal.SIGTERM)

    _hook_steps(monkeypatch, hook)
    assert train.main([*args, "--out", str(killed)]) == 143
    assert train.main([*args, "--out", str(killed)]) == 143
    assert train.main([*args, "--out", str(killed)]) == 0
    assert not kill_at
    for name in ("generator", "discriminator"):
        a = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(whole / "checkpoints")))
        b = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(killed / "checkpoints")))
        keys = [k for k in a.get_variable_to_shape_map() if k.startswith(name + "/")]
        assert keys
        for k in keys:
            np.testing.assert_allclose(a.get_tensor(k), b.get_tensor(k), rtol=1e-5, atol=1e-6,
                                       err_msg=k)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["pool", "stream", "realesrgan_jitter"])
def test_the_batches_from_a_step_on_are_those_of_the_uninterrupted_stream(tmp_path, source):
    over = {}
    if source == "stream":
        over = {"data": str(_folder_of_photos(tmp_path / "p")), "cache_gib": 1e-9}
    elif source == "realesrgan_jitter":
        over = {"degradation": "realesrgan", "color_jitter": True}
    cfg = get_config("tiny", **over)
    whole = [b for _, b in zip(range(11), data.training_dataset(cfg))]
    resumed = [b for _, b in zip(range(3), data.training_dataset(cfg, start_step=8))]
    for a, b in zip(whole[8:], resumed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert not np.array_equal(whole[8][1].numpy(), whole[9][1].numpy())


# -- 17.4 / 13.6: a stream whose files all fail to decode ------------------------------------------
def _undecodable(folder: Path, n: int) -> Path:
    """PNGs whose header reads (so the scan keeps them) but whose pixel data is cut off."""
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(n):
        p = folder / f"bad{i}.png"
        Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)).save(p)
        p.write_bytes(p.read_bytes()[:400])
        with Image.open(p) as im:
            assert im.size == (96, 96)
    return folder


@pytest.mark.slow
def test_stream_where_every_file_fails_to_decode_stops_with_one_sentence(tmp_path):
    folder = _undecodable(tmp_path / "bad", 30)
    res = subprocess.run([sys.executable, "-m", "srgan_keras.train", *PRETRAIN, "--out",
                          str(tmp_path / "run"), "--data", str(folder), "--cache-gib", "1e-9"],
                         cwd=REPO, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert res.returncode == 2, res.stderr[-3000:]
    err = [line for line in res.stderr.splitlines() if line.startswith("error")]
    assert len(err) == 1 and "none of the 30 files decodes" in err[0], res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    assert len([line for line in res.stderr.splitlines() if "warning: skipped" in line]) <= 21


def test_stream_skips_broken_files_once_and_keeps_going(tmp_path, capsys):
    bad = _undecodable(tmp_path / "mixed", 3)
    _folder_of_photos(tmp_path / "good", n=2)
    for p in (tmp_path / "good").iterdir():
        p.rename(bad / p.name)
    cfg = get_config("tiny", data=str(bad), cache_gib=1e-9)
    paths = sorted(bad.iterdir())
    gen = batches.streamed_batches(paths, cfg, seed=0)
    got = [next(gen) for _ in range(40)]
    assert all(b.shape == (2, 64, 64, 3) for b in got)
    warnings = capsys.readouterr().err.count("warning: skipped")
    assert warnings == 3  # each broken file named once, never retried


def test_stream_gives_up_when_the_first_files_tried_all_fail(tmp_path, monkeypatch):
    monkeypatch.setattr(batches, "MAX_FAILURES_BEFORE_FIRST_DECODE", 5)
    folder = _undecodable(tmp_path / "bad", 12)
    cfg = get_config("tiny", data=str(folder), cache_gib=1e-9)
    with pytest.raises(sources.DataError, match="the first 6 files tried all fail to decode"):
        next(batches.streamed_batches(sorted(folder.iterdir()), cfg, seed=0))


# -- 13.6: no NaN checkpoint ------------------------------------------------------------------------
@pytest.mark.slow
def test_nan_on_a_step_that_is_not_logged_never_reaches_a_checkpoint(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"

    def poison(trainer, g, logs):
        if g >= 3:
            for v in trainer.G.trainable_variables:
                v.assign(tf.fill(v.shape, float("nan")))
            logs["g_loss"] = tf.constant(float("nan"))

    _hook_steps(monkeypatch, poison)
    assert _run(out, "--pretrain-steps", "6", "--ckpt-every", "1", "--log-every", "100") == 3
    err = capsys.readouterr().err
    assert "became NaN/Inf at step 3" in err and "ckpt-2" in err
    assert _step_of(tf.train.latest_checkpoint(str(out / "checkpoints"))) == 2


@pytest.mark.slow
def test_nan_weights_behind_a_finite_loss_are_not_saved(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"

    def poison(trainer, g, logs):
        if g == 2:
            v = trainer.G.trainable_variables[0]
            v.assign(tf.fill(v.shape, float("inf")))

    _hook_steps(monkeypatch, poison)
    assert _run(out, "--pretrain-steps", "6", "--ckpt-every", "2", "--log-every", "100") == 3
    err = capsys.readouterr().err
    assert "weight tensors hold NaN/Inf" in err and "none yet" in err
    assert not list((out / "checkpoints").glob("ckpt-*"))


# -- 17.9: --init-from a .keras that safe mode refuses ----------------------------------------------
def test_init_from_a_keras_file_with_a_lambda_layer_is_one_line_and_exit_2(tmp_path, capsys):
    inp = keras.Input((None, None, 3))
    model = keras.Model(inp, keras.layers.Lambda(lambda x: x * 2.0)(inp))
    path = tmp_path / "lambda.keras"
    model.save(path)
    assert _run(tmp_path / "run", "--init-from", str(path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --init-from {path}: cannot be loaded in safe mode")


# -- compatibility with tf.train.CheckpointManager (the long run's checkpoints) -----------------------
def test_checkpoints_of_the_manager_resume_and_the_manager_reads_ours(tmp_path):
    v = tf.Variable(tf.zeros(4))
    step = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(generator=tf.train.Checkpoint(w=v), pretrain_steps_done=step)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    for i in range(1, 5):
        v.assign(tf.fill([4], float(i)))
        step.assign(i)
        manager.save()  # ckpt-2, ckpt-3, ckpt-4 kept
    v.assign(tf.zeros(4))
    store = CheckpointStore(ckpt, tmp_path, max_to_keep=3, finite=[v])
    assert Path(store.restore().path).name == "ckpt-4" and float(v[0]) == 4.0
    assert Path(store.save()).name == "ckpt-5"
    assert not (tmp_path / "ckpt-2.index").exists()  # a clean resume rotates as the manager does
    again = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    assert [Path(p).name for p in again.checkpoints] == ["ckpt-3", "ckpt-4", "ckpt-5"]
    assert again.latest_checkpoint == str(tmp_path / "ckpt-5")
    assert "ckpt-5" in (tmp_path / "checkpoint").read_text() and str(tmp_path) not in (
        tmp_path / "checkpoint").read_text()  # relative names: the folder can be moved
