"""What the deployable firmware adds to features + model: the input window buffer, the
runtime (from the core's measured ``runtime_*`` figures in ``recipes/cores.yaml``) and the
stack it reserves above the measured peak."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class RuntimeFacts(Protocol):
    """The core-table figures of the runtime (a :class:`mcuforge.catalog.Core`)."""

    @property
    def runtime_flash_bytes(self) -> int: ...

    @property
    def runtime_sram_bytes(self) -> int: ...

    @property
    def runtime_stack_bytes(self) -> int: ...


#: Stack reserved above the measured peak: an exception frame with the FP state (104 B
#: on a core with an FPU, 32 B without) landing at the deepest point, and the frames of
#: the self-test and bench modes, deeper than sensor mode's by about two output vectors
#: (see :func:`stack_margin`).
EXCEPTION_FRAME_BYTES = 104
MODE_FRAME_BYTES = 64


def stack_margin(n_outputs: int) -> int:
    """Bytes the firmware's stack reserves above the peak measured in sensor mode."""
    margin = EXCEPTION_FRAME_BYTES + MODE_FRAME_BYTES + 8 * n_outputs
    return (margin + 7) // 8 * 8


def stack_reserve(peak_bytes: int, n_outputs: int) -> int:
    """The stack linker.ld reserves for a firmware whose deepest stack is ``peak_bytes``."""
    return (peak_bytes + stack_margin(n_outputs) + 7) // 8 * 8


@dataclass(frozen=True)
class FirmwareOverhead:
    """What the deployable firmware adds to features + model (bytes)."""

    input_bytes: int  # the sensor window buffer: window x channels floats, static
    runtime_flash_bytes: int
    runtime_sram_bytes: int  # static, without the input buffer
    runtime_stack_bytes: int  # main and the sensor loop, above PREFIX_run
    margin_bytes: int  # stack reserved above the peak

    @property
    def flash_bytes(self) -> int:
        return self.runtime_flash_bytes

    @property
    def sram_bytes(self) -> int:
        return (
            self.input_bytes
            + self.runtime_sram_bytes
            + self.runtime_stack_bytes
            + self.margin_bytes
        )


def firmware_overhead(core: RuntimeFacts, input_floats: int, n_outputs: int) -> FirmwareOverhead:
    """The firmware around features + model, for a window of ``input_floats`` floats."""
    return FirmwareOverhead(
        4 * input_floats,
        core.runtime_flash_bytes,
        core.runtime_sram_bytes,
        core.runtime_stack_bytes,
        stack_margin(n_outputs),
    )


__all__ = ["FirmwareOverhead", "RuntimeFacts", "firmware_overhead", "stack_margin", "stack_reserve"]
