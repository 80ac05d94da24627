"""Set5/Set14 for students without ``../shared/data`` (issue 25.5), against a local HTTP server on
127.0.0.1 that serves the project's own copies: nothing reaches the internet."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_keras.data import sets

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def mirror(server, shared_data, monkeypatch):
    """The server serves ``../shared/data``'s Set5 and Set14 under the published layout."""
    for name, files in sets.SETS.items():
        for f in files:
            server.files[f"{name}/{f.name}"] = (shared_data / name / f.name).read_bytes()
    monkeypatch.setenv(sets.URL_ENV, server.url)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return server


def test_the_table_is_the_copies_the_evaluation_reproduces_the_paper_with(shared_data):
    for name, files in sets.SETS.items():
        assert sorted(p.name for p in (shared_data / name).glob("*.png")) == sorted(f.name for f in files)
        for f in files:
            path = shared_data / name / f.name
            assert path.stat().st_size == f.size
            assert sets.verified(path, f)


def test_fetches_both_sets_then_makes_no_request_the_second_time(mirror, tmp_path, shared_data,
                                                                 capsys):
    assert sets.main(["-o", str(tmp_path / "data")]) == 0
    assert capsys.readouterr().out.strip() == (
        f"Set5, Set14 in {tmp_path / 'data'}: 19 fetched, 0 already there, 0 failed (of 19)")
    for name in sets.SETS:
        for f in sets.SETS[name]:
            assert (tmp_path / "data" / name / f.name).read_bytes() == \
                (shared_data / name / f.name).read_bytes()
    assert len(mirror.hits) == 19
    assert sets.main(["set5", "-o", str(tmp_path / "data")]) == 0  # any case
    assert "0 fetched, 5 already there" in capsys.readouterr().out
    assert len(mirror.hits) == 19
    assert sets.find_data(tmp_path) == tmp_path / "data"


def test_a_recompressed_png_with_the_same_pixels_is_accepted(mirror, tmp_path, shared_data):
    with Image.open(shared_data / "Set5" / "bird.png") as im:
        buf = io.BytesIO()
        im.save(buf, format="PNG", compress_level=1)  # other bytes, the same pixels
    mirror.files["Set5/bird.png"] = buf.getvalue()
    assert buf.getvalue() != (shared_data / "Set5" / "bird.png").read_bytes()
    assert sets.main(["Set5", "-o", str(tmp_path)]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "Set5" / "bird.png")),
                          np.asarray(Image.open(shared_data / "Set5" / "bird.png")))


def test_a_wrong_file_a_huge_one_and_a_missing_one_fail_alone_and_leave_nothing(
        mirror, tmp_path, shared_data, capsys):
    with Image.open(shared_data / "Set5" / "head.png") as im:
        buf = io.BytesIO()
        im.rotate(90).save(buf, format="PNG")
    mirror.files["Set5/head.png"] = buf.getvalue()  # another picture
    mirror.files["Set5/baby.png"] = b"\0" * (3 * sets.SETS["Set5"][0].size)  # beyond the cap
    del mirror.files["Set5/woman.png"]  # 404
    assert sets.main(["Set5", "-o", str(tmp_path)]) == 1
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines), lines
    assert "baby.png" in lines[0] and "more than" in lines[0]
    assert "head.png" in lines[1] and "refused, nothing written" in lines[1]
    assert "woman.png" in lines[2] and f"put it at {tmp_path / 'Set5' / 'woman.png'}" in lines[2]
    assert "2 fetched, 0 already there, 3 failed (of 5)" in out.out
    assert sorted(p.name for p in (tmp_path / "Set5").iterdir()) == ["bird.png", "butterfly.png"]


def test_a_file_of_yours_with_the_same_name_is_never_replaced(mirror, tmp_path, capsys):
    mine = tmp_path / "Set5" / "baby.png"
    mine.parent.mkdir()
    mine.write_bytes(b"my own baby photo")
    assert sets.main(["Set5", "-o", str(tmp_path)]) == 1
    assert mine.read_bytes() == b"my own baby photo"
    err = capsys.readouterr().err
    assert f"{mine}: exists and is not Set5's baby.png" in err and "left as it is" in err


@pytest.mark.slow
def test_offline_is_one_line_per_file_and_the_cli_needs_no_tensorflow(tmp_path):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env[sets.URL_ENV] = "http://127.0.0.1:9"  # the discard port: nothing listens
    proc = subprocess.run([sys.executable, "-c",
                           "import sys, runpy; sys.argv = ['fetch_data', 'Set5', '-o', sys.argv[1]]\n"
                           "try: runpy.run_module('srgan_keras.fetch_data', run_name='__main__')\n"
                           "finally: print('tensorflow loaded:', 'tensorflow' in sys.modules)",
                           str(tmp_path)], capture_output=True, text=True, env=env, timeout=120,
                          cwd=REPO)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 5 and all("could not download http://127.0.0.1:9/Set5/" in line
                                   for line in lines), lines
    assert "0 fetched, 0 already there, 5 failed (of 5)" in proc.stdout
    assert "tensorflow loaded: False" in proc.stdout
    assert not (tmp_path / "Set5").exists()  # not even an empty folder
