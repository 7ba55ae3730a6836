"""Step 5, measure: the closed loop over the search's best candidates, then the firmware
check of the chosen one (the core's profiler chain; analytic when no tool is here).

The budgets are checked against the whole firmware linked for the part (the ``linked``
profiler), beside which the chain keeps features + model alone. The chosen candidate's
firmware then gets the stack its run measured (without tools: the analytic stack) and as
many embedded test windows as fit in the part's flash after the application, and runs as
the self-test in QEMU.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cost import Calibration, Cost, stack_reserve
from ..errors import BudgetError
from ..hardware import measure as hw
from ..hardware.analytic import analytic_model_cost, estimated_stack_peak
from ..hardware.closed_loop import Budgets, LoopResult, pick_measured
from ..hardware.linked import test_windows_that_fit
from ..search import SearchResult
from ._materialize import Materialized, materialize, with_test_windows, with_variables
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
    #: embedded test windows: how many the spec asks for and how many fit the flash
    test_windows: dict[str, Any] = field(default_factory=dict)


def _analytic_of(result: SearchResult, trial: int) -> Cost:
    rec = next(r for r in result.trials if r.number == trial)
    assert rec.cost is not None
    return Cost.from_json(rec.cost)


def _analytic_stack(p: Prepared, mat: Materialized) -> int:
    """The stack the firmware reserves when nothing measured it: the estimated peak
    (features + model, the feature vector included, a network's static arena not; the
    runtime; :data:`~mcuforge.hardware.analytic.ESTIMATE_ALLOWANCE`) and the margin the
    linked firmware keeps above a measured peak. Without it the template reserved a
    quarter of the RAM (1 to 16 kB): more than the SRAM budget, or too little for a
    large feature vector."""
    model = mat.cand.model
    peak = estimated_stack_peak(mat.cand.features, model, p.plan.core)
    return stack_reserve(peak, model.n_outputs)


def _fit_test_windows(p: Prepared, mat: Materialized, log: Log) -> tuple[Materialized, int]:
    """``mat`` with as many embedded test windows as the self-test firmware can hold.

    Raises:
        BudgetError: not even one window fits in the flash the application leaves.
    """
    ds, target = p.dataset, p.plan.target
    wanted = len(mat.vectors["expected"])
    window_bytes = 4 * ds.window * len(ds.channels) + 2
    with tempfile.TemporaryDirectory(prefix="mcuforge-windows-") as tmp:
        work = hw.workload(
            MEASURE_TEMPLATE, mat.variables, mat.files, mat.sources, p.plan, Path(tmp)
        )
        n = test_windows_that_fit(work, wanted, window_bytes)
    if n == wanted:
        return mat, n
    if n < 1:
        raise BudgetError(
            f"the self-test firmware cannot hold one test window ({window_bytes} B) in the "
            f"{target.flash_kb:g} kB of flash of {target.name} beside the application; "
            "build the sensor firmware (-DMCUFORGE_MODE=sensor) and check it over the "
            "serial port (mcuforge profile), or choose a part with more flash"
        )
    log(
        f"self-test firmware: {n} of {wanted} test windows fit in the flash of "
        f"{target.name} after the application"
    )
    return with_test_windows(p, mat, n), n


def measure(p: Prepared, result: SearchResult, use_tools: bool, log: Log) -> Measurement:
    """Materialize and measure the best candidates in rank order; the first whose
    measured cost meets every budget is chosen, sized (stack, test windows) and run as
    firmware.

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

    def run(mat: Materialized, firmware_run: bool, reuse: dict[str, Any]) -> hw.Measured:
        alone = analytic_model_cost(mat.cand.features, mat.cand.model, p.plan.target, p.plan.core)
        if not profilers:
            return hw.Measured(mat.cand.cost, model_only=alone)
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
            analytic_model=alone,
            reuse=reuse,
            stack_estimate=estimated_stack_peak(mat.cand.features, mat.cand.model, p.plan.core),
        )

    ranked = [(t, _analytic_of(result, t)) for t in result.ranked]
    b = spec.budgets
    loop = pick_measured(
        ranked,
        lambda t: run(materialized(t), False, {}),
        Budgets(b.sram_kb, b.flash_kb, b.latency_ms),
        top_k=spec.hardware.top_k if profilers else 1,
        log=log if profilers else (lambda s: None),
    )
    chosen = materialized(loop.chosen.candidate)
    wanted = len(chosen.vectors["expected"])
    windows: dict[str, Any] = {"wanted": wanted, "embedded": wanted, "fitted": False}
    measured = loop.chosen.measured
    if not profilers:  # nothing measured the stack: the analytic figure sizes it
        chosen = with_variables(
            chosen, stack_bytes=str(_analytic_stack(p, chosen)), stack_source="estimated"
        )
    if profilers:
        reuse = measured.reusable
        if isinstance(reuse.get("stack_bytes"), int):
            chosen = with_variables(
                chosen,
                stack_bytes=str(reuse["stack_bytes"]),
                stack_source=str(reuse.get("stack_source", "measured")),
            )
        if "linked" in reuse:
            chosen, windows["embedded"] = _fit_test_windows(p, chosen, log)
            windows["fitted"] = True
        measured = run(chosen, True, reuse)
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
    return Measurement(chosen, measured, loop, calibration, tried, windows)


__all__ = ["MEASURE_TEMPLATE", "Measurement", "measure"]
