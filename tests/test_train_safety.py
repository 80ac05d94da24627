"""Issue 27, the training cases: a run keeps what it did not make, one run per folder, and settings
that cannot work are refused before anything is created (cases 3, 4, 10 train part, 11).

Each test fails on the code before the fix; tiny configs, one short run at most.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from srgan_keras.training import train
from srgan_keras.training.trainer import Trainer

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
TINY = ["--preset", "tiny", "--phase", "pretrain", "--pretrain-steps", "1", "--val-every", "1000",
        "--log-every", "1000"]


def snapshot_tree(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` with its bytes, inode and mtime (None for folders' bytes)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.stat()
        out[str(p.relative_to(root))] = (None if p.is_dir() else p.read_bytes(), st.st_ino,
                                         None if p.is_dir() else st.st_mtime_ns)
    return out


def our_config(out: Path, *flags: str) -> str:
    """The config.json ``train.main([*TINY, *flags, "--out", out])`` writes."""
    cfg = train.config_from_args(train.parse_args([*TINY, *flags, "--out", str(out)]))
    return json.dumps({"preset": "tiny", **json.loads(cfg.to_json())}, indent=2)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# -- 27.3: one run per folder ------------------------------------------------------------------
def test_a_second_run_on_the_same_folder_is_refused_while_the_first_runs(tmp_path, monkeypatch,
                                                                         capsys):
    out = tmp_path / "run"
    seen = {}
    finish = Trainer.finish

    def second_run_meanwhile(self):
        before = snapshot_tree(out)
        seen["rc"] = train.main([*TINY, "--out", str(out)])
        seen["err"] = capsys.readouterr().err
        seen["unchanged"] = snapshot_tree(out) == before
        finish(self)

    monkeypatch.setattr(Trainer, "finish", second_run_meanwhile)
    assert train.main([*TINY, "--out", str(out)]) == 0
    err = seen["err"].strip().splitlines()
    assert seen["rc"] == 2 and len(err) == 1, err
    assert f"--out {out} is in use by process {os.getpid()}" in err[0]
    assert seen["unchanged"]
    assert (out / "generator.keras").is_file() and not (out / ".lock").exists()


_HOLD = """
import sys, time
from srgan_keras.data.files import folder_lock
with folder_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_killed_run_leaves_no_stale_lock(tmp_path, capsys):
    from srgan_keras.data.files import folder_lock

    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(out)], env=ENV, text=True,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert train.main([*TINY, "--out", str(out)]) == 2
        assert f"is in use by process {holder.pid}" in one_error_line(capsys)
        assert sorted(p.name for p in out.iterdir()) == [".lock"]  # the holder's, untouched
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with folder_lock(out):  # the kernel dropped the dead holder's lock
        pass
    assert list(out.iterdir()) == []


# -- 27.4: a folder that is not this run's -----------------------------------------------------
def _user_files(out: Path) -> None:
    out.mkdir()
    (out / "config.json").write_text('{"learning_rate": 0.1}')  # a config of the user's
    (out / "samples.png").write_bytes(b"the user's samples")
    (out / "result.json").write_text("{}")


def _other_checkpoints(out: Path) -> None:
    import tensorflow as tf

    ckpt = tf.train.Checkpoint(w=tf.Variable(tf.ones(3)))
    tf.train.CheckpointManager(ckpt, str(out / "checkpoints"), max_to_keep=2).save()


def _list_config(out: Path) -> None:
    out.mkdir()
    (out / "config.json").write_text("[1, 2]")


def _finished_other_schedule(out: Path) -> None:
    out.mkdir()
    (out / "config.json").write_text(our_config(out, "--lr-gamma", "0.5"))
    (out / "generator.keras").write_bytes(b"an earlier run's generator")
    (out / "result.json").write_text('{"psnr": 30}')


@pytest.mark.parametrize("make, sentence", [
    (_user_files, "a config.json that is not a run of this trainer"),
    (_other_checkpoints, "no config.json of a run of this trainer"),
    (_list_config, "a config.json that is not a run of this trainer"),
    (_finished_other_schedule, "holds the results of a run with other settings (lr_gamma 0.5 -> 0.1)"),
], ids=["user-files", "other-project-checkpoints", "list-config", "finished-other-settings"])
def test_train_refuses_a_folder_that_is_not_this_run_and_changes_nothing(tmp_path, capsys, make,
                                                                         sentence):
    out = tmp_path / "run"
    make(out)
    before = snapshot_tree(out)
    assert train.main([*TINY, "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert sentence in line, line
    assert snapshot_tree(out) == before


def test_a_checkpoint_error_that_says_nothing_was_changed_changes_nothing(tmp_path, capsys):
    """Our config.json, but checkpoints that are readable and of another layout: restore fails
    after the preflight; config.json must not be rewritten, logs/ not created."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(our_config(out))
    _other_checkpoints(out)
    before = snapshot_tree(out)
    assert train.main([*TINY, "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert "nothing was changed" in line, line
    assert snapshot_tree(out) == before and not (out / "logs").exists()


# -- 27.10: settings that cannot work, refused before anything is made -------------------------
@pytest.mark.parametrize("flags, sentence", [
    (["--ckpt-every", "0"], "--ckpt-every must be >= 1"),
    (["--log-every", "0"], "--log-every must be >= 1"),
    (["--val-every", "0"], "--val-every must be >= 1"),
    (["--hr-size", "0"], "--hr-size 0 must be"),
    (["--pretrain-lr", "-1"], "--pretrain-lr must be a positive number"),
    (["--gan-lr", "nan"], "--gan-lr must be a positive number"),
    (["--batch-size", "100000"], "--batch-size 100000 at --hr-size 64 makes"),
], ids=["ckpt-every", "log-every", "val-every", "hr-size", "pretrain-lr", "gan-lr", "batch-size"])
def test_settings_that_cannot_work_are_refused_before_the_run_folder_exists(tmp_path, capsys, flags,
                                                                           sentence):
    out = tmp_path / "run"
    assert train.main([*TINY, "--out", str(out), *flags]) == 2
    line = one_error_line(capsys)
    assert sentence in line, line
    assert not out.exists()


# -- 27.11: built-in photos smaller than the crop ----------------------------------------------
def test_images_smaller_than_the_crop_are_skipped_from_the_pool_with_a_warning(monkeypatch, capsys):
    """``--preset realesrgan`` crops 256 px; two built-in photos (page, text) are smaller, and
    ``pool_batches`` drew offsets from a negative range (``ValueError: high <= 0``)."""
    import numpy as np

    from srgan_keras.data import batches, sources
    from srgan_keras.training.config import get_config

    small = np.zeros((20, 40, 3), np.uint8)
    big = np.full((40, 48, 3), 200, np.uint8)
    monkeypatch.setattr(sources, "builtin_images",
                        lambda names=None: [("builtin:small", small), ("builtin:big", big)])
    cfg = get_config("tiny", hr_size=32, batch_size=2)
    pool = sources.load_pool(cfg)
    assert pool.names == ["builtin:big"]
    err = capsys.readouterr().err
    assert "skipped 1 of 2 image files: builtin:small: too small (40x20 < 32 px)" in err, err
    batches = batches.pool_batches(pool, cfg, seed=0)
    for _ in range(20):
        hr, _lr = next(batches)
        assert hr.shape == (2, 32, 32, 3)
