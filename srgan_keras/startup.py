"""Quiet start-up for every CLI: TensorFlow's import chatter kept off the terminal (issue 16.1).

Importing TensorFlow 2.21 writes, straight to file descriptor 2 from C++, lines such as
``WARNING: All log messages before absl::InitializeLog() is called are written to STDERR``,
``I0000 ... port.cc:153] oneDNN custom operations are on``, ``I0000 ... cudart_stub.cc ... Could
not find cuda drivers`` and, when the devices are first listed, ``E0000 ... failed call to cuInit``
(a CUDA probe failing on every CPU machine). ``TF_CPP_MIN_LOG_LEVEL`` does not hide them: they are
written before absl's logging is initialised (NOTES-TF, "Start-up output").

:func:`import_tensorflow` therefore points fd 2 at a temporary file while TensorFlow is imported
and its physical devices are listed (this runs the CUDA probe but, unlike a first op, leaves the
logical device configuration open: ``train --logical-cpus`` still works), then restores fd 2 and
writes back every captured line that is *not* a glog-formatted start-up message, so a real error
(a Python warning, a broken install) is still seen. The package ``__init__`` calls it first, so
``python -m srgan_keras.<cli>`` is quiet before any module imports TensorFlow.

``--verbose`` on any CLI command line (or ``SRGAN_KERAS_VERBOSE=1``) leaves everything as
TensorFlow prints it. The flag is read from ``sys.argv`` because the package is imported before
a CLI parses its arguments; :func:`add_verbose_flag` declares it, so ``--help`` lists it.
Ctrl-C during this import (the first seconds of every CLI) exits with one line and status 130,
as the CLIs do later (issue 17.9).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# A glog/absl line: severity letter, MMDD, time, thread id, file:line] (absl's log format).
_GLOG_LINE = re.compile(rb"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]")
# The other start-up lines TensorFlow writes without the glog prefix.
_PLAIN_CHATTER = (b"WARNING: All log messages before absl::InitializeLog()",
                  b"To enable the following instructions:",
                  b"INFO: Created TensorFlow Lite XNNPACK delegate")


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
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [ln for ln in capture.read().splitlines(keepends=True) if not is_chatter(ln)]
            if kept:
                os.write(2, b"".join(kept))


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
    try:
        with filtered_stderr(verbose=False):
            import tensorflow as tf

            tf.config.list_physical_devices()  # runs the CUDA probe (the cuInit line) now
    except KeyboardInterrupt:
        if sys.argv[:1] == ["-m"]:  # `python -m srgan_keras.<cli>`, still importing the package
            print("interrupted while starting up", file=sys.stderr)
            raise SystemExit(130) from None
        raise
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)  # Python-side absl warnings too
    return tf


def add_verbose_flag(ap: argparse.ArgumentParser) -> None:
    """Declare ``--verbose`` (its effect, showing TensorFlow's start-up lines, happens at import)."""
    ap.add_argument("--verbose", action="store_true",
                    help="show TensorFlow's start-up and C++ log messages (hidden by default)")
