"""Running the search: the warm start, the trials (here or in worker processes) until
the trial total, the time budget or an exhausted space, the race of the best
(``_rescore``), and resuming after an interruption. Trials that did not finish (Ctrl-C,
a killed or dead worker) are failed and their parameters queued again, so the next run
re-runs them first; they do not count towards the study's total. Ctrl-C keeps every
finished trial and prints no Optuna traceback (the command line prints one line)."""

from __future__ import annotations

import logging
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path

import optuna

from .._stop import stop_on_sigterm
from ..data import Dataset
from ..resolver import Plan
from ._collect import collect
from ._control import FINISHED, ShrinkToBudget, StopRule, counted, warm_start
from ._objective import TRIAL_ERRORS, limit_for, make_objective
from ._progress import Progress
from ._rescore import MAX_RESERVE_SHARE, race_reserve_s, run_race
from ._resume import fail_stale, optimize_on, stop_workers
from ._storage import SearchError, _redact
from ._study import open_study
from ._types import SearchResult, SearchSettings

Log = Callable[[str], None]


def _worker(
    spec_path: str,
    catalogs: list[str],
    settings: SearchSettings,
    seed: int,
    end: float | None,
) -> None:
    """A local worker process: rebuild the plan and data, join the study, run trials."""
    from ..data import load_dataset
    from ..preflight import preflight

    optuna.logging.set_verbosity(logging.WARNING)
    stop_on_sigterm()  # stop_workers terminates a worker that outlives its Ctrl-C
    try:  # the same plan as the parent's (the lock's pins, the spec's catalogs)
        # the parent checked the output folder (-o or the spec's): a worker writes none
        plan = preflight(Path(spec_path), [Path(c) for c in catalogs], check_output=False).plan
        spec = plan.spec.spec
        dataset = load_dataset(spec.data, plan.spec.base_dir, spec.task, plan.spec)
        study = open_study(plan, dataset, settings, seed, lambda s: None)
        reserve = _reserve(plan, settings.time_budget_s)
        stop = StopRule(settings.trials, end, reserve)
        shrink = ShrinkToBudget(plan.recipes, spec.budgets)
        optimize_on(
            study,
            make_objective(
                plan, dataset, limit_for(settings, end), None, settings.trials, end, reserve
            ),
            end,
            lambda: bool(stop.why),
            callbacks=[shrink, stop],
            catch=TRIAL_ERRORS,
            gc_after_trial=False,
        )
        # the parent says what ended the search (its workers' own reasons)
        study.set_user_attr(f"{STOPPED_ATTR}{seed}", _stop_reason(stop, spec.search.strategy, end))
    except KeyboardInterrupt:
        sys.exit(130)  # the parent reports the interruption


def _past(end: float | None) -> bool:
    """The time budget is (about) spent: Optuna's timeout ended the study."""
    return end is not None and time.time() >= end - 1.0


#: A worker records what ended its trials in the study's user attribute of this name
#: followed by its sampler seed (unique to one run's workers).
STOPPED_ATTR = "stopped_by:"


def _stop_reason(stop: StopRule, strategy: str, end: float | None) -> str:
    """What ended a run of trials: the stop rule's reason, else Optuna's timeout (the
    time budget) or the grid sampler's own stop (every point taken)."""
    if stop.why:
        return stop.why
    return "every grid point tried" if strategy == "grid" and not _past(end) else "time budget"


def _workers_reason(study: optuna.Study, seeds: list[int]) -> str:
    """What ended a parallel search: the reasons its workers recorded, the most common
    first (a worker that stopped on the trial total while another was still running its
    last trial records the total too)."""
    attrs = study.user_attrs
    reasons = [str(attrs[k]) for k in (f"{STOPPED_ATTR}{s}" for s in seeds) if k in attrs]
    if not reasons:
        return "the workers finished"  # none recorded one (stopped from outside)
    return max(dict.fromkeys(reasons), key=reasons.count)


def _reserve(plan: Plan, budget_s: float | None) -> Callable[[optuna.Study], float] | None:
    """The time the race after the search needs (at most a share of the budget)."""
    search = plan.spec.spec.search
    if budget_s is None or search.rescore_top == 0:
        return None
    cap = MAX_RESERVE_SHARE * budget_s
    maximize = plan.spec.spec.task.maximize

    def reserve(study: optuna.Study) -> float:
        return min(cap, race_reserve_s(study, maximize, search.rescore_top, search.rescore_rounds))

    return reserve


def _portfolio_order(plan: Plan) -> list[str]:
    """Recipes cheapest to train first (family training cost), then by the headroom
    of their default configuration, which the warm start tries (a recipe that fits only
    with other choices comes after those that fit as they are)."""
    from ..models import MODELS

    share = {d.recipe: d.default_share or 0.0 for d in plan.decisions}
    return [
        r.ref
        for r in sorted(
            plan.recipes,
            key=lambda r: (MODELS.get(r.pipeline.model).training_cost, share.get(r.ref, 0.0)),
        )
    ]


def _run_workers(
    spec_path: Path,
    catalogs: list[Path] | None,
    settings: SearchSettings,
    seed: int,
    end: float | None,
    tick: Callable[[], None] = lambda: None,
) -> None:
    """``settings.jobs`` processes on the same study, each with its own sampler seed;
    ``tick`` runs about once a second while they work (the progress of the parent)."""
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=_worker,
            args=(
                str(spec_path),
                [str(c) for c in catalogs or []],
                settings,
                seed + i,
                end,
            ),
        )
        for i in range(settings.jobs)
    ]
    for p in procs:
        p.start()
    try:
        while any(p.is_alive() for p in procs):
            time.sleep(1.0)
            tick()
        for p in procs:
            p.join()
        tick()
    except KeyboardInterrupt:
        stop_workers(procs)
        raise
    bad = [p.exitcode for p in procs if p.exitcode]
    if bad:
        raise SearchError(f"{len(bad)} search worker(s) failed (exit codes {bad})")


def run_search(
    plan: Plan,
    dataset: Dataset,
    settings: SearchSettings,
    log: Log,
    spec_path: Path | None = None,
    catalogs: list[Path] | None = None,
) -> SearchResult:
    """Run (or resume) the study until its trial total, time budget or an exhausted space,
    then pick the best (see the module docstring of :mod:`._control`)."""
    optuna.logging.set_verbosity(logging.WARNING)
    seed = plan.spec.spec.search.seed
    study = open_study(plan, dataset, settings, seed, log)
    if n := fail_stale(study, settings.exclusive):
        log(f"search: {n} trial(s) of an interrupted run marked failed; re-running them")
    done = counted(study)
    budget = settings.time_budget_s
    end = None if budget is None else time.time() + budget
    if settings.trials == 0 and done == 0:  # --from-study: nothing to choose from
        raise SearchError(
            f"--from-study: the study {study.study_name!r} in {_redact(settings.storage)} has no "
            "finished trial; run `mcuforge search SPEC --storage URL` first (or drop "
            "--from-study to search here)"
        )
    if settings.trials is not None and done >= settings.trials:
        run_race(study, plan, dataset, end, log)  # what an interrupted run left of it
        return collect(study, plan, settings, "trials already in the study")
    grid = isinstance(study.sampler, optuna.samplers.GridSampler)  # the grid covers it all
    queued = 0 if grid else warm_start(study, plan.recipes, _portfolio_order(plan))
    what = [f"{settings.trials - done} more trials" if settings.trials is not None else ""]
    what.append(f"{budget:.0f} s" if budget is not None else "")
    if done:
        more = " or ".join(w for w in what if w)
        log(f"search: study has {done} finished trials; running {more}")
    if queued:
        log(f"search: {queued} recipe default(s) first, then {type(study.sampler).__name__}")
    tty = sys.stderr.isatty() and not settings.verbose
    spec = plan.spec.spec
    progress = Progress(
        log,
        spec.task.resolved_metric,
        spec.task.maximize,
        settings.trials,
        budget,
        tty,
        settings.verbose,
    )
    progress.done = done
    reserve = _reserve(plan, budget)
    stop = StopRule(settings.trials, end, reserve)
    shrink = ShrinkToBudget(plan.recipes, spec.budgets)
    t0 = time.monotonic()
    if settings.jobs > 1:
        if spec_path is None:
            raise SearchError(
                "parallel jobs (--jobs) read the spec from its file; give a spec file, "
                "not a mapping"
            )
        seen = {t.number for t in study.get_trials(deepcopy=False, states=FINISHED)}

        def tick() -> None:  # the workers' trials as they finish: the progress line, -v
            for t in study.get_trials(deepcopy=False, states=FINISHED):
                if t.number not in seen:
                    seen.add(t.number)
                    progress(study, t)

        first = seed + 1 + len(study.trials)
        with progress:
            _run_workers(spec_path, catalogs, settings, first, end, tick)
        why = _workers_reason(study, [first + i for i in range(settings.jobs)])
    else:
        objective = make_objective(
            plan,
            dataset,
            limit_for(settings, end),
            progress.start_trial,
            settings.trials,
            end,
            reserve,
        )
        with progress:
            optimize_on(
                study,
                objective,
                end,
                lambda: bool(stop.why),
                callbacks=[progress, shrink, stop],
                catch=TRIAL_ERRORS,
                gc_after_trial=False,
            )
        why = _stop_reason(stop, spec.search.strategy, end)
    log(f"search: stopped by {why} after {time.monotonic() - t0:.0f} s, {counted(study)} trials")
    run_race(study, plan, dataset, end, log)
    return collect(study, plan, settings, why)


__all__ = ["run_search"]
