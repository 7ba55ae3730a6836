"""Analytic cost: from the structure of features and model and the core table.

Used in every search trial: cheap, and good enough to steer. The numbers mcuforge
finally reports come from compiling, linking and running the firmware (``compiled``,
``emulated``, ``linked``). The per-core constants (CPI, what a float operation costs,
what the firmware around the model costs) are data in ``recipes/cores.yaml``; a
target's :class:`~.calibrate.Calibration`, fitted from measured candidates, corrects
what the structural model misses.

Two estimates: :func:`analytic_model_cost` is features + model alone (what the
``compiled`` and ``emulated`` profilers measure); :func:`analytic_cost` is the whole
firmware the budgets check (what ``linked`` measures): features + model, plus the
input window buffer, the runtime around them (:func:`firmware_overhead`) and the stack
margin the linked firmware reserves (:func:`stack_margin`).
"""

from __future__ import annotations

from ..catalog import Core, Target
from ..cost import (
    Calibration,
    CoreCosts,
    Cost,
    Figure,
    firmware_overhead,
)
from ..features import FeaturePipeline
from ..models import DeployedModel
from ._base import Profile, Profiler, Workload, latency_ms

#: Bytes of code around features and model: the predict/features/classify wrappers.
WRAPPER_FLASH = 64
#: Stack of the predict wrapper itself (frame, saved registers).
WRAPPER_STACK = 32
#: Instructions of the wrappers: calls, argument checks, returns.
WRAPPER_INSTRUCTIONS = 20


def core_costs(core: Core) -> CoreCosts:
    return CoreCosts(core.float_op_instructions, core.float_div_instructions)


def input_floats(features: FeaturePipeline) -> int:
    """Floats of one input window (samples x channels) of a feature pipeline."""
    first = features.window_blocks[0]
    return first.length * len(first.channels)


def with_energy(cost: Cost, target: Target) -> Cost:
    """``cost`` with ``energy_uj`` from its latency and the target's datasheet power (None
    when the target has no power figures); the energy takes the latency's source."""
    if target.power is None:
        return cost.with_(energy_uj=None)
    value = target.power.energy_uj(cost.latency_ms.value, target.clock_mhz)
    return cost.with_(energy_uj=Figure(round(value, 6), cost.latency_ms.source))


def analytic_model_cost(
    features: FeaturePipeline, model: DeployedModel, target: Target, core: Core
) -> Cost:
    """Flash, SRAM (stack incl. the feature vector) and latency of features + model alone."""
    cc = core_costs(core)
    fcost = features.cost(cc)
    mcost = model.cost(cc)
    flash = WRAPPER_FLASH + core.float_lib_flash_bytes + fcost.flash_bytes + mcost.flash_bytes
    sram = _working_sram(features, model, core, fcost.sram_bytes, mcost.sram_bytes)
    instr = fcost.instructions + mcost.instructions + WRAPPER_INSTRUCTIONS
    cost = Cost(
        flash_bytes=Figure(float(flash), "analytic"),
        sram_bytes=Figure(float(sram), "analytic"),
        latency_ms=Figure(latency_ms(instr, core, target.clock_mhz), "analytic"),
        instructions=Figure(float(instr), "analytic"),
    )
    return with_energy(cost, target)


def _working_sram(
    features: FeaturePipeline, model: DeployedModel, core: Core, f_sram: int, m_sram: int
) -> int:
    """Features + model while they run: the wrapper's frame, the feature and output
    vectors, the larger of the two stages' working memory, the float library's stack."""
    vectors = 4 * features.n_outputs + 4 * model.n_outputs
    return WRAPPER_STACK + vectors + max(f_sram, m_sram) + core.float_lib_stack_bytes


def analytic_stack_bytes(features: FeaturePipeline, model: DeployedModel, core: Core) -> int:
    """The part of :func:`analytic_model_cost`'s SRAM that is stack: all of it but an
    int8 network's activation arena, which is static."""
    cc = core_costs(core)
    m_sram = model.cost(cc).sram_bytes - model.arena_bytes
    return _working_sram(features, model, core, features.cost(cc).sram_bytes, m_sram)


#: Bytes added to an analytic stack peak that no run measured: QEMU's sensor and
#: self-test peaks of the example's PCA tree, boosted trees and 1-D CNN were up to about
#: 190 B above the estimate, which left less than an exception frame of the margin.
ESTIMATE_ALLOWANCE = 256


def estimated_stack_peak(features: FeaturePipeline, model: DeployedModel, core: Core) -> int:
    """The whole firmware's stack peak when no run measured it: features + model
    (:func:`analytic_stack_bytes`), the core's ``runtime_stack_bytes`` and
    :data:`ESTIMATE_ALLOWANCE`. The firmware reserves it plus the margin kept above a
    measured peak (:func:`~mcuforge.cost.stack_reserve`)."""
    peak = analytic_stack_bytes(features, model, core) + core.runtime_stack_bytes
    return peak + ESTIMATE_ALLOWANCE


def analytic_cost(
    features: FeaturePipeline,
    model: DeployedModel,
    target: Target,
    core: Core,
    calibration: Calibration | None = None,
) -> Cost:
    """The whole firmware, estimated: features + model (:func:`analytic_model_cost`) plus
    the input buffer, the runtime and the stack margin (:func:`firmware_overhead`).

    Args:
        calibration: measured corrections; its factors for ``target`` (if any) scale
            the estimate, which stays tagged ``analytic``.
    """
    alone = analytic_model_cost(features, model, target, core)
    extra = firmware_overhead(core, input_floats(features), model.n_outputs)
    cost = alone.with_(
        flash_bytes=Figure(alone.flash_bytes.value + extra.flash_bytes, "analytic"),
        sram_bytes=Figure(alone.sram_bytes.value + extra.sram_bytes, "analytic"),
    )
    if calibration is not None:
        cost = calibration.apply(target.name, target.core, cost)
    return with_energy(cost, target)


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
        cost = with_energy(
            self.calibration.apply(work.target.name, work.target.core, base), work.target
        )
        return Profile(cost, notes, {"calibration": {k: round(v, 4) for k, v in factors.items()}})
