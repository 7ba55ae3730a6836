"""Hardware cost: analytic model, cross-compiled sizes, emulated runs, serial device."""

from ._base import PROFILERS, Firmware, Profile, Profiler, Workload, latency_ms
from .cost import Cost, Figure, Source

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
