"""The user's spec: what data, what task, which MCU, which budgets.

The spec knows nothing about recipes. It is parsed from YAML with line tracking and
validated with pydantic; every problem is reported as ``file:line:col: field: message``.
The JSON Schema in ``schema/spec.schema.json`` is exported from these models
(``mcuforge schema``).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from ._validate import validate_located
from ._yaml import load_file
from .errors import Located, SpecError

SPEC_VERSION = 1

C_RESERVED = frozenset(
    """auto break case char const continue default do double else enum extern float for
    goto if inline int long register restrict return short signed sizeof static struct
    switch typedef union unsigned void volatile while _Bool _Complex _Imaginary main""".split()
)
_C_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

CoreName = Literal[
    "avr",
    "cortex-m0",
    "cortex-m0plus",
    "cortex-m3",
    "cortex-m4",
    "cortex-m4f",
    "cortex-m7",
    "cortex-m33",
    "xtensa-lx6",
    "xtensa-lx7",
    "rv32imc",
    "rv32imac",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_c_prefix(value: str) -> str:
    """Validate a C identifier prefix: letters, digits, underscore; not reserved."""
    if not _C_IDENT.match(value):
        raise ValueError(
            f"{value!r} is not a valid C identifier prefix; use letters, digits and "
            "underscores, starting with a letter (e.g. wrist_activity)"
        )
    if value in C_RESERVED or value.startswith("__") or (value[0] == "_" and value[1:2].isupper()):
        raise ValueError(f"{value!r} is reserved in C; pick another name")
    if len(value) > 40:
        raise ValueError(f"{value!r} is longer than 40 characters; C symbols get too long")
    return value


class Sensor(_Strict):
    """One sensor: a group of channels sampled together."""

    name: str = Field(description="Sensor name, e.g. accel.", min_length=1)
    channels: list[str] = Field(
        description="Column names of the channels in the data files, in firmware order.",
        min_length=1,
    )
    unit: str | None = Field(default=None, description="Physical unit of the samples (g, dps, …).")
    rate_hz: float = Field(gt=0, description="Sample rate in hertz.")


class Labels(_Strict):
    """Where each recording's class label comes from."""

    source: Literal["folder", "column"] = Field(
        default="folder",
        alias="from",
        description="`folder`: the name of the folder holding the file; `column`: a column "
        "of the file (every row of one file carries the same label).",
    )
    column: str | None = Field(default=None, description="Label column, with `from: column`.")

    @model_validator(mode="after")
    def _column_needed(self) -> Labels:
        if self.source == "column" and not self.column:
            raise ValueError("`from: column` needs `column: NAME`")
        return self


class Window(_Strict):
    """Windowing of each recording. Give length and stride in seconds or in samples."""

    length_s: float | None = Field(default=None, gt=0, description="Window length in seconds.")
    stride_s: float | None = Field(
        default=None, gt=0, description="Hop between windows in seconds."
    )
    length: int | None = Field(default=None, gt=0, description="Window length in samples.")
    stride: int | None = Field(default=None, gt=0, description="Hop between windows in samples.")

    @model_validator(mode="after")
    def _one_of_each(self) -> Window:
        if (self.length_s is None) == (self.length is None):
            raise ValueError("give exactly one of `length_s` (seconds) or `length` (samples)")
        if self.stride_s is not None and self.stride is not None:
            raise ValueError("give at most one of `stride_s` or `stride`; default is the length")
        return self

    def samples(self, rate_hz: float) -> tuple[int, int]:
        """Window length and stride in samples at ``rate_hz``."""
        length = self.length if self.length is not None else round((self.length_s or 0) * rate_hz)
        if self.stride is not None:
            stride = self.stride
        elif self.stride_s is not None:
            stride = round(self.stride_s * rate_hz)
        else:
            stride = length
        return max(length, 1), max(stride, 1)


class Split(_Strict):
    """How windows are split into train and test, without leaking a recording into both."""

    by: Literal["file"] = Field(
        default="file", description="Unit of the split: whole files (recordings)."
    )
    test: float = Field(
        default=0.25,
        gt=0,
        lt=1,
        description="Share of files (per class) held out for the test set.",
    )
    seed: int = Field(default=0, description="Seed of the random split.")
    test_files: list[str] | None = Field(
        default=None,
        description="Glob patterns (relative to `data.path`) of the test files; "
        "overrides `test`, e.g. the archive's own split.",
    )


class Data(_Strict):
    """The sensor data."""

    format: Literal["csv"] = Field(
        default="csv",
        description="`csv`: one file per recording with a header row, one row per sample.",
    )
    path: str = Field(description="Folder with the data files, relative to the spec file.")
    sensors: list[Sensor] = Field(min_length=1, description="Sensors and their channels.")
    labels: Labels = Field(default_factory=Labels, description="Where the labels come from.")
    window: Window = Field(description="Window length and stride.")
    split: Split = Field(default_factory=Split, description="Train/test split.")

    @field_validator("sensors")
    @classmethod
    def _same_rate(cls, sensors: list[Sensor]) -> list[Sensor]:
        rates = {s.rate_hz for s in sensors}
        if len(rates) > 1:
            raise ValueError(
                f"sensors have different rates {sorted(rates)} Hz; resample the data to one rate"
            )
        names = [c for s in sensors for c in s.channels]
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:
            raise ValueError(f"channel names appear twice: {', '.join(dup)}")
        return sensors

    @property
    def channels(self) -> list[str]:
        return [c for s in self.sensors for c in s.channels]

    @property
    def rate_hz(self) -> float:
        return self.sensors[0].rate_hz


class Task(_Strict):
    """What the model must do."""

    kind: Literal["classification"] = Field(default="classification", description="Task kind.")
    metric: Literal["accuracy", "f1_macro", "balanced_accuracy"] = Field(
        default="accuracy", description="Metric the search maximises and the report states."
    )
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Fail when the best test score is below this."
    )


class InlineTarget(_Strict):
    """A microcontroller described in the spec instead of named from the catalog."""

    name: str = Field(default="custom", description="A name for the report.")
    core: CoreName = Field(description="CPU core.")
    clock_mhz: float = Field(gt=0, description="Core clock in MHz.")
    sram_kb: float = Field(gt=0, description="Total SRAM in kB.")
    flash_kb: float = Field(gt=0, description="Total flash in kB.")
    fpu: Literal["none", "single", "double"] = Field(
        default="none", description="Floating-point unit."
    )
    dsp: bool = Field(default=False, description="Has the DSP/SIMD extension.")


def _target_tag(value: Any) -> str:
    return "inline" if isinstance(value, dict) else "name"


class Budgets(_Strict):
    """What the model and features may cost on the target."""

    sram_kb: float = Field(gt=0, description="SRAM for features + model (static + stack), kB.")
    flash_kb: float = Field(gt=0, description="Flash for features + model (code + constants), kB.")
    latency_ms: float | None = Field(
        default=None, gt=0, description="Time for one inference (features + model), ms."
    )


class Search(_Strict):
    """The search for the best candidate."""

    strategy: Literal["tpe", "random"] = Field(default="tpe", description="Optuna sampler.")
    trials: int = Field(default=30, ge=1, description="Number of trials.")
    timeout_min: float | None = Field(default=None, gt=0, description="Stop the search after this.")
    seed: int = Field(default=0, description="Seed of the search and of every model.")
    folds: int = Field(default=3, ge=2, le=10, description="Cross-validation folds (by file).")


class Output(_Strict):
    """What to write."""

    dir: str = Field(default="out", description="Output folder, relative to the spec file.")
    firmware: str = Field(default="cmake-baremetal", description="Firmware template name.")
    prefix: str | None = Field(default=None, description="C symbol prefix; default: `name`.")
    test_windows: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Test windows embedded in the firmware for its self-check.",
    )

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str | None) -> str | None:
        return None if v is None else check_c_prefix(v)


class Spec(_Strict):
    """An mcuforge spec (version 1)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="mcuforge spec",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    version: Literal[1] = Field(description="Spec format version.")
    name: str = Field(description="Project name; also the C prefix (`NAME_predict()`).")
    data: Data = Field(description="The sensor data: files, channels, rate, window, split.")
    task: Task = Field(default_factory=Task, description="What the model must do.")
    target: Annotated[
        Annotated[str, Tag("name")] | Annotated[InlineTarget, Tag("inline")],
        Discriminator(_target_tag),
    ] = Field(description="A target name from the catalog (`mcuforge targets list`) or inline.")
    budgets: Budgets = Field(description="What features + model may cost on the target.")
    search: Search = Field(default_factory=Search, description="The model search.")
    recipe: str = Field(default="auto", description="`auto`, a recipe name, or `name@version`.")
    output: Output = Field(default_factory=Output, description="What to write, and where.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_c_prefix(v)

    @property
    def prefix(self) -> str:
        return self.output.prefix or self.name


class LoadedSpec(BaseModel):
    """A validated spec plus where it came from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: Spec
    path: Path
    sha256: str

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve_path(self, p: str) -> Path:
        return (self.base_dir / p).resolve()


def load_spec(path: Path) -> LoadedSpec:
    """Read, parse and validate a spec file.

    Raises:
        SpecError: with every problem located as ``file:line:col: field: message``.
    """
    data, marks = load_file(path)
    file = str(path)
    if not isinstance(data, dict):
        raise SpecError([Located(file, 1, 1, "", "a spec is a YAML mapping (key: value lines)")])
    spec, problems = validate_located(Spec, data, marks, file)
    if spec is None:
        raise SpecError(problems)
    return LoadedSpec(
        spec=spec, path=path.resolve(), sha256=hashlib.sha256(path.read_bytes()).hexdigest()
    )
