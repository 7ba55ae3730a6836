"""The Optuna study: samplers, pruners, directions, and creating or joining a study.

A study records a fingerprint of everything that decides its trials (``study_parts``);
a later run joins it only when the fingerprint matches (see ``_storage``). Budgets are
Optuna constraints (``constraints_func``: a value > 0 means violated), so infeasible
trials still guide the sampler.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna

from ..data import Dataset
from ..resolver import Plan
from ._space import grid_space
from ._storage import SearchError, differences, fingerprint, open_storage
from ._types import SearchSettings

Log = Callable[[str], None]


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


def resumed_seed(seed: int, trials: int) -> int:
    """The sampler seed of a run that finds ``trials`` in the study: ``seed`` and the
    count mixed (``seed + trials`` repeated another worker's: worker 0 joining after one
    trial drew the stream of worker 1 joining an empty study)."""
    state = np.random.SeedSequence([seed, trials]).generate_state(1)
    return int(state[0])


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
        study.sampler = _sampler(plan, resumed_seed(seed, len(study.trials)), parallel)
    return study


__all__ = ["open_study", "study_parts"]
