"""Read the bench firmware's framed report from a serial port.

The firmware built with ``-DMCUFORGE_MODE=bench`` runs ``PREFIX_run`` on each
embedded test window, times it with the core's cycle counter, and sends a report
(:mod:`.protocol`); on a board it repeats the report about every 2 s, in QEMU it
sends it once and exits. :func:`read_report` collects one complete report from any
port pyserial opens (``/dev/ttyACM0``, ``COM3``, ``socket://127.0.0.1:PORT``,
``loop://``, ``rfc2217://…``):

* bytes before a frame, noise and frames with a bad CRC are skipped (the decoder
  resynchronises on the marker);
* a ``HELLO`` restarts the collection (the board was reset mid-report, or the host
  joined late); a report with missing windows is dropped and the next one awaited;
* a ``HELLO`` from a firmware built from another spec is an error naming both ids;
* a port that cannot be opened, or that stays silent, is one clear error line.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import ToolchainError
from .protocol import Done, FrameDecoder, Hello, Result

DEFAULT_BAUDRATE = 115200
DEFAULT_TIMEOUT_S = 10.0


class DeviceError(ToolchainError):
    """The board cannot be reached, or what it sends is not a usable bench report."""


@dataclass(frozen=True)
class BenchReport:
    """One complete bench report and how it was received."""

    hello: Hello
    results: list[Result]
    done: Done
    received_bytes: int = 0
    skipped_bytes: int = 0
    bad_crc: int = 0
    restarts: int = 0

    @property
    def cycles(self) -> list[int]:
        return [r.cycles for r in self.results]

    @property
    def cycles_max(self) -> int:
        return max(self.cycles, default=0)

    def ms(self, cycles: float) -> float:
        """Counter ticks → milliseconds."""
        return round(cycles / self.hello.clock_hz * 1e3, 6) if self.hello.clock_hz else math.nan


def open_port(port: str, baudrate: int = DEFAULT_BAUDRATE, timeout_s: float = 0.1) -> Any:
    """Open a pyserial port or URL.

    Raises:
        DeviceError: the port does not exist or cannot be opened (one line).
    """
    import serial

    try:
        ser = serial.serial_for_url(port, baudrate=baudrate, timeout=timeout_s, do_not_open=True)
        # open() discards input for as long as it keeps arriving (socket://): with an
        # emulator that starts on connect, that can be the whole report. Keep every
        # byte; the decoder skips what is not a frame.
        ser.reset_input_buffer = lambda: None
        ser.open()
        del ser.reset_input_buffer
        return ser
    except (serial.SerialException, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DeviceError(f"cannot open serial port {port}: {reason}") from None


@dataclass
class _Collector:
    """One report being assembled from decoded frames."""

    name: str
    firmware_id: bytes | None
    hello: Hello | None = None
    results: dict[int, Result] = field(default_factory=dict)
    restarts: int = 0
    incomplete: int = 0

    def take(self, msg: object) -> Done | None:
        """Add one message; the DONE frame when it completes the report."""
        if isinstance(msg, Hello):
            if self.firmware_id is not None and msg.firmware_id != self.firmware_id:
                raise DeviceError(
                    f"the firmware on {self.name} was built from spec "
                    f"{msg.firmware_hex}..., not {self.firmware_id.hex()}...: flash the "
                    "firmware of this output (built with -DMCUFORGE_MODE=bench)"
                )
            if self.hello is not None and self.results:
                self.restarts += 1
            self.hello, self.results = msg, {}
            return None
        hello = self.hello
        if hello is None:
            return None  # joined mid-report: wait for the next HELLO
        if isinstance(msg, Result):
            if msg.window >= hello.n_windows or len(msg.outputs) != hello.n_outputs:
                self._drop()
            else:
                self.results[msg.window] = msg
        elif isinstance(msg, Done):
            if len(self.results) == hello.n_windows and msg.total == hello.n_windows:
                return msg
            self._drop()
        return None

    def _drop(self) -> None:
        self.hello, self.results = None, {}
        self.incomplete += 1


def read_report(
    port: str | Any,
    firmware_id: bytes | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    baudrate: int = DEFAULT_BAUDRATE,
) -> BenchReport:
    """Read serial data until one complete bench report has arrived.

    Args:
        port: a pyserial port name or URL, or an open pyserial port object.
        firmware_id: the 8 bytes HELLO must carry (first 8 bytes of the spec sha256);
            None accepts any firmware.
        timeout_s: give up after this long without a complete report.

    Raises:
        DeviceError: cannot open the port, nothing or no complete report arrived in
            time, the connection closed, or the firmware comes from another spec.
    """
    import serial

    ser = open_port(port, baudrate) if isinstance(port, str) else port
    name = port if isinstance(port, str) else str(getattr(ser, "name", None) or ser.port)
    dec = FrameDecoder()
    got = _Collector(name, firmware_id)
    received = 0
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            try:
                # one read per available chunk: pyserial's socket:// loses the bytes of
                # a read() that ends in a disconnect, so never ask for more than is there
                chunk = ser.read(max(1, ser.in_waiting))
            except serial.SerialException as exc:
                raise DeviceError(
                    f"{name} closed before a complete bench report ({exc}; "
                    f"{received} bytes received)"
                ) from None
            received += len(chunk)
            for msg in dec.feed(chunk):
                done = got.take(msg)
                if done is not None and got.hello is not None:
                    n = got.hello.n_windows
                    return BenchReport(
                        got.hello,
                        [got.results[i] for i in range(n)],
                        done,
                        received,
                        dec.skipped,
                        dec.bad_crc,
                        got.restarts,
                    )
    finally:
        if isinstance(port, str):
            ser.close()
    if received == 0:
        raise DeviceError(
            f"{name} sent nothing in {timeout_s:g} s: is the board connected and running "
            f"the bench firmware (-DMCUFORGE_MODE=bench) at {baudrate} baud?"
        )
    raise DeviceError(
        f"no complete bench report from {name} within {timeout_s:g} s ({received} bytes: "
        f"{dec.skipped} skipped, {dec.bad_crc} frames with a bad CRC, {got.incomplete} reports "
        f"incomplete, {got.restarts} restarted)"
    )
