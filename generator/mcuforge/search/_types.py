"""What the search takes and gives: its settings, each trial's record, the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._space import CandidateConfig

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
    #: raced trials (``_rescore``): the score on the search's folds and on each round's;
    #: ``score`` is then the mean of them all
    search_score: float | None = None
    rescores: tuple[float, ...] = ()


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
    raced: int = 0  # configurations re-scored on other folds before the choice
    race_rounds: int = 0  # rounds of that race that counted


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


__all__ = ["FIGURES", "SearchResult", "SearchSettings", "TrialRecord"]
