"""Issue 27.10, the rest: export, convert and snapshot end in one line, not a traceback, when
the disk is full, the folder read-only or -o a folder; an exported model that loads but fails
when run is one line naming its file.

A full disk is simulated in-process (the write raises ``OSError(ENOSPC)``, or, for TensorFlow's
SavedModel writer, the ``ResourceExhaustedError`` it raises there), and once on a real small
tmpfs where a user namespace can mount one; a read-only folder
is a real ``chmod 0o555`` except as root (whom the mode does not stop), where the write raises
``EROFS``.
"""

from __future__ import annotations

import errno
import importlib
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_keras.data import files


def disk_error(code: int):
    def raise_(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return raise_


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], err
    return err[0]


def test_export_on_a_full_disk_is_one_line_and_leaves_nothing(tiny_keras, tmp_path, capsys,
                                                              monkeypatch):
    from srgan_keras.export import export as ex

    monkeypatch.setattr(ex, "tflite_bytes", lambda *a, **k: b"TFL3" * 16)  # no conversion
    monkeypatch.setattr(Path, "write_bytes", disk_error(errno.ENOSPC))
    out = tmp_path / "out"
    out.mkdir()
    assert ex.main(["--model", str(tiny_keras), "--to", "tflite", "-o", str(out / "g.tflite")]) == 2
    line = one_error_line(capsys)
    assert str(out / "g.tflite") in line and "no space left" in line, line
    assert list(out.iterdir()) == []  # the staging folder went too


def test_saved_model_export_on_a_full_disk_is_one_line_and_leaves_nothing(tiny_keras, tmp_path,
                                                                         capsys, monkeypatch):
    """TensorFlow's SavedModel writer reports a full disk as its own ResourceExhaustedError, not
    an OSError (seen on a 300 KB tmpfs: the message below, from SaveV2); the export still ends in
    our one line, and the staging folder with TF's half-written variables goes."""
    import tensorflow as tf

    from srgan_keras.export.export import main as export

    def full_disk(obj, export_dir, **kwargs):  # Keras' ExportArchive.write_out calls it
        temp = Path(export_dir) / "variables" / "variables_temp"
        temp.mkdir(parents=True)
        (temp / "part-00000-of-00001.data-00000-of-00001.tempstate1").write_bytes(b"x" * 100)
        raise tf.errors.ResourceExhaustedError(
            None, None, f"{{{{function_node __wrapped__SaveV2}}}} {temp}/part-00000-of-00001"
                        ".data-00000-of-00001.tempstate1; No space left on device [Op:SaveV2]")

    # Keras' write_out imports tensorflow.saved_model.experimental, which puts a new
    # tensorflow.saved_model module in place the first time: import it first, then patch that one.
    importlib.import_module("tensorflow.saved_model.experimental")
    monkeypatch.setattr(tf.saved_model, "save", full_disk)
    out = tmp_path / "out"
    out.mkdir()
    assert export(["--model", str(tiny_keras), "--to", "saved_model", "-o", str(out / "sm")]) == 2
    line = one_error_line(capsys)
    assert str(out / "sm") in line and "no space left" in line, line
    assert list(out.iterdir()) == []  # the staging folder went too


@pytest.mark.slow
def test_saved_model_export_onto_a_real_full_disk(tiny_keras, tmp_path):
    """The same on a real 60 KB tmpfs, mounted in a user and mount namespace of its own (skipped
    where ``unshare -rm`` is not allowed)."""
    import shutil
    import subprocess
    import sys

    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=60k", "tmpfs", str(mnt)],
            capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (unshare -rm)")
    script = (f'mount -t tmpfs -o size=60k tmpfs "{mnt}" && "{sys.executable}" -m '
              f'srgan_keras.export --model "{tiny_keras}" --to saved_model -o "{mnt}/sm"; '
              f'rc=$?; ls -A "{mnt}"; exit $rc')
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: -o {mnt}/sm: cannot write (no space left"), err
    assert done.stdout == ""  # ls -A: nothing left on the disk


def test_convert_on_a_full_disk_is_one_line_and_leaves_nothing(tiny_pth, tmp_path, capsys,
                                                               monkeypatch):
    import keras

    from srgan_keras.export.convert import main as convert

    monkeypatch.setattr(keras.Model, "save", disk_error(errno.ENOSPC))
    out = tmp_path / "out"
    out.mkdir()
    assert convert([str(tiny_pth), "-o", str(out / "g.keras")]) == 2
    line = one_error_line(capsys)
    assert str(out / "g.keras") in line and "no space left" in line, line
    assert list(out.iterdir()) == []


def test_convert_into_a_read_only_folder_is_one_line(tiny_pth, tmp_path, capsys, monkeypatch):
    from srgan_keras.export.convert import main as convert

    out = tmp_path / "ro"
    out.mkdir()
    if os.geteuid() == 0:  # root writes through 0o555: make the write fail as a read-only mount
        monkeypatch.setattr(files, "new_temp", disk_error(errno.EROFS))
        why = "read-only"
    else:
        out.chmod(0o555)
        why = "permission denied"
    try:
        assert convert([str(tiny_pth), "-o", str(out / "g.keras")]) == 2
    finally:
        out.chmod(0o755)
    line = one_error_line(capsys)
    assert str(out / "g.keras") in line and why in line, line
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_convert_onto_a_folder_is_one_line_saying_so(tiny_pth, tmp_path, capsys, overwrite):
    from srgan_keras.export.convert import main as convert

    folder = tmp_path / "g.keras"
    folder.mkdir()
    (folder / "mine.txt").write_text("x")
    assert convert([str(tiny_pth), "-o", str(folder), *overwrite]) == 2
    line = one_error_line(capsys)
    assert f"-o {folder} is a folder" in line, line
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]


# -- an exported model that loads but fails when run -------------------------------------------
@pytest.fixture(scope="module")
def broken_exports(tmp_path_factory) -> dict[str, Path]:
    """A SavedModel and a .tflite with the float signature of ours whose graph only runs on a
    7x7 input (a reshape), so the first run, at any other size, fails."""
    import tensorflow as tf

    folder = tmp_path_factory.mktemp("broken")

    class Broken(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
        def upscale_float(self, lr):
            x = tf.reshape(lr, [1, 7, 7, 3])
            return {"sr": tf.image.resize(x, [28, 28])}

    module = Broken()
    sm = folder / "broken_savedmodel"
    tf.saved_model.save(module, str(sm), signatures={"upscale_float": module.upscale_float})
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [module.upscale_float.get_concrete_function()], module)
    (folder / "broken.tflite").write_bytes(converter.convert())
    return {"saved_model": sm, "tflite": folder / "broken.tflite"}


@pytest.mark.parametrize("kind", ["saved_model", "tflite"])
def test_an_exported_model_that_fails_when_run_is_one_line_naming_it(broken_exports, tmp_path,
                                                                     capsys, kind):
    from srgan_keras.evaluation.evaluate import main as evaluate
    from srgan_keras.inference.upscale import main as upscale

    model = str(broken_exports[kind])
    data = tmp_path / "data"
    data.mkdir()
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(data / "a.png")
    for cli, argv in ((upscale, [str(data / "a.png"), "-o", str(tmp_path / "up"), "--model",
                                 model, "-q"]),
                      (evaluate, ["--model", model, "--data", str(data)])):
        capsys.readouterr()
        assert cli(argv) == 2, cli.__module__
        line = one_error_line(capsys)
        assert model in line and "fails when run" in line, (cli.__module__, line)
    assert not (tmp_path / "up").exists() or not any((tmp_path / "up").iterdir())
