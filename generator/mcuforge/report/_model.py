"""What the renderers share: trials read back from rows, Pareto fronts, budgets, units.

Trials arrive either as the rows the search produced (native Python values) or as the
rows of ``trials.csv`` (strings). :func:`read_trials` turns both into the same
:class:`Trial` values, so a report re-rendered from an output directory is byte-identical
to the one written at generation time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Cost figures of a trial, in the order the report shows them.
COST_KEYS = ("flash_bytes", "sram_bytes", "latency_ms")


@dataclass(frozen=True)
class Axis:
    """How one cost figure is shown: label, unit, scale from the stored value, budget key."""

    key: str
    label: str
    unit: str
    scale: float
    budget_key: str

    def shown(self, value: float) -> float:
        """``value`` (bytes or ms, as stored) in the unit shown."""
        return value / self.scale

    def budget(self, budgets: Mapping[str, Any]) -> float | None:
        """The budget in the unit shown, or None when the spec sets none."""
        b = budgets.get(self.budget_key)
        return None if b is None else float(b)


AXES = {
    "flash_bytes": Axis("flash_bytes", "flash", "kB", 1024.0, "flash_kb"),
    "sram_bytes": Axis("sram_bytes", "SRAM", "kB", 1024.0, "sram_kb"),
    "latency_ms": Axis("latency_ms", "latency", "ms", 1.0, "latency_ms"),
}


@dataclass(frozen=True)
class Trial:
    """One search trial: its CV score, whether it met every budget, its (analytic) cost."""

    number: int
    state: str
    recipe: str
    score: float | None
    feasible: bool
    params: str
    cost: dict[str, float]
    #: On the search's own Pareto set (trials.csv column ``pareto``); None when not recorded.
    pareto: bool | None = None

    @property
    def scored(self) -> bool:
        """True when the trial finished with a score."""
        return self.score is not None


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def _flag(value: Any) -> bool:
    return value is True or str(value) == "True"


def read_trials(rows: Iterable[Mapping[str, Any]]) -> list[Trial]:
    """Trials from search rows or ``trials.csv`` rows, ordered by trial number.

    Args:
        rows: Mappings with the keys of :func:`mcuforge.search.trial_rows`; values may be
            native or the strings :mod:`csv` reads back (empty for a missing value).

    Returns:
        One :class:`Trial` per row.
    """
    trials = []
    for row in rows:
        cost = {k: v for k in COST_KEYS if (v := _number(row.get(k))) is not None}
        trials.append(
            Trial(
                number=int(row["trial"]),
                state=str(row.get("state", "")),
                recipe=str(row.get("recipe", "")),
                score=_number(row.get("score")),
                feasible=_flag(row.get("feasible")),
                params=str(row.get("params", "")),
                cost=cost,
                pareto=_flag(row["pareto"]) if "pareto" in row else None,
            )
        )
    return sorted(trials, key=lambda t: t.number)


def better(a: float, b: float, maximize: bool) -> bool:
    """True when score ``a`` is strictly better than ``b``."""
    return a > b if maximize else a < b


def pareto_front(trials: Iterable[Trial], key: str, maximize: bool = True) -> list[Trial]:
    """Feasible trials not beaten on both score and ``key``: the front in one plot's plane.

    The search records its own Pareto set over score and every cost (``Trial.pareto``);
    this is its projection on one cost, what a plot of score against that cost shows.

    Args:
        trials: Any trials; only feasible scored ones with the figure ``key`` count.
        key: A cost figure, one of :data:`COST_KEYS`.
        maximize: Whether a higher score is better (the report's ``maximize``).

    Returns:
        The front, ordered by increasing cost.
    """
    sign = -1.0 if maximize else 1.0
    pts = sorted(
        (t for t in trials if t.feasible and t.score is not None and key in t.cost),
        key=lambda t: (t.cost[key], sign * (t.score or 0.0), t.number),
    )
    front: list[Trial] = []
    for t in pts:
        if not front or better(t.score or 0.0, front[-1].score or 0.0, maximize):
            front.append(t)
    return front


def search_pareto(trials: Iterable[Trial], maximize: bool = True) -> list[Trial]:
    """The Pareto set the search recorded, or, for rows without it, the union of the fronts.

    Args:
        trials: Every trial.
        maximize: Whether a higher score is better.

    Returns:
        The set, best score first, then by trial number.
    """
    ts = list(trials)
    if any(t.pareto is not None for t in ts):
        chosen = [t for t in ts if t.pareto]
    else:
        numbers = {t.number for k in COST_KEYS for t in pareto_front(ts, k, maximize)}
        chosen = [t for t in ts if t.number in numbers]
    sign = -1.0 if maximize else 1.0
    return sorted(chosen, key=lambda t: (sign * (t.score or 0.0), t.number))


@dataclass(frozen=True)
class RecipeSummary:
    """Per recipe: how many trials, how many met the budgets, the best feasible score."""

    recipe: str
    trials: int
    feasible: int
    best: float | None


def recipe_summary(trials: Iterable[Trial], maximize: bool = True) -> list[RecipeSummary]:
    """One :class:`RecipeSummary` per recipe, in order of first appearance."""
    by: dict[str, list[Trial]] = {}
    for t in trials:
        by.setdefault(t.recipe, []).append(t)
    out = []
    for recipe, ts in by.items():
        scores = [t.score for t in ts if t.feasible and t.score is not None]
        best = (max if maximize else min)(scores, default=None)
        out.append(RecipeSummary(recipe, len(ts), sum(t.feasible for t in ts), best))
    return out


def kb(nbytes: float) -> str:
    """Bytes as kilobytes (1024) with two decimals."""
    return f"{nbytes / 1024:.2f} kB"


_MD_SPECIAL = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "`": "\\`",
        "*": "\\*",
        "[": "\\[",
        "]": "\\]",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        "\n": " ",
        "\r": " ",
        "\t": " ",
    }
)


def md(text: Any) -> str:
    """A string from the user's data (class label, file or channel name) as literal
    Markdown text: one line, no table break (``|``), no emphasis, link or raw HTML
    (``_`` is left alone: inside a word it emphasises nothing, and names are full of it)."""
    return str(text).translate(_MD_SPECIAL)


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a table: ``digits`` significant digits; booleans as yes/no; None as -."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def budget_text(value: float | None, unit: str) -> str:
    """A budget with its unit; None (no budget) as ``none``."""
    return "none" if value is None else f"{value:g} {unit}"


def score_text(value: float | None) -> str:
    """A score with four decimals, as the command line prints it; None as -."""
    return "-" if value is None else f"{value:.4f}"


def chosen_trial(report: Mapping[str, Any]) -> int | None:
    """The trial whose candidate became the firmware (``search.chosen_trial``).

    It differs from ``search.best_trial`` when the best candidate broke a budget once
    measured; reports without the key chose the best trial.
    """
    s = report["search"]
    value = s.get("chosen_trial", s.get("best_trial"))
    return None if value is None else int(value)


def maximize(report: Mapping[str, Any]) -> bool:
    """``report["maximize"]``: whether a higher score is better (True when absent)."""
    return bool(report.get("maximize", True))


def task_kind(report: Mapping[str, Any]) -> str:
    """``report["task"]``; reports written before the key existed are classification."""
    return str(report.get("task", "classification"))


def mean_baseline(reg: Mapping[str, Any]) -> dict[str, float] | None:
    """The errors of predicting the training mean for every test window (``train_mean``;
    None for reports from before it was kept)."""
    if reg.get("train_mean") is None:
        return None
    mean = float(reg["train_mean"])
    return regression_errors({"y_true": reg["y_true"], "y_pred": [mean] * len(reg["y_true"])})


def worse_than_mean(r: Mapping[str, Any]) -> str | None:
    """A sentence when a regression model's test error (in the task metric) is not below
    that of predicting the training mean, else None."""
    reg = r.get("regression")
    base = mean_baseline(reg) if reg else None
    if reg is None or base is None:
        return None
    metric = "mae" if r.get("metric") == "mae" else "rmse"
    own = regression_errors(reg)[metric]
    if own < base[metric]:
        return None
    return (
        f"The model's test {metric.upper()} ({fmt(own)}) is no better than predicting the "
        f"training mean for every window ({fmt(base[metric])}): the features may not carry "
        "the target; check the labels, a longer window, or other sensors."
    )


def regression_errors(reg: Mapping[str, Any]) -> dict[str, float]:
    """MAE, RMSE and the largest absolute error of ``{"y_true": [...], "y_pred": [...]}``."""
    res = [float(p) - float(t) for t, p in zip(reg["y_true"], reg["y_pred"], strict=True)]
    n = max(len(res), 1)
    return {
        "mae": sum(abs(r) for r in res) / n,
        "rmse": (sum(r * r for r in res) / n) ** 0.5,
        "max_abs": max((abs(r) for r in res), default=0.0),
    }


__all__ = [
    "AXES",
    "COST_KEYS",
    "Axis",
    "RecipeSummary",
    "Trial",
    "better",
    "budget_text",
    "chosen_trial",
    "fmt",
    "kb",
    "maximize",
    "mean_baseline",
    "pareto_front",
    "read_trials",
    "recipe_summary",
    "regression_errors",
    "score_text",
    "search_pareto",
    "task_kind",
    "worse_than_mean",
]
