"""The profiler extension point: one interface for every way of costing generated C.

A :class:`Profiler` takes a :class:`Workload` (the generated C of one candidate, its
test vectors, the target and its core) and a :class:`~.cost.Cost` to start from, and
returns a :class:`Profile` whose cost has the figures it measured replaced and tagged
with its ``source``. Profilers are chained, cheapest first (see :mod:`.measure`):

=========  ==========  ========================================================
name       source      what it measures
=========  ==========  ========================================================
analytic   analytic    nothing: the structural estimate, corrected by a
                       target's calibration (:mod:`.calibrate`) when one is given
compiled   compiled    flash and static SRAM of features + model from the
                       cross-compiled ELF
emulated   emulated    instructions (exact, IT blocks included) and the stack
                       high-water mark of one inference per test window, in
                       unicorn (:mod:`.emulate`)
linked     linked      the whole firmware (input buffer, features, model,
                       runtime) linked for the part's memory map: flash and
                       static SRAM from the ELF, the stack from a run
                       (:mod:`.linked`)
qemu       emulated    the self-test firmware in qemu-system-arm: instructions
                       under ``-icount`` and a painted stack (:mod:`.qemu`)
device     device      a real board running the bench firmware, over a serial
                       port (:mod:`.device`)
=========  ==========  ========================================================

Scope. Most profilers measure features + model alone (``scope = "model"``): their
flash and SRAM are what the model adds to a program. A ``firmware`` profiler measures
the whole firmware the user flashes, which is what the budgets check; the chain keeps
both sets (:class:`~.measure.Measured`: ``cost`` and ``model_only``). Instructions and
latency are one inference either way.

Latency model. Emulators count instructions, not cycles; latency is
``instructions * cpi / clock`` with the core's ``cpi`` from ``recipes/cores.yaml``
(mean cycles per instruction on ML kernels, from each core's technical reference
manual). Its uncertainty is the spread of CPI over kernels and memory systems:
M0/M0+ (2-cycle loads, flash wait states above ~24-48 MHz) about 1.1-1.8; M3/M4
(2-cycle loads, 1-3 cycle branches, FPv4 VDIV/VSQRT 14 cycles) about 1.0-1.6; M7
(dual issue, caches) about 0.6-1.2. So an emulated latency is good to about
+-25 % on a real part; only a ``device`` figure (cycles counted by the core) is
exact, and device runs calibrate ``cpi`` per target (:mod:`.calibrate`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from ..catalog import Core, QemuMachine, Target
from ..cost import Cost, Source
from ..registry import Registry
from ..spec import Hardware


def latency_ms(instructions: float, core: Core, clock_mhz: float) -> float:
    """Latency of ``instructions`` on ``core`` at ``clock_mhz`` (the CPI model above)."""
    return round(instructions * core.cpi / (clock_mhz * 1e3), 6)


@dataclass(frozen=True)
class Firmware:
    """The firmware project a candidate is deployed in, before rendering."""

    template: str
    variables: Mapping[str, str]
    files: Mapping[str, str]


#: The :class:`Workload` cache key of the firmware's estimated stack peak (bytes), which
#: the ``linked`` profiler reserves when no run measures the peak.
ESTIMATED_STACK_PEAK = "estimated_stack_peak"


@dataclass(frozen=True)
class Workload:
    """What a profiler costs: one candidate's generated C on one target.

    Attributes:
        prefix: the C prefix (``PREFIX_predict``).
        sources: the generated features + model C, file name to text.
        test_vectors: ``test_vectors.c``/``.h`` (windows + Python's predictions); the
            emulated profilers run every window and check the C's return values.
        target: the part; ``clock_mhz`` turns instructions into latency.
        core: its core: compiler flags, CPI, QEMU machine.
        workdir: scratch folder profilers share (one cross build serves several).
        qemu: the QEMU machine of the core, if any.
        firmware: the firmware project, for profilers that run the whole firmware.
    """

    prefix: str
    sources: Mapping[str, str]
    test_vectors: Mapping[str, str]
    target: Target
    core: Core
    workdir: Path
    qemu: QemuMachine | None = None
    firmware: Firmware | None = None
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def cached(self, key: str) -> Any:
        """A result an earlier profiler stored with :meth:`store`, or None."""
        return self._cache.get(key)

    def store(self, key: str, value: Any) -> None:
        self._cache[key] = value


@dataclass
class Profile:
    """What one profiler found: the cost with its figures replaced, notes, raw numbers."""

    cost: Cost
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class Profiler(ABC):
    """Costs a :class:`Workload` by one method.

    Contract for implementations:

    * ``name`` is the registry key and ``source`` tags every figure the profiler
      measures; figures it does not measure are returned unchanged from ``base``.
    * :meth:`unavailable` is cheap and never raises: None when the profiler can run
      here for this workload, else one line saying why (which tool is missing and how
      to install it, or that no emulator covers the core). Callers fall back to the
      next profiler and keep that line as a note.
    * :meth:`profile` raises :class:`~mcuforge.errors.ToolchainError` (or a subclass)
      when a tool it needs fails, and :class:`~mcuforge.errors.ParityError` when the
      code computes something else than the Python reference on a test window.
    * A profiler writes only below ``workload.workdir``.
    * The chain that runs for a core is data (``profilers`` in ``recipes/cores.yaml``);
      :meth:`configure` builds each from the spec, so a plugin profiler registered
      under the ``mcuforge.profilers`` entry-point group can be named there or in a
      spec's ``hardware.profiler`` without any other change.
    """

    name: ClassVar[str]
    source: ClassVar[Source]
    #: The cost figures this profiler can measure.
    measures: ClassVar[tuple[str, ...]] = ()
    #: Run only for the final check of the chosen candidate (a costly whole-firmware
    #: run), unless a figure it measures is still analytic at its turn in the chain.
    final_only: ClassVar[bool] = False
    #: ``model``: flash and SRAM of features + model alone; ``firmware``: of the whole
    #: firmware (input buffer and runtime included), the figures the budgets check.
    scope: ClassVar[Literal["model", "firmware"]] = "model"

    @classmethod
    def configure(cls, hardware: Hardware) -> Profiler:
        """An instance set up from the spec's ``hardware`` section (port, baud rate…)."""
        return cls()

    @abstractmethod
    def unavailable(self, work: Workload) -> str | None:
        """None if this profiler can measure ``work`` here, else the reason."""

    @abstractmethod
    def profile(self, work: Workload, base: Cost) -> Profile:
        """Measure ``work``; replace in ``base`` the figures measured."""


PROFILERS: Registry[Profiler] = Registry(
    "profiler",
    "mcuforge.profilers",
    {
        "analytic": "mcuforge.hardware.analytic:AnalyticProfiler",
        "compiled": "mcuforge.hardware.cross:CompiledProfiler",
        "emulated": "mcuforge.hardware.emulate:UnicornProfiler",
        "linked": "mcuforge.hardware.linked:LinkedProfiler",
        "qemu": "mcuforge.hardware.qemu:QemuProfiler",
        "device": "mcuforge.hardware.device:DeviceProfiler",
    },
)

__all__ = [
    "PROFILERS",
    "Firmware",
    "Profile",
    "Profiler",
    "Workload",
    "latency_ms",
]
