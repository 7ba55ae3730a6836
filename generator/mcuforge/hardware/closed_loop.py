"""The closed loop: measured cost decides among the search's best candidates.

The search ranks candidates by score among those whose *analytic* cost fits the
budgets. Analytic estimates are off by some percent, so the best-ranked candidate
can break a budget once measured. :func:`pick_measured` measures the top K
candidates in rank order, re-checks every budget against the measured figures, and
returns the first that fits, with the measurements of every candidate it tried
(also the points a :class:`~.calibrate.Calibration` is fitted from).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..cost import Calibration, Cost
from ..errors import BudgetError
from .measure import Measured

C = TypeVar("C")
DEFAULT_TOP_K = 3


@dataclass(frozen=True)
class Budgets:
    """The spec's budgets (``latency_ms`` None: no latency budget)."""

    sram_kb: float
    flash_kb: float
    latency_ms: float | None = None

    def violations(self, cost: Cost) -> list[float]:
        """> 0: by how much each budget (SRAM, flash, latency) is broken."""
        return cost.violations(self.sram_kb, self.flash_kb, self.latency_ms)

    def broken(self, cost: Cost) -> list[str]:
        """Each broken budget as ``"flash 17.1 kB (compiled) > 16 kB"``."""
        out = []
        for label, fig, budget, scale, unit in (
            ("flash", cost.flash_bytes, self.flash_kb, 1024.0, "kB"),
            ("SRAM", cost.sram_bytes, self.sram_kb, 1024.0, "kB"),
            ("latency", cost.latency_ms, self.latency_ms, 1.0, "ms"),
        ):
            if budget is not None and fig.value > budget * scale:
                out.append(
                    f"{label} {fig.value / scale:.3f} {unit} ({fig.source}) > {budget:g} {unit}"
                )
        return out


@dataclass(frozen=True)
class Tried(Generic[C]):
    """One measured candidate: its rank, the measurement and the budgets it breaks."""

    rank: int
    candidate: C
    analytic: Cost
    measured: Measured
    broken: list[str]

    @property
    def fits(self) -> bool:
        return not self.broken


@dataclass
class LoopResult(Generic[C]):
    """The chosen candidate and every candidate measured on the way."""

    chosen: Tried[C]
    tried: list[Tried[C]] = field(default_factory=list)

    def calibration(self, target: str, core: str) -> Calibration:
        """The (analytic, measured) points of every tried candidate."""
        cal = Calibration()
        for t in self.tried:
            cal.add(target, core, t.analytic, t.measured.cost)
        return cal

    def rows(self) -> list[dict[str, object]]:
        """Report rows: estimated vs measured per figure, for each tried candidate."""
        return [
            {"rank": t.rank, "chosen": t is self.chosen, "fits": t.fits, **row}
            for t in self.tried
            for row in t.measured.rows
        ]


def pick_measured(
    ranked: Sequence[tuple[C, Cost]],
    measure: Callable[[C], Measured],
    budgets: Budgets,
    top_k: int = DEFAULT_TOP_K,
    log: Callable[[str], None] = lambda s: None,
) -> LoopResult[C]:
    """Measure up to ``top_k`` candidates, best first; keep the first that fits.

    Args:
        ranked: feasible candidates best first, each with its analytic cost.
        measure: builds and measures one candidate (e.g. ``measure.measure`` on its
            generated C); may raise ToolchainError or ParityError, which propagate.
        budgets: checked against the measured figures.
        top_k: how many candidates at most to measure (>= 1).

    Raises:
        BudgetError: none of the measured candidates fits; the message names each
            candidate's measured figures that break a budget.
        ValueError: ``ranked`` is empty or ``top_k`` < 1.
    """
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    if not ranked:
        raise ValueError("no candidate to measure")
    tried: list[Tried[C]] = []
    for rank, (cand, analytic) in enumerate(ranked[:top_k], start=1):
        m = measure(cand)
        t = Tried(rank, cand, analytic, m, budgets.broken(m.cost))
        tried.append(t)
        if t.fits:
            log(f"closed loop: candidate #{rank} fits its budgets when measured")
            return LoopResult(t, tried)
        log(
            f"closed loop: candidate #{rank} breaks its budgets when measured: "
            + "; ".join(t.broken)
        )
    detail = " | ".join(f"#{t.rank}: " + "; ".join(t.broken) for t in tried)
    raise BudgetError(
        f"none of the {len(tried)} best candidates fits the budgets when measured ({detail}). "
        "Raise the budgets, or measure more candidates (a larger top_k)."
    )


__all__ = ["DEFAULT_TOP_K", "Budgets", "LoopResult", "Tried", "pick_measured"]
