"""``python -m srgan_keras.training.snapshot``: a run's generator from one of its checkpoints."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from srgan_keras.training import snapshot, train

# The slow tier: its fixture trains a run with checkpoints (about 1.5 minutes on 2 cores).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny run with both phases and an EMA, a checkpoint after every step."""
    out = tmp_path_factory.mktemp("snap") / "run"
    assert train.main(["--preset", "tiny", "--out", str(out), "--ema-decay", "0.5",
                       "--ckpt-every", "1"]) == 0
    return out


def test_the_newest_checkpoint_gives_the_generator_the_run_saved(run_dir, tmp_path, capsys):
    """generator.keras is the EMA twin of the last step; the snapshot of the newest checkpoint must
    carry the same weights (G's raw weights or the pre-training EMA would differ)."""
    out = tmp_path / "g.keras"
    assert snapshot.main([str(run_dir), "-o", str(out)]) == 0
    assert "GAN step" in capsys.readouterr().out
    saved = keras.saving.load_model(run_dir / "generator.keras", safe_mode=True, compile=False)
    snap = keras.saving.load_model(out, safe_mode=True, compile=False)
    assert len(saved.weights) == len(snap.weights)
    for a, b in zip(saved.get_weights(), snap.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert {layer.dtype_policy.name for layer in snap.layers} == {"float32"}


def test_an_older_checkpoint_is_another_step(run_dir, tmp_path):
    numbers = sorted(int(p.stem.split("-")[1]) for p in (run_dir / "checkpoints").glob("ckpt-*.index"))
    assert len(numbers) >= 2
    info = snapshot.snapshot(run_dir, tmp_path / "old.keras", numbers[0])
    newest = snapshot.snapshot(run_dir, tmp_path / "new.keras", None)
    assert info["pretrain_steps"] + info["gan_steps"] < newest["pretrain_steps"] + newest["gan_steps"]
    old = keras.saving.load_model(tmp_path / "old.keras", safe_mode=True, compile=False).get_weights()
    new = keras.saving.load_model(tmp_path / "new.keras", safe_mode=True, compile=False).get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(old, new))


@pytest.mark.parametrize("args, sentence", [
    (["{tmp}", "-o", "{tmp}/g.keras"], "is not a run folder"),
    (["{run}", "-o", "{tmp}/g.keras", "--checkpoint", "999"], "ckpt-999.index does not exist"),
    (["{run}", "-o", "{tmp}/g.h5"], "must end in .keras"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(run_dir, tmp_path, capsys, args, sentence):
    argv = [a.format(tmp=tmp_path, run=run_dir) for a in args]
    assert snapshot.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert sentence in err and len(err.splitlines()) == 1
    assert not list(tmp_path.glob("g.*"))


# -- issue 27.10: a full disk, a read-only folder, -o a folder: one line --------------------------
def test_a_snapshot_that_cannot_be_written_is_one_line(run_dir, tmp_path, capsys, monkeypatch):
    import errno
    import os

    from srgan_keras.data import files

    out = tmp_path / "ro"
    out.mkdir()
    code = errno.EROFS if os.geteuid() == 0 else errno.ENOSPC  # root writes through 0o555

    def fail(*a, **k):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files, "new_temp", fail)
    assert snapshot.main([str(run_dir), "-o", str(out / "g.keras")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(out / "g.keras") in err[0] and "cannot write" in err[0], err
    assert list(out.iterdir()) == []
    monkeypatch.undo()
    if os.geteuid() != 0:
        out.chmod(0o555)
        try:
            assert snapshot.main([str(run_dir), "-o", str(out / "g.keras")]) == 2
        finally:
            out.chmod(0o755)
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "permission denied" in err[0], err


def test_a_snapshot_onto_a_folder_is_one_line_saying_so(run_dir, tmp_path, capsys):
    folder = tmp_path / "g.keras"
    folder.mkdir()
    for extra in ([], ["--overwrite"]):
        assert snapshot.main([str(run_dir), "-o", str(folder), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"-o {folder} is a folder" in err[0], err
    assert list(folder.iterdir()) == []
