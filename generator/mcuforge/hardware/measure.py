"""Measure the chosen candidate: cross-compiled sizes and an emulated firmware run.

* flash: ``compiled`` (ELF of features + model for the target core, see :mod:`.cross`);
* SRAM: static SRAM from the ELF + the stack high-water mark of one inference painted
  and read back in QEMU (``emulated``);
* latency: SysTick cycles of one inference in QEMU with ``-icount`` converted to
  instructions, times the core's CPI, over its clock (``emulated``).

Whatever cannot be measured here keeps its analytic figure, and a note says why.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any

from ..errors import ToolchainError
from ..resolver import Plan
from .cost import Cost, Figure
from .cross import INSTALL_HINT, cross_compiler, model_sizes
from .qemu import QemuRun, run_firmware


@dataclass
class Measured:
    cost: Cost
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    qemu: dict[str, Any] | None = None


def _row(figure: str, analytic: float, measured: Figure) -> dict[str, Any]:
    err = (
        None
        if analytic == 0
        else 100.0 * (analytic - measured.value) / measured.value
        if measured.value
        else None
    )
    return {
        "figure": figure,
        "analytic": analytic,
        "measured": measured.value,
        "source": measured.source,
        "error_pct": err,
    }


def measure(
    template: str,
    variables: dict[str, str],
    files: dict[str, str],
    sources: dict[str, str],
    plan: Plan,
    analytic: Cost,
) -> Measured:
    """Replace analytic figures by measured ones where the tools allow it."""
    core, target = plan.core, plan.target
    out = Measured(analytic)
    if core.gcc_flags is None:
        out.notes.append(f"no cross compiler for {target.core} here; cost is analytic")
        return out
    if cross_compiler() is None:
        out.notes.append(f"arm-none-eabi-gcc not found ({INSTALL_HINT}); cost is analytic")
        return out
    sizes = model_sizes(sources, plan.spec.spec.prefix, core.gcc_flags)
    flash = Figure(float(sizes.flash), "compiled")
    out.rows.append(_row("flash_bytes", analytic.flash_bytes.value, flash))
    cost = analytic.with_(flash_bytes=flash)
    run: QemuRun | None = None
    if core.qemu_machine is None or plan.qemu is None:
        out.notes.append(f"no QEMU machine emulates {target.core}; SRAM and latency are analytic")
    elif shutil.which("qemu-system-arm") is None or shutil.which("cmake") is None:
        out.notes.append(
            "qemu-system-arm or cmake not found (apt-get install qemu-system-arm "
            "cmake); SRAM and latency are analytic"
        )
    else:
        run = run_firmware(template, variables, files, plan)
        out.qemu = {
            "machine": core.qemu_machine,
            "agree": run.agree,
            "total": run.total,
            "cycles_max": run.cycles_max,
            "stack_bytes": run.stack_bytes,
            "instructions": run.instructions,
        }
        if run.agree != run.total:
            raise ToolchainError(
                f"firmware in QEMU agreed with Python on {run.agree}/{run.total} windows"
            )
        sram = Figure(float(sizes.static_sram + run.stack_bytes), "emulated")
        instr = Figure(float(run.instructions), "emulated")
        latency = Figure(
            round(run.instructions * core.cpi / (target.clock_mhz * 1e3), 6), "emulated"
        )
        out.rows += [
            _row("sram_bytes", analytic.sram_bytes.value, sram),
            _row("instructions", analytic.instructions.value, instr),
            _row("latency_ms", analytic.latency_ms.value, latency),
        ]
        cost = cost.with_(sram_bytes=sram, instructions=instr, latency_ms=latency)
    out.cost = cost
    return out
