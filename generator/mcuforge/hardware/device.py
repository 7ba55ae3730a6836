"""Profile a real board over a serial port.

The bench firmware's report is read by :mod:`.bench_report`; here it is checked
against the outputs Python expects for the same windows, turned into cost figures
with source ``device`` and written to ``device.json`` and the report.

Latency on the device is ``cycles / clock_hz``: HELLO's ``clock_hz`` is the
frequency of the counter (the core clock for DWT cycles and for SysTick on the
processor clock; 1 MHz for a framework's microsecond timer).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cost import CALIBRATION_FILE, Calibration, Cost, Figure
from ..errors import OutputError, ParityError
from ..spec import Hardware
from ._base import Profile, Profiler, Workload
from .bench_check import Check, Expected, check, expected_from_c, expected_from_output
from .bench_report import (
    DEFAULT_BAUDRATE,
    DEFAULT_TIMEOUT_S,
    BenchReport,
    DeviceError,
    read_report,
)
from .protocol import COUNTERS

DEVICE_FILE = "device.json"
DEVICE_VERSION = 1


def device_figures(
    report: BenchReport, base: Cost, static_sram: float | None
) -> tuple[Cost, dict[str, Any]]:
    """``base`` with latency (and SRAM, if the stack was measured) from the board."""
    latency = Figure(report.ms(report.cycles_max), "device")
    figures = {"latency_ms": latency}
    if report.done.stack_bytes and static_sram is not None:
        figures["sram_bytes"] = Figure(float(static_sram + report.done.stack_bytes), "device")
    details: dict[str, Any] = {
        "firmware_id": report.hello.firmware_hex,
        "counter": COUNTERS.get(report.hello.counter, str(report.hello.counter)),
        "clock_hz": report.hello.clock_hz,
        "cycles_max": report.cycles_max,
        "cycles_mean": round(sum(report.cycles) / max(len(report.cycles), 1), 1),
        "stack_bytes": report.done.stack_bytes,
        "firmware_agree": report.done.agree,
        "total": report.done.total,
        "received_bytes": report.received_bytes,
        "skipped_bytes": report.skipped_bytes,
        "bad_crc": report.bad_crc,
        "restarts": report.restarts,
    }
    if base.instructions.source == "emulated" and report.hello.counter in (0, 1):
        # cycles per instruction of this part, for the calibration of the CPI model
        details["cpi"] = round(report.cycles_max / base.instructions.value, 4)
    return base.with_(**figures), details


@dataclass(frozen=True)
class DeviceProfile:
    """What ``mcuforge profile`` found on the board."""

    port: str
    cost: Cost
    details: dict[str, Any]
    check: Check

    @property
    def emulated(self) -> bool:
        """The report came from QEMU (its counter counts instructions at a nominal 1 GHz):
        the results are checked, but its time is no board's, so report.json's cost and
        the calibration stay as they are (they would take the target for 10-60x faster)."""
        return self.details.get("counter") == COUNTERS[3]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": DEVICE_VERSION,
            "port": self.port,
            "agree": self.check.agree,
            "total": self.check.total,
            "latency_ms": self.cost.latency_ms.value,
            "cost": self.cost.to_json(),
            **self.details,
            "windows": self.check.windows,
        }


def _load_report(output_dir: Path) -> dict[str, Any]:
    path = output_dir / "report.json"  # not an output folder: a usage error (exit 2)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise OutputError(
            f"{path} not found: profile the output folder of `mcuforge generate`"
        ) from None
    except json.JSONDecodeError as exc:
        raise OutputError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or len(str(data.get("spec_sha256", ""))) != 64:
        raise OutputError(f"{path} has no spec_sha256: regenerate the output")
    return data


def profile(
    output_dir: Path,
    port: str,
    baudrate: int = DEFAULT_BAUDRATE,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    write: bool = True,
) -> DeviceProfile:
    """``mcuforge profile OUTPUT_DIR --port PORT``: measure the output's firmware on a board.

    Reads ``OUTPUT_DIR/report.json`` (``spec_sha256``, cost, measurements) and one
    bench report from ``port``, checks every window against Python's result, and
    with ``write`` writes ``device.json``, updates ``report.json`` (``cost`` gets the
    device latency and its energy, ``cost_model_only`` also the SRAM of features + model
    with the board's stack, ``measurements`` their rows, ``device`` the summary) and
    adds the points to ``calibration.json``. A bench firmware running in QEMU (its
    counter counts instructions) is checked and written to ``device.json`` only.

    Raises:
        DeviceError: no report.json, port problems, a firmware from another spec.
        ParityError: the board's results differ from Python's (device.json is still
            written, report.json is not changed).
    """
    report = _load_report(output_dir)
    firmware_id = bytes.fromhex(report["spec_sha256"][:16])
    bench = read_report(port, firmware_id, timeout_s, baudrate)
    expected = expected_from_output(output_dir, report)
    result = check(bench, expected)
    base = Cost.from_json(report["cost"])
    static = report.get("hardware", {}).get("compiled", {}).get("static_sram_bytes")
    cost, details = device_figures(bench, base, static)
    if "cost_model_only" in report:
        # the board's SRAM (static + the stack of one run) is features + model's; the
        # budgets' SRAM stays the linked firmware's
        alone, _ = device_figures(bench, Cost.from_json(report["cost_model_only"]), static)
        report["cost_model_only"] = _energy(alone, report).to_json()
        cost = cost.with_(sram_bytes=base.sram_bytes)
    cost = _energy(cost, report)
    prof = DeviceProfile(port, cost, details, result)
    if write:
        (output_dir / DEVICE_FILE).write_text(json.dumps(prof.to_json(), indent=2) + "\n")
    if result.agree != result.total:
        raise ParityError(
            f"the board disagrees with Python on {result.total - result.agree} of "
            f"{result.total} test windows (first: {result.failures()[:5]}); details in "
            f"{output_dir / DEVICE_FILE}"
        )
    if write and not prof.emulated:
        _update_report(output_dir, report, prof)
    return prof


def _energy(cost: Cost, report: dict[str, Any]) -> Cost:
    """``cost`` with the energy of its latency, from the report's target power figures."""
    from ..spec import Power

    target = report.get("target") or {}
    if not target.get("power") or "clock_mhz" not in target:
        return cost
    power = Power.model_validate(target["power"])
    value = power.energy_uj(cost.latency_ms.value, float(target["clock_mhz"]))
    return cost.with_(energy_uj=Figure(round(value, 6), cost.latency_ms.source))


def _update_report(output_dir: Path, report: dict[str, Any], prof: DeviceProfile) -> None:
    from .measure import error_rows

    analytic = Cost.from_json(report["analytic_cost"]) if "analytic_cost" in report else None
    report["cost"] = prof.cost.to_json()
    if analytic is not None:
        device_rows = [r for r in error_rows(analytic, prof.cost) if r["source"] == "device"]
        keep = [
            r
            for r in report.get("measurements", [])
            if r["figure"] not in {d["figure"] for d in device_rows}
        ]
        report["measurements"] = keep + device_rows
        cal_path = output_dir / CALIBRATION_FILE
        cal = Calibration.load(cal_path) if cal_path.is_file() else Calibration()
        target = report.get("target", {})
        if target.get("name") and target.get("core"):
            cal.add(target["name"], target["core"], analytic, prof.cost)
            cal.save(cal_path)
    report["device"] = {k: v for k, v in prof.to_json().items() if k != "windows"}
    (output_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")


def flash_firmware(command: str, elf: Path, timeout_s: float = 120) -> None:
    """Run the user's flash command with ``{elf}``, ``{hex}``, ``{bin}`` filled in.

    Raises:
        DeviceError: the command is missing, fails or hangs.
    """
    files = {"elf": elf, "hex": elf.with_suffix(".hex"), "bin": elf.with_suffix(".bin")}
    try:
        argv = [
            part.format(**{k: str(v) for k, v in files.items()}) for part in shlex.split(command)
        ]
    except (KeyError, IndexError, ValueError) as exc:
        raise DeviceError(
            f"flash command {command!r}: {exc}; use {{elf}}, {{hex}} or {{bin}}"
        ) from None
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except FileNotFoundError:
        raise DeviceError(f"flash command not found: {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise DeviceError(f"flash command did not finish in {timeout_s:g} s: {command}") from None
    if proc.returncode != 0:
        raise DeviceError(
            f"flash command exited with {proc.returncode}: {' '.join(argv)}\n"
            f"{(proc.stdout + proc.stderr)[-2000:]}"
        )


def device_cost(
    elf: Path,
    port: str,
    firmware_id: bytes,
    expected: Sequence[int],
    base: Cost,
    *,
    static_sram: float | None = None,
    flash: Callable[[Path], None] | None = None,
    baudrate: int = DEFAULT_BAUDRATE,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> tuple[Cost, dict[str, Any]]:
    """Measure a built bench firmware on a board: ``base`` with ``device`` figures.

    Args:
        elf: the firmware built with ``-DMCUFORGE_MODE=bench`` for the board.
        port: where the board's UART is (pyserial port or URL).
        firmware_id: first 8 bytes of the spec sha256, as the firmware sends them.
        expected: Python's return value for each test window.
        static_sram: .data + .bss of features + model; with the board's stack it
            gives a device SRAM figure.
        flash: puts ``elf`` on the board (e.g. ``lambda e: flash_firmware(cmd, e)``);
            None when it is already there.

    Raises:
        DeviceError: flashing or reading failed.
        ParityError: the board's return values differ from Python's.
    """
    if flash is not None:
        flash(elf)
    bench = read_report(port, firmware_id, timeout_s, baudrate)
    result = check(bench, Expected(list(expected)))
    if result.agree != result.total:
        raise ParityError(
            f"the board on {port} disagrees with Python on {result.total - result.agree} of "
            f"{result.total} test windows (first: {result.failures()[:5]})"
        )
    cost, details = device_figures(bench, base, static_sram)
    return cost, {"port": port, **details}


class DeviceProfiler(Profiler):
    """A board on a serial port: builds the bench firmware, flashes it, reads the report.

    Figures (``device``): ``latency_ms`` from the board's cycle counter (worst test
    window), ``sram_bytes`` = static SRAM + the stack the board measured.

    Args:
        port: the board's UART (pyserial port or URL).
        flash_command: how to put a firmware on the board, with ``{elf}``, ``{hex}``
            or ``{bin}`` (e.g. ``"pyocd flash -t nrf52840 {hex}"``).
    """

    name = "device"
    source = "device"
    measures = ("latency_ms", "sram_bytes")

    @classmethod
    def configure(cls, hardware: Hardware) -> DeviceProfiler:
        """From ``hardware.port``, ``flash_command`` and ``baudrate``.

        Raises:
            DeviceError: no ``port`` in the spec.
        """
        if not hardware.port:
            raise DeviceError("the device profiler needs `hardware.port` in the spec")
        return cls(hardware.port, hardware.flash_command, hardware.baudrate)

    def __init__(
        self,
        port: str,
        flash_command: str | None = None,
        baudrate: int = DEFAULT_BAUDRATE,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.port = port
        self.flash_command = flash_command
        self.baudrate = baudrate
        self.timeout_s = timeout_s

    def unavailable(self, work: Workload) -> str | None:
        from .cross import INSTALL_HINT, cross_compiler

        if work.firmware is None:
            return "no firmware project to build"
        if work.core.gcc_flags is None or cross_compiler() is None:
            return f"arm-none-eabi-gcc not found ({INSTALL_HINT})"
        if self.flash_command is None:
            return "no flash command to put each candidate on the board"
        return None

    def profile(self, work: Workload, base: Cost) -> Profile:
        from ..scaffold import render
        from .cross import workload_build
        from .qemu import build_firmware

        fw = work.firmware
        assert fw is not None and self.flash_command is not None
        dest = work.workdir / "device"
        variables = {**fw.variables, "platform": "board"}
        project = render(fw.template, variables, dict(fw.files), dest / "fw")
        elf = build_firmware(project, dest / "build", "board", {"MCUFORGE_MODE": "bench"})
        vec = next((t for n, t in work.test_vectors.items() if n.endswith(".c")), "")
        command = self.flash_command
        cost, details = device_cost(
            elf,
            self.port,
            bytes.fromhex(fw.variables["spec_sha256"][:16]),
            expected_from_c(vec),
            base,
            static_sram=workload_build(work).sizes.static_sram,
            flash=lambda e: flash_firmware(command, e),
            baudrate=self.baudrate,
            timeout_s=self.timeout_s,
        )
        return Profile(cost, details=details)
