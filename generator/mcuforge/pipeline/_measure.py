"""Step 5, measure: the closed loop over the search's best candidates, then the firmware
check of the chosen one (the core's profiler chain; analytic when no tool is here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..hardware import measure as hw
from ..hardware.calibrate import Calibration
from ..hardware.closed_loop import Budgets, LoopResult, pick_measured
from ..hardware.cost import Cost
from ..search import SearchResult
from ._materialize import Materialized, materialize
from ._prepare import Log, Prepared

#: Measurement always builds the bare-metal project: the other templates need their
#: own toolchains (PlatformIO, west, arduino-cli), which measurement must not depend on.
MEASURE_TEMPLATE = "cmake-baremetal"


@dataclass
class Measurement:
    """The chosen candidate, its measured cost, and every candidate measured on the way."""

    chosen: Materialized
    measured: hw.Measured
    loop: LoopResult[int]
    calibration: Calibration
    tried: list[dict[str, Any]] = field(default_factory=list)


def _analytic_of(result: SearchResult, trial: int) -> Cost:
    rec = next(r for r in result.trials if r.number == trial)
    assert rec.cost is not None
    return Cost.from_json(rec.cost)


def measure(p: Prepared, result: SearchResult, use_tools: bool, log: Log) -> Measurement:
    """Materialize and measure the best candidates in rank order; the first whose
    measured cost meets every budget is chosen and also run as firmware.

    Raises:
        BudgetError: none of the measured candidates fits (naming the figures).
        ParityError: the C disagrees with Python (a bug in mcuforge).
    """
    spec = p.loaded.spec
    profilers = hw.build_chain(p.profilers, spec.hardware) if use_tools else []
    cache: dict[int, Materialized] = {}

    def materialized(trial: int) -> Materialized:
        if trial not in cache:
            cache[trial] = materialize(p, trial, result, log)
        return cache[trial]

    def run(trial: int, firmware_run: bool) -> hw.Measured:
        mat = materialized(trial)
        if not profilers:
            return hw.Measured(mat.cand.cost)
        return hw.measure(
            MEASURE_TEMPLATE,
            mat.variables,
            mat.files,
            mat.sources,
            p.plan,
            mat.cand.cost,
            profilers=profilers,
            firmware_run=firmware_run,
            calibration=p.calibration,
        )

    ranked = [(t, _analytic_of(result, t)) for t in result.ranked]
    b = spec.budgets
    loop = pick_measured(
        ranked,
        lambda t: run(t, False),
        Budgets(b.sram_kb, b.flash_kb, b.latency_ms),
        top_k=spec.hardware.top_k if profilers else 1,
        log=log if profilers else (lambda s: None),
    )
    chosen = materialized(loop.chosen.candidate)
    measured = run(loop.chosen.candidate, True) if profilers else loop.chosen.measured
    for note in measured.notes:
        log(f"note: {note}")
    calibration = loop.calibration(p.plan.target.name, p.plan.target.core)
    if p.calibration is not None:
        calibration = p.calibration.merge(calibration)
    tried = [
        {
            "trial": t.candidate,
            "rank": t.rank,
            "cost": t.measured.cost.to_json(),
            "over_budget": t.broken,
        }
        for t in loop.tried
    ]
    return Measurement(chosen, measured, loop, calibration, tried)


__all__ = ["MEASURE_TEMPLATE", "Measurement", "measure"]
