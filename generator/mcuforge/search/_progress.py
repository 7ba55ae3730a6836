"""What the user sees while the search runs.

On a terminal: one live line (tqdm) with the trials or time used, the trial running,
its recipe and how long it has run, and the best feasible score so far. Elsewhere (and
with ``-v``): one log line per finished trial; pruned, failed and duplicate trials
with their reason only with ``-v``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import optuna

from ._control import not_run
from ._storage import trial_reason

Log = Callable[[str], None]


def _clock(seconds: float) -> str:
    s = int(max(seconds, 0))
    return f"{s // 60}:{s % 60:02d}"


def trial_line(trial: optuna.trial.FrozenTrial, metric: str) -> str:
    """One line about a finished trial: score and cost, or why it did not finish."""
    recipe = trial.user_attrs.get("recipe", "?")
    if trial.state == optuna.trial.TrialState.COMPLETE and trial.values:
        cost = trial.user_attrs.get("cost", {})
        ok = all(v <= 0 for v in trial.user_attrs.get("constraints", [1.0]))
        return (
            f"trial #{trial.number}: {recipe} cv {metric} {trial.values[0]:.3f}, "
            f"flash {cost.get('flash_bytes', {}).get('value', 0):.0f} B, "
            f"sram {cost.get('sram_bytes', {}).get('value', 0):.0f} B, "
            f"latency {cost.get('latency_ms', {}).get('value', 0):.3f} ms "
            f"({'fits' if ok else 'over budget'})"
        )
    reason = trial_reason(trial)
    state = trial.state.name.lower()
    why = str(reason).splitlines()[0] if reason else "-"
    return f"trial #{trial.number}: {recipe} {state}: {why}"


class Progress:
    """An Optuna callback (a line per trial) and, on a terminal, a live status line."""

    def __init__(
        self,
        log: Log,
        metric: str,
        maximize: bool,
        trials: int | None,
        budget_s: float | None,
        tty: bool,
        verbose: bool,
    ) -> None:
        self.log, self.metric, self.maximize = log, metric, maximize
        self.trials, self.budget_s = trials, budget_s
        self.tty, self.verbose = tty, verbose
        self.t0 = time.monotonic()
        self.done = 0
        self.best = ""
        self.running: tuple[int, str, float] | None = None  # number, recipe, start
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._bar: Any = None
        self._thread: threading.Thread | None = None

    def start_trial(self, number: int, recipe: str) -> None:
        with self._lock:
            self.running = (number, recipe, time.monotonic())

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        with self._lock:
            self.running = None
            if not not_run(trial):
                self.done += 1
            complete = trial.state == optuna.trial.TrialState.COMPLETE
            if complete and all(v <= 0 for v in trial.user_attrs.get("constraints", [1.0])):
                self._update_best(study)
        if not self.tty and (complete or self.verbose):
            self.log(trial_line(trial, self.metric))

    def _update_best(self, study: optuna.Study) -> None:
        feasible = [
            t
            for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if t.values and all(v <= 0 for v in t.user_attrs.get("constraints", [1.0]))
        ]
        if feasible:
            sign = 1 if self.maximize else -1
            b = max(feasible, key=lambda t: (sign * t.values[0], -t.number))
            self.best = f"best {b.values[0]:.3f} (#{b.number} {b.user_attrs.get('recipe', '')})"

    def status(self) -> str:
        """The live line's text (without the bar)."""
        with self._lock:
            parts = [
                f"{self.done}/{self.trials} trials" if self.trials else f"{self.done} trials",
                _clock(time.monotonic() - self.t0)
                + (f"/{_clock(self.budget_s)}" if self.budget_s else ""),
            ]
            if self.running is not None:
                number, recipe, started = self.running
                parts.append(f"#{number} {recipe} {_clock(time.monotonic() - started)}")
            if self.best:
                parts.append(self.best)
        return " | ".join(parts)

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._refresh()

    def _refresh(self) -> None:
        bar = self._bar
        if bar is None:
            return
        if self.budget_s and not self.trials:
            bar.n = min(int(time.monotonic() - self.t0), int(self.budget_s))
        else:
            bar.n = min(self.done, bar.total or self.done)
        bar.set_postfix_str(self.status(), refresh=False)
        bar.refresh()

    def __enter__(self) -> Progress:
        if self.tty:
            from tqdm import tqdm

            total = self.trials or (int(self.budget_s) if self.budget_s else None)
            self._bar = tqdm(
                total=total,
                file=sys.stderr,
                bar_format="{bar:20}| {postfix}",
                dynamic_ncols=True,
                leave=True,
            )
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is not None:
            self._refresh()
            self._bar.close()
            self._bar = None


__all__ = ["Progress", "trial_line"]
