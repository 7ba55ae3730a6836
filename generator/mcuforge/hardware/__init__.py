"""Hardware cost: analytic model, cross-compiled sizes, emulated runs, host parity."""

from .cost import Cost, Figure, Source

__all__ = ["Cost", "Figure", "Source"]
