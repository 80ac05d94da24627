"""A newcomer's first ten minutes (issue 28.1): the README's first block, word for word.

Its lines are a user install in a virtual environment, ``upscale --example`` on the sample photo
the package ships (``srgan_keras/samples/``), and the quick test command; these tests read them
from the README itself, so the README cannot drift from what is checked.
"""

from __future__ import annotations

import re
import shlex
from importlib.resources import files
from pathlib import Path

import pytest
from PIL import Image

from srgan_keras.inference import upscale as cli

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def first_block() -> list[str]:
    """The command lines of the README's first code block, their ``# comments`` dropped."""
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    return [re.sub(r"\s+#\s.*$", "", line) for line in block.splitlines() if line.strip()]


def test_the_sample_photo_ships_with_its_licence():
    sample = files("srgan_keras.samples") / "coffee.jpg"
    assert sample.is_file()
    with Image.open(sample) as im:  # small and visibly degraded: a JPEG thumbnail
        assert (im.format, im.size) == ("JPEG", (180, 120))
    assert len(sample.read_bytes()) < 30_000
    notice = (files("srgan_keras.samples") / "NOTICE").read_text()
    assert "skimage.data.coffee()" in notice and "CC0" in notice
    # a non-editable install carries it too (the wheel test checks the built wheel)
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "srgan_keras.samples" in data["packages"]
    assert {"*.jpg", "NOTICE"} <= set(data["package-data"]["srgan_keras.samples"])


def test_example_upscales_the_sample(tmp_path, capsys):
    rc = cli.main(["--example", "-o", str(tmp_path / "up"), "--model", "bicubic", "-q"])
    assert rc == 0
    with Image.open(tmp_path / "up" / "coffee_x4.jpg") as im:
        assert im.size == (720, 480)
    assert capsys.readouterr().out.splitlines() == [f"1 upscaled, 0 failed -> {tmp_path / 'up'}/"]


def test_a_run_that_writes_nothing_does_not_name_a_folder(tmp_path, capsys, monkeypatch):
    """The issue's first friction: ``-> upscaled/`` was printed for a folder never created."""
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["photo.jpg", "-o", "upscaled/", "--model", "bicubic"])
    out, err = capsys.readouterr()
    assert rc == 1 and "photo.jpg: no such file or folder" in err
    assert out.splitlines() == ["0 upscaled, 1 failed; nothing written"]
    assert not (tmp_path / "upscaled").exists()


def test_no_input_and_no_example_says_what_to_give(capsys):
    with pytest.raises(SystemExit) as e:
        cli.parse_args([])
    assert e.value.code == 2 and "--example" in capsys.readouterr().err


def test_readme_first_block_sets_up_upscales_the_sample_and_tests():
    setup, upscale, tests = first_block()
    assert setup == "python -m venv .venv && . .venv/bin/activate && pip install ."  # a user install
    assert upscale.startswith("python -m srgan_keras.upscale --example")
    # the dev extras (pytest) are installed for the tests only; the quick tier, as under Tests
    assert tests == 'pip install -e ".[dev]" && python -m pytest -q -m "not slow and not notebooks"'
    assert f"\n{tests.split(' && ')[1]}  " in README


def test_readme_first_upscale_line_runs_as_written(tmp_path, monkeypatch, capsys):
    """The line itself, in a fresh folder, with the default (bundled real-world) model: about
    2 s for the 180x120 sample on a 2-core CPU."""
    words = shlex.split(first_block()[1])
    assert words[:3] == ["python", "-m", "srgan_keras.upscale"]
    monkeypatch.chdir(tmp_path)
    assert cli.main(words[3:]) == 0
    with Image.open(tmp_path / "upscaled" / "coffee_x4.jpg") as im:
        assert im.size == (720, 480)
    assert capsys.readouterr().out.splitlines()[-1] == "1 upscaled, 0 failed -> upscaled/"


@pytest.mark.slow
def test_the_first_two_lines_install_and_upscale_outside_the_checkout(tmp_path):
    """The README's set-up line and upscale line, run by a shell in a fresh folder: the package
    installed (not the checkout) upscales its bundled sample with the bundled default model.

    One departure from word for word: the venv sees this machine's site-packages and pip is told
    ``--no-deps --no-build-isolation``, because the test machine has no internet for TensorFlow;
    what is checked is that the installed package, not the repository, carries what the line needs.
    """
    import os
    import subprocess
    import sys

    setup, up = first_block()[:2]
    assert setup.startswith("python -m venv .venv && . .venv/bin/activate && pip install .")
    assert up == "python -m srgan_keras.upscale --example -o upscaled/"
    install = (f"{sys.executable} -m venv --system-site-packages --without-pip .venv && "
               f". .venv/bin/activate && python -m pip install -q --no-deps --no-build-isolation "
               f"{shlex.quote(str(REPO))}")
    where = "python -c 'import srgan_keras; print(srgan_keras.__file__)'"
    script = f"set -e; {install}; cd {shlex.quote(str(tmp_path / 'home'))}; {where}; {up}"
    (tmp_path / "home").mkdir()
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=900, env={k: v for k, v in os.environ.items()
                                            if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    module = Path(proc.stdout.splitlines()[0])
    assert tmp_path / ".venv" in module.parents, module  # the installed copy ran, not the checkout
    with Image.open(tmp_path / "home" / "upscaled" / "coffee_x4.jpg") as im:
        assert im.size == (720, 480)
    assert proc.stdout.splitlines()[-1] == "1 upscaled, 0 failed -> upscaled/"
