"""Cost values: figures tagged with how they were obtained, what the analytic model knows
of a core, and measured corrections of the estimate (calibration).

The lowest layer of the package's cost model: plain values that every stage passes
around (feature blocks and model families estimate with :class:`CoreCosts`, profilers
return :class:`Cost`, the search and the report read it), importing nothing of mcuforge
but its errors.
"""

from ._calibration import CALIBRATION_FILE, Calibration, CalibrationError, fit
from ._cost import CoreCosts, Cost, Figure, Source
from ._firmware import (
    FirmwareOverhead,
    RuntimeFacts,
    firmware_overhead,
    stack_margin,
    stack_reserve,
)

__all__ = [
    "CALIBRATION_FILE",
    "Calibration",
    "CalibrationError",
    "CoreCosts",
    "Cost",
    "Figure",
    "FirmwareOverhead",
    "RuntimeFacts",
    "Source",
    "firmware_overhead",
    "fit",
    "stack_margin",
    "stack_reserve",
]
