"""SIGTERM stops a command the way Ctrl-C does.

A light module (the command line installs it before any command runs, and must not
import the search, Optuna, for ``validate``).
"""

from __future__ import annotations

import signal
import threading
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a CI job cancelled, ``docker stop``), raised as
    Ctrl-C is: the running trial is queued again, temporary files are removed, one
    line is printed. Without it the process died at once and the next run counted the
    trial it left running as a worker's death (see ``retry_trial``)."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


def stop_on_sigterm() -> None:
    """Raise :class:`Terminated` on SIGTERM from now on (the main thread only)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


__all__ = ["Terminated", "stop_on_sigterm"]
