"""One trial: sample a configuration, skip it if the study has it, build, cost and
cross-validate it within its time limit (see ``_control``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NoReturn

import optuna

from ..data import Dataset
from ..errors import McuforgeError
from ..resolver import Plan
from ._control import Deadline, TrialTimeout, admitted, duplicate_of
from ._evaluate import FeatureCache, build, cross_validate
from ._space import CandidateConfig, sample_config
from ._types import FIGURES, SearchSettings

#: The trial's user attribute with the digest of its out-of-fold outputs.
OUTPUTS_DIGEST = "outputs_digest"
#: The trial's user attribute with the seconds it waited for other workers' trials
#: before it ran (:func:`admitted`).
ADMISSION_WAIT = "admission_wait_s"


def make_objective(
    plan: Plan,
    dataset: Dataset,
    limit_s: Callable[[], float | None],
    on_start: Callable[[int, str], None] | None = None,
    total: int | None = None,
    end: float | None = None,
    reserve: Callable[[optuna.Study], float] | None = None,
) -> Callable[[optuna.Trial], Any]:
    """The trial function: sample, skip repeats, build, cost, cross-validate in a time limit.
    A trial that would take the study past ``total`` trials (other workers' running
    trials reach it) is not run (:func:`admitted`), nor one that could start only after
    ``end`` (``time.time()``: the search's time budget; it waited for other workers'
    trials past it). Both are recorded as ``surplus``: not counted, run on a resume.

    ``limit_s()`` gives the time the trial may take (its limit, or what is left of the
    search's budget); past it the trial is pruned with the reason. ``reserve(study)``
    is the time kept before ``end`` for the race after the search: no trial starts in
    it, and none runs into it (a slow last trial left the race no time).
    """
    spec = plan.spec.spec
    budgets = spec.budgets
    cache = FeatureCache(dataset)
    extra = [FIGURES[o] for o in spec.search.objectives[1:]]
    single = len(spec.search.objectives) == 1

    def run(trial: optuna.Trial, config: CandidateConfig, deadline: Deadline) -> Any:
        cand = build(config, cache, plan)
        violations = cand.cost.violations(budgets.sram_kb, budgets.flash_kb, budgets.latency_ms)
        with deadline.critical():
            trial.set_user_attr("constraints", violations)
            trial.set_user_attr("cost", cand.cost.to_json())
            trial.set_user_attr("model", cand.model.describe())

        def on_epoch(epoch: int, value: float) -> None:
            with deadline.critical():
                trial.report(value, epoch)
                prune = trial.should_prune()
            if prune:  # the value: validation accuracy, or minus the validation loss
                seen = f"accuracy {value:.3f}" if value > 0 else f"loss {-value:.4g}"
                raise optuna.TrialPruned(
                    f"pruned at epoch {epoch}: validation {seen}, behind earlier trials at "
                    "that epoch"
                )

        over = cand.cost.over_budget(budgets.sram_kb, budgets.flash_kb, budgets.latency_ms)
        if over:  # infeasible whatever it scores: no cross-validation spent on it
            what = ", ".join(f"{k} {v:.1f} > {limit:g}" for k, (v, limit) in over.items())
            raise optuna.TrialPruned(f"over budget ({what}); not cross-validated")
        deadline.check()
        done = cross_validate(config, cache, plan, on_epoch if single else None, deadline.check)
        value = done.score
        with deadline.critical():
            trial.set_user_attr(OUTPUTS_DIGEST, done.fingerprint())
        if not extra:
            return value
        return (value, *(float(cand.cost.to_json()[k]["value"]) for k in extra))

    def objective(trial: optuna.Trial) -> Any:
        asked = time.monotonic()
        if not admitted(trial.study, trial.number, total, limit_s()):
            _not_run(trial, "the study reached its trial total meanwhile", "the trial total")
        race = reserve(trial.study) if reserve is not None and end is not None else 0.0
        if end is not None and time.time() >= end - race:  # it would run on a 1 s remainder
            why = "the time left is the re-scoring's" if race > 0 else "the time budget ended"
            _not_run(trial, f"{why} before it could start", "the time budget")
        waited = time.monotonic() - asked
        if waited >= 1.0:  # not the trial's own time (the race reads trial durations)
            trial.set_user_attr(ADMISSION_WAIT, round(waited, 3))
        try:
            config = sample_config(trial, plan.recipes)
        except optuna.TrialPruned as exc:  # e.g. an empty subset of statistics
            trial.set_user_attr("recipe", str(trial.params.get("recipe", plan.recipes[0].ref)))
            same = duplicate_of(trial.study, trial)
            if same is not None:  # a repeat of it counts as no trial (as any repeat)
                trial.set_user_attr("duplicate_of", same)
                trial.set_user_attr("reason", f"{exc}; same parameters as trial #{same}")
            else:
                trial.set_user_attr("reason", str(exc))
            raise
        trial.set_user_attr("recipe", config.recipe.ref)
        if on_start is not None:
            on_start(trial.number, config.recipe.ref)
        same = duplicate_of(trial.study, trial)
        if same is not None:
            trial.set_user_attr("duplicate_of", same)
            trial.set_user_attr("reason", f"same parameters as trial #{same}; not run again")
            raise optuna.TrialPruned(f"duplicate of trial #{same}")
        limit = limit_s()
        if race > 0 and end is not None:  # not into the race's time
            left = max(end - race - time.time(), 1.0)
            limit = left if limit is None else min(limit, left)
        deadline = Deadline(limit)
        try:
            with deadline:
                return run(trial, config, deadline)
        except TrialTimeout as exc:
            trial.set_user_attr("reason", str(exc))
            raise optuna.TrialPruned(str(exc)) from None
        except optuna.TrialPruned as exc:
            trial.set_user_attr("reason", str(exc) or "pruned")
            raise
        except TRIAL_ERRORS as exc:  # Optuna keeps no reason for a failed trial
            trial.set_user_attr("reason", f"{type(exc).__name__}: {' '.join(str(exc).split())}")
            raise

    return objective


def _not_run(trial: optuna.Trial, why: str, what: str) -> NoReturn:
    """Record ``trial`` as never run (``surplus``: not counted, run on a resume) and stop it."""
    trial.set_user_attr("surplus", True)
    trial.set_user_attr("reason", f"{why}; not run")
    raise optuna.TrialPruned(f"{what} was reached")


#: Errors a trial may raise that fail that trial only (recorded with the reason).
TRIAL_ERRORS = (ValueError, ArithmeticError, McuforgeError)


def limit_for(settings: SearchSettings, end: float | None) -> Callable[[], float | None]:
    def limit() -> float | None:
        left = None if end is None else max(end - time.time(), 1.0)
        if settings.trial_timeout_s is None:
            return left
        return settings.trial_timeout_s if left is None else min(left, settings.trial_timeout_s)

    return limit


__all__ = ["ADMISSION_WAIT", "OUTPUTS_DIGEST", "TRIAL_ERRORS", "limit_for", "make_objective"]
