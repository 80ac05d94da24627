"""Issue 26.4: one error base (its exit status) and one first-line helper, for every command."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import srgan_keras
from srgan_keras.errors import SrganKerasError, first_line

# Raised and caught inside a command, never shown to a user as such.
INTERNAL = {"NonFiniteError"}  # a NaN/Inf loss: the trainer stops the run and says so itself
ENTRY_POINTS = ("train", "upscale", "evaluate", "convert", "interpolate", "model_card", "app",
                "fetch_data")


def test_first_line_is_one_line_cut_and_typed_on_request():
    e = ValueError("bad input\n  Traceback-ish detail\nmore")
    assert first_line(e) == "bad input"
    assert first_line(e, limit=3) == "bad"
    assert first_line(e, with_type=True) == "ValueError: bad input"
    assert first_line(OSError()) == "OSError"  # no message: the type says what happened


def _error_classes():
    for info in pkgutil.walk_packages(srgan_keras.__path__, "srgan_keras."):
        if info.name.count(".") == 1 and info.name.split(".")[1] in ENTRY_POINTS:
            continue  # entry points: importing runs nothing, but they define no errors either
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ == module.__name__ and issubclass(cls, Exception)
                    and name.endswith("Error") and name not in INTERNAL and cls is not SrganKerasError):
                yield cls


def test_every_error_of_ours_is_a_srgan_keras_error_and_still_its_builtin_kind():
    classes = list(_error_classes())
    assert len(classes) >= 15, [c.__name__ for c in classes]
    not_ours = [c.__qualname__ for c in classes if not issubclass(c, SrganKerasError)]
    assert not not_ours, f"not SrganKerasError: {not_ours}"
    builtin = (ValueError, OSError, RuntimeError)  # except ValueError / OSError in users' code keeps working
    assert [c.__qualname__ for c in classes if not issubclass(c, builtin)] == []


def test_run_cli_prints_an_escaped_error_in_one_line_with_its_exit_status(capsys, monkeypatch):
    from srgan_keras import startup
    from srgan_keras.data.imaging import ImageError

    monkeypatch.setattr(startup, "import_tensorflow", lambda: None)

    def main():
        raise ImageError("photo.png: not an image file\nsecond line")

    with pytest.raises(SystemExit) as e:
        startup.run_cli(main)
    assert e.value.code == 2
    assert capsys.readouterr().err == "error: photo.png: not an image file\n"


def test_command_turns_an_error_of_ours_into_one_line_and_its_status(capsys):
    from srgan_keras.errors import command

    class Busy(SrganKerasError, RuntimeError):
        exit_code = 3

    @command
    def main(argv=None) -> int:
        """The command's help."""
        if argv == ["busy"]:
            raise Busy("run/: another run uses this folder\nits pid: 12")
        if argv == ["bug"]:
            raise KeyError("a bug is not an error of the user's")
        return 0

    assert main([]) == 0 and main.__doc__ == "The command's help."
    assert main(["busy"]) == 3
    assert capsys.readouterr().err == "error: run/: another run uses this folder\n"
    with pytest.raises(KeyError):  # a traceback, as a bug should give
        main(["bug"])
