"""Analytic cost: from the structure of features and model and the core table.

Used in every search trial: cheap, and good enough to steer. The numbers mcuforge
finally reports come from compiling and running the C (``compiled`` / ``emulated``).
"""

from __future__ import annotations

from ..catalog import Core, Target
from ..features import CoreCosts, FeaturePipeline
from ..models import DeployedModel
from .cost import Cost, Figure

#: Bytes of code around features and model: the predict/features/classify wrappers.
WRAPPER_FLASH = 64
#: Stack of the predict wrapper itself (frame, saved registers).
WRAPPER_STACK = 32


def core_costs(core: Core) -> CoreCosts:
    return CoreCosts(core.float_op_instructions, core.float_div_instructions)


def analytic_cost(
    features: FeaturePipeline, model: DeployedModel, target: Target, core: Core
) -> Cost:
    """Flash, SRAM (stack incl. the feature vector) and latency, estimated."""
    cc = core_costs(core)
    fcost = features.cost(cc)
    mcost = model.cost(cc)
    flash = WRAPPER_FLASH + fcost.flash_bytes + mcost.flash_bytes
    vectors = 4 * features.n_outputs + 4 * model.n_outputs
    sram = WRAPPER_STACK + vectors + max(fcost.sram_bytes, mcost.sram_bytes)
    instr = fcost.instructions + mcost.instructions + 20
    latency_ms = instr * core.cpi / (target.clock_mhz * 1e3)
    return Cost(
        flash_bytes=Figure(float(flash), "analytic"),
        sram_bytes=Figure(float(sram), "analytic"),
        latency_ms=Figure(round(latency_ms, 6), "analytic"),
        instructions=Figure(float(instr), "analytic"),
    )
