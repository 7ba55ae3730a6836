"""The Optuna study: recipes and parameters, scored by cross-validation, budgets as constraints.

Each trial picks a recipe (a categorical when the plan has several), samples that
recipe's space, computes the features, scores the *deployed* model (the form the C
runs) by grouped cross-validation on the training recordings, fits it once more on
all training windows to cost it analytically, and reports the budget violations to
the sampler through ``constraints_func`` (> 0 means violated).

The final choice: the best score among trials meeting every budget; ties go to lower
latency, then lower flash, then the earlier trial.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from .catalog import Recipe, SearchParam
from .data import Dataset
from .features import FEATURES, FeatureBlock, FeaturePipeline
from .hardware.analytic import analytic_cost
from .hardware.cost import Cost
from .models import MODELS, DeployedModel
from .resolver import Plan

CONSTRAINT_NAMES = ("sram", "flash", "latency")


def score(metric: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The task metric (higher is better)."""
    if metric == "accuracy":
        return float(accuracy_score(y_true, y_pred))
    if metric == "balanced_accuracy":
        return float(balanced_accuracy_score(y_true, y_pred))
    if metric == "f1_macro":
        return float(f1_score(y_true, y_pred, average="macro"))
    raise ValueError(f"unknown metric {metric!r}")


@dataclass(frozen=True)
class CandidateConfig:
    """A recipe and concrete parameters: enough to rebuild a candidate."""

    recipe: Recipe
    model_params: dict[str, Any]
    block_params: dict[str, dict[str, Any]]


@dataclass
class Candidate:
    """One trained pipeline with its score and cost."""

    config: CandidateConfig
    features: FeaturePipeline
    model: DeployedModel
    cost: Cost


@dataclass(frozen=True)
class TrialRecord:
    number: int
    recipe: str
    params: dict[str, Any]
    score: float | None
    cost: dict[str, Any] | None
    feasible: bool
    state: str


@dataclass
class SearchResult:
    best: CandidateConfig
    best_trial: int
    cv_score: float
    trials: list[TrialRecord]
    ranked: list[int]  # feasible trial numbers, best first


class FeatureCache:
    """Window-block outputs by block, parameters and split, computed once per search.

    Window blocks are stateless, so their outputs can be shared by every trial and
    fold; vector blocks (projections) are fitted per fold and never cached.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._cache: dict[tuple[str, str, str], np.ndarray] = {}

    def pipeline(self, config: CandidateConfig) -> FeaturePipeline:
        ds = self.dataset
        blocks: list[FeatureBlock] = [
            FEATURES.get(name)(
                config.block_params.get(name, {}), ds.window, ds.channels, ds.rate_hz
            )
            for name in config.recipe.pipeline.features
        ]
        return FeaturePipeline(blocks)

    def _block_output(self, block: FeatureBlock, split: str) -> np.ndarray:
        key = (block.name, json.dumps(block.params, sort_keys=True), split)
        if key not in self._cache:
            self._cache[key] = block.transform(getattr(self.dataset, split).x)
        return self._cache[key]

    def window_features(self, pipe: FeaturePipeline, split: str) -> np.ndarray:
        return pipe.window_features(getattr(self.dataset, split).x, self._block_output, split)


def _suggest(trial: optuna.Trial, name: str, p: SearchParam) -> Any:
    if p.int_ is not None:
        return trial.suggest_int(name, p.int_[0], p.int_[1], log=p.log)
    if p.float_ is not None:
        return trial.suggest_float(name, p.float_[0], p.float_[1], log=p.log)
    if p.choice is not None:
        return trial.suggest_categorical(name, p.choice)
    assert p.subset is not None
    picked = [o for o in p.subset if trial.suggest_categorical(f"{name}.{o}", [True, False])]
    if not picked:
        raise optuna.TrialPruned("empty subset")
    return picked


def sample_config(trial: optuna.Trial, recipes: list[Recipe]) -> CandidateConfig:
    """Sample a recipe and its parameters (conditional on the recipe)."""
    if len(recipes) > 1:
        ref = trial.suggest_categorical("recipe", [r.ref for r in recipes])
        recipe = next(r for r in recipes if r.ref == ref)
    else:
        recipe = recipes[0]
    model_params: dict[str, Any] = dict(recipe.search.fixed)
    block_params: dict[str, dict[str, Any]] = {}
    for key, space in recipe.search.space.items():
        value = _suggest(trial, f"{recipe.name}/{key}", space)
        block, dot, param = key.partition(".")
        if dot:
            block_params.setdefault(block, {})[param] = value
        else:
            model_params[key] = value
    return CandidateConfig(recipe, model_params, block_params)


def build(config: CandidateConfig, cache: FeatureCache, plan: Plan) -> Candidate:
    """Fit ``config`` on all training windows and cost it."""
    ds = cache.dataset
    pipe = cache.pipeline(config)
    v = cache.window_features(pipe, "train")
    pipe.fit_vector(v, ds.train.y)
    x = pipe.transform_vector(v)
    family = MODELS.get(config.recipe.pipeline.model)()
    model = family.fit(x, ds.train.y, len(ds.classes), config.model_params, plan.seed)
    return Candidate(config, pipe, model, analytic_cost(pipe, model, plan.target, plan.core))


def cross_validate(config: CandidateConfig, cache: FeatureCache, plan: Plan) -> float:
    """Mean grouped-CV score of the deployed model on the training recordings.

    Projections are refitted inside each fold, so no validation window leaks into them.
    """
    ds = cache.dataset
    v = cache.window_features(cache.pipeline(config), "train")
    y, groups = ds.train.y, ds.train.groups
    n_groups = len(np.unique(groups))
    folds = min(plan.spec.spec.search.folds, n_groups)
    min_class = int(np.bincount(y).min())
    splitter = StratifiedGroupKFold(
        n_splits=max(2, min(folds, min_class)), shuffle=True, random_state=plan.seed
    )
    family = MODELS.get(config.recipe.pipeline.model)()
    metric = plan.spec.spec.task.metric
    scores = []
    for tr, va in splitter.split(v, y, groups):
        pipe = cache.pipeline(config)
        pipe.fit_vector(v[tr], y[tr])
        model = family.fit(
            pipe.transform_vector(v[tr]), y[tr], len(ds.classes), config.model_params, plan.seed
        )
        scores.append(score(metric, y[va], model.predict(pipe.transform_vector(v[va]))))
    return float(np.mean(scores))


def run_search(
    plan: Plan,
    dataset: Dataset,
    trials: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SearchResult:
    """Run the study and pick the best feasible candidate (see module docstring)."""
    spec = plan.spec.spec
    budgets = spec.budgets
    cache = FeatureCache(dataset)
    optuna.logging.set_verbosity(logging.WARNING)

    def constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
        return list(trial.user_attrs.get("constraints", [math.inf] * 3))

    strategy = spec.search.strategy
    sampler: optuna.samplers.BaseSampler
    if strategy == "random":
        sampler = optuna.samplers.RandomSampler(seed=spec.search.seed)
    else:
        with warnings.catch_warnings():  # multivariate and constraints_func are "experimental"
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                seed=spec.search.seed, multivariate=True, constraints_func=constraints
            )
    study = optuna.create_study(direction="maximize", sampler=sampler, study_name=spec.name)

    def objective(trial: optuna.Trial) -> float:
        config = sample_config(trial, plan.recipes)
        cand = build(config, cache, plan)
        violations = cand.cost.violations(budgets.sram_kb, budgets.flash_kb, budgets.latency_ms)
        trial.set_user_attr("constraints", violations)
        trial.set_user_attr("cost", cand.cost.to_json())
        trial.set_user_attr("recipe", config.recipe.ref)
        trial.set_user_attr("model", cand.model.describe())
        value = cross_validate(config, cache, plan)
        if progress:
            ok = "fits" if all(v <= 0 for v in violations) else "over budget"
            progress(
                f"trial #{trial.number}: {config.recipe.ref} cv {spec.task.metric} "
                f"{value:.3f}, flash {cand.cost.flash_bytes.value:.0f} B, "
                f"sram {cand.cost.sram_bytes.value:.0f} B ({ok})"
            )
        return value

    n = trials if trials is not None else spec.search.trials
    timeout = spec.search.timeout_min * 60 if spec.search.timeout_min else None
    study.optimize(objective, n_trials=n, timeout=timeout, gc_after_trial=False)
    records: list[TrialRecord] = []
    for t in study.trials:
        feasible = t.state == optuna.trial.TrialState.COMPLETE and all(
            v <= 0 for v in t.user_attrs.get("constraints", [1.0])
        )
        records.append(
            TrialRecord(
                t.number,
                str(t.user_attrs.get("recipe", "")),
                dict(t.params),
                None if t.value is None else float(t.value),
                t.user_attrs.get("cost"),
                feasible,
                t.state.name,
            )
        )
    ranked = sorted(
        (r for r in records if r.feasible and r.score is not None),
        key=lambda r: (
            -(r.score or 0.0),
            r.cost["latency_ms"]["value"] if r.cost else 0.0,
            r.cost["flash_bytes"]["value"] if r.cost else 0.0,
            r.number,
        ),
    )
    from .errors import BudgetError

    if not ranked:
        raise BudgetError(
            _infeasible_message(records, budgets.sram_kb, budgets.flash_kb, budgets.latency_ms)
        )
    best = ranked[0]
    frozen = study.trials[best.number]
    config = _config_from_trial(frozen, plan)
    return SearchResult(
        config, best.number, float(best.score or 0.0), records, [r.number for r in ranked]
    )


def _config_from_trial(trial: optuna.trial.FrozenTrial, plan: Plan) -> CandidateConfig:
    """Replay a finished trial's parameters into a config."""
    fixed = optuna.trial.FixedTrial(trial.params, number=trial.number)
    return sample_config(fixed, plan.recipes)  # type: ignore[arg-type]


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
    rows = []
    for r in result.trials:
        row: dict[str, Any] = {
            "trial": r.number,
            "state": r.state,
            "recipe": r.recipe,
            "score": r.score,
            "feasible": r.feasible,
            "params": json.dumps(r.params, sort_keys=True),
        }
        if r.cost:
            for k, fig in r.cost.items():
                row[k] = fig["value"]
                row[f"{k}_source"] = fig["source"]
        rows.append(row)
    return rows
