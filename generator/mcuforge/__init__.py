"""mcuforge: a declarative AutoML generator for microcontrollers.

A YAML spec names the sensor data, the task, the target MCU and the budgets;
``mcuforge generate`` searches for the best model that fits, emits plain C for the
feature extraction and the model, checks C against Python and writes a firmware
project around it. The Python API (:mod:`mcuforge.api`) mirrors the command line::

    import mcuforge
    result = mcuforge.generate("spec.yaml", trials=20, force=True)

Importing ``mcuforge`` is cheap: the API functions load what they need when called.
"""

from typing import Any

from ._version import __version__

_API = ("load", "validate", "resolve", "search", "generate")


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'mcuforge' has no attribute {name!r}")


__all__ = ["__version__", "generate", "load", "resolve", "search", "validate"]
