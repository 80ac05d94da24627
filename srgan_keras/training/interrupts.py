"""Ctrl-C and SIGTERM during training: stop at a safe point, save once, exit with the signal's code.

Not a paper concept. Clusters pre-empt jobs with SIGTERM and a grace period, and a job started in
the background by a non-interactive shell ignores SIGINT, so both signals must save progress.
Python raises ``KeyboardInterrupt`` wherever the main thread happens to be; in a training loop
that can be between an update and the step counter's increment (the checkpoint would then hold
weights one step ahead of its counter, and the resumed run would not equal the uninterrupted
one), or inside the emergency save itself (a second Ctrl-C lost the save in a traceback). So
(our design):

- a signal raises :class:`Interrupted` at once, except inside :meth:`GracefulStop.critical`
  (an update with its counter, a save), where it is held until the block ends;
- inside :meth:`GracefulStop.shielded` (the emergency save), and from the first
  :class:`Interrupted` on (the save, its message, the way out), further signals only print a
  note: a second Ctrl-C just after the save raised another :class:`Interrupted` that no handler
  was left to catch (exit 1, "error: Interrupted: SIGINT");
- the exit code is ``128 + signal number`` (130 Ctrl-C, 143 SIGTERM), as a shell reports it.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """A stop signal arrived; ``signum`` is the first one."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class GracefulStop:
    """A context manager installing SIGINT/SIGTERM handlers (main thread only; elsewhere a no-op)."""

    def __init__(self):
        self.signum: int | None = None
        self._held = 0
        self._shielded = False
        self._stopping = False  # an Interrupted was raised: the run is on its way out
        self._previous: dict[int, object] = {}

    def __enter__(self) -> GracefulStop:
        self.signum, self._stopping = None, False
        if threading.current_thread() is threading.main_thread():
            for s in SIGNALS:
                self._previous[s] = signal.signal(s, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous.clear()

    def _handler(self, signum, frame) -> None:
        if self._shielded or self._stopping:
            doing = "saving the checkpoint" if self._shielded else "stopping"
            print(f"\n{signal.Signals(signum).name} again: still {doing}, please wait",
                  file=sys.stderr, flush=True)
            return
        if self.signum is None:
            self.signum = signum
        if not self._held:
            self._interrupt()

    def _interrupt(self) -> None:
        self._stopping = True
        raise Interrupted(self.signum)

    @contextmanager
    def critical(self):
        """Hold a signal until the block is done, then raise :class:`Interrupted`."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if not self._held and self.signum is not None and not (self._shielded or self._stopping):
            self._interrupt()

    @contextmanager
    def shielded(self):
        """Run the block to its end whatever arrives (for the emergency checkpoint)."""
        self._shielded = True
        try:
            yield
        finally:
            self._shielded = False
