"""Importing is free (issue 26; STYLE 17): no TensorFlow, no stderr, signal or absl changes, no hooks.

The process-wide setup is :func:`srgan_keras.startup.run_cli`'s, when a command runs. Each check
runs in a fresh interpreter: this pytest process imported TensorFlow long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = ["nn", "data", "training", "evaluation", "inference", "export"]
# python -m srgan_keras.<name> -> the module that defines the command's main()
CLIS = {
    "train": "srgan_keras.training.train",
    "upscale": "srgan_keras.inference.upscale",
    "evaluate": "srgan_keras.evaluation.evaluate",
    "convert": "srgan_keras.export.convert",
    "interpolate": "srgan_keras.evaluation.interpolate",
    "model_card": "srgan_keras.evaluation.model_card",
    "fetch_data": "srgan_keras.data.sets",
    "export": "srgan_keras.export.export",
    "app": "srgan_keras.inference.webapp",
}
# the entry module of each: srgan_keras/<name>.py, export/__main__.py for the package
ENTRY = {c: "srgan_keras.export.__main__" if c == "export" else f"srgan_keras.{c}" for c in CLIS}

# Imports the modules named on its command line, then prints what changed in the process, and
# which chain of our modules imported TensorFlow (or Keras) first, if one did.
PROBE = '''
import importlib, json, os, signal, sys

first = {}


class WhoImports:
    def find_spec(self, name, path=None, target=None):
        if name in ("tensorflow", "keras") and name not in first:
            chain, f = [], sys._getframe(1)
            while f:
                n = f.f_globals.get("__name__", "")
                if n.startswith("srgan_keras") and (not chain or chain[-1] != n):
                    chain.append(n)
                f = f.f_back
            first[name] = " <- ".join(chain)
        return None


sys.meta_path.insert(0, WhoImports())
finders = list(sys.meta_path)
fd2, sigint = os.fstat(2), signal.getsignal(signal.SIGINT)
for name in sys.argv[1:]:
    importlib.import_module(name)
after = os.fstat(2)
print(json.dumps({
    "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules,
    "absl": "absl.logging" in sys.modules, "first": first,
    "fd2_same": (fd2.st_dev, fd2.st_ino) == (after.st_dev, after.st_ino),
    "sigint_same": signal.getsignal(signal.SIGINT) is sigint,
    "new_finders": [type(f).__name__ for f in sys.meta_path if f not in finders],
}))
'''


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "SRGAN_KERAS"))}
    env["PYTHONPATH"] = str(REPO)
    return env


@pytest.mark.parametrize("modules", [
    ["srgan_keras"],
    [f"srgan_keras.{s}" for s in STAGES],
    sorted(ENTRY.values()),
    sorted(set(CLIS.values())) + ["srgan_keras.training.snapshot", "srgan_keras.startup"],
], ids=["package", "stages", "entry-points", "cli-modules"])
def test_importing_changes_nothing_in_the_process(modules):
    proc = subprocess.run([sys.executable, "-c", PROBE, *modules], cwd=REPO, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr == "", proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    assert not got["tensorflow"] and not got["keras"], f"imported by {got['first']}"
    assert not got["absl"]
    assert got["fd2_same"] and got["sigint_same"] and got["new_finders"] == [], got


@pytest.mark.slow
def test_the_public_names_load_on_first_use():
    """``srgan_keras.load_generator`` and the rest still work: each loads its module when used."""
    script = ("import sys, srgan_keras; assert 'tensorflow' not in sys.modules; "
              "from srgan_keras.nn.srresnet import build_srresnet; "
              "from srgan_keras.training.config import PRESETS; "
              "assert srgan_keras.build_srresnet is build_srresnet and srgan_keras.PRESETS is PRESETS; "
              "assert all(getattr(srgan_keras, n) is not None for n in srgan_keras.__all__); "
              "print('tensorflow' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "True"  # build_srresnet's module needed Keras, and imported it


def _imported(importtime_stderr: str) -> set[str]:
    """Module names from ``-X importtime`` lines: ``import time: self | cumulative | name``."""
    return {ln.rsplit("|", 1)[1].strip() for ln in importtime_stderr.splitlines()
            if ln.startswith("import time:") and ln.count("|") == 2}


@pytest.mark.parametrize("cli", sorted(CLIS))
@pytest.mark.parametrize("form", ["python -m", "script"])
def test_help_answers_without_tensorflow(cli, form):
    """``--help`` in both forms: ``python -m srgan_keras.<cli>`` and the installed script, which
    calls the entry module's ``main()`` as below."""
    command = (["-m", f"srgan_keras.{cli}"] if form == "python -m" else
               ["-c", f"import sys; from {ENTRY[cli]} import main; sys.exit(main())"])
    proc = subprocess.run([sys.executable, "-X", "importtime", *command, "--help"], cwd=REPO,
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("usage: ") and "--help" in proc.stdout
    imported = _imported(proc.stderr)  # import statements only: importlib.import_module is not logged
    assert "srgan_keras.startup" in imported  # the log is there to read
    assert not [n for n in imported if n.split(".")[0] in ("tensorflow", "keras")]


def test_every_cli_has_its_script():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {f"srgan-{c.replace('_', '-')}": f"{ENTRY[c]}:main" for c in CLIS}
