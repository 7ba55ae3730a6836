"""Cost figures, each tagged with how it was obtained."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

#: How a figure was obtained: ``analytic`` (the structural estimate), ``compiled`` (ELF
#: sections of features + model), ``emulated`` (unicorn or QEMU runs), ``linked`` (the
#: whole firmware linked for the part's memory map) or ``device`` (a board).
Source = Literal["analytic", "compiled", "emulated", "linked", "device"]


@dataclass(frozen=True)
class Figure:
    """One number and its provenance."""

    value: float
    source: Source

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source}


@dataclass(frozen=True)
class Cost:
    """What the firmware costs on the target: flash, SRAM, latency, energy.

    ``flash_bytes`` and ``sram_bytes`` are what the budgets check: the whole firmware
    (input buffer, features, model, runtime) when the source is ``analytic`` (the search's
    estimate) or ``linked``; ``compiled``/``emulated`` ones cover features + model alone
    (see :class:`~.measure.Measured`, ``model_only``). ``energy_uj`` (one inference, from
    the target's datasheet current and supply voltage) is None for a target without them;
    its source is that of the latency it is computed from.
    """

    flash_bytes: Figure
    sram_bytes: Figure
    latency_ms: Figure
    instructions: Figure
    energy_uj: Figure | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v.to_json() for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cost:
        """The inverse of :meth:`to_json` (costs written before ``energy_uj`` have none)."""
        return cls(**{k: Figure(float(v["value"]), v["source"]) for k, v in data.items()})

    def with_(self, **figures: Figure | None) -> Cost:
        return replace(self, **figures)  # type: ignore[arg-type]

    def over_budget(
        self, sram_kb: float, flash_kb: float, latency_ms: float | None
    ) -> dict[str, tuple[float, float]]:
        """The figures over their budget: ``{"flash_kb": (value, limit), ...}`` in the
        budgets' units (kB, ms)."""
        figures = {
            "flash_kb": (self.flash_bytes.value / 1024, flash_kb),
            "sram_kb": (self.sram_bytes.value / 1024, sram_kb),
            "latency_ms": (self.latency_ms.value, latency_ms),
        }
        return {
            k: (v, limit) for k, (v, limit) in figures.items() if limit is not None and v > limit
        }

    def violations(self, sram_kb: float, flash_kb: float, latency_ms: float | None) -> list[float]:
        """Optuna constraint values: > 0 means the budget is broken by that much."""
        return [
            self.sram_bytes.value - sram_kb * 1024,
            self.flash_bytes.value - flash_kb * 1024,
            (self.latency_ms.value - latency_ms) if latency_ms is not None else -1.0,
        ]


#: A soft-float add or multiply of at least this many instructions marks a narrow
#: integer core (see ``recipes/cores.yaml``: 78 on ARMv6-M, 90 on AVR; 40-43 on Thumb-2
#: and RV32 without an FPU, 1 with one).
NARROW_FLOAT_OP = 60.0

#: Instructions of a soft-float compare (libgcc, measured: 40 on ARMv6-M, 39 on ARMv7-M;
#: see recipes/cores.yaml), cheaper than the add/multiply mean ``float_op``.
SOFT_COMPARE = 40.0


@dataclass(frozen=True)
class CoreCosts:
    """What the analytic model needs to know about a core."""

    float_op: float  # instructions per float add/mul/compare
    float_div: float  # instructions per float divide or square root

    @property
    def narrow_integer(self) -> bool:
        """Integer code takes more instructions than on Thumb-2: ARMv6-M's two-operand,
        low-register instructions without long multiplies (a 64-bit product is a libgcc
        call), or an 8-bit core. Told by the soft-float cost (:data:`NARROW_FLOAT_OP`),
        which the same instruction set sets."""
        return self.float_op >= NARROW_FLOAT_OP

    @property
    def float_compare(self) -> float:
        """Instructions of the float compare itself: ``float_op`` with an FPU (VCMP), the
        libgcc call (:data:`SOFT_COMPARE`) without."""
        return min(self.float_op, SOFT_COMPARE)
