"""Ctrl-C while a CLI starts up, runs and exits: one line, the status chosen, never a SIGINT death.

The flake this guards against: ``python -m srgan_keras.upscale``, Ctrl-C 1.5 s in, printed
"interrupted while starting up" and still died by SIGINT (returncode -2) once in three runs. A
real Ctrl-C lands wherever TensorFlow's import happens to be; the tests put it, every time, in the
places where one went wrong (startup.py's docstring names them), through a ``sitecustomize``
module on the child's path, or in a stand-in CLI that loads ``startup.py`` alone (no TensorFlow).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Run by the child at interpreter start. ctrl_c() signals the process, then runs Python code,
# where CPython calls the SIGINT handler.
CTRL_C_HOOK = '''
import os, signal, sys, weakref


def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)
    [i for i in range(9)]


where = os.environ["CTRL_C_WHERE"]
if where == "cli-module":  # the package (and TensorFlow) imported; the CLI's module starts
    import runpy

    run_code = runpy._run_code

    def ctrl_c_then_run_code(*args, **kwargs):
        ctrl_c()
        return run_code(*args, **kwargs)

    runpy._run_code = ctrl_c_then_run_code
else:  # as TensorFlow's import begins
    class CtrlCAtTensorFlow:
        def find_spec(self, name, path=None, target=None):
            if name == "tensorflow":
                sys.meta_path.remove(self)
                if where == "string-exec":  # as in a dataclass's or namedtuple's generated code
                    exec("ctrl_c()", {"ctrl_c": ctrl_c})
                else:  # in a weakref callback, as in importlib's module-lock bookkeeping
                    class Obj:
                        pass

                    obj = Obj()
                    ref = weakref.ref(obj, lambda r: ctrl_c())
                    del obj
            return None

    sys.meta_path.insert(0, CtrlCAtTensorFlow())
'''


@pytest.mark.parametrize("where", ["string-exec", "weakref-callback", "cli-module"])
def test_ctrl_c_wherever_it_lands_while_starting_up_is_one_line_and_exit_130(tmp_path, where):
    """Before the fix: -2 after the line (string-exec), the Ctrl-C lost and the command run on
    (weakref-callback: "Exception ignored", exit 1), a traceback and -2 (cli-module)."""
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(CTRL_C_HOOK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "hook"), str(REPO)]),
           "CTRL_C_WHERE": where}
    proc = subprocess.run([sys.executable, "-m", "srgan_keras.upscale", str(tmp_path / "x.png"),
                           "--model", "bicubic", "-o", str(tmp_path / "o")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert (proc.returncode, proc.stderr) == (130, "interrupted while starting up\n")
    assert not (tmp_path / "o").exists()


# A CLI as srgan_keras' are run: `python -m`, ending in run_cli(main); startup.py loaded alone.
STAND_IN_CLI = '''
import importlib.util, os, signal, sys

spec = importlib.util.spec_from_file_location("startup_alone", {startup!r})
startup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(startup)


class CtrlCWhenCollected:  # collected in the interpreter's teardown, after main() returned
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        [i for i in range(9)]


def main():
    if os.environ["CASE"] == "caught-in-string-exec":  # as a Ctrl-C in a dataclass's __init__
        try:
            exec("raise KeyboardInterrupt", {{}})
        except KeyboardInterrupt:
            print("interrupted before it began", file=sys.stderr)
            return 130
    if os.environ["CASE"] == "uncaught":
        raise KeyboardInterrupt
    globals()["collected_last"] = CtrlCWhenCollected()  # case "while-exiting"
    return 3


startup.run_cli(main)
'''


@pytest.mark.parametrize("case, status, err", [
    ("caught-in-string-exec", 130, "interrupted before it began\n"),  # was -2
    ("uncaught", 130, "interrupted\n"),  # was a traceback and -2
    ("while-exiting", 3, ""),  # was -2: killed by the SIGINT, the status lost
])
def test_run_cli_exits_with_the_status_chosen(tmp_path, case, status, err):
    (tmp_path / "stand_in_cli.py").write_text(
        STAND_IN_CLI.format(startup=str(REPO / "srgan_keras" / "startup.py")))
    proc = subprocess.run([sys.executable, "-m", "stand_in_cli"], cwd=tmp_path,
                          env={**os.environ, "CASE": case}, capture_output=True, text=True,
                          timeout=60)
    assert (proc.returncode, proc.stderr) == (status, err)


def test_every_cli_ends_in_run_cli():
    """A ``__main__`` line of its own would keep the start-up guard through ``main()`` (each
    Ctrl-C an abrupt "interrupted while starting up") and lose run_cli's exit handling."""
    clis = []
    for path in sorted((REPO / "srgan_keras").rglob("*.py")):
        text = path.read_text()
        _, guard, block = (re.split(r'^(if __name__ == "__main__":)$', text, maxsplit=1, flags=re.M)
                           + ["", ""])[:3]
        if path.name == "__main__.py" or guard:
            clis.append(path.stem)
            assert re.search(r"^\s*run_cli\(main\)", block or text, re.M), path
            assert not re.search(r"sys\.exit\(|SystemExit\(", block or text), path
    assert {"upscale", "trainer", "evaluate", "app", "__main__"} <= set(clis)


def test_the_start_up_guard_is_only_for_our_own_python_m(monkeypatch):
    """In pytest (this process), a notebook, a script or another package's ``-m``, Ctrl-C stays
    a KeyboardInterrupt."""
    import importlib.util
    import signal

    spec = importlib.util.spec_from_file_location("startup_alone", REPO / "srgan_keras" / "startup.py")
    startup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(startup)
    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(sys, "argv", ["-m"])  # as while runpy imports the -m target's package
    for orig_argv in (["python", "-m", "other_package.cli"], ["python", "-c", "-m"], ["python"]):
        monkeypatch.setattr(sys, "orig_argv", orig_argv)
        startup.guard_start_up()
        assert signal.getsignal(signal.SIGINT) is before
    monkeypatch.setattr(sys, "orig_argv", ["python", "-X", "dev", "-m", "srgan_keras.upscale"])
    try:
        startup.guard_start_up()
        assert signal.getsignal(signal.SIGINT) is startup._exit_starting_up
    finally:
        signal.signal(signal.SIGINT, before)
