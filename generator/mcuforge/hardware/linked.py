"""The whole firmware, linked for the part: the flash and SRAM the budgets check.

The ``linked`` profiler builds the firmware the user will flash: the cmake-baremetal
project in sensor mode for a real board (:data:`DEPLOY_OPTIONS`: the input window
buffer, features, model, the runtime, startup and platform code; the sensor hook's
replay off, so no test window is in it), linked with the target's memory map. Flash
and SRAM are read from the ELF as the linker counts them (:mod:`._linkmap`), SRAM
including the stack that ``linker.ld`` reserves.

The stack reserve comes from a run: the same firmware, with the replay on, linked for
the core's QEMU machine with all of the machine's free SRAM as stack, replays the
embedded test windows and reports how deep the stack went over the whole run (main,
the runtime, features, model, interrupts; the startup code paints the stack). The
reserve is that peak plus :func:`~.analytic.stack_margin`. Without QEMU the peak is
the emulated stack of ``PREFIX_predict`` (unicorn) plus the core's
``runtime_stack_bytes``, or the analytic estimate, and the details say so. A firmware
that overflows even the probe's stack is reported, never left to hang.
"""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cost import Cost, Figure, stack_reserve
from ..errors import ToolchainError
from ._base import ESTIMATED_STACK_PEAK, Profile, Profiler, Workload
from ._linkmap import MemoryUse, Region, breakdown, memory_use
from .analytic import ESTIMATE_ALLOWANCE
from .cross import INSTALL_HINT, cross_compiler
from .qemu import build_firmware, qemu_tools_missing, run_elf

#: The firmware the budgets check: what the user flashes, before adding a sensor driver.
DEPLOY_OPTIONS = {
    "MCUFORGE_MODE": "sensor",
    "MCUFORGE_PLATFORM": "board",
    "MCUFORGE_SENSOR_REPLAY": "OFF",
}
#: The stack of the first link of the probe, which only measures its static SRAM.
PROBE_FIRST_STACK = 256
#: Regions of a measuring link when the firmware does not fit the part (kB).
LARGE_REGION_KB = 65536
_OVERFLOW = re.compile(r"region [`']?(\w+)'? overflowed by (\d+) bytes")
_PEAK = re.compile(r"mcuforge: stack_peak_bytes=(\d+) stack_size_bytes=(\d+)")
_N_OUTPUTS = re.compile(r"#define \w+_N_OUTPUTS (\d+)")


def overflows(message: str) -> dict[str, int]:
    """``{region: bytes}`` of every "region `X' overflowed by N bytes" in a link error."""
    return {m.group(1): int(m.group(2)) for m in _OVERFLOW.finditer(message)}


def n_outputs(work: Workload) -> int:
    """``PREFIX_N_OUTPUTS`` of the generated header."""
    header = work.sources.get(f"{work.prefix}_model.h", "")
    m = _N_OUTPUTS.search(header)
    return int(m.group(1)) if m else 1


@dataclass(frozen=True)
class StackPeak:
    """How deep the firmware's stack goes, and how that was found."""

    peak_bytes: int
    source: str  # "emulated" (a run) or "analytic"
    how: str
    exceeded: bool = False  # the run overflowed even the probe's stack: peak is a floor


@dataclass(frozen=True)
class LinkedFirmware:
    """The deployable firmware linked for the part."""

    use: MemoryUse
    parts: dict[str, dict[str, int]]
    stack: StackPeak
    reserve_bytes: int
    fits_part: bool
    flash_region: Region
    ram_region: Region

    def details(self) -> dict[str, Any]:
        return {
            "build": {"template": "cmake-baremetal", "options": dict(DEPLOY_OPTIONS)},
            "memory": {
                "flash_origin": f"0x{self.flash_region.origin:08X}",
                "flash_bytes": self.flash_region.length,
                "ram_origin": f"0x{self.ram_region.origin:08X}",
                "ram_bytes": self.ram_region.length,
            },
            "fits_part": self.fits_part,
            "flash_bytes": self.use.flash_bytes,
            "sram_bytes": self.use.sram_bytes,
            "static_sram_bytes": self.use.static_sram_bytes,
            "stack": {
                "reserved_bytes": self.use.stack_bytes,
                "peak_bytes": self.stack.peak_bytes,
                "margin_bytes": self.use.stack_bytes - self.stack.peak_bytes,
                "source": self.stack.source,
                "how": self.stack.how,
            },
            "breakdown": self.parts,
        }


def _regions(variables: dict[str, str]) -> tuple[Region, Region]:
    return (
        Region(int(variables["flash_origin"], 16), round(float(variables["flash_kb"]) * 1024)),
        Region(int(variables["ram_origin"], 16), round(float(variables["sram_kb"]) * 1024)),
    )


def _build(work: Workload, name: str, variables: dict[str, str], options: dict[str, str]) -> Path:
    """Render the firmware with ``variables`` under ``workdir/linked/name`` and build it."""
    from ..scaffold import render

    fw = work.firmware
    assert fw is not None
    root = work.workdir / "linked" / name
    project = root / "fw"
    if not project.exists():
        render(fw.template, variables, dict(fw.files), project)
    return build_firmware(project, root / "build", variables["platform"], options)


def _probe_qemu(work: Workload) -> StackPeak | None:
    """The deepest stack of the sensor-mode firmware replaying the test windows in QEMU,
    or None when the probe cannot be built (no QEMU, or the windows overflow its flash)."""
    from ..scaffold import qemu_context

    fw, qemu, machine = work.firmware, work.qemu, work.core.qemu_machine
    if fw is None or qemu is None or machine is None or qemu_tools_missing() is not None:
        return None
    variables = {
        **qemu_context(dict(fw.variables), work.target, qemu),
        "sram_kb": f"{qemu.sram_kb:g}",
        "stack_bytes": str(PROBE_FIRST_STACK),
    }
    flash, ram = _regions(variables)
    options = {"MCUFORGE_MODE": "sensor"}
    try:
        first = memory_use(_build(work, "probe", variables, options), flash, ram)
    except ToolchainError as exc:
        if overflows(str(exc)):
            return None
        raise
    stack = (ram.length - first.static_sram_bytes - 8) // 8 * 8
    if stack < PROBE_FIRST_STACK:
        return None
    elf = _build(work, "probe", variables, {**options, "MCUFORGE_STACK_SIZE": str(stack)})
    code, out = run_elf(elf, machine)
    where = f"QEMU {machine}, sensor mode replaying the test windows, whole firmware"
    if "mcuforge: stack overflow" in out:
        return StackPeak(stack, "emulated", f"{where}: more than the {stack} B free", True)
    m = _PEAK.search(out)
    if code != 0 or m is None:
        raise ToolchainError(
            f"the sensor-mode firmware in QEMU ended with status {code} and no stack "
            f"report:\n{out[-2000:]}"
        )
    return StackPeak(int(m.group(1)), "emulated", where)


def _estimate(work: Workload) -> StackPeak:
    """The peak without a whole-firmware run: the emulated stack of ``PREFIX_predict``
    plus the core's ``runtime_stack_bytes``, else the estimated peak the caller stored
    (:func:`~.analytic.estimated_stack_peak`: a network's static arena not counted, an
    allowance for the estimate's error added), else the analytic SRAM of features +
    model (a static arena counted as stack) plus the runtime and that allowance."""
    emulated = work.cached("emulated_stack_bytes")
    runtime = work.core.runtime_stack_bytes
    if isinstance(emulated, int):
        how = f"unicorn: PREFIX_predict {emulated} B + runtime {runtime} B (cores.yaml)"
        return StackPeak(emulated + runtime, "emulated", how)
    allowance = f"{ESTIMATE_ALLOWANCE} B for the estimate's error"
    estimate = work.cached(ESTIMATED_STACK_PEAK)
    if isinstance(estimate, int):
        how = f"analytic: features + model + runtime {runtime} B (cores.yaml) + {allowance}"
        return StackPeak(estimate, "analytic", how)
    model = work.cached("analytic_model")
    stack = int(model.sram_bytes.value) if isinstance(model, Cost) else 1024
    how = f"analytic: features + model {stack} B + runtime {runtime} B (cores.yaml) + {allowance}"
    return StackPeak(stack + runtime + ESTIMATE_ALLOWANCE, "analytic", how)


def link_firmware(work: Workload) -> LinkedFirmware:
    """Measure the stack, then link the deployable firmware with that reserve (cached).

    Raises:
        ToolchainError: a build fails for another reason than the part being too small,
            or the probe firmware fails in QEMU.
    """
    done = work.cached("linked")
    if isinstance(done, LinkedFirmware):
        return done
    fw = work.firmware
    assert fw is not None
    peak = _probe_qemu(work) or _estimate(work)
    reserve = stack_reserve(peak.peak_bytes, n_outputs(work))
    variables = {**fw.variables, "platform": "board", "stack_bytes": str(reserve)}
    flash, ram = _regions(variables)
    fits = True
    try:
        elf = _build(work, "deploy", variables, DEPLOY_OPTIONS)
    except ToolchainError as exc:
        if not overflows(str(exc)):
            raise
        fits = False  # measure what it needs in regions large enough to hold it
        big = f"{max(LARGE_REGION_KB, math.ceil(float(variables['flash_kb']))):g}"
        large = {**variables, "flash_kb": big, "sram_kb": big}
        elf = _build(work, "deploy-large", large, DEPLOY_OPTIONS)
        use = memory_use(elf, *_regions(large))
    else:
        use = memory_use(elf, flash, ram)
    map_text = elf.with_suffix(".map").read_text(errors="replace")
    linked = LinkedFirmware(
        use, breakdown(map_text, work.prefix, use), peak, reserve, fits, flash, ram
    )
    work.store("linked", linked)
    work.store("stack_bytes", reserve)
    work.store("stack_source", "measured" if peak.source == "emulated" else "estimated")
    return linked


def test_windows_that_fit(work: Workload, wanted: int, window_bytes: int) -> int:
    """How many of ``wanted`` embedded test windows the self-test firmware can hold: the
    project's default build (self-test mode, its default platform, the part's memory
    map, the stack the ``linked`` profiler reserved), fewer when the flash overflows.

    Raises:
        ToolchainError: the build fails for another reason than a full flash.
    """
    fw = work.firmware
    assert fw is not None
    variables = dict(fw.variables)
    reserve = work.cached("stack_bytes")
    if isinstance(reserve, int):
        variables["stack_bytes"] = str(reserve)
    try:
        _build(work, "selftest", variables, {})
    except ToolchainError as exc:
        over = overflows(str(exc))
        if not over or set(over) != {"FLASH"}:
            raise
        # each window dropped frees its floats and its int16 expected value; the slack
        # covers the alignment of the two arrays
        return max(wanted - math.ceil((over["FLASH"] + 16) / window_bytes), 0)
    return wanted


class LinkedProfiler(Profiler):
    """Flash and SRAM of the whole firmware, linked for the part (see the module).

    Figures (``linked``): ``flash_bytes`` (code, constants, initial values: everything
    in the flash region) and ``sram_bytes`` (static SRAM + the stack reserve). Its
    scope is the firmware: these are the figures the budgets check.
    """

    name = "linked"
    source = "linked"
    measures = ("flash_bytes", "sram_bytes")
    scope = "firmware"

    def unavailable(self, work: Workload) -> str | None:
        if work.firmware is None:
            return "no firmware project to link"
        if work.core.gcc_flags is None:
            return f"no cross compiler for {work.target.core} here"
        if cross_compiler() is None:
            return f"arm-none-eabi-gcc not found ({INSTALL_HINT})"
        if shutil.which("cmake") is None:
            return "cmake not found (Debian/Ubuntu: apt-get install cmake)"
        return None

    def profile(self, work: Workload, base: Cost) -> Profile:
        link = link_firmware(work)
        notes = []
        if not link.fits_part:
            notes.append(
                f"the firmware does not fit {work.target.name}: flash "
                f"{link.use.flash_bytes} B of {link.flash_region.length} B, SRAM "
                f"{link.use.sram_bytes} B of {link.ram_region.length} B"
            )
        if link.stack.exceeded:
            notes.append(f"the firmware's stack goes deeper than {link.stack.how}")
        cost = base.with_(
            flash_bytes=Figure(float(link.use.flash_bytes), "linked"),
            sram_bytes=Figure(float(link.use.sram_bytes), "linked"),
        )
        return Profile(cost, notes, link.details())


__all__ = [
    "DEPLOY_OPTIONS",
    "LinkedFirmware",
    "LinkedProfiler",
    "StackPeak",
    "link_firmware",
    "n_outputs",
    "overflows",
    "test_windows_that_fit",
]
