"""The one base of every error a user can act on, and the one way to put an exception on one line.

Every command prints such an error as ``error: <one sentence>`` and exits with its
:attr:`~SrganKerasError.exit_code` (2: the input or the settings; nothing was changed), never with
a traceback. Each stage's error (an unreadable image, a model that cannot be found, a run folder in
use, ...) subclasses :class:`SrganKerasError` *and* the built-in exception it always was
(``ValueError``, ``FileNotFoundError``, ...), so ``except ValueError`` in a user's code still
catches it. Each command's ``main`` is decorated with :func:`command`, the one place that turns such
an error into its line and status (:func:`srgan_keras.startup.run_cli` does the same for a ``main``
without it); a command that goes on with its other inputs catches it itself and prints the same
line with :func:`report`.

A leaf module: it imports nothing of the package, so every stage can use it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

_Main = TypeVar("_Main", bound=Callable[..., int])


class SrganKerasError(Exception):
    """An error the person at the command line can act on: one sentence, and the exit status."""

    exit_code: int = 2


def first_line(e: BaseException, limit: int | None = None, with_type: bool = False) -> str:
    """``e``'s message on one line: its first line, cut at ``limit`` characters.

    ``with_type`` puts the exception's type first (``OSError: ...``), for errors that come from
    elsewhere (TensorFlow, Pillow, the OS) and say little without it. An exception with no message
    is its type's name.
    """
    lines = str(e).strip().splitlines()
    text = lines[0].strip() if lines else ""
    if limit is not None:
        text = text[:limit]
    if not text:
        return type(e).__name__
    return f"{type(e).__name__}: {text}" if with_type else text


def report(e: BaseException, prefix: str = "error") -> None:
    """Print ``e`` the way every command does: ``error: <its first line>`` on standard error."""
    print(f"{prefix}: {first_line(e)}", file=sys.stderr)


def command(main: _Main) -> _Main:
    """Decorate a command's ``main(argv) -> status``: an :class:`SrganKerasError` it lets through is
    printed in one line (:func:`report`) and its :attr:`~SrganKerasError.exit_code` returned.

    So a command needs no ``except`` ladder of its own for errors that end it; it catches only the
    errors it goes on after (one bad image among many) or must add to (what was kept).
    """

    @functools.wraps(main)
    def run(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except SrganKerasError as e:
            report(e)
            return e.exit_code

    return run  # type: ignore[return-value]
