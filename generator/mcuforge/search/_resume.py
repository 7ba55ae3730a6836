"""Runs that do not finish: Ctrl-C, killed or dead workers, and resuming after them.

A trial that did not finish is failed and its parameters are queued again
(:func:`~._storage.retry_trial`), so the next run re-runs it first; it does not count
towards the study's total (:func:`finished`). The locked local study fails every
trial left running at once; a shared study fails only those whose heartbeat stopped.
Ctrl-C keeps every finished trial and leaves no Optuna warning or traceback behind
(:func:`optimize_quietly`); local worker processes are stopped the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import optuna

from ..errors import McuforgeError
from ._storage import retry_trial

_DONE = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.PRUNED,
    optuna.trial.TrialState.FAIL,
)


def finished(study: optuna.Study) -> int:
    """Finished trials, not counting those that did not finish and were queued again."""
    trials = study.get_trials(deepcopy=False)
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", [])}
    return sum(
        t.state in _DONE and not (t.state == optuna.trial.TrialState.FAIL and t.number in retried)
        for t in trials
    )


class Enough:
    """Stops ``optimize`` once the study holds ``total`` finished trials (all workers)."""

    def __init__(self, total: int) -> None:
        self.total = total

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if finished(study) >= self.total:
            study.stop()


def fail_stale(study: optuna.Study, exclusive: bool) -> int:
    """Fail the trials of runs that died, queue their parameters again; return how many.

    With ``exclusive`` (the locked local study) every RUNNING trial is such a one;
    otherwise only those whose heartbeat stopped (other workers may be running).
    """
    if not exclusive:
        before = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        return (
            len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,))) - before
        )
    stale = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for t in stale:
        study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
        retry_trial(study, study._storage.get_trial(t._trial_id))
    return len(stale)


def lost_trial(exc: BaseException) -> bool:
    """``optimize`` failed recording a trial another worker finished while this one ran
    it: one whose heartbeat check took it for a dead worker's (the machine was
    suspended longer than the grace period) and queued its parameters again. The
    result cannot be recorded; the worker goes on with the next trial. Optuna raises
    ``UpdateFinishedTrialError`` from the sampler's bookkeeping (a ``ValueError`` from
    ``tell`` in older versions); when the other worker failed the trial, its logging
    then fails an assertion while handling that error: the chain is searched."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, optuna.exceptions.UpdateFinishedTrialError):
            return True
        if isinstance(seen, ValueError) and str(seen).startswith("Cannot tell a "):
            return True
        seen = seen.__context__
    return False


class _QuietInterrupt(logging.Filter):
    """Drops Optuna's "trial failed" warnings (and traceback) of trials Ctrl-C stopped,
    and of trials that failed with an :class:`~mcuforge.errors.McuforgeError`: the
    search reports those itself (``-v``: the trial, its recipe and the error's
    message; the report counts them), and a traceback in the middle of the progress
    reads as a crash. Other errors keep Optuna's warning and traceback (a bug to report).
    """

    _FAILED = re.compile(r"Trial (\d+) failed")

    def __init__(self) -> None:
        super().__init__()
        self.numbers: list[int] = []

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[0] if record.exc_info else None
        if exc is not None and issubclass(exc, KeyboardInterrupt):
            return False
        failed = self._FAILED.match(record.getMessage())
        if failed is None:
            return True
        if exc is not None and issubclass(exc, McuforgeError):
            self.numbers.append(int(failed.group(1)))  # and its "failed with value" line
            return False
        return int(failed.group(1)) not in self.numbers


_OPTIMIZE_LOGGER = "optuna.study._optimize"


def optimize_quietly(study: optuna.Study, func: Callable[[optuna.Trial], Any], **kw: Any) -> None:
    """``study.optimize``; on Ctrl-C the running trial is queued again, quietly."""
    interrupted: list[int] = []
    quiet = _QuietInterrupt()

    def tracked(trial: optuna.Trial) -> Any:
        try:
            return func(trial)
        except KeyboardInterrupt:
            interrupted.append(trial._trial_id)
            quiet.numbers.append(trial.number)
            raise

    logger = logging.getLogger(_OPTIMIZE_LOGGER)
    logger.addFilter(quiet)
    try:
        study.optimize(tracked, **kw)
    except KeyboardInterrupt:
        # Optuna failed the trial Ctrl-C stopped; a Ctrl-C between trials may leave one
        # RUNNING, which the next run fails and queues (see fail_stale). A second SIGINT
        # (a worker gets the terminal's and then the parent's, stop_workers) must not
        # stop the queuing half done: the trial would stay failed and count (SIGTERM,
        # raised as Ctrl-C is, neither).
        main = threading.current_thread() is threading.main_thread()
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = [signal.signal(s, signal.SIG_IGN) for s in stops] if main else []
        try:
            for trial_id in interrupted:
                if study._storage.get_trial(trial_id).state == optuna.trial.TrialState.RUNNING:
                    study._storage.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL)
                retry_trial(study, study._storage.get_trial(trial_id), interrupted=True)
        finally:
            for s, handler in zip(stops, previous, strict=False):
                signal.signal(s, handler)
        raise
    finally:
        logger.removeFilter(quiet)


def optimize_on(
    study: optuna.Study,
    func: Callable[[optuna.Trial], Any],
    end: float | None,
    stopped: Callable[[], bool],
    **kw: Any,
) -> None:
    """:func:`optimize_quietly` until ``end`` (``time.time()``), going on past a trial
    another worker finished meanwhile (:func:`lost_trial`: this process died on it,
    in a shared study, after a suspend), until ``stopped()`` says a callback ended it."""
    while not stopped() and (end is None or time.time() < end):
        try:
            timeout = None if end is None else max(end - time.time(), 0.0)
            optimize_quietly(study, func, timeout=timeout, **kw)
            return
        except Exception as exc:
            if not lost_trial(exc):
                raise


def stop_workers(procs: list[Any]) -> None:
    """Ctrl-C: let each worker queue its running trial again and exit; then wait."""
    for p in procs:
        if p.is_alive() and p.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGINT)
    for p in procs:
        p.join(timeout=30)
        if p.is_alive():
            p.terminate()
            p.join()
