"""The Optuna study: samplers, pruners, storage, resumption, workers, the final choice.

Each trial picks a recipe and parameters (see ``_space``), scores the deployed model
by grouped cross-validation and costs it analytically (see ``_evaluate``). Budgets
are Optuna constraints (``constraints_func``: a value > 0 means violated), so
infeasible trials still guide the sampler. Objectives: the task metric, optionally
with latency, flash, SRAM and energy (minimised) for a Pareto front.

The final choice: the best score among trials meeting every budget; ties go to lower
latency, then lower flash, then the earlier trial.

Trials that did not finish (Ctrl-C, a killed or dead worker) are failed and their
parameters queued again, so the next run re-runs them first; they do not count
towards the study's total. Ctrl-C keeps every finished trial and prints no Optuna
traceback (the command line prints one line).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from ..data import Dataset
from ..errors import BudgetError, McuforgeError
from ..resolver import Plan
from ._control import (
    FINISHED,
    Deadline,
    StopRule,
    TrialTimeout,
    counted,
    duplicate_of,
    retried,
    warm_start,
)
from ._evaluate import FeatureCache, build, cross_validate
from ._progress import Progress
from ._resume import fail_stale, optimize_quietly, stop_workers
from ._space import CandidateConfig, config_from_params, grid_space, sample_config
from ._storage import SearchError, differences, fingerprint, open_storage, storage_url

FIGURES = {
    "latency": "latency_ms",
    "flash": "flash_bytes",
    "sram": "sram_bytes",
    "energy": "energy_uj",
}
Log = Callable[[str], None]


@dataclass(frozen=True)
class TrialRecord:
    number: int
    recipe: str
    params: dict[str, Any]
    score: float | None
    cost: dict[str, Any] | None
    feasible: bool
    state: str
    reason: str = ""  # why a trial was pruned or failed (time limit, duplicate, error)


@dataclass
class SearchResult:
    best: CandidateConfig
    best_trial: int
    cv_score: float
    trials: list[TrialRecord]
    ranked: list[int]  # feasible trial numbers, best first
    pareto: list[int] = field(default_factory=list)  # feasible non-dominated trial numbers
    storage: str = ""
    study_name: str = ""
    stopped_by: str = ""  # what ended the search: trials, time budget, exhausted space


@dataclass(frozen=True)
class SearchSettings:
    """How to run: trial total and time budget (the first reached ends the search),
    per-trial limit, storage, workers, and whether to replace another study."""

    trials: int | None
    storage: str
    jobs: int = 1
    force: bool = False
    time_budget_s: float | None = None
    trial_timeout_s: float | None = None
    verbose: bool = False  # a line per trial even where a progress bar is shown
    exclusive: bool = False  # no other run uses the storage (the locked local study)


def study_parts(plan: Plan, dataset: Dataset) -> dict[str, Any]:
    """What decides a study's trials; stored with the study and compared on resume."""
    spec = plan.spec.spec
    s = spec.search
    return {
        "data": dataset.sha256,
        "window": [dataset.window, dataset.stride],
        "task": spec.task.model_dump(mode="json"),
        "target": plan.target.model_dump(mode="json"),
        "budgets": spec.budgets.model_dump(mode="json"),
        "recipes": [r.model_dump(mode="json", by_alias=True) for r in plan.recipes],
        "search": {
            "seed": s.seed,
            "strategy": s.strategy,
            "objectives": s.objectives,
            "folds": s.folds,
        },
    }


def _sampler(plan: Plan, seed: int, parallel: bool) -> optuna.samplers.BaseSampler:
    spec = plan.spec.spec
    strategy = spec.search.strategy
    multi = len(spec.search.objectives) > 1
    if strategy == "auto":
        strategy = "nsga2" if multi else plan.recipes[0].search.strategy
        if strategy == "grid":
            strategy = "tpe"

    def constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
        return list(trial.user_attrs.get("constraints", [math.inf] * 3))

    with warnings.catch_warnings():  # several sampler options are "experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if strategy == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if strategy == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints)
        if strategy == "gp":
            return optuna.samplers.GPSampler(seed=seed, constraints_func=constraints)
        if strategy == "grid":
            try:
                return optuna.samplers.GridSampler(grid_space(plan.recipes), seed=seed)
            except ValueError as exc:
                raise SearchError(f"search.strategy grid: {exc}") from exc
        return optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            group=True,
            constant_liar=parallel,
            constraints_func=constraints,
        )


def _pruner(plan: Plan) -> optuna.pruners.BasePruner:
    kind = plan.spec.spec.search.pruner
    if kind == "median":
        # validation scores of the first epochs are noise on small data sets (measured on
        # examples/keywords: warm-up 2 pruned 4 of 10 trials at chance level)
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=10)
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=10)
    return optuna.pruners.NopPruner()


def _directions(plan: Plan) -> list[str]:
    spec = plan.spec.spec
    first = "maximize" if spec.task.maximize else "minimize"
    return [first] + ["minimize"] * (len(spec.search.objectives) - 1)


def open_study(
    plan: Plan, dataset: Dataset, settings: SearchSettings, seed: int, log: Log
) -> optuna.Study:
    """Create the study, or join the existing one when it was made for the same problem.

    Raises:
        SearchError: unreachable or corrupt storage; a study of another spec (unless
            ``force``, which deletes it).
    """
    storage = open_storage(settings.storage)
    name = plan.spec.spec.name
    parts = study_parts(plan, dataset)
    fp = fingerprint(parts)
    try:
        existing = {s.study_name: s for s in optuna.get_all_study_summaries(storage)}
    except Exception as exc:  # a corrupt file surfaces here as a database error
        raise SearchError(
            f"the study storage {settings.storage} cannot be read ({exc.__class__.__name__}); "
            "delete it or pass --force"
        ) from exc
    if name in existing:
        old = optuna.load_study(study_name=name, storage=storage)
        if old.user_attrs.get("fingerprint") != fp:
            diff = differences(old.user_attrs.get("parts", {}), parts)
            if not settings.force:
                raise SearchError(
                    f"the study {name!r} in {settings.storage} was made for a different spec "
                    f"(differs in: {', '.join(diff) or 'format'}); pass --force to replace it "
                    "or use another output directory"
                )
            log(f"search: replacing study {name!r} (differs in: {', '.join(diff)})")
            optuna.delete_study(study_name=name, storage=storage)
    parallel = settings.jobs > 1 or not settings.storage.startswith("sqlite")
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        load_if_exists=True,
        directions=_directions(plan),
        sampler=_sampler(plan, seed, parallel),
        pruner=_pruner(plan),
    )
    if "fingerprint" not in study.user_attrs:
        study.set_user_attr("fingerprint", fp)
        study.set_user_attr("parts", parts)
    if study.trials:  # a resumed study (or another worker's): a fresh stream of samples
        study.sampler = _sampler(plan, seed + len(study.trials), parallel)
    return study


def make_objective(
    plan: Plan,
    dataset: Dataset,
    limit_s: Callable[[], float | None],
    on_start: Callable[[int, str], None] | None = None,
) -> Callable[[optuna.Trial], Any]:
    """The trial function: sample, skip repeats, build, cost, cross-validate in a time limit.

    ``limit_s()`` gives the time the trial may take (its limit, or what is left of the
    search's budget); past it the trial is pruned with the reason.
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
            if prune:
                raise optuna.TrialPruned(f"pruned at epoch {epoch} (score {value:.3f})")

        deadline.check()
        value = cross_validate(config, cache, plan, on_epoch if single else None, deadline.check)
        if not extra:
            return value
        return (value, *(float(cand.cost.to_json()[k]["value"]) for k in extra))

    def objective(trial: optuna.Trial) -> Any:
        try:
            config = sample_config(trial, plan.recipes)
        except optuna.TrialPruned as exc:  # e.g. an empty subset of statistics
            trial.set_user_attr("recipe", str(trial.params.get("recipe", plan.recipes[0].ref)))
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
        deadline = Deadline(limit_s())
        try:
            with deadline:
                return run(trial, config, deadline)
        except TrialTimeout as exc:
            trial.set_user_attr("reason", str(exc))
            raise optuna.TrialPruned(str(exc)) from None
        except optuna.TrialPruned as exc:
            trial.set_user_attr("reason", str(exc) or "pruned")
            raise

    return objective


#: Errors a trial may raise that fail that trial only (recorded with the reason).
TRIAL_ERRORS = (ValueError, ArithmeticError, McuforgeError)


def _limit(settings: SearchSettings, end: float | None) -> Callable[[], float | None]:
    def limit() -> float | None:
        left = None if end is None else max(end - time.time(), 1.0)
        if settings.trial_timeout_s is None:
            return left
        return settings.trial_timeout_s if left is None else min(left, settings.trial_timeout_s)

    return limit


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
    try:  # the same plan as the parent's (the lock's pins, the spec's catalogs)
        plan = preflight(Path(spec_path), [Path(c) for c in catalogs]).plan
        spec = plan.spec.spec
        dataset = load_dataset(spec.data, plan.spec.base_dir, spec.task)
        study = open_study(plan, dataset, settings, seed, lambda s: None)
        optimize_quietly(
            study,
            make_objective(plan, dataset, _limit(settings, end)),
            timeout=None if end is None else max(end - time.time(), 0.0),
            callbacks=[StopRule(settings.trials, end)],
            catch=TRIAL_ERRORS,
            gc_after_trial=False,
        )
    except KeyboardInterrupt:
        sys.exit(130)  # the parent reports the interruption


def _portfolio_order(plan: Plan) -> list[str]:
    """Recipes cheapest to train first (family training cost, then smallest model)."""
    from ..models import MODELS

    size = {d.recipe: d.min_flash_bytes or 0.0 for d in plan.decisions}
    return [
        r.ref
        for r in sorted(
            plan.recipes,
            key=lambda r: (MODELS.get(r.pipeline.model).training_cost, size.get(r.ref, 0.0)),
        )
    ]


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
    if settings.trials is not None and done >= settings.trials:
        return collect(study, plan, settings, "trials already in the study")
    budget = settings.time_budget_s
    end = None if budget is None else time.time() + budget
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
    stop = StopRule(settings.trials, end)
    t0 = time.monotonic()
    if settings.jobs > 1:
        if spec_path is None:
            raise SearchError(
                "parallel jobs (--jobs) read the spec from its file; give a spec file, "
                "not a mapping"
            )
        ctx = multiprocessing.get_context("spawn")
        procs = [
            ctx.Process(
                target=_worker,
                args=(
                    str(spec_path),
                    [str(c) for c in catalogs or []],
                    settings,
                    seed + 1 + i + len(study.trials),
                    end,
                ),
            )
            for i in range(settings.jobs)
        ]
        for p in procs:
            p.start()
        try:
            for p in procs:
                p.join()
        except KeyboardInterrupt:
            stop_workers(procs)
            raise
        bad = [p.exitcode for p in procs if p.exitcode]
        if bad:
            raise SearchError(f"{len(bad)} search worker(s) failed (exit codes {bad})")
        why = "the workers finished"
    else:
        objective = make_objective(plan, dataset, _limit(settings, end), progress.start_trial)
        with progress:
            optimize_quietly(
                study,
                objective,
                timeout=budget,
                callbacks=[progress, stop],
                catch=TRIAL_ERRORS,
                gc_after_trial=False,
            )
        why = stop.why or "time budget"
    log(f"search: stopped by {why} after {time.monotonic() - t0:.0f} s, {counted(study)} trials")
    return collect(study, plan, settings, why)


def collect(
    study: optuna.Study, plan: Plan, settings: SearchSettings, stopped_by: str = ""
) -> SearchResult:
    """Trial records, the ranking of feasible trials and the final choice."""
    spec = plan.spec.spec
    budgets = spec.budgets
    sign = 1.0 if spec.task.maximize else -1.0
    records: list[TrialRecord] = []
    again = retried(study)
    for t in study.get_trials(deepcopy=False, states=FINISHED):
        if "duplicate_of" in t.user_attrs:
            continue  # never run: the same parameters as an earlier trial
        if t.state == optuna.trial.TrialState.FAIL and t.number in again:
            continue  # interrupted, and run again as a later trial
        feasible = t.state == optuna.trial.TrialState.COMPLETE and all(
            v <= 0 for v in t.user_attrs.get("constraints", [1.0])
        )
        value = t.values[0] if t.values else None
        records.append(
            TrialRecord(
                t.number,
                str(t.user_attrs.get("recipe", "")),
                dict(t.params),
                None if value is None else float(value),
                t.user_attrs.get("cost"),
                feasible,
                t.state.name,
                str(t.user_attrs.get("reason") or t.system_attrs.get("fail_reason", "")),
            )
        )
    ranked = sorted(
        (r for r in records if r.feasible and r.score is not None),
        key=lambda r: (
            -sign * (r.score or 0.0),
            r.cost["latency_ms"]["value"] if r.cost else 0.0,
            r.cost["flash_bytes"]["value"] if r.cost else 0.0,
            r.number,
        ),
    )
    if not ranked:
        raise BudgetError(
            _infeasible_message(records, budgets.sram_kb, budgets.flash_kb, budgets.latency_ms)
        )
    objectives = spec.search.objectives[1:]
    figures = [FIGURES[o] for o in objectives] or ["latency_ms", "flash_bytes", "sram_bytes"]
    pareto = _pareto(ranked, sign, figures)
    best = ranked[0]
    frozen = study.trials[best.number]
    config = config_from_params(frozen.params, plan.recipes, frozen.number)
    return SearchResult(
        config,
        best.number,
        float(best.score or 0.0),
        records,
        [r.number for r in ranked],
        pareto,
        settings.storage,
        study.study_name,
        stopped_by,
    )


def _pareto(ranked: list[TrialRecord], sign: float, figures: list[str]) -> list[int]:
    """Feasible trials not dominated in score and ``figures`` (cost keys, minimised)."""

    def vec(r: TrialRecord) -> tuple[float, ...]:
        c = r.cost or {}
        return (-sign * (r.score or 0.0), *(c.get(k, {}).get("value", 0.0) for k in figures))

    vecs = {r.number: vec(r) for r in ranked}
    front = []
    for n, v in vecs.items():
        dominated = any(
            all(a <= b for a, b in zip(w, v, strict=True)) and w != v
            for m, w in vecs.items()
            if m != n
        )
        if not dominated:
            front.append(n)
    return sorted(front)


def _infeasible_message(
    records: list[TrialRecord], sram_kb: float, flash_kb: float, latency_ms: float | None
) -> str:
    costs = [r.cost for r in records if r.cost]
    if not costs:
        return "no trial finished; raise --trials or check the data"
    min_flash = min(c["flash_bytes"]["value"] for c in costs) / 1024
    min_sram = min(c["sram_bytes"]["value"] for c in costs) / 1024
    min_lat = min(c["latency_ms"]["value"] for c in costs)
    parts = [
        f"no candidate fits the budgets (sram_kb {sram_kb:g}, flash_kb {flash_kb:g}"
        + (f", latency_ms {latency_ms:g}" if latency_ms else "")
        + ")."
    ]
    parts.append(
        f"The smallest candidates found need flash_kb >= {min_flash:.2f}, "
        f"sram_kb >= {min_sram:.2f}, latency_ms >= {min_lat:.3f} "
        "(analytic estimates); raise the budgets or run more trials."
    )
    return " ".join(parts)


def trial_rows(result: SearchResult) -> list[dict[str, Any]]:
    """Flat rows for CSV/JSON: parameters, score, cost and its source."""
    import json

    rows = []
    pareto = set(result.pareto)
    for r in result.trials:
        row: dict[str, Any] = {
            "trial": r.number,
            "state": r.state,
            "recipe": r.recipe,
            "score": r.score,
            "feasible": r.feasible,
            "pareto": r.number in pareto,
            "params": json.dumps(r.params, sort_keys=True),
            "reason": r.reason,
        }
        if r.cost:
            for k, fig in r.cost.items():
                row[k] = fig["value"]
                row[f"{k}_source"] = fig["source"]
        rows.append(row)
    return rows


__all__ = [
    "SearchResult",
    "SearchSettings",
    "TrialRecord",
    "collect",
    "run_search",
    "storage_url",
    "trial_rows",
]
