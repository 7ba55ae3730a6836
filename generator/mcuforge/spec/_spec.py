"""The spec: task, target, budgets, search, recipe, output; loading with located errors."""

from __future__ import annotations

import hashlib
import json
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

from .._validate import validate_located
from .._yaml import Marks, load_file, locate
from ..errors import Located, SpecError
from ._common import MAX_SEED, CoreName, Duration, Power, Strict, check_c_prefix
from ._data import Data

Objective = Literal["score", "latency", "flash", "sram", "energy"]
Metric = Literal["accuracy", "f1_macro", "balanced_accuracy", "mae", "rmse", "roc_auc"]
METRICS_FOR: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "f1_macro", "balanced_accuracy"),
    "regression": ("rmse", "mae"),
    "anomaly": ("roc_auc", "balanced_accuracy", "f1_macro", "accuracy"),
}
#: Metrics where lower is better; every other metric is maximised.
ERROR_METRICS = frozenset({"mae", "rmse"})


class Task(Strict):
    """What the model must do."""

    kind: Literal["classification", "regression", "anomaly"] = Field(
        default="classification",
        description="`classification`: one class per window; `regression`: a number per "
        "window; `anomaly`: normal or not, trained on normal windows only.",
    )
    metric: Metric | None = Field(
        default=None,
        description="Metric the search optimises and the report states. Default: accuracy "
        "(classification), rmse (regression), roc_auc (anomaly).",
    )
    min_score: float | None = Field(
        default=None,
        description="Fail when the test score is worse than this (for mae/rmse: the largest "
        "error accepted).",
    )
    normal: list[str] | None = Field(
        default=None,
        description="Anomaly detection: the labels of normal recordings (the others are "
        "anomalies). Default: the label `normal`.",
    )

    @model_validator(mode="after")
    def _metric_fits(self) -> Task:
        if self.metric is not None and self.metric not in METRICS_FOR[self.kind]:
            raise ValueError(
                f"metric {self.metric!r} does not apply to {self.kind}; use one of "
                f"{', '.join(METRICS_FOR[self.kind])}"
            )
        if self.normal is not None and self.kind != "anomaly":
            raise ValueError("`normal` applies to `kind: anomaly` only")
        return self

    @property
    def resolved_metric(self) -> str:
        """The metric in force: the given one, else the first of ``METRICS_FOR[kind]``."""
        return self.metric or METRICS_FOR[self.kind][0]

    @property
    def maximize(self) -> bool:
        return self.resolved_metric not in ERROR_METRICS


class InlineTarget(Strict):
    """A microcontroller described in the spec instead of named from the catalog."""

    name: str = Field(
        default="custom", pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="A name for the report."
    )
    core: CoreName = Field(description="CPU core.")
    clock_mhz: float = Field(gt=0, description="Core clock in MHz.")
    sram_kb: float = Field(gt=0, description="Total SRAM in kB.")
    flash_kb: float = Field(gt=0, description="Total flash in kB.")
    fpu: Literal["none", "single", "double"] = Field(
        default="none", description="Floating-point unit."
    )
    dsp: bool = Field(default=False, description="Has the DSP/SIMD extension.")
    power: Power | None = Field(
        default=None,
        description="Datasheet run-mode current and supply voltage, for the energy per "
        "inference (`search.objectives: [score, energy]`).",
    )


def _target_tag(value: Any) -> str:
    return "inline" if isinstance(value, dict) else "name"


class Budgets(Strict):
    """What the generated firmware may use on the target, and what the application needs."""

    sram_kb: float = Field(
        gt=0,
        description="SRAM the generated firmware may use, kB: the input window buffer, "
        "features, model and runtime, static and the stack it reserves (checked against "
        "the firmware linked for the part).",
    )
    flash_kb: float = Field(
        gt=0,
        description="Flash the generated firmware may use, kB: features, model, runtime and "
        "startup code with their constants (checked against the linked firmware; the "
        "self-test windows fill whatever flash is left and do not count).",
    )
    latency_ms: float | None = Field(
        default=None, gt=0, description="Time for one inference (features + model), ms."
    )
    app_sram_kb: float = Field(
        default=0, ge=0, description="SRAM the rest of your application needs, kB."
    )
    app_flash_kb: float = Field(
        default=0, ge=0, description="Flash the rest of your application needs, kB."
    )


#: Search wall time when the spec gives neither `trials` nor `time_budget`.
DEFAULT_TIME_BUDGET_S = 180.0
#: Shortest default per-trial limit, and the default when only `trials` is given.
MIN_TRIAL_TIMEOUT_S = 30.0
NO_BUDGET_TRIAL_TIMEOUT_S = 600.0


class Search(Strict):
    """The search for the best candidate."""

    strategy: Literal["auto", "tpe", "nsga2", "gp", "random", "grid"] = Field(
        default="auto",
        description="Optuna sampler. `auto`: TPE for one objective, NSGA-II for several.",
    )
    objectives: list[Objective] = Field(
        default_factory=lambda: list[Objective](["score"]),
        min_length=1,
        description="What the search optimises: the task metric, and optionally the cost "
        "figures (minimised; `energy`: per inference, from the target's datasheet current); "
        "several give a Pareto front.",
    )
    trials: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Number of trials (the study's total). With `time_budget` too, the first "
        "reached ends the search; with neither, the search runs for the default time budget.",
    )
    time_budget: Duration | None = Field(
        default=None,
        description="Wall time of the search, e.g. `5m`, `90s`, `1h30m` (or seconds). "
        f"Default: {DEFAULT_TIME_BUDGET_S / 60:g}m when `trials` is not given.",
    )
    trial_timeout: Duration | None = Field(
        default=None,
        description="The most one trial may take (it is then stopped and recorded with the "
        "reason). Default: a quarter of the time budget, at least "
        f"{MIN_TRIAL_TIMEOUT_S:g} s ({NO_BUDGET_TRIAL_TIMEOUT_S / 60:g} min without a time "
        "budget).",
    )
    seed: int = Field(
        default=0, ge=0, le=MAX_SEED, description="Seed of the search and of every model."
    )
    folds: int = Field(default=3, ge=2, le=10, description="Cross-validation folds (by recording).")
    storage: str | None = Field(
        default=None,
        description="Optuna storage URL (e.g. postgresql://user@host/db) shared by workers; "
        "default: an SQLite file beside the output directory, copied into it.",
    )
    jobs: int = Field(default=1, ge=1, le=64, description="Local parallel worker processes.")
    pruner: Literal["none", "median", "hyperband"] = Field(
        default="median", description="Stops unpromising neural-network trials early (per epoch)."
    )
    measure_top: int = Field(
        default=3,
        ge=1,
        le=20,
        description="How many of the best candidates are compiled and emulated before the "
        "final choice is made on measured cost.",
    )

    @property
    def budget_s(self) -> float | None:
        """The search's wall-time budget in seconds (the default one when no trial count)."""
        if self.time_budget is not None:
            return self.time_budget
        return DEFAULT_TIME_BUDGET_S if self.trials is None else None

    @property
    def trial_timeout_s(self) -> float:
        """The per-trial limit in force."""
        if self.trial_timeout is not None:
            return self.trial_timeout
        budget = self.budget_s
        if budget is None:
            return NO_BUDGET_TRIAL_TIMEOUT_S
        return max(budget / 4, MIN_TRIAL_TIMEOUT_S)

    @field_validator("objectives")
    @classmethod
    def _score_first(cls, v: list[str]) -> list[str]:
        if v[0] != "score" or len(set(v)) != len(v):
            raise ValueError(
                "objectives start with `score` and name each figure once, e.g. [score, latency]"
            )
        return v


class Hardware(Strict):
    """How candidates are measured (the closed loop of search and hardware)."""

    profiler: str = Field(
        default="auto",
        pattern=r"^[a-z][a-z0-9_\-]*$",
        description="`auto`: the core's profilers (compile and emulate what the tools here "
        "allow); `analytic`: estimates only; `device`: also measure on a board over `port`; "
        "or the name of any other registered profiler (a plugin), run after the core's.",
    )
    top_k: int = Field(
        default=3,
        ge=1,
        le=20,
        description="How many of the best candidates are measured before the final choice "
        "(the first whose measured cost meets every budget wins).",
    )
    port: str | None = Field(
        default=None,
        description="Serial port of the board (`/dev/ttyACM0`, or any pyserial URL such as "
        "`socket://host:port`), with `profiler: device`.",
    )
    baudrate: int = Field(default=115200, gt=0, le=100_000_000, description="Serial speed.")
    flash_command: str | None = Field(
        default=None,
        description="Command that flashes a firmware onto the board; `{elf}` and `{hex}` "
        "are replaced, e.g. `pyocd flash -t nrf52840 {hex}`.",
    )
    calibration: str | None = Field(
        default=None,
        description="A calibration.json from an earlier output: measured corrections of the "
        "analytic cost for this target, used during the search.",
    )

    @model_validator(mode="after")
    def _device(self) -> Hardware:
        if self.profiler == "device" and not (self.port and self.flash_command):
            raise ValueError("`profiler: device` needs `port` and `flash_command`")
        return self


class RecipeOverrides(Strict):
    """Changes to a recipe's search, kept in the spec."""

    space: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Search dimensions to replace or add, e.g. `max_depth: {int: [2, 4]}`.",
    )
    fixed: dict[str, Any] = Field(
        default_factory=dict, description="Parameters to fix (removed from the search)."
    )


class RecipeRef(Strict):
    """A recipe by name (optionally pinned to a version), with overrides."""

    name: str = Field(description="Recipe name (`mcuforge recipes list`).")
    version: int | None = Field(default=None, ge=1, description="Pin this version.")
    overrides: RecipeOverrides = Field(default_factory=RecipeOverrides, description="Changes.")

    @property
    def ref(self) -> str:
        return self.name if self.version is None else f"{self.name}@{self.version}"


def _recipe_tag(value: Any) -> str:
    return "ref" if isinstance(value, dict) else "name"


class Output(Strict):
    """What to write."""

    dir: str = Field(default="out", description="Output folder, relative to the spec file.")
    firmware: str = Field(default="cmake-baremetal", description="Firmware template name.")
    prefix: str | None = Field(default=None, description="C symbol prefix; default: `name`.")
    test_windows: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Test windows embedded in the self-test firmware, at most: as many as "
        "fit in the part's flash after the application are embedded (at least one).",
    )

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str | None) -> str | None:
        return None if v is None else check_c_prefix(v)


class Spec(Strict):
    """An mcuforge spec (version 1)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, title="mcuforge spec"
    )

    version: Literal[1] = Field(description="Spec format version.")
    name: str = Field(description="Project name; also the C prefix (`NAME_predict()`).")
    data: Data = Field(description="The sensor data: files, channels, rate, window, split.")
    task: Task = Field(default_factory=Task, description="What the model must do.")
    target: Annotated[
        Annotated[str, Tag("name")] | Annotated[InlineTarget, Tag("inline")],
        Discriminator(_target_tag),
    ] = Field(description="A target name from the catalog (`mcuforge targets list`) or inline.")
    budgets: Budgets = Field(description="What the generated firmware may use on the target.")
    search: Search = Field(default_factory=Search, description="The model search.")
    hardware: Hardware = Field(
        default_factory=Hardware, description="How candidates are measured on the target."
    )
    recipe: Annotated[
        Annotated[str, Tag("name")] | Annotated[RecipeRef, Tag("ref")],
        Discriminator(_recipe_tag),
    ] = Field(
        default="auto",
        description="`auto`, a recipe name, `name@version`, or {name, version, overrides}.",
    )
    catalogs: list[str] = Field(
        default_factory=list,
        description="Folders of your own recipes and targets (relative to the spec), layered "
        "over the built-in catalog, like --catalog.",
    )
    output: Output = Field(default_factory=Output, description="What to write, and where.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_c_prefix(v)

    @property
    def prefix(self) -> str:
        return self.output.prefix or self.name

    @property
    def recipe_ref(self) -> str:
        return self.recipe if isinstance(self.recipe, str) else self.recipe.ref


class LoadedSpec(BaseModel):
    """A validated spec plus where it came from (and where each of its values is)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: Spec
    path: Path
    sha256: str
    file: str = Field(default="", description="The path as the user gave it (for messages).")
    marks: Marks = Field(default_factory=dict, repr=False, exclude=True)

    def problem(self, loc: tuple[str | int, ...], message: str, key: bool = False) -> Located:
        """``message`` located at the value (or with ``key`` the key) of ``loc`` in the spec."""
        line, col = locate(self.marks, loc, key=key)
        return Located(self.file or str(self.path), line, col, ".".join(map(str, loc)), message)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve_path(self, p: str) -> Path:
        return (self.base_dir / p).resolve()

    @property
    def lock_path(self) -> Path:
        """``mcuforge.lock`` beside the spec; ``NAME.mcuforge.lock`` for a spec ``NAME.yaml``
        not named ``spec.yaml`` (or ``mcuforge.yaml``), so two specs in one folder keep
        their own locks."""
        stem = self.path.stem
        name = "mcuforge.lock" if stem in ("spec", "mcuforge") else f"{stem}.mcuforge.lock"
        return self.base_dir / name


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
        spec=spec,
        path=path.resolve(),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        file=file,
        marks=marks,
    )


def load_spec_data(data: Any, base_dir: Path, name: str = "<spec>") -> LoadedSpec:
    """Validate a spec given as a mapping (the Python API); paths in it are relative to
    ``base_dir``, where the lock is kept too (``base_dir/mcuforge.lock``).

    Raises:
        SpecError: every problem, located by field (``name: field: message``).
    """
    if not isinstance(data, dict):
        raise SpecError([Located(name, None, None, "", "a spec is a mapping of its sections")])
    spec, problems = validate_located(Spec, data, {}, name)
    if spec is None:
        raise SpecError(problems)
    text = json.dumps(data, sort_keys=True, default=str).encode()
    return LoadedSpec(
        spec=spec, path=(base_dir / "spec.yaml").resolve(), sha256=hashlib.sha256(text).hexdigest()
    )
