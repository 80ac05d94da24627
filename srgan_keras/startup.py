"""The process-wide setup of every CLI, done by :func:`run_cli` when a command runs, never on import.

Importing ``srgan_keras`` or any of its modules changes nothing in the process (issue 26): no
TensorFlow, no file-descriptor or signal changes. Every command line -- ``python -m
srgan_keras.<cli>`` and the ``srgan-<cli>`` scripts, each a thin module that calls
``run_cli("srgan_keras.<stage>.<module>")`` -- starts here instead.

Quiet start-up (issue 16.1). Importing TensorFlow 2.21 writes, straight to file descriptor 2 from
C++, lines such as ``WARNING: All log messages before absl::InitializeLog() is called are written
to STDERR``, ``I0000 ... port.cc:153] oneDNN custom operations are on``, ``I0000 ...
cudart_stub.cc ... Could not find cuda drivers`` and, when the devices are first listed, ``E0000
... failed call to cuInit`` (a CUDA probe failing on every CPU machine). ``TF_CPP_MIN_LOG_LEVEL``
does not hide them: they are written before absl's logging is initialised (NOTES-TF, "Start-up
output"). :func:`import_tensorflow` therefore points fd 2 at a temporary file while TensorFlow is
imported and its physical devices are listed (this runs the CUDA probe but, unlike a first op,
leaves the logical device configuration open: ``train --logical-cpus`` still works), then
restores fd 2 and writes back every captured line that is *not* a glog-formatted start-up
message, so a real error (a Python warning, a broken install) is still seen. :func:`run_cli`
calls it before the CLI's module is imported, so no module imports TensorFlow noisily first.
A request for help (``-h``/``--help``) or for ``--list-models`` skips it: argparse answers before
any network is built.

``--verbose`` on any CLI command line (or ``SRGAN_KERAS_VERBOSE=1``) leaves everything as
TensorFlow prints it. The flag is read from ``sys.argv`` because TensorFlow is imported before
the CLI parses its arguments; :func:`add_verbose_flag` declares it, so ``--help`` lists it.

Ctrl-C (issue 17.9: one line, status 130, never a traceback or a death by SIGINT). Our design,
in two phases of a command:

- *Starting up* (in :func:`run_cli`: TensorFlow's import, the CLI module's; :func:`guard_start_up`):
  SIGINT writes ``interrupted while starting up`` and ends the process at once with 130. A
  ``KeyboardInterrupt`` raised from wherever TensorFlow's import happens to be cannot be made
  reliable: CPython marks one that leaves code compiled from a string as unhandled even if it
  is caught, and ``python -m`` then kills itself with SIGINT after our ``SystemExit(130)``
  (returncode -2; TensorFlow 2.21's import runs 846 such ``exec``/``eval``, from
  ``collections.namedtuple``, ``dataclasses`` and ``numpy.f2py``); one that lands in a weakref
  callback or ``__del__`` is only printed ("Exception ignored in ...") and the command runs on;
  one after TensorFlow's import but before the CLI's ``main()`` is a traceback. Nothing of the
  user's is open yet, so skipping the interpreter's teardown (``os._exit``) loses nothing.
  Before :func:`run_cli` starts (the interpreter's own start, the entry module's few imports)
  Ctrl-C is Python's usual ``KeyboardInterrupt``.
- *Running and exiting* (:func:`run_cli` from ``main()`` on): ``main()`` gets Ctrl-C as
  ``KeyboardInterrupt`` (each CLI says what was kept); once it has returned, the mark above is
  cleared and SIGINT is ignored while Python winds down, so the process exits with the status
  ``main`` chose.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import NoReturn

# A glog/absl line: severity letter, MMDD, time, thread id, file:line] (absl's log format).
_GLOG_LINE = re.compile(rb"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]")
# The other start-up lines TensorFlow writes without the glog prefix.
_PLAIN_CHATTER = (b"WARNING: All log messages before absl::InitializeLog()",
                  b"To enable the following instructions:",
                  b"INFO: Created TensorFlow Lite XNNPACK delegate")


# The open filtered_stderr blocks, outermost first: (fd of the real stderr, capture file).
_CAPTURES: list[tuple[int, int]] = []
STARTING_UP_MESSAGE = b"interrupted while starting up\n"


def verbose_requested(argv: list[str] | None = None) -> bool:
    """``--verbose`` among the command-line arguments, or ``SRGAN_KERAS_VERBOSE`` set (not 0)."""
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ.get("SRGAN_KERAS_VERBOSE", "")
    return "--verbose" in argv or env not in ("", "0")


def is_chatter(line: bytes) -> bool:
    """True for TensorFlow's start-up log lines (the ones quiet mode drops)."""
    return bool(_GLOG_LINE.match(line)) or line.startswith(_PLAIN_CHATTER)


@contextlib.contextmanager
def filtered_stderr(verbose: bool | None = None) -> Iterator[None]:
    """Point fd 2 at a temporary file for the block, then write back all but the chatter.

    Used around TensorFlow's import and around creating a TFLite interpreter (its ``INFO:
    Created TensorFlow Lite XNNPACK delegate`` line). Does nothing when verbose.
    """
    verbose = verbose_requested() if verbose is None else verbose
    try:
        if verbose:
            raise ValueError
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # verbose, or no usable fd 2 (embedded)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        # In this order (listed before fd 2 moves, fd 2 back before unlisting), a Ctrl-C handler
        # (_exit_starting_up) running between any two lines writes to the real stderr.
        _CAPTURES.append((saved, capture.fileno()))
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            _CAPTURES.pop()
            os.close(saved)
            kept = _kept_lines(capture.fileno())
            if kept:
                os.write(2, kept)


def _kept_lines(fd: int) -> bytes:
    """What a capture file holds, less the chatter."""
    data = os.pread(fd, os.fstat(fd).st_size, 0)
    return b"".join(ln for ln in data.splitlines(keepends=True) if not is_chatter(ln))


def import_tensorflow(verbose: bool | None = None):
    """Import TensorFlow (and list its devices) with its start-up chatter filtered out of fd 2.

    Returns the ``tensorflow`` module. A second call, or one after TensorFlow was imported by
    someone else, only returns the module.
    """
    verbose = verbose_requested() if verbose is None else verbose
    if "tensorflow" in sys.modules or verbose:
        import tensorflow as tf

        return tf
    # our choice: C++ INFO and WARNING logs stay hidden after start-up too; errors still show
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with filtered_stderr(verbose=False):
        import tensorflow as tf

        tf.config.list_physical_devices()  # runs the CUDA probe (the cuInit line) now
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)  # Python-side absl warnings too
    return tf


def add_verbose_flag(ap: argparse.ArgumentParser) -> None:
    """Declare ``--verbose`` (its effect, TensorFlow's start-up lines shown, is :func:`run_cli`'s)."""
    ap.add_argument("--verbose", action="store_true",
                    help="show TensorFlow's start-up and C++ log messages (hidden by default)")


# -- Ctrl-C while a CLI starts up, runs and exits (see the module docstring) ---------------------
_before_start_up: list = []  # the SIGINT handler guard_start_up replaced (restored by run_cli)


def _exit_starting_up(signum: int, frame: FrameType | None) -> NoReturn:
    """SIGINT while a CLI starts up: the captured stderr and one line to the real stderr, exit 130."""
    try:
        fd = _CAPTURES[0][0] if _CAPTURES else 2
        kept = b"".join(_kept_lines(capture) for _, capture in _CAPTURES)
        os.write(fd, kept + STARTING_UP_MESSAGE)
    except OSError:  # no stderr to write to (2>&-): the status says it
        pass
    os._exit(128 + signum)


def guard_start_up() -> None:
    """From now until :func:`run_cli` calls ``main()``, Ctrl-C exits at once with one line and 130.

    :func:`run_cli` calls it first. A no-op off the main thread, and when SIGINT is not Python's
    default handler: ignored (a job started in the background by a non-interactive shell
    inherits that, and Python keeps it) or already someone else's.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        return
    _before_start_up.append(signal.signal(signal.SIGINT, _exit_starting_up))


def help_requested(argv: list[str] | None = None) -> bool:
    """``-h``, ``--help`` or ``--list-models`` (:mod:`srgan_keras.inference.zoo`) among the
    arguments (before a ``--``): argparse will print the usage or the model list and exit.

    An abbreviation (``--hel``) is not recognised; such a command still gets its help, after
    TensorFlow's import.
    """
    argv = sys.argv[1:] if argv is None else argv
    args = argv[:argv.index("--")] if "--" in argv else argv
    return "-h" in args or "--help" in args or "--list-models" in args


def forget_caught_interrupt() -> None:
    """Clear CPython's "a KeyboardInterrupt went unhandled" mark after one was handled.

    CPython (measured on 3.11; ``Python/pythonrun.c run_eval_code_obj``) sets that mark when
    a KeyboardInterrupt leaves code compiled from a string (``exec``/``eval`` of a ``str``, as
    ``dataclasses`` and ``namedtuple`` use), even if an outer ``except`` catches it; under
    ``python -m``, ``Py_RunMain`` then re-raises SIGINT against the process after the exit
    status was chosen. Every such string ``exec`` clears the mark when it starts, so an
    ``exec`` of ``"pass"`` clears it; on an interpreter without the mark it is harmless.
    """
    exec("pass", {})


def run_cli(cli: str | Callable[[], object], tensorflow: bool | str = True) -> NoReturn:
    """Run a command line: its process-wide setup, then its ``main()``; exit with main's status.

    ``cli`` names the module that defines the command's ``main`` (``"srgan_keras.inference.upscale"``),
    as every entry point passes it, or is ``main`` itself. In order:

    1. start-up begins: Ctrl-C is one line and 130 (:func:`guard_start_up`);
    2. TensorFlow is imported with its chatter filtered (:func:`import_tensorflow`), unless the
       command line asks for help (:func:`help_requested`), which needs no TensorFlow;
    3. the CLI's module is imported (a string ``cli``), still under the guard;
    4. start-up ends: Ctrl-C is a ``KeyboardInterrupt`` again, which each CLI's ``main`` turns into
       its own one line (what was kept) and 130; a CLI without one gets ``interrupted`` and 130;
       ``tensorflow`` may instead name a function of the CLI's module, ``f(argv) -> bool``, for
       a CLI that often runs without TensorFlow (upscale on LiteRT: issue 29.1): the module is
       then imported first (no module imports TensorFlow when imported), and TensorFlow after
       it, still under the guard, only if the function answers True;
    5. once ``main`` is done, SIGINT is ignored: the command has finished, and the interpreter's
       teardown (seconds with TensorFlow loaded) runs with Python's handlers already removed, so
       a second Ctrl-C there killed the process by SIGINT instead of letting it exit with the
       status chosen. Then :func:`forget_caught_interrupt`.
    """
    main_thread = threading.current_thread() is threading.main_thread()
    guard_start_up()
    asked_help = help_requested()
    if not asked_help and tensorflow is True:
        import_tensorflow()
    module = importlib.import_module(cli) if isinstance(cli, str) else None
    main = cli if module is None else module.main
    if (module is not None and isinstance(tensorflow, str) and not asked_help
            and getattr(module, tensorflow)(sys.argv[1:])):
        import_tensorflow()
    try:
        if main_thread and _before_start_up:
            signal.signal(signal.SIGINT, _before_start_up.pop())
        status = main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        status = 130
    except Exception as e:  # an error a user can act on that the command let through: one line
        from srgan_keras.errors import SrganKerasError, report  # (startup.py imports no stage)

        if not isinstance(e, SrganKerasError):
            raise
        report(e)
        status = e.exit_code
    except SystemExit as e:  # argparse: --help, a usage error
        status = e.code
    if main_thread:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    forget_caught_interrupt()
    raise SystemExit(status)
