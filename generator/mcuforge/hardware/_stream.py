"""Reading a capture stream: the frames of a board running the capture firmware.

The firmware built with ``-DMCUFORGE_MODE=capture`` reads its sensor hook once per
sample period and streams the samples in frames (:mod:`.protocol`: ``STREAM`` about once
a second, ``SAMPLES`` numbered from 0). :func:`read_capture` reads them from any port
pyserial opens (``/dev/ttyACM0``, ``COM3``, ``socket://127.0.0.1:PORT``, ``loop://``):

* bytes that are not a frame and frames with a bad CRC are skipped; the decoder
  resynchronises on the marker and counts each time it had to (``resyncs``);
* samples count only after a ``STREAM`` (a host that joins late waits for the next one,
  at most about a second) whose channel count and rate are the spec's;
* a gap in the sequence numbers is a lost frame; a sequence that starts again is a
  restarted firmware. Either ends the current segment: a recording never spans a gap;
* it stops after ``seconds`` of samples at the spec's rate, on Ctrl-C, when the port
  closes, or when no sample came for ``timeout_s`` (or two frames' time, if longer);
  what was received is kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bench_report import DEFAULT_BAUDRATE, DeviceError, open_port
from .protocol import FrameDecoder, Samples, Stream

DEFAULT_TIMEOUT_S = 10.0


class CaptureError(DeviceError):
    """The port sends no usable capture stream, or one that does not fit the spec."""


@dataclass
class CaptureStats:
    """How the stream arrived (JSON in ``capture --json``)."""

    frames: int = 0  # SAMPLES frames kept
    lost_frames: int = 0  # gaps in the sequence numbers
    lost_samples: int = 0  # the samples those frames held
    missed: int = 0  # sample periods without a sample, as the firmware counted them
    restarts: int = 0  # the firmware started its sequence again (a reset)
    bad_crc: int = 0
    resyncs: int = 0
    skipped_bytes: int = 0
    unknown_frames: int = 0
    received_bytes: int = 0


@dataclass
class Capture:
    """What was recorded: contiguous segments of (time, channels) float32 samples."""

    stream: Stream | None
    segments: list[np.ndarray]
    stats: CaptureStats
    stopped: str  # complete | interrupted | stalled | closed
    elapsed_s: float
    warnings: list[str] = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        return sum(len(s) for s in self.segments)


class _Collector:
    """The stream's state: which frame comes next, the segments so far."""

    def __init__(self, n_channels: int, rate_hz: float, firmware_id: bytes | None, name: str):
        self.n_channels = n_channels
        self.rate_hz = rate_hz
        self.firmware_id = firmware_id
        self.name = name
        self.stream: Stream | None = None
        self.expect = 0
        self.segments: list[list[np.ndarray]] = []
        self.n = 0
        self.stats = CaptureStats()
        self.warnings: list[str] = []
        self._missed_base = self._missed_done = 0

    def patience(self, timeout_s: float) -> float:
        """Seconds without a sample before the stream counts as stopped: ``timeout_s``,
        or two frames' worth of samples when a frame takes longer (rates below 1 Hz)."""
        if self.stream is None:
            return timeout_s
        return max(timeout_s, 2 * self.stream.block_samples / self.rate_hz)

    def on_stream(self, msg: Stream) -> None:
        if msg.n_channels != self.n_channels:
            raise CaptureError(
                f"the firmware on {self.name} sends {msg.n_channels} channels, the spec has "
                f"{self.n_channels}: flash the capture firmware generated from this spec"
            )
        if not math.isclose(msg.rate_hz, self.rate_hz, rel_tol=1e-6):
            raise CaptureError(
                f"the firmware on {self.name} samples at {msg.rate_hz:g} Hz, the spec at "
                f"{self.rate_hz:g} Hz: flash the capture firmware generated from this spec"
            )
        if self.stream is None:
            if self.firmware_id is not None and msg.firmware_id != self.firmware_id:
                self.warnings.append(
                    f"the firmware was built from spec {msg.firmware_hex}..., not this one "
                    f"({self.firmware_id.hex()}...); its channels and rate match the spec"
                )
            if msg.source != 0:
                self.warnings.append(
                    f"the firmware sends {msg.source_name} (built with "
                    "MCUFORGE_CAPTURE_SYNTH), not a sensor's samples"
                )
            self.expect, self._missed_base = msg.next_seq, msg.missed
            self.segments.append([])
        elif msg.next_seq < self.expect:
            self._restart(msg.next_seq, 0)
        self.stream = msg

    def on_samples(self, msg: Samples) -> int:
        """Keep a block; returns the samples kept (0 before the first STREAM)."""
        if self.stream is None:
            return 0  # joined mid-stream: the next STREAM tells the layout
        if msg.n_channels != self.n_channels:
            raise CaptureError(
                f"a SAMPLES frame from {self.name} has {msg.n_channels} channels, not "
                f"{self.n_channels}"
            )
        if msg.seq < self.expect:
            self._restart(msg.seq, msg.missed)
        elif msg.seq > self.expect:
            lost = msg.seq - self.expect
            self.stats.lost_frames += lost
            self.stats.lost_samples += lost * self.stream.block_samples
            if self.segments[-1]:
                self.segments.append([])
        block = np.asarray(msg.values, dtype=np.float32).reshape(-1, self.n_channels)
        self.segments[-1].append(block)
        self.expect = msg.seq + 1
        self.stats.frames += 1
        self.stats.missed = self._missed_done + msg.missed - self._missed_base
        self.n += len(block)
        return len(block)

    def _restart(self, seq: int, missed: int) -> None:
        self.stats.restarts += 1
        self._missed_done = self.stats.missed
        self._missed_base = missed
        self.expect = seq
        if self.segments[-1]:
            self.segments.append([])

    def capture(self, stopped: str, elapsed_s: float, want: int | None) -> Capture:
        arrays = [np.concatenate(s) for s in self.segments if s]
        if want is not None:  # keep exactly `want` samples
            kept: list[np.ndarray] = []
            left = want
            for a in arrays:
                if left > 0:
                    kept.append(a[:left])
                    left -= len(kept[-1])
            arrays = kept
        return Capture(self.stream, arrays, self.stats, stopped, elapsed_s, self.warnings)


def _nothing_usable(col: _Collector, dec: FrameDecoder, received: int, timeout_s: float) -> str:
    name = col.name
    if received == 0:
        return (
            f"{name} sent nothing in {timeout_s:g} s: is the board connected and running the "
            "capture firmware (built with -DMCUFORGE_MODE=capture)?"
        )
    if col.stream is None:
        return (
            f"no capture stream from {name} in {timeout_s:g} s ({received} bytes, "
            f"{dec.bad_crc} frames with a bad CRC): flash the firmware built with "
            "-DMCUFORGE_MODE=capture, and check --baud"
        )
    return f"the capture firmware on {name} sent no sample in {timeout_s:g} s" + (
        f" and missed {col.stream.missed} sample periods: its sensor hook "
        "mcuforge_sensor_read() (src/sensor.c) gives no samples; the default gives none "
        "in capture mode"
        if col.stream.missed
        else ""
    )


def read_capture(
    port: str | Any,
    n_channels: int,
    rate_hz: float,
    *,
    seconds: float | None = None,
    firmware_id: bytes | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    baudrate: int = DEFAULT_BAUDRATE,
    progress: Callable[[int], None] | None = None,
) -> Capture:
    """Read a capture stream until ``seconds`` of samples (or Ctrl-C, a closed port,
    ``timeout_s`` without a sample).

    Args:
        port: a pyserial port name or URL, or an open pyserial port object.
        firmware_id: first 8 bytes of the spec's sha256; another one is a warning.
        progress: called with the samples kept so far after each block.

    Raises:
        CaptureError: nothing, or no capture stream, arrived before it stopped; the
            stream's channels or rate are not the spec's; a bench firmware answered.
    """
    import serial

    want = None if seconds is None else max(1, round(seconds * rate_hz))
    ser = open_port(port, baudrate) if isinstance(port, str) else port
    name = port if isinstance(port, str) else str(getattr(ser, "name", None) or ser.port)
    col = _Collector(n_channels, rate_hz, firmware_id, name)
    dec = FrameDecoder()
    stopped, received = "complete", 0
    t0 = last = time.monotonic()
    try:
        while want is None or col.n < want:
            if time.monotonic() - last > col.patience(timeout_s):
                stopped = "stalled"
                break
            try:
                chunk = ser.read(max(1, ser.in_waiting))
            except serial.SerialException:
                stopped = "closed"
                break
            received += len(chunk)
            kept = 0
            for msg in dec.feed(chunk):
                if isinstance(msg, Stream):
                    col.on_stream(msg)
                elif isinstance(msg, Samples):
                    kept += col.on_samples(msg)
                else:
                    raise CaptureError(
                        f"{name} sends a bench report: flash the firmware built with "
                        "-DMCUFORGE_MODE=capture"
                    )
            if kept:
                last = time.monotonic()
                if progress is not None:
                    progress(col.n)
    except KeyboardInterrupt:
        stopped = "interrupted"
    finally:
        if isinstance(port, str):
            ser.close()
    stats = col.stats
    stats.bad_crc, stats.resyncs, stats.skipped_bytes = dec.bad_crc, dec.resyncs, dec.skipped
    stats.unknown_frames, stats.received_bytes = dec.unknown, received
    if col.n == 0 and stopped != "interrupted":
        raise CaptureError(_nothing_usable(col, dec, received, timeout_s))
    return col.capture(stopped, time.monotonic() - t0, want)


__all__ = ["DEFAULT_TIMEOUT_S", "Capture", "CaptureError", "CaptureStats", "read_capture"]
