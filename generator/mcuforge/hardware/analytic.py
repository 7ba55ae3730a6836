"""Analytic cost: from the structure of features and model and the core table.

Used in every search trial: cheap, and good enough to steer. The numbers mcuforge
finally reports come from compiling and running the C (``compiled`` / ``emulated``).
The per-core constants (CPI, what a float operation costs) are data in
``recipes/cores.yaml``; a target's :class:`~.calibrate.Calibration`, fitted from
measured candidates, corrects what the structural model misses.
"""

from __future__ import annotations

from ..catalog import Core, Target
from ..features import CoreCosts, FeaturePipeline
from ..models import DeployedModel
from ._base import Profile, Profiler, Workload, latency_ms
from .calibrate import Calibration
from .cost import Cost, Figure

#: Bytes of code around features and model: the predict/features/classify wrappers.
WRAPPER_FLASH = 64
#: Stack of the predict wrapper itself (frame, saved registers).
WRAPPER_STACK = 32
#: Instructions of the wrappers: calls, argument checks, returns.
WRAPPER_INSTRUCTIONS = 20


def core_costs(core: Core) -> CoreCosts:
    return CoreCosts(core.float_op_instructions, core.float_div_instructions)


def analytic_cost(
    features: FeaturePipeline,
    model: DeployedModel,
    target: Target,
    core: Core,
    calibration: Calibration | None = None,
) -> Cost:
    """Flash, SRAM (stack incl. the feature vector) and latency, estimated.

    Args:
        calibration: measured corrections; its factors for ``target`` (if any) scale
            the estimate, which stays tagged ``analytic``.
    """
    cc = core_costs(core)
    fcost = features.cost(cc)
    mcost = model.cost(cc)
    flash = WRAPPER_FLASH + core.float_lib_flash_bytes + fcost.flash_bytes + mcost.flash_bytes
    vectors = 4 * features.n_outputs + 4 * model.n_outputs
    sram = (
        WRAPPER_STACK
        + vectors
        + max(fcost.sram_bytes, mcost.sram_bytes)
        + core.float_lib_stack_bytes
    )
    instr = fcost.instructions + mcost.instructions + WRAPPER_INSTRUCTIONS
    cost = Cost(
        flash_bytes=Figure(float(flash), "analytic"),
        sram_bytes=Figure(float(sram), "analytic"),
        latency_ms=Figure(latency_ms(instr, core, target.clock_mhz), "analytic"),
        instructions=Figure(float(instr), "analytic"),
    )
    if calibration is not None:
        cost = calibration.apply(target.name, target.core, cost)
    return cost


class AnalyticProfiler(Profiler):
    """The structural estimate, corrected by a calibration when one is given.

    The estimate itself is made where the candidate is built (:func:`analytic_cost`,
    in every search trial); this profiler is the start of every chain and the
    fallback when nothing can be measured.
    """

    name = "analytic"
    source = "analytic"

    def __init__(self, calibration: Calibration | None = None) -> None:
        self.calibration = calibration

    def unavailable(self, work: Workload) -> str | None:
        return None

    def profile(self, work: Workload, base: Cost) -> Profile:
        if self.calibration is None:
            return Profile(base)
        factors = self.calibration.factors(work.target.name, work.target.core)
        notes = (
            [f"analytic cost calibrated for {work.target.name} ({len(factors)} figures)"]
            if factors
            else []
        )
        return Profile(
            self.calibration.apply(work.target.name, work.target.core, base),
            notes,
            {"calibration": {k: round(v, 4) for k, v in factors.items()}},
        )
