"""Cost figures, each tagged with how it was obtained."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

Source = Literal["analytic", "compiled", "emulated", "device"]


@dataclass(frozen=True)
class Figure:
    """One number and its provenance."""

    value: float
    source: Source

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source}


@dataclass(frozen=True)
class Cost:
    """What features + model cost on the target: flash, SRAM, latency."""

    flash_bytes: Figure
    sram_bytes: Figure
    latency_ms: Figure
    instructions: Figure

    def to_json(self) -> dict[str, Any]:
        return {k: v.to_json() for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cost:
        """The inverse of :meth:`to_json`."""
        return cls(**{k: Figure(float(v["value"]), v["source"]) for k, v in data.items()})

    def with_(self, **figures: Figure) -> Cost:
        return replace(self, **figures)

    def violations(self, sram_kb: float, flash_kb: float, latency_ms: float | None) -> list[float]:
        """Optuna constraint values: > 0 means the budget is broken by that much."""
        return [
            self.sram_bytes.value - sram_kb * 1024,
            self.flash_bytes.value - flash_kb * 1024,
            (self.latency_ms.value - latency_ms) if latency_ms is not None else -1.0,
        ]
