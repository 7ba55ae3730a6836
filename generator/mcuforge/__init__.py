"""mcuforge: a declarative AutoML generator for microcontrollers.

A YAML spec names the sensor data, the task, the target MCU and the budgets;
``mcuforge generate`` searches for the best model that fits, emits plain C for the
feature extraction and the model, checks C against Python and writes a firmware
project around it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mcuforge")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
