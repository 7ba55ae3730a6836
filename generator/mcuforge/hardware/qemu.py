"""Build the firmware for QEMU and run it: predictions, cycles, stack."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolchainError
from ..resolver import Plan

_DONE = re.compile(
    r"mcuforge: done agree=(\d+)/(\d+) cycles_max=(\d+) cycles_mean=(\d+) "
    r"stack_bytes=(\d+)"
)
_PRED = re.compile(r"^pred (\d+) (-?\d+) (-?\d+)", re.M)


@dataclass(frozen=True)
class QemuRun:
    agree: int
    total: int
    predictions: list[int]
    cycles_max: int
    stack_bytes: int
    instructions: int
    output: str


def build_firmware(project: Path, build: Path, platform: str) -> Path:
    """cmake configure + build; returns the ELF."""
    for cmd in (
        ["cmake", "-S", str(project), "-B", str(build), f"-DMCUFORGE_PLATFORM={platform}"],
        ["cmake", "--build", str(build)],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolchainError(
                f"firmware build failed: {' '.join(cmd)}\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
    elfs = sorted(build.glob("*.elf"))
    if not elfs:
        raise ToolchainError(f"firmware build produced no ELF in {build}")
    return elfs[0]


def run_elf(elf: Path, machine: str, timeout_s: float = 120) -> tuple[int, str]:
    """Run an ELF in qemu-system-arm with semihosting; return exit code and UART output."""
    cmd = [
        "qemu-system-arm",
        "-M",
        machine,
        "-nographic",
        "-monitor",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-icount",
        "shift=0",
        "-kernel",
        str(elf),
    ]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(
            f"QEMU did not finish within {timeout_s:g} s: {' '.join(cmd)}"
        ) from exc
    return proc.returncode, proc.stdout + proc.stderr


def run_firmware(
    template: str, variables: dict[str, str], files: dict[str, str], plan: Plan
) -> QemuRun:
    """Render the firmware for the core's QEMU machine, build it and run it once.

    The firmware replays its embedded test windows, times each inference with SysTick
    and paints the stack; SysTick ticks become instructions with the machine's
    ``instructions_per_tick`` (exact under ``-icount shift=0`` to within one tick).
    """
    from ..scaffold import qemu_context, render

    qemu, machine = plan.qemu, plan.core.qemu_machine
    assert qemu is not None and machine is not None
    with tempfile.TemporaryDirectory(prefix="mcuforge-qemu-") as tmp:
        project = render(
            template, qemu_context(variables, plan.target, qemu), files, Path(tmp) / "fw"
        )
        elf = build_firmware(project, Path(tmp) / "build", qemu.platform)
        code, text = run_elf(elf, machine)
    m = _DONE.search(text)
    if m is None:
        raise ToolchainError(
            f"firmware in QEMU printed no result line (exit {code}):\n{text[-2000:]}"
        )
    agree, total, cycles_max, _mean, stack = (int(g) for g in m.groups())
    preds = [int(p.group(2)) for p in _PRED.finditer(text)]
    instructions = round(cycles_max * qemu.instructions_per_tick())
    return QemuRun(agree, total, preds, cycles_max, stack, instructions, text)
