"""Hardware cost: analytic model, cross-compiled sizes, emulated runs, serial device."""

from ..cost import Cost, Figure, Source
from ._base import PROFILERS, Firmware, Profile, Profiler, Workload, latency_ms

__all__ = [
    "PROFILERS",
    "Cost",
    "Figure",
    "Firmware",
    "Profile",
    "Profiler",
    "Source",
    "Workload",
    "latency_ms",
]
