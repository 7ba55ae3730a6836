"""``mcuforge capture``: record from a board running the capture firmware into the data.

:func:`capture` checks the spec's layout, the label and the link's capacity, reads the
stream (:mod:`._stream`: lost frames, resyncs, restarts, missed sample periods counted),
writes each contiguous segment as a recording in the spec's own layout
(:mod:`.recordings`) and says what happened (:class:`CaptureResult`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..spec import LoadedSpec
from ._stream import DEFAULT_TIMEOUT_S, Capture, CaptureError, CaptureStats, read_capture
from .bench_report import DEFAULT_BAUDRATE
from .protocol import SAMPLES_OVERHEAD, STREAM_FRAME_BYTES, capture_block, max_rate_hz
from .recordings import (
    check_label,
    check_layout,
    csv_text,
    existing_labels,
    label_folder,
    write_new,
)

#: Share of the link's capacity above which a rate is warned about: UART clocks may
#: differ by a few percent, and a board's putc may leave gaps between bytes.
LINK_MARGIN = 0.9
#: Ports whose baud rate means nothing (TCP, pyserial's loopback).
_NO_BAUD = ("socket://", "loop://")


def link_check(port: str, baudrate: int, n_channels: int, rate_hz: float) -> str | None:
    """A warning when the rate is near what the UART carries; None when it is fine or
    the port has no baud rate (TCP, loop).

    Raises:
        CaptureError: the spec's rate is more than the link carries.
    """
    if port.startswith(_NO_BAUD):
        return None
    block = capture_block(n_channels, rate_hz)
    limit = max_rate_hz(baudrate, n_channels, block)
    needed = 10 * (rate_hz * (4 * n_channels + SAMPLES_OVERHEAD / block) + STREAM_FRAME_BYTES)
    if rate_hz > limit:
        raise CaptureError(
            f"{rate_hz:g} Hz x {n_channels} channels of float32 needs {needed:,.0f} baud; "
            f"--baud {baudrate} carries at most {limit:,.1f} Hz (8N1, frames included): "
            "set a faster UART in the firmware and --baud, or lower the rate"
        )
    if rate_hz > LINK_MARGIN * limit:
        return (
            f"{rate_hz:g} Hz uses {rate_hz / limit:.0%} of what --baud {baudrate} carries "
            f"({limit:,.1f} Hz): frames may be lost; a faster UART is safer"
        )
    return None


@dataclass(frozen=True)
class CaptureResult:
    """The command's outcome: what was recorded and where it went."""

    files: list[Path]
    capture: Capture
    label: str
    new_label: bool
    warnings: list[str]

    def summary(self) -> str:
        c, s = self.capture, self.capture.stats
        rate = c.stream.rate_hz if c.stream else 0.0
        seconds = c.n_samples / rate if rate else 0.0
        return (
            f"capture: {c.n_samples} samples ({seconds:.1f} s at {rate:g} Hz) of "
            f"{self.label!r} in {len(self.files)} file{'s' if len(self.files) != 1 else ''}; "
            f"{s.lost_frames} lost frames, {s.resyncs} resyncs, {s.bad_crc} bad CRC, "
            f"{s.missed} missed sample periods, {s.restarts} restarts ({c.stopped})"
        )

    def json(self, base: Path) -> dict[str, Any]:
        c = self.capture
        stream = None
        if c.stream is not None:
            stream = {
                "firmware": c.stream.firmware_hex,
                "channels": c.stream.n_channels,
                "block_samples": c.stream.block_samples,
                "rate_hz": c.stream.rate_hz,
                "source": c.stream.source_name,
            }
        return {
            "label": self.label,
            "new_label": self.new_label,
            "files": [_shown(f, base) for f in self.files],
            "samples": c.n_samples,
            "segments": [len(s) for s in c.segments],
            "stopped": c.stopped,
            "elapsed_s": round(c.elapsed_s, 3),
            "stream": stream,
            "stats": asdict(c.stats),
            "warnings": self.warnings,
        }


def _shown(path: Path, base: Path) -> str:
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)


def capture(
    loaded: LoadedSpec,
    port: str,
    label: str,
    *,
    seconds: float | None = None,
    subject: str | None = None,
    baudrate: int = DEFAULT_BAUDRATE,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    log: Callable[[str], None] = lambda s: None,
    progress: Callable[[int], None] | None = None,
) -> CaptureResult:
    """Record from ``port`` into the spec's data folder as recordings of ``label``.

    Raises:
        DataError: the spec's data is not a CSV folder of time series.
        OutputError: a label that is not a plain folder name, or leads outside the data.
        CaptureError: the link is too slow for the rate; no usable stream (see
            :func:`read_capture`).
    """
    spec = loaded.spec
    data = spec.data
    check_layout(data, spec.task)
    name = check_label(label, spec.task)
    if data.split.subject_column and not subject:
        raise CaptureError(
            f"the spec's files carry a subject column ({data.split.subject_column!r}): "
            "give --subject ID"
        )
    folder = label_folder(data, loaded.base_dir, name)
    known = existing_labels(data, loaded.base_dir)
    warnings: list[str] = []
    if known and name not in known and data.labels.source == "folder":
        warnings.append(f"{name!r} is a new class (the data has {', '.join(known)})")
    link = link_check(port, baudrate, len(data.channels), data.rate_hz)
    if link:
        warnings.append(link)
    for w in warnings:
        log(f"capture: warning: {w}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    cap = read_capture(
        port,
        len(data.channels),
        data.rate_hz,
        seconds=seconds,
        firmware_id=bytes.fromhex(loaded.sha256[:16]),
        timeout_s=timeout_s,
        baudrate=baudrate,
        progress=progress,
    )
    for w in cap.warnings:
        log(f"capture: warning: {w}")
    warnings += cap.warnings
    files = [
        write_new(folder, stamp, csv_text(segment, data, name, subject)) for segment in cap.segments
    ]
    if len(files) > 1:
        warnings.append(
            f"the stream had gaps (lost frames or a restart): {len(files)} files, one per "
            "contiguous part"
        )
    return CaptureResult(files, cap, name, name not in known, warnings)


__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Capture",
    "CaptureError",
    "CaptureResult",
    "CaptureStats",
    "capture",
    "link_check",
    "read_capture",
]
