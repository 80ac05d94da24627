"""Ctrl-C while a CLI starts up, runs and exits: one line, the status chosen, never a SIGINT death.

The flake this guards against: ``python -m srgan_keras.upscale``, Ctrl-C 1.5 s in, printed
"interrupted while starting up" and still died by SIGINT (returncode -2) once in three runs. A
real Ctrl-C lands wherever TensorFlow's import happens to be; the tests put it, every time, in the
places where one went wrong (startup.py's docstring names them), through a ``sitecustomize``
module on the child's path, or in a stand-in CLI that loads ``startup.py`` alone (no TensorFlow).
All of it is :func:`srgan_keras.startup.run_cli`'s, when a command runs; importing the package
sets up nothing (tests/test_imports.py).
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
# "cli-module": as run_cli imports the CLI's own module (for upscale, before TensorFlow: the module
# decides whether the command needs it, issue 29.1); else as TensorFlow's import begins
AT = "srgan_keras.inference.upscale" if where == "cli-module" else "tensorflow"


class CtrlCAt:
    def find_spec(self, name, path=None, target=None):
        if name == AT:
            sys.meta_path.remove(self)
            if where == "cli-module":
                ctrl_c()
            elif where == "string-exec":  # as in a dataclass's or namedtuple's generated code
                exec("ctrl_c()", {"ctrl_c": ctrl_c})
            else:  # in a weakref callback, as in importlib's module-lock bookkeeping
                class Obj:
                    pass

                obj = Obj()
                ref = weakref.ref(obj, lambda r: ctrl_c())
                del obj
        return None


sys.meta_path.insert(0, CtrlCAt())
'''


@pytest.mark.slow
@pytest.mark.parametrize("where", ["string-exec", "weakref-callback", "cli-module"])
def test_ctrl_c_wherever_it_lands_while_starting_up_is_one_line_and_exit_130(tmp_path, where):
    """Before the fix: -2 after the line (string-exec), the Ctrl-C lost and the command run on
    (weakref-callback: "Exception ignored", exit 1), a traceback and -2 (cli-module: then the
    CLI's module started after TensorFlow's import in the package's, now in run_cli)."""
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(CTRL_C_HOOK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "hook"), str(REPO)]),
           "CTRL_C_WHERE": where}
    # --runtime keras: a command that needs TensorFlow (bicubic and the default model on LiteRT
    # no longer import it, issue 29.1)
    proc = subprocess.run([sys.executable, "-m", "srgan_keras.upscale", str(tmp_path / "x.png"),
                           "--runtime", "keras", "-o", str(tmp_path / "o")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert (proc.returncode, proc.stderr) == (130, "interrupted while starting up\n")
    assert not (tmp_path / "o").exists()


# A CLI as srgan_keras' are run: `python -m`, ending in run_cli(main); startup.py loaded alone, and
# a stand-in for TensorFlow, so that run_cli's import_tensorflow finds it imported already.
STAND_IN_CLI = '''
import importlib.util, os, signal, sys, types

spec = importlib.util.spec_from_file_location("startup_alone", {startup!r})
startup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(startup)
sys.modules["tensorflow"] = types.ModuleType("tensorflow")


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
    """Each entry module's ``main`` is ``run_cli("<the CLI's module>"[, tensorflow="<function>"])``,
    which does the start-up (guard, quiet TensorFlow) and the exit; a ``__main__`` block of its
    own would lose both. The
    modules a ``__main__`` block still runs directly (``python -m srgan_keras.training.snapshot``)
    hand their ``main`` to run_cli too."""
    import importlib

    entries = {}
    for path in sorted((REPO / "srgan_keras").rglob("*.py")):
        text = path.read_text()
        _, guard, block = (re.split(r'^(if __name__ == "__main__":)$', text, maxsplit=1, flags=re.M)
                           + ["", ""])[:3]
        if not guard:
            assert path.name != "__main__.py", path
            continue
        assert not re.search(r"sys\.exit\(|SystemExit\(", text), path
        # (upscale and the web page name the function that says whether they need TensorFlow)
        # (fetch_data needs none: tensorflow=False)
        target = re.search(r'^    run_cli\("([\w.]+)"(?:, tensorflow=(?:"(\w+)"|False))?\)$', text, re.M)
        if target:  # an entry module: main() runs the named CLI
            assert block.strip() == "main()", path
            module = importlib.import_module(target.group(1))
            assert callable(module.main), path
            assert target.group(2) is None or callable(getattr(module, target.group(2))), path
            entries[str(path.relative_to(REPO / "srgan_keras"))] = target.group(1)
        else:
            assert re.fullmatch(r"\s*run_cli\(main\).*\n", block), path
    assert entries == {"train.py": "srgan_keras.training.train",
                       "upscale.py": "srgan_keras.inference.upscale",
                       "evaluate.py": "srgan_keras.evaluation.evaluate",
                       "convert.py": "srgan_keras.export.convert",
                       "interpolate.py": "srgan_keras.evaluation.interpolate",
                       "model_card.py": "srgan_keras.evaluation.model_card",
                       "export/__main__.py": "srgan_keras.export.export",
                       "app.py": "srgan_keras.inference.webapp",
                       "fetch_data.py": "srgan_keras.data.sets"}


def _startup_alone():
    import importlib.util

    spec = importlib.util.spec_from_file_location("startup_alone", REPO / "srgan_keras" / "startup.py")
    startup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(startup)
    return startup


def test_the_start_up_guard_leaves_a_sigint_handler_that_is_not_pythons_default_alone():
    """A job started in the background ignores SIGINT; a host program may have its own handler."""
    import signal

    startup = _startup_alone()
    before = signal.getsignal(signal.SIGINT)
    try:
        for handler in (signal.SIG_IGN, lambda signum, frame: None):
            signal.signal(signal.SIGINT, handler)
            startup.guard_start_up()
            assert signal.getsignal(signal.SIGINT) is handler and not startup._before_start_up
        signal.signal(signal.SIGINT, signal.default_int_handler)
        startup.guard_start_up()
        assert signal.getsignal(signal.SIGINT) is startup._exit_starting_up
        assert startup._before_start_up == [signal.default_int_handler]
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("argv, wanted", [
    (["--help"], True), (["a.png", "-h"], True), (["--model", "x", "--help"], True),
    (["a.png"], False), (["--", "--help"], False), (["--hel"], False), ([], False),
    (["--list-models"], True),
])
def test_a_help_request_skips_tensorflow(argv, wanted):
    assert _startup_alone().help_requested(argv) is wanted
