"""Measure a candidate: a chain of profilers, each replacing the figures it can measure.

* flash: ``compiled`` (ELF of features + model for the target core, see :mod:`.cross`);
* SRAM: static SRAM from the ELF + the stack high-water mark of one inference,
  painted and read back in unicorn (``emulated``, :mod:`.emulate`);
* instructions and latency: exact instruction count of the worst test window in
  unicorn, times the core's CPI, over its clock (``emulated``);
* the firmware itself runs in QEMU (when the core has a QEMU machine): its
  predictions must agree with Python's; its SysTick count (``-icount``) is the
  fallback for instructions and SRAM where unicorn is missing, and a cross-check;
* a board over a serial port (``device``, :mod:`.device`) when asked for.

Whatever cannot be measured here keeps its analytic figure, and a note says why.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..resolver import Plan
from ._base import Firmware, Profile, Profiler, Workload
from .calibrate import Calibration
from .cost import Cost, Figure
from .cross import CompiledProfiler
from .emulate import UnicornProfiler
from .qemu import QemuProfiler, qemu_details

if TYPE_CHECKING:
    from .device import DeviceProfiler

#: Largest |QEMU - unicorn| instruction difference that is not worth a note: one
#: SysTick tick (40 instructions on mps2, 62.5 on microbit) of quantisation, plus
#: the instructions of reading the timer around the call (measured: 10-50), plus 2 %
#: for the build: the firmware is compiled without -fno-math-errno and times
#: PREFIX_run, the cross build with it and unicorn runs PREFIX_predict.
CROSS_CHECK_SLACK = 120
CROSS_CHECK_REL = 0.02


@dataclass
class Measured:
    cost: Cost
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    qemu: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)


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


def error_rows(analytic: Cost, measured: Cost) -> list[dict[str, Any]]:
    """Estimated vs measured for every figure that was measured (error in %)."""
    return [
        _row(name, getattr(analytic, name).value, getattr(measured, name))
        for name in ("flash_bytes", "sram_bytes", "instructions", "latency_ms")
        if getattr(measured, name).source != "analytic"
    ]


def workload(
    template: str,
    variables: dict[str, str],
    files: dict[str, str],
    sources: dict[str, str],
    plan: Plan,
    workdir: Path,
) -> Workload:
    """The workload of a candidate: its C, test vectors, target and firmware project."""
    return Workload(
        prefix=plan.spec.spec.prefix,
        sources=sources,
        test_vectors={k: v for k, v in files.items() if k not in sources},
        target=plan.target,
        core=plan.core,
        workdir=workdir,
        qemu=plan.qemu,
        firmware=Firmware(template, variables, files),
    )


def run_chain(
    work: Workload,
    analytic: Cost,
    firmware_run: bool = True,
    device: DeviceProfiler | None = None,
) -> Measured:
    """Run the profilers on ``work`` (see the module docstring)."""
    out = Measured(analytic)
    cost = analytic

    def step(p: Profiler) -> Profile:
        nonlocal cost
        prof = p.profile(work, cost)
        cost = prof.cost
        out.notes.extend(prof.notes)
        if prof.details:
            out.details[p.name] = prof.details
        return prof

    compiled = CompiledProfiler()
    why = compiled.unavailable(work)
    if why is not None:
        out.notes.append(f"{why}; cost is analytic")
        return out
    step(compiled)
    unicorn, qemu = UnicornProfiler(), QemuProfiler()
    why_unicorn = unicorn.unavailable(work)
    if why_unicorn is None:
        step(unicorn)
    why_qemu = qemu.unavailable(work)
    if why_qemu is None and (firmware_run or why_unicorn is not None):
        if why_unicorn is None:
            run = qemu.run(work)  # the firmware check: QEMU agrees, figures from unicorn
            out.qemu = qemu_details(work, run)
            qemu_check = qemu.profile(work, cost)
            diff = qemu_check.cost.instructions.value - cost.instructions.value
            out.details["qemu"] = {**out.qemu, "instructions_minus_unicorn": diff}
            if abs(diff) > CROSS_CHECK_SLACK + CROSS_CHECK_REL * cost.instructions.value:
                out.notes.append(
                    f"QEMU counted {qemu_check.cost.instructions.value:.0f} instructions, "
                    f"unicorn {cost.instructions.value:.0f}: the firmware and the cross "
                    "build differ"
                )
        else:
            out.notes.append(f"{why_unicorn}; instructions and stack from QEMU")
            step(qemu)
            out.qemu = out.details["qemu"]
    elif why_unicorn is not None:
        out.notes.append(f"{why_unicorn}; {why_qemu}; SRAM and latency are analytic")
    elif why_qemu is not None and firmware_run:
        out.notes.append(f"{why_qemu}: the firmware was not run; figures from unicorn")
    if device is not None:
        why_device = device.unavailable(work)
        if why_device is not None:
            out.notes.append(f"device not profiled: {why_device}")
        else:
            step(device)
    out.cost = cost
    out.rows = error_rows(analytic, cost)
    return out


def measure(
    template: str,
    variables: dict[str, str],
    files: dict[str, str],
    sources: dict[str, str],
    plan: Plan,
    analytic: Cost,
    *,
    firmware_run: bool = True,
    device: DeviceProfiler | None = None,
    calibration: Calibration | None = None,
) -> Measured:
    """Replace analytic figures by measured ones where the tools allow it.

    Args:
        firmware_run: also build and run the firmware in QEMU (the firmware check)
            when unicorn already measured; the closed loop skips it for candidates
            that are not kept.
        device: measure on a board too (last in the chain).
        calibration: correct the analytic figures of this target first (figures that
            cannot be measured stay calibrated estimates).
    """
    with tempfile.TemporaryDirectory(prefix="mcuforge-measure-") as tmp:
        work = workload(template, variables, files, sources, plan, Path(tmp))
        base = analytic
        if calibration is not None:
            base = calibration.apply(plan.target.name, plan.target.core, analytic)
        out = run_chain(work, base, firmware_run, device)
        out.rows = error_rows(analytic, out.cost)
        return out
