"""What a part has and how to compile for its core: targets and the core table."""

from __future__ import annotations

import difflib
import re
from typing import Literal

from pydantic import Field, field_validator

from ..spec import CoreName, Power
from ._base import _Strict

#: Characters a board name may hold: it lands in CMake, INI and YAML files unquoted.
BOARD_PATTERN = r"^[A-Za-z0-9_@/:.+=,\-]+$"
#: Keys of a target's ``boards``: a board per framework, and PlatformIO's platform.
BOARD_KEYS = ("platformio", "zephyr", "arduino", "platformio_platform")


class TargetMemory(_Strict):
    """Where flash and SRAM start in the address map."""

    flash_origin: int = Field(
        default=0x00000000,
        ge=0,
        multiple_of=128,
        description="Flash start address (the vector table there needs 128-byte alignment).",
    )
    ram_origin: int = Field(
        default=0x20000000, ge=0, multiple_of=4, description="SRAM start address."
    )


class Target(_Strict):
    """One microcontroller part."""

    version: Literal[1] = Field(description="Target file format version.")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="Catalog name.")
    vendor: str = Field(default="", description="Manufacturer.")
    core: CoreName = Field(description="CPU core.")
    clock_mhz: float = Field(gt=0, description="Maximum core clock in MHz.")
    sram_kb: float = Field(gt=0, description="SRAM in kB.")
    flash_kb: float = Field(gt=0, description="Flash in kB.")
    fpu: Literal["none", "single", "double"] = Field(default="none", description="FPU.")
    dsp: bool = Field(default=False, description="DSP/SIMD extension (e.g. SMLAD).")
    memory: TargetMemory = Field(default_factory=TargetMemory, description="Memory map.")
    boards: dict[str, str] = Field(
        default_factory=dict,
        description="For a target of your own catalog: its board per firmware framework "
        "(platformio, zephyr, arduino) and platformio_platform. The built-in targets' boards "
        "are in each template's boards.json.",
    )
    datasheet: str = Field(default="", description="Where these facts come from.")
    power: Power | None = Field(
        default=None,
        description="Datasheet run-mode current and supply voltage: the energy per inference.",
    )

    @field_validator("boards")
    @classmethod
    def _boards(cls, v: dict[str, str]) -> dict[str, str]:
        for key, board in v.items():
            if key not in BOARD_KEYS:
                close = difflib.get_close_matches(key, BOARD_KEYS, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(BOARD_KEYS)}"
                raise ValueError(f"unknown framework {key!r}; {hint}")
            if not re.fullmatch(BOARD_PATTERN, board):
                raise ValueError(
                    f"board {board!r} ({key}) may hold only letters, digits and _@/:.+=,-"
                )
        return v


class Core(_Strict):
    """How to compile for a CPU core and what it costs to run on it."""

    gcc_flags: str | None = Field(
        pattern=r"^[A-Za-z0-9_=+.,/ \-]*$",
        description="arm-none-eabi-gcc CPU flags; null: no GCC port here.",
    )
    qemu_machine: str | None = Field(
        default=None, pattern=r"^[a-z0-9.\-]+$", description="QEMU machine emulating this core."
    )
    # the M-profile models of unicorn 2 (a name it lacks failed only after the search)
    unicorn_cpu: (
        Literal["CORTEX_M0", "CORTEX_M3", "CORTEX_M4", "CORTEX_M7", "CORTEX_M33"] | None
    ) = Field(
        default=None,
        description="unicorn CPU model (`UC_CPU_ARM_<model>`) that runs this core's "
        "code; null: unicorn does not emulate it.",
    )
    cpi: float = Field(
        gt=0, description="Mean cycles per instruction on ML kernels (analytic model)."
    )
    float_op_instructions: float = Field(
        gt=0, description="Instructions per float add/mul/compare (1 with an FPU; soft-float more)."
    )
    float_div_instructions: float = Field(gt=0, description="Instructions per float divide/sqrt.")
    float_lib_flash_bytes: int = Field(
        default=0,
        ge=0,
        description="Flash of the soft-float library routines (libgcc add, mul, div, compare, "
        "convert, sqrt) that float code pulls in once; 0 with an FPU.",
    )
    float_lib_stack_bytes: int = Field(
        default=0, ge=0, description="Stack those routines use below their caller; 0 with an FPU."
    )
    runtime_flash_bytes: int = Field(
        default=0,
        ge=0,
        description="Flash of the firmware around features + model (vector table, startup, "
        "the runtime in sensor mode, the platform layer, the C library routines they use), "
        "measured on the cmake-baremetal firmware.",
    )
    runtime_sram_bytes: int = Field(
        default=0,
        ge=0,
        description="Static SRAM of that firmware, without the input window buffer.",
    )
    runtime_stack_bytes: int = Field(
        default=0,
        ge=0,
        description="Stack of that firmware above PREFIX_run (main, the sensor loop, the "
        "sample and output vectors), sensor mode.",
    )
    profilers: list[str] | None = Field(
        default=None,
        description="Profilers (registry names) that measure this core, in order; default: "
        "the table's `profilers`.",
    )


class QemuMachine(_Strict):
    """A QEMU machine that runs the firmware: its platform layer, memory and SysTick clock."""

    platform: Literal["mps2", "microbit"] = Field(description="Firmware platform layer.")
    systick_hz: float = Field(gt=0, description="SysTick (processor) clock of the machine.")
    flash_kb: float = Field(gt=0, description="Flash (code memory) at address 0.")
    sram_kb: float = Field(gt=0, description="SRAM at 0x20000000.")

    def instructions_per_tick(self) -> float:
        """With ``-icount shift=0`` an instruction takes 1 ns of virtual time."""
        return 1e9 / self.systick_hz


class CoreTable(_Strict):
    version: Literal[1]
    profilers: list[str] = Field(
        default_factory=list,
        description="The profiler chain of every core without its own `profilers`, in order.",
    )
    qemu_machines: dict[str, QemuMachine] = Field(default_factory=dict)
    cores: dict[str, Core]
