"""Build the firmware for QEMU and run it: predictions, cycles, stack.

Two ways to read the firmware: its text console on stdout (:func:`run_elf`,
:func:`run_firmware`), or, for a firmware built with ``-DMCUFORGE_MODE=bench``, its
framed bench report on a TCP serial port that :mod:`.device` reads like a board's
(:func:`serve_elf`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog import QemuMachine, Target
from ..cost import Cost, Figure
from ..errors import ParityError, ToolchainError
from ..resolver import Plan
from . import _objcache
from ._base import Profile, Profiler, Workload, latency_ms
from .cross import INSTALL_HINT, cross_compiler, object_dir, workload_build

QEMU = "qemu-system-arm"
QEMU_HINT = "apt-get install qemu-system-arm cmake"

_DONE = re.compile(
    r"mcuforge: done agree=(\d+)/(\d+) (cycles|instructions|us)_max=(\d+) \3_mean=(\d+)"
    r"(?: clock_hz=(\d+))? stack_bytes=(\d+)"
)
_PEAK = re.compile(r"mcuforge: stack_peak_bytes=(\d+) stack_size_bytes=(\d+)")
_PRED = re.compile(r"^pred (\d+) (-?\d+) (-?\d+)", re.M)


@dataclass(frozen=True)
class QemuRun:
    """The self-test firmware's report: agreement, its count and its stack.

    ``instructions``: the worst window's count (the firmware counts instructions in
    QEMU); ``stack_bytes``: the deepest stack of one ``PREFIX_predict`` call below its
    caller; ``stack_peak_bytes`` of ``stack_size_bytes``: the whole run's deepest stack.
    """

    agree: int
    total: int
    predictions: list[int]
    stack_bytes: int
    instructions: int
    output: str
    stack_peak_bytes: int | None = None
    stack_size_bytes: int | None = None


def build_firmware(
    project: Path, build: Path, platform: str, options: Mapping[str, str] | None = None
) -> Path:
    """cmake configure + build; returns the ELF.

    Args:
        options: extra cache entries, e.g. ``{"MCUFORGE_MODE": "bench"}``.
    """
    defs = [f"-D{k}={v}" for k, v in (options or {}).items()]
    # the model's objects are compiled once for every build of this process (_objcache)
    launcher = f"-DCMAKE_C_COMPILER_LAUNCHER={sys.executable};-S;-I;{Path(_objcache.__file__)}"
    env = {**os.environ, _objcache.ENV: str(object_dir())}
    for cmd in (
        [
            "cmake",
            "-S",
            str(project),
            "-B",
            str(build),
            f"-DMCUFORGE_PLATFORM={platform}",
            launcher,
            *defs,
        ],
        ["cmake", "--build", str(build)],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise ToolchainError(
                f"firmware build failed: {' '.join(cmd)}\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
    elfs = sorted(build.glob("*.elf"))
    if not elfs:
        raise ToolchainError(f"firmware build produced no ELF in {build}")
    return elfs[0]


def _qemu_cmd(machine: str, elf: Path, serial: list[str]) -> list[str]:
    return [
        QEMU,
        "-M",
        machine,
        *serial,
        "-monitor",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-icount",
        "shift=0",
        "-kernel",
        str(elf),
    ]


def run_elf(elf: Path, machine: str, timeout_s: float = 120) -> tuple[int, str]:
    """Run an ELF in qemu-system-arm with semihosting; return exit code and UART output.

    Raises:
        ToolchainError: QEMU did not finish in time, or the core locked up (a fault in
            the fault handler); the message says which.
    """
    cmd = _qemu_cmd(machine, elf, ["-nographic"])
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(
            f"QEMU did not finish within {timeout_s:g} s: {' '.join(cmd)}"
        ) from exc
    out = (proc.stdout + proc.stderr).decode(errors="replace")
    if "Lockup" in out:
        raise ToolchainError(
            f"the firmware locked up the core in QEMU (a fault while handling a fault, "
            f"e.g. a stack overflow):\n{out[-1500:]}"
        )
    return proc.returncode, out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_elf(elf: Path, machine: str, timeout_s: float = 60) -> Iterator[str]:
    """Run ``elf`` in QEMU with its UART on a TCP server; yield its pyserial URL.

    QEMU waits (``wait=on``) until a client connects to ``socket://127.0.0.1:PORT``,
    so nothing the firmware sends is lost; semihosting stays on so the firmware can
    end the emulation. QEMU is stopped when the block exits.

    Raises:
        ToolchainError: QEMU is missing or did not start listening.
    """
    if shutil.which(QEMU) is None:
        raise ToolchainError(f"{QEMU} not found ({QEMU_HINT})")
    port = free_port()
    serial = ["-display", "none", "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on"]
    proc = subprocess.Popen(
        _qemu_cmd(machine, elf, serial),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + min(timeout_s, 30)
        line = ""
        while "waiting for connection" not in line:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise ToolchainError(f"QEMU exited with {proc.returncode} before listening")
            if time.monotonic() > deadline:
                raise ToolchainError(f"QEMU did not listen on 127.0.0.1:{port}")
        yield f"socket://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def parse_selftest(text: str, code: int) -> QemuRun:
    """The self-test firmware's output as a :class:`QemuRun`.

    Raises:
        ToolchainError: no result line; a stack overflow is named as such.
    """
    m = _DONE.search(text)
    if m is None:
        over = re.search(r"mcuforge: stack overflow: [^\n]*", text)
        if over:
            raise ToolchainError(
                f"the self-test firmware overflowed its stack in QEMU ({over.group(0)}); "
                "mcuforge sizes the stack from a run of the sensor-mode firmware plus a "
                "margin, so this is a bug in mcuforge: please report it"
            )
        raise ToolchainError(
            f"firmware in QEMU printed no result line (exit {code}):\n{text[-2000:]}"
        )
    agree, total = int(m.group(1)), int(m.group(2))
    unit, count, clock = m.group(3), int(m.group(4)), m.group(6)
    # under -icount shift=0 an instruction takes 1 ns: any counter converts exactly
    instructions = count if unit == "instructions" else round(count * 1e9 / int(clock or 1e9))
    preds = [int(p.group(2)) for p in _PRED.finditer(text)]
    peak = _PEAK.search(text)
    return QemuRun(
        agree,
        total,
        preds,
        int(m.group(7)),
        instructions,
        text,
        int(peak.group(1)) if peak else None,
        int(peak.group(2)) if peak else None,
    )


def _render_and_run(
    template: str,
    variables: Mapping[str, str],
    files: Mapping[str, str],
    target: Target,
    machine: str,
    qemu: QemuMachine,
) -> QemuRun:
    from ..scaffold import qemu_context, render

    with tempfile.TemporaryDirectory(prefix="mcuforge-qemu-") as tmp:
        project = render(
            template, qemu_context(dict(variables), target, qemu), dict(files), Path(tmp) / "fw"
        )
        elf = build_firmware(project, Path(tmp) / "build", qemu.platform)
        code, text = run_elf(elf, machine)
    return parse_selftest(text, code)


def run_firmware(
    template: str, variables: dict[str, str], files: dict[str, str], plan: Plan
) -> QemuRun:
    """Render the firmware for the core's QEMU machine, build it and run it once.

    The firmware replays its embedded test windows, counts the instructions of each
    inference (SysTick ticks under ``-icount shift=0``, exact to within one tick) and
    paints the stack.
    """
    qemu, machine = plan.qemu, plan.core.qemu_machine
    assert qemu is not None and machine is not None
    return _render_and_run(template, variables, files, plan.target, machine, qemu)


def qemu_tools_missing() -> str | None:
    """None if QEMU and CMake are installed, else what to install."""
    if shutil.which(QEMU) is None or shutil.which("cmake") is None:
        return f"{QEMU} or cmake not found ({QEMU_HINT})"
    return None


#: Largest |QEMU - unicorn| instruction difference that is not worth a note: one
#: SysTick tick (40 instructions on mps2, 62.5 on microbit) of quantisation, plus
#: the instructions of reading the timer around the call (measured: 10-50), plus 2 %
#: for the build: the firmware is compiled with -g and times PREFIX_predict from its
#: own frame, the cross build's bench ELF calls it from another.
CROSS_CHECK_SLACK = 120
CROSS_CHECK_REL = 0.02


class QemuProfiler(Profiler):
    """The self-test firmware in QEMU: its instruction count, its painted stack.

    Figures (``emulated``): ``instructions`` = the worst window's count as the firmware
    reports it (SysTick ticks x ``1e9 / systick_hz``: resolution one tick, 40
    instructions on mps2, 62.5 on microbit; includes the few instructions of reading
    the timer), ``latency_ms`` from them, and ``sram_bytes`` = static SRAM + the stack
    of ``PREFIX_predict``. The firmware's stack is the one the ``linked`` profiler
    reserved, when it ran before.
    """

    name = "qemu"
    source = "emulated"
    measures = ("instructions", "latency_ms", "sram_bytes")
    final_only = True

    def unavailable(self, work: Workload) -> str | None:
        if work.core.qemu_machine is None or work.qemu is None:
            return f"no QEMU machine emulates {work.target.core}"
        if work.firmware is None:
            return "no firmware project to run"
        if work.core.gcc_flags is None or cross_compiler() is None:
            return f"arm-none-eabi-gcc not found ({INSTALL_HINT})"
        return qemu_tools_missing()

    def run(self, work: Workload) -> QemuRun:
        """Build and run the firmware once (cached on the workload)."""
        run = work.cached("qemu")
        if run is None:
            fw, machine = work.firmware, work.core.qemu_machine
            assert fw is not None and machine is not None and work.qemu is not None
            variables = dict(fw.variables)
            reserve = work.cached("stack_bytes")  # sized by the linked profiler
            if isinstance(reserve, int):
                variables["stack_bytes"] = str(reserve)
            run = _render_and_run(fw.template, variables, fw.files, work.target, machine, work.qemu)
            work.store("qemu", run)
        assert isinstance(run, QemuRun)
        return run

    def profile(self, work: Workload, base: Cost) -> Profile:
        """Measure, or, when an earlier profiler already emulated the instructions,
        check the firmware: its predictions and its count against the earlier one."""
        run = self.run(work)
        if run.agree != run.total:
            raise ParityError(
                f"firmware in QEMU agreed with Python on {run.agree}/{run.total} windows"
            )
        details = qemu_details(work, run)
        if base.instructions.source == "emulated":
            earlier = base.instructions.value
            diff = run.instructions - earlier
            details["instructions_minus_unicorn"] = diff
            notes = []
            if abs(diff) > CROSS_CHECK_SLACK + CROSS_CHECK_REL * earlier:
                notes.append(
                    f"QEMU counted {run.instructions:.0f} instructions, unicorn "
                    f"{earlier:.0f}: the firmware and the cross build differ"
                )
            return Profile(base, notes, details)
        static = workload_build(work).sizes.static_sram
        cost = base.with_(
            instructions=Figure(float(run.instructions), "emulated"),
            latency_ms=Figure(
                latency_ms(run.instructions, work.core, work.target.clock_mhz), "emulated"
            ),
            sram_bytes=Figure(float(static + run.stack_bytes), "emulated"),
        )
        return Profile(cost, details=details)


def qemu_details(work: Workload, run: QemuRun) -> dict[str, Any]:
    """The ``qemu`` section of the report (every figure as the firmware printed it)."""
    out: dict[str, Any] = {
        "machine": work.core.qemu_machine,
        "agree": run.agree,
        "total": run.total,
        "instructions": run.instructions,
        "stack_bytes": run.stack_bytes,
    }
    if run.stack_peak_bytes is not None:
        out["stack_peak_bytes"] = run.stack_peak_bytes
        out["stack_size_bytes"] = run.stack_size_bytes
    return out
