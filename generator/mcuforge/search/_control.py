"""How the search spends its time: warm start, per-trial limits, no repeats, when to stop.

* **Warm start**: every recipe's default configuration (``SearchParam.default``) is
  enqueued before the sampler takes over, cheapest family first, so that each recipe
  has a score early and the sampler starts from good points.
* **Defaults scaled to the budgets**: a recipe default over the flash or latency budget
  is enqueued again with its family's size parameter (``ModelFamily.size_param``, e.g.
  ``n_estimators``) scaled down by the overshoot (:class:`ShrinkToBudget`), so that a
  default sized for a large part still gives the recipe a score on a small one.
* **Per-trial limit**: a trial runs under a :class:`Deadline`; past it the trial is
  stopped (``SIGALRM`` in the main thread, never inside a storage call) and recorded
  as pruned with the reason.
* **No repeats**: a sampled parameter set already in the study (finished, pruned or
  running) is not trained again: the trial is pruned as a duplicate and does not
  count towards ``--trials``. A run of duplicates means the space is exhausted.
* **Stopping**: :class:`StopRule` ends the search at the trial total (duplicates not
  counted), the wall-time budget (less the time the race of ``_rescore`` will take),
  or an exhausted space, whichever comes first. With several workers a trial runs only
  if the finished trials and the running ones that started before it stay below the
  total (:func:`admitted`), so that the study holds exactly ``--trials`` trials.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from .._deadline import Deadline, TrialTimeout
from ..catalog import Recipe
from ..cost import Cost
from ..models import MODELS
from ..spec import Budgets
from ._resume import fail_stale
from ._space import default_params

#: This many duplicates in a row mean the sampler finds nothing new: stop.
EXHAUSTED_AFTER = 25
#: A default over budget is scaled down at most this many times ...
SHRINK_ROUNDS = 3
#: ... each time to this share of what would just fit (the firmware around the model
#: does not shrink with it).
SHRINK_MARGIN = 0.8

FINISHED = (
    optuna.trial.TrialState.COMPLETE,
    optuna.trial.TrialState.PRUNED,
    optuna.trial.TrialState.FAIL,
)


def param_key(params: dict[str, Any]) -> str:
    """A canonical text of a trial's parameters (equal parameters, equal keys)."""
    return json.dumps(params, sort_keys=True, default=str)


#: User attributes of trials that were never run: a repeat of earlier parameters, or a
#: trial that another worker's made unnecessary (the study reached its trial total).
NOT_RUN = ("duplicate_of", "surplus")
#: A trial waiting for earlier running trials (another worker's) checks this often ...
ADMIT_POLL_S = 0.25
#: ... fails the trials of dead workers (stale heartbeat) this often ...
STALE_CHECK_S = 5.0
#: ... and runs anyway this long after the earlier trials' time limits.
ADMIT_GRACE_S = 30.0


def not_run(t: optuna.trial.FrozenTrial) -> bool:
    return any(k in t.user_attrs for k in NOT_RUN)


def _started(t: optuna.trial.FrozenTrial) -> tuple[float, int]:
    """A running trial's place in the order trials started (a queued recipe default
    keeps the low number it got when queued, so the number alone is not that order)."""
    start = t.datetime_start.timestamp() if t.datetime_start else float("inf")
    return (start, t.number)


def admitted(study: optuna.Study, number: int, total: int | None, wait_s: float | None) -> bool:
    """Whether trial ``number`` may run without taking the study past ``total`` trials.

    Several workers share a study: each stops when the finished trials reach the total,
    so two could each start one more. So a trial runs only when the finished trials that
    count and the running ones that started before it stay below the total; while they
    do not, it waits for those earlier trials (one may be a duplicate, fail or be
    interrupted, and not count). It does not run once the finished trials reach the total.
    While it waits, trials of workers that died (no heartbeat) are failed every
    :data:`STALE_CHECK_S`; after ``wait_s`` and :data:`ADMIT_GRACE_S` more it runs
    anyway (every earlier trial had at most ``wait_s`` from a start before this one's, and
    the grace covers its stopping late and recording its result)."""
    if total is None:
        return True
    now = time.time()
    give_up = None if wait_s is None else now + wait_s + ADMIT_GRACE_S
    checked = now
    while True:
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        mine = next((t for t in running if t.number == number), None)
        if mine is None:
            return True
        earlier = [t for t in running if not not_run(t) and _started(t) < _started(mine)]
        done = counted(study)
        if done + len(earlier) < total:
            return True
        if not earlier:
            return False
        now = time.time()
        if give_up is not None and now >= give_up:
            return True
        if now - checked >= STALE_CHECK_S:
            checked = now
            fail_stale(study, exclusive=False)  # by heartbeat: other workers are running
        time.sleep(ADMIT_POLL_S)


#: User attribute of a trial that passed :func:`duplicate_of` and runs.
UNIQUE_ATTR = "unique"


def duplicate_of(study: optuna.Study, trial: optuna.Trial) -> int | None:
    """The number of an earlier trial with the same parameters, if any; else the trial
    is marked :data:`UNIQUE_ATTR` (it runs).

    Failed trials do not count (an interrupted trial is run again), nor do trials that
    were themselves duplicates. Of two trials with the same parameters running at once
    (two workers each took a copy of one recipe default from the queue) one runs: a
    running trial is the original when it passed this check already or started first
    (each saw the other running, and neither ran).
    """
    key = param_key(trial.params)
    states = (
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.RUNNING,
    )
    trials = study.get_trials(deepcopy=False, states=states)
    me = next((t for t in trials if t.number == trial.number), None)
    mine = _started(me) if me is not None else (float("inf"), trial.number)
    for t in trials:
        if t.number == trial.number or not_run(t) or param_key(t.params) != key:
            continue
        running = t.state == optuna.trial.TrialState.RUNNING
        if not running or t.user_attrs.get(UNIQUE_ATTR) or _started(t) < mine:
            return t.number
    trial.set_user_attr(UNIQUE_ATTR, True)
    return None


def retried(study: optuna.Study) -> set[int]:
    """Numbers of trials that did not finish (Ctrl-C, a dead worker) and were queued again."""
    return {
        n for t in study.get_trials(deepcopy=False) for n in t.system_attrs.get("retry_history", [])
    }


def counted(study: optuna.Study) -> int:
    """Finished trials that count towards the trial total: not duplicates, and not the
    failed trials of an interrupted run (they are queued again and run anew)."""
    again = retried(study)
    return sum(
        not not_run(t) and not (t.state == optuna.trial.TrialState.FAIL and t.number in again)
        for t in study.get_trials(deepcopy=False, states=FINISHED)
    )


def warm_start(study: optuna.Study, recipes: list[Recipe], order: list[str]) -> int:
    """Enqueue each recipe's default configuration, in ``order`` (recipe refs);
    return how many were enqueued (those already in the study are skipped)."""
    by_ref = {r.ref: r for r in recipes}
    # a default taken from the queue and not run (surplus) is queued again
    known = {param_key(t.params) for t in study.get_trials(deepcopy=False) if not not_run(t)}
    waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
    # a queued trial's parameters are its fixed ones until it runs
    known |= {param_key(t.system_attrs.get("fixed_params") or t.params) for t in waiting}
    enqueued = 0
    for ref in order:
        params = default_params(by_ref[ref], len(recipes) > 1)
        if param_key(params) in known:
            continue
        study.enqueue_trial(params, user_attrs={"warm_start": 0})
        known.add(param_key(params))
        enqueued += 1
    return enqueued


def _smaller(space: Any, current: Any, target: float) -> Any:
    """The largest value of a choice/int dimension at or below ``target`` (else its
    smallest), or None when that is not below ``current``."""
    if space.choice is not None:
        numbers = sorted(v for v in space.choice if isinstance(v, int | float))
        fits = [v for v in numbers if v <= target] or numbers[:1]
        value = fits[-1] if fits else None
    elif space.int_ is not None:
        value = max(space.int_[0], min(space.int_[1], int(target)))
    else:
        return None
    return value if value is not None and value < current else None


@dataclass
class ShrinkToBudget:
    """An Optuna callback: a warm-start trial whose analytic flash or latency is over the
    budget is enqueued again with its family's size parameter scaled down by the
    overshoot (times :data:`SHRINK_MARGIN`), up to :data:`SHRINK_ROUNDS` times."""

    recipes: list[Recipe]
    budgets: Budgets

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        rounds = trial.user_attrs.get("warm_start")
        cost = trial.user_attrs.get("cost")
        if rounds is None or rounds >= SHRINK_ROUNDS or not cost:
            return
        b = self.budgets
        figures = Cost.from_json(cost).over_budget(b.sram_kb, b.flash_kb, b.latency_ms)
        ratios = [v / limit for k, (v, limit) in figures.items() if k != "sram_kb"]
        ref = trial.params.get("recipe", self.recipes[0].ref)
        recipe = next((r for r in self.recipes if r.ref == ref), None)
        if not ratios or recipe is None:  # SRAM is the input window's, not the model's
            return
        over = max(ratios)
        key = MODELS.get(recipe.pipeline.model).size_param
        name = f"{recipe.name}/{key}"
        if key is None or name not in trial.params or key not in recipe.search.space:
            return
        current = trial.params[name]
        value = _smaller(recipe.search.space[key], current, current * SHRINK_MARGIN / over)
        if value is None:
            return
        params = {**trial.params, name: value}
        if any(param_key(t.params) == param_key(params) for t in study.get_trials(deepcopy=False)):
            return
        study.enqueue_trial(params, user_attrs={"warm_start": rounds + 1})


@dataclass
class StopRule:
    """An Optuna callback that stops the study; ``why`` says what stopped it."""

    trials: int | None
    end: float | None  # time.time() past which no trial starts
    #: seconds to keep free before ``end`` (the race after the search), from the study
    reserve: Callable[[optuna.Study], float] | None = None
    why: str = ""
    _run_of_duplicates: int = field(default=0, repr=False)

    def remaining_s(self) -> float | None:
        return None if self.end is None else self.end - time.time()

    def _race_time(self, study: optuna.Study) -> bool:
        """The time left before ``end`` is the reserve's (the race after the search)."""
        assert self.end is not None and self.reserve is not None
        kept = self.reserve(study)
        return kept > 0 and time.time() >= self.end - kept

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if "duplicate_of" in trial.user_attrs:
            self._run_of_duplicates += 1
        else:
            self._run_of_duplicates = 0
        if self.trials is not None and counted(study) >= self.trials:
            self.why = f"{self.trials} trials"
        elif self.end is not None and time.time() >= self.end:
            self.why = "time budget"
        elif self.end is not None and self.reserve is not None and self._race_time(study):
            self.why = "time budget"  # the rest of it is the race's
        elif self._run_of_duplicates >= EXHAUSTED_AFTER:
            self.why = (
                f"search space exhausted ({EXHAUSTED_AFTER} sampled configurations in a row "
                "were already in the study)"
            )
        if self.why:
            study.stop()


__all__ = [
    "EXHAUSTED_AFTER",
    "FINISHED",
    "UNIQUE_ATTR",
    "Deadline",
    "ShrinkToBudget",
    "StopRule",
    "TrialTimeout",
    "admitted",
    "counted",
    "duplicate_of",
    "not_run",
    "param_key",
    "retried",
    "warm_start",
]
