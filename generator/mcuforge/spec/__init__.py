"""The user's spec: what data, what task, which MCU, which budgets.

The spec knows nothing about recipes. It is parsed from YAML with line tracking and
validated with pydantic; every problem is reported as ``file:line:col: field: message``.
The JSON Schema in ``schema/spec.schema.json`` is exported from these models
(``mcuforge schema``).
"""

from ._common import C_RESERVED, CoreName, Power, check_c_prefix, parse_duration
from ._data import (
    FILE_NAME_LABEL,
    Checks,
    CsvOptions,
    Data,
    Labels,
    Sensor,
    Split,
    Window,
    default_range,
    nearest_samples,
)
from ._search import Hardware, Search
from ._spec import LoadedSpec, Output, RecipeOverrides, RecipeRef, Spec, load_spec, load_spec_data
from ._task import ERROR_METRICS, METRICS_FOR, Budgets, InlineTarget, Task

SPEC_VERSION = 1

__all__ = [
    "C_RESERVED",
    "ERROR_METRICS",
    "FILE_NAME_LABEL",
    "METRICS_FOR",
    "SPEC_VERSION",
    "Budgets",
    "Checks",
    "CoreName",
    "CsvOptions",
    "Data",
    "Hardware",
    "InlineTarget",
    "Labels",
    "LoadedSpec",
    "Output",
    "Power",
    "RecipeOverrides",
    "RecipeRef",
    "Search",
    "Sensor",
    "Spec",
    "Split",
    "Task",
    "Window",
    "check_c_prefix",
    "default_range",
    "load_spec",
    "load_spec_data",
    "nearest_samples",
    "parse_duration",
]
