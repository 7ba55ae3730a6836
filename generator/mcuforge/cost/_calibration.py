"""Per-target correction of analytic estimates from measured points.

Every measured candidate gives an (analytic, measured) pair for each figure that was
measured (flash, SRAM, instructions, latency). For a target, the correction factor
of a figure is the geometric mean of ``measured / analytic`` over its points: it
minimises the mean squared *relative* (log) error, so one large model does not
outweigh several small ones. ``spread_pct`` is the geometric standard deviation of
those ratios, in percent: how far a corrected estimate may still be off.

Latency points from an emulator carry the same factor as instructions (latency is
instructions x CPI / clock on both sides); points from a device (cycles counted by
the core) also correct the CPI of the core table for that part.

The calibration is a JSON file (``calibration.json`` beside the report)::

    {"version": 1,
     "targets": {"nrf52840": {
         "core": "cortex-m4f",
         "figures": {"flash_bytes": {"factor": 1.02, "spread_pct": 0.4,
                                     "points": [[685.0, 700.0, "compiled"]]}}}}}

Only ``points`` is read back; ``factor`` and ``spread_pct`` are written for readers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from ..errors import McuforgeError
from ._cost import Cost, Figure, Source

CALIBRATION_FILE = "calibration.json"
CALIBRATION_VERSION = 1
FIGURES = ("flash_bytes", "sram_bytes", "instructions", "latency_ms")
#: Points kept per figure and target: the newest, so a file cannot grow without end
#: and the factor follows the current version of the generators.
MAX_POINTS = 64
_SOURCES = set(get_args(Source))


class CalibrationError(McuforgeError):
    """A calibration file cannot be read."""

    exit_code = 2


@dataclass(frozen=True)
class Point:
    analytic: float
    measured: float
    source: Source


@dataclass
class TargetCalibration:
    """The measured points of one target, by figure."""

    core: str
    points: dict[str, list[Point]] = field(default_factory=dict)

    def _ratios(self, figure: str) -> list[float]:
        return [
            p.measured / p.analytic
            for p in self.points.get(figure, [])
            if p.analytic > 0 and p.measured > 0
        ]

    def factor(self, figure: str) -> float | None:
        """measured/analytic for ``figure`` (geometric mean), or None without points."""
        ratios = self._ratios(figure)
        if not ratios:
            return None
        return math.exp(sum(math.log(r) for r in ratios) / len(ratios))

    def spread_pct(self, figure: str) -> float | None:
        """Geometric standard deviation of the ratios, in percent (0 for one point)."""
        ratios = self._ratios(figure)
        if not ratios:
            return None
        logs = [math.log(r) for r in ratios]
        mean = sum(logs) / len(logs)
        var = sum((x - mean) ** 2 for x in logs) / max(len(logs) - 1, 1)
        return 100.0 * (math.exp(math.sqrt(var)) - 1.0)


@dataclass
class Calibration:
    """Correction factors per target, fitted from (analytic, measured) pairs."""

    targets: dict[str, TargetCalibration] = field(default_factory=dict)

    def add(self, target: str, core: str, analytic: Cost, measured: Cost) -> int:
        """Add the figures of ``measured`` that were measured; return how many.

        A target seen before with another core starts over: its points no longer apply.
        """
        cal = self.targets.get(target)
        if cal is None or cal.core != core:
            cal = self.targets[target] = TargetCalibration(core)
        added = 0
        for name in FIGURES:
            a: Figure = getattr(analytic, name)
            m: Figure = getattr(measured, name)
            if m.source == "analytic" or a.source != "analytic":
                continue
            pts = cal.points.setdefault(name, [])
            pts.append(Point(a.value, m.value, m.source))
            del pts[:-MAX_POINTS]
            added += 1
        return added

    def factors(self, target: str, core: str) -> dict[str, float]:
        """The factors that apply to ``target`` on ``core`` (empty if none)."""
        cal = self.targets.get(target)
        if cal is None or cal.core != core:
            return {}
        out = {}
        for name in FIGURES:
            f = cal.factor(name)
            if f is not None:
                out[name] = f
        return out

    def apply(self, target: str, core: str, cost: Cost) -> Cost:
        """``cost`` with each analytic figure multiplied by its factor for the target.

        Measured figures are left alone; corrected figures stay ``analytic``.
        """
        figures = {}
        for name, f in self.factors(target, core).items():
            fig: Figure = getattr(cost, name)
            if fig.source == "analytic":
                digits = 6 if name == "latency_ms" else 1
                figures[name] = Figure(round(fig.value * f, digits), "analytic")
        return cost.with_(**figures) if figures else cost

    def merge(self, other: Calibration) -> Calibration:
        """A calibration with the points of both (``other``'s after this one's)."""
        out = Calibration.from_json(self.to_json())
        for name, cal in other.targets.items():
            mine = out.targets.get(name)
            if mine is None or mine.core != cal.core:
                out.targets[name] = TargetCalibration(cal.core, {})
                mine = out.targets[name]
            for fig, pts in cal.points.items():
                merged = mine.points.setdefault(fig, [])
                merged.extend(pts)
                del merged[:-MAX_POINTS]
        return out

    def to_json(self) -> dict[str, Any]:
        targets: dict[str, Any] = {}
        for name, cal in sorted(self.targets.items()):
            figures: dict[str, Any] = {}
            for fig in FIGURES:
                pts = cal.points.get(fig)
                if not pts:
                    continue
                factor, spread = cal.factor(fig), cal.spread_pct(fig)
                figures[fig] = {
                    "factor": None if factor is None else round(factor, 6),
                    "spread_pct": None if spread is None else round(spread, 3),
                    "points": [[p.analytic, p.measured, p.source] for p in pts],
                }
            targets[name] = {"core": cal.core, "figures": figures}
        return {"version": CALIBRATION_VERSION, "targets": targets}

    @classmethod
    def from_json(cls, data: Any, where: str = "calibration") -> Calibration:
        """Parse :meth:`to_json` output.

        Raises:
            CalibrationError: not a calibration of this version.
        """
        try:
            if data.get("version") != CALIBRATION_VERSION:
                raise CalibrationError(
                    f"{where}: version {data.get('version')!r} is not {CALIBRATION_VERSION}"
                )
            out = cls()
            for name, t in data["targets"].items():
                cal = TargetCalibration(str(t["core"]))
                for fig, body in t["figures"].items():
                    if fig not in FIGURES:
                        raise CalibrationError(f"{where}: {name}: unknown figure {fig!r}")
                    pts = []
                    for a, m, src in body["points"]:
                        if src not in _SOURCES:
                            raise CalibrationError(f"{where}: {name}: unknown source {src!r}")
                        pts.append(Point(float(a), float(m), src))
                    cal.points[fig] = pts
                out.targets[str(name)] = cal
            return out
        except CalibrationError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{where}: not a calibration file ({exc!r})") from exc

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> Calibration:
        """Read a calibration file.

        Raises:
            CalibrationError: missing, not JSON, or not a calibration.
        """
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise CalibrationError(f"cannot read calibration {path}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise CalibrationError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from exc
        return cls.from_json(data, str(path))


def fit(pairs: list[tuple[str, str, Cost, Cost]]) -> Calibration:
    """A calibration from ``(target, core, analytic, measured)`` pairs."""
    cal = Calibration()
    for target, core, analytic, measured in pairs:
        cal.add(target, core, analytic, measured)
    return cal


__all__ = [
    "CALIBRATION_FILE",
    "Calibration",
    "CalibrationError",
    "Point",
    "TargetCalibration",
    "fit",
]
