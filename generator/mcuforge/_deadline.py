"""A time limit for a piece of work in the main thread, and sections it must not cut.

The search runs each trial under a :class:`Deadline`. Past it, ``SIGALRM`` raises
:class:`TrialTimeout` wherever the trial is, except inside a :func:`critical` section
(a write to the study, a TensorFlow call that must not be torn in the middle), where
the expiry waits until the section ends. Long loops call :func:`check` to stop at a
clean point (the network training loop does, after every batch).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any


class TrialTimeout(Exception):
    """A trial ran past its time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"stopped at its time limit ({seconds:.3g} s)")
        self.seconds = seconds


class Deadline:
    """Raise :class:`TrialTimeout` in the main thread ``seconds`` after entering.

    Code that must not be interrupted (a write to the study's storage) runs inside
    :meth:`critical`; an expiry there is raised when the critical section ends. In a
    thread other than the main one (where signals cannot be used) the deadline is
    only checked by :meth:`check`.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = float("inf")
        self._armed = False
        self._depth = 0
        self._pending = False
        self._old: Any = None
        self._outer: Deadline | None = None

    def _fire(self, signum: int, frame: FrameType | None) -> None:
        if self._depth:
            self._pending = True
            return
        assert self.seconds is not None
        raise TrialTimeout(self.seconds)

    def __enter__(self) -> Deadline:
        global _current
        self._outer, _current = _current, self
        if self.seconds is None:
            return self
        self.end = time.monotonic() + self.seconds
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGALRM, self._fire)
            self._armed = True  # before the timer: __exit__ must disarm what fires
            try:
                signal.setitimer(signal.ITIMER_REAL, self.seconds)
            except BaseException:  # a tiny limit fired here: no __exit__ will follow
                self.__exit__(None, None, None)
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        global _current
        _current = self._outer
        if self._armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)
            self._armed = False

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        """A section the deadline does not interrupt (it fires when the section ends)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self._pending:
            self._pending = False
            assert self.seconds is not None
            raise TrialTimeout(self.seconds)

    def check(self) -> None:
        """Raise :class:`TrialTimeout` when the deadline has passed."""
        if self.seconds is not None and time.monotonic() > self.end:
            raise TrialTimeout(self.seconds)


_current: Deadline | None = None


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """A section the running deadline (if any) does not interrupt."""
    d = _current
    if d is None:
        yield
        return
    with d.critical():
        yield


def check() -> None:
    """Raise :class:`TrialTimeout` if the running deadline (if any) has passed."""
    if _current is not None:
        _current.check()


__all__ = ["Deadline", "TrialTimeout", "check", "critical"]
