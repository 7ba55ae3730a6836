"""The result of a study: every finished trial, the ranking of the feasible ones, the
final choice and the Pareto set.

The final choice: the best score among trials meeting every budget; ties go to lower
latency, then lower flash, then the earlier trial. Where the search ended with a race
(``_rescore``), its order comes first and a raced trial's score is its mean over every
fold draw.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import optuna

from ..errors import BudgetError
from ..resolver import Plan
from ._control import FINISHED, not_run, retried
from ._rescore import Raced, Standing, field_of, race, rank_key, stored_rounds
from ._space import config_from_params
from ._storage import trial_reason
from ._types import FIGURES, SearchResult, SearchSettings, TrialRecord


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
        if not_run(t):
            continue  # never run: the same parameters as an earlier trial, or surplus
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
                trial_reason(t),
            )
        )
    ranked = sorted(
        (r for r in records if r.feasible and r.score is not None),
        key=lambda r: rank_key(r.score or 0.0, r.cost, r.number, spec.task.maximize),
    )
    ranked, raced = _after_race(study, plan, ranked)
    final = {r.number: r for r in ranked}
    records = [final.get(r.number, r) for r in records]
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
        len(raced.means),
        raced.complete_rounds,
    )


def _after_race(
    study: optuna.Study, plan: Plan, ranked: list[TrialRecord]
) -> tuple[list[TrialRecord], Raced]:
    """``ranked`` in the order of the race of ``_rescore`` (as far as it has run), with
    the raced trials' scores replaced by their means over every fold draw.

    A trial that did not enter because another with the same out-of-fold outputs did
    (one model, :func:`entrants`) follows that one with its mean: else the same model
    would stand in trials.csv and pareto.json with two scores, the optimistic one of
    the search above the raced one."""
    search = plan.spec.spec.search
    maximize = plan.spec.spec.task.maximize
    by_number = {r.number: r for r in ranked}
    standing = Standing.of(study, maximize)  # the feasible trials of ``ranked``, same order
    entered = field_of(study, standing, search.rescore_top)
    raced = race(entered, standing.first, stored_rounds(study), search.rescore_rounds, maximize)
    if raced.complete_rounds == 0:
        # no round finished: the race knows nothing the search did not, and the entrants
        # passed over for time keep their places among the field by search score
        return ranked, raced
    placed = set(raced.order)
    raced_model = {standing.model_of[n]: n for n in raced.order if n in raced.means}
    twins: dict[int, list[TrialRecord]] = {}
    for r in ranked:
        twin = raced_model.get(standing.model_of.get(r.number, ""))
        if r.number not in placed and twin is not None:
            twins.setdefault(twin, []).append(r)
    head: list[TrialRecord] = []
    for n in raced.order:
        if n not in raced.means:
            head.append(by_number[n])
            continue
        for r in [by_number[n], *twins.get(n, [])]:
            head.append(
                replace(
                    r, score=raced.means[n], search_score=r.score, rescores=tuple(raced.rounds[n])
                )
            )
    placed |= {r.number for group in twins.values() for r in group}
    rest = [r for r in ranked if r.number not in placed]
    return head + rest, raced


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


def _finite(value: float | None) -> float | None:
    """A score for JSON and CSV: None for the ±inf of a configuration that failed in the
    race (JSON has no infinity)."""
    return value if value is None or math.isfinite(value) else None


def trial_rows(result: SearchResult) -> list[dict[str, Any]]:
    """Flat rows for CSV/JSON: parameters, score, cost and its source."""
    rows = []
    pareto = set(result.pareto)
    for r in result.trials:
        row: dict[str, Any] = {
            "trial": r.number,
            "state": r.state,
            "recipe": r.recipe,
            "score": _finite(r.score),
            "feasible": r.feasible,
            "pareto": r.number in pareto,
            "params": json.dumps(r.params, sort_keys=True),
            "reason": r.reason,
            "search_score": _finite(r.search_score),
            "rescores": json.dumps([_finite(v) for v in r.rescores]) if r.rescores else "",
        }
        if r.cost:
            for k, fig in r.cost.items():
                row[k] = fig["value"]
                row[f"{k}_source"] = fig["source"]
        rows.append(row)
    return rows


__all__ = ["collect", "trial_rows"]
