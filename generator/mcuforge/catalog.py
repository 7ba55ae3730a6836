"""The catalogs: microcontroller targets, cores and recipes, as data.

Targets (``targets/*.yaml``) say what a part has; the core table (``cores.yaml``)
says how to compile for a core and what it costs to run on it; recipes (``*.yaml``)
say how to build a model. The built-in catalog lives in ``recipes/``; user catalogs
(folders with the same layout, kept in the user's git) layer over it: a recipe with
the same name and a higher version wins unless the spec pins ``name@version``.
Every file is validated with a pydantic model; errors point at ``file:line``.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._resources import data_dir
from ._validate import validate_located
from ._yaml import Marks, load_file, locate
from .errors import CatalogError, Located, SpecError
from .spec import CoreName, InlineTarget, Power, RecipeOverrides

#: Characters a board name may hold: it lands in CMake, INI and YAML files unquoted.
BOARD_PATTERN = r"^[A-Za-z0-9_@/:.+=,\-]+$"
#: Keys of a target's ``boards``: a board per framework, and PlatformIO's platform.
BOARD_KEYS = ("platformio", "zephyr", "arduino", "platformio_platform")


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class TargetMemory(_Strict):
    """Where flash and SRAM start in the address map."""

    flash_origin: int = Field(default=0x00000000, description="Flash start address.")
    ram_origin: int = Field(default=0x20000000, description="SRAM start address.")


class Target(_Strict):
    """One microcontroller part."""

    version: Literal[1] = Field(description="Target file format version.")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="Catalog name.")
    vendor: str = Field(default="", description="Manufacturer.")
    core: CoreName = Field(description="CPU core.")
    clock_mhz: float = Field(gt=0, description="Maximum core clock in MHz.")
    sram_kb: float = Field(gt=0, description="SRAM in kB.")
    flash_kb: float = Field(gt=0, description="Flash in kB.")
    fpu: Literal["none", "single", "double"] = Field(default="none", description="FPU.")
    dsp: bool = Field(default=False, description="DSP/SIMD extension (e.g. SMLAD).")
    memory: TargetMemory = Field(default_factory=TargetMemory, description="Memory map.")
    boards: dict[str, str] = Field(
        default_factory=dict,
        description="For a target of your own catalog: its board per firmware framework "
        "(platformio, zephyr, arduino) and platformio_platform. The built-in targets' boards "
        "are in each template's boards.json.",
    )
    datasheet: str = Field(default="", description="Where these facts come from.")
    power: Power | None = Field(
        default=None,
        description="Datasheet run-mode current and supply voltage: the energy per inference.",
    )

    @field_validator("boards")
    @classmethod
    def _boards(cls, v: dict[str, str]) -> dict[str, str]:
        for key, board in v.items():
            if key not in BOARD_KEYS:
                close = difflib.get_close_matches(key, BOARD_KEYS, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(BOARD_KEYS)}"
                raise ValueError(f"unknown framework {key!r}; {hint}")
            if not re.match(BOARD_PATTERN, board):
                raise ValueError(
                    f"board {board!r} ({key}) may hold only letters, digits and _@/:.+=,-"
                )
        return v


class Core(_Strict):
    """How to compile for a CPU core and what it costs to run on it."""

    gcc_flags: str | None = Field(
        pattern=r"^[A-Za-z0-9_=+.,/ \-]*$",
        description="arm-none-eabi-gcc CPU flags; null: no GCC port here.",
    )
    qemu_machine: str | None = Field(
        default=None, pattern=r"^[a-z0-9.\-]+$", description="QEMU machine emulating this core."
    )
    unicorn_cpu: str | None = Field(
        default=None,
        pattern=r"^[A-Z0-9_]+$",
        description="unicorn CPU model (`UC_CPU_ARM_<model>`) that runs this core's code; "
        "null: unicorn does not emulate it.",
    )
    cpi: float = Field(
        gt=0, description="Mean cycles per instruction on ML kernels (analytic model)."
    )
    float_op_instructions: float = Field(
        gt=0, description="Instructions per float add/mul/compare (1 with an FPU; soft-float more)."
    )
    float_div_instructions: float = Field(gt=0, description="Instructions per float divide/sqrt.")
    float_lib_flash_bytes: int = Field(
        default=0,
        ge=0,
        description="Flash of the soft-float library routines (libgcc add, mul, div, compare, "
        "convert, sqrt) that float code pulls in once; 0 with an FPU.",
    )
    float_lib_stack_bytes: int = Field(
        default=0, ge=0, description="Stack those routines use below their caller; 0 with an FPU."
    )
    runtime_flash_bytes: int = Field(
        default=0,
        ge=0,
        description="Flash of the firmware around features + model (vector table, startup, "
        "the runtime in sensor mode, the platform layer, the C library routines they use), "
        "measured on the cmake-baremetal firmware.",
    )
    runtime_sram_bytes: int = Field(
        default=0,
        ge=0,
        description="Static SRAM of that firmware, without the input window buffer.",
    )
    runtime_stack_bytes: int = Field(
        default=0,
        ge=0,
        description="Stack of that firmware above PREFIX_run (main, the sensor loop, the "
        "sample and output vectors), sensor mode.",
    )
    profilers: list[str] | None = Field(
        default=None,
        description="Profilers (registry names) that measure this core, in order; default: "
        "the table's `profilers`.",
    )


class QemuMachine(_Strict):
    """A QEMU machine that runs the firmware: its platform layer, memory and SysTick clock."""

    platform: Literal["mps2", "microbit"] = Field(description="Firmware platform layer.")
    systick_hz: float = Field(gt=0, description="SysTick (processor) clock of the machine.")
    flash_kb: float = Field(gt=0, description="Flash (code memory) at address 0.")
    sram_kb: float = Field(gt=0, description="SRAM at 0x20000000.")

    def instructions_per_tick(self) -> float:
        """With ``-icount shift=0`` an instruction takes 1 ns of virtual time."""
        return 1e9 / self.systick_hz


class CoreTable(_Strict):
    version: Literal[1]
    profilers: list[str] = Field(
        default_factory=list,
        description="The profiler chain of every core without its own `profilers`, in order.",
    )
    qemu_machines: dict[str, QemuMachine] = Field(default_factory=dict)
    cores: dict[str, Core]


class SearchParam(_Strict):
    """One dimension of a recipe's search space: exactly one of int, float, choice, subset."""

    int_: tuple[int, int] | None = Field(default=None, alias="int", description="Integer range.")
    float_: tuple[float, float] | None = Field(
        default=None, alias="float", description="Float range."
    )
    log: bool = Field(default=False, description="Sample on a log scale.")
    choice: list[Any] | None = Field(default=None, description="One of these values.")
    subset: list[str] | None = Field(default=None, description="A non-empty subset of these.")
    default: Any = Field(
        default=None,
        description="The value tried first (the recipe's default configuration, run before "
        "the sampler takes over). Default: the middle of a range, the first choice, the "
        "whole subset.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SearchParam:
        given = [k for k in ("int_", "float_", "choice", "subset") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of int, float, choice, subset")
        for rng in (self.int_, self.float_):
            if rng is not None and rng[0] > rng[1]:
                raise ValueError(f"range {list(rng)} is inverted; write [low, high]")
        if self.log and (self.int_ or self.float_ or (1, 1))[0] <= 0:
            raise ValueError("a log-scale range must start above 0")
        if self.choice is not None and not self.choice:
            raise ValueError("choice needs at least one value")
        if self.subset is not None and not self.subset:
            raise ValueError("subset needs at least one value")
        if self.default is not None and not self._admits(self.default):
            raise ValueError(f"default {self.default!r} is not a value of this dimension")
        return self

    def _admits(self, value: Any) -> bool:
        if self.int_ is not None:
            ok = isinstance(value, int) and not isinstance(value, bool)
            return ok and self.int_[0] <= value <= self.int_[1]
        if self.float_ is not None:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return ok and self.float_[0] <= value <= self.float_[1]
        if self.choice is not None:
            return any(value == c and type(value) is type(c) for c in self.choice)
        assert self.subset is not None
        return isinstance(value, list) and bool(value) and set(value) <= set(self.subset)

    def default_value(self) -> Any:
        """The value of the default configuration (see ``default``)."""
        if self.default is not None:
            return self.default
        if self.int_ is not None:
            lo, hi = self.int_
            return round(math.sqrt(lo * hi)) if self.log else (lo + hi) // 2
        if self.float_ is not None:
            lo_f, hi_f = self.float_
            return math.sqrt(lo_f * hi_f) if self.log else (lo_f + hi_f) / 2
        if self.choice is not None:
            return self.choice[0]
        assert self.subset is not None
        return list(self.subset)

    def smallest(self) -> Any:
        """The value that gives the smallest model (low end of ranges, first choice)."""
        if self.int_ is not None:
            return self.int_[0]
        if self.float_ is not None:
            return self.float_[0]
        if self.choice is not None:
            return self.choice[0]
        assert self.subset is not None
        return self.subset[:1]


class RecipeApplies(_Strict):
    """When a recipe can be used at all."""

    task: list[Literal["classification", "regression", "anomaly"]] = Field(
        min_length=1, description="Task kinds this recipe handles."
    )
    modality: list[Literal["imu", "timeseries", "audio", "tabular"]] = Field(
        min_length=1, description="Data modalities this recipe handles."
    )
    window_samples: tuple[int, int] | None = Field(
        default=None, description="Window lengths (samples) it is made for: [min, max]."
    )
    channels: tuple[int, int] | None = Field(
        default=None, description="Channel counts it is made for: [min, max]."
    )
    needs_fpu: bool = Field(default=False, description="Only for cores with an FPU.")
    needs_dsp: bool = Field(default=False, description="Only for cores with the DSP extension.")
    min_flash_kb: float = Field(default=0, ge=0, description="Smallest flash budget it can fit.")
    min_sram_kb: float = Field(default=0, ge=0, description="Smallest SRAM budget it can fit.")

    @model_validator(mode="after")
    def _ranges(self) -> RecipeApplies:
        for name in ("window_samples", "channels"):
            rng = getattr(self, name)
            if rng is not None and (rng[0] < 1 or rng[0] > rng[1]):
                raise ValueError(f"{name} {list(rng)} must be [min, max] with 1 <= min <= max")
        return self


class RecipePipeline(_Strict):
    """What a recipe builds: each entry is a registry name."""

    features: list[str] = Field(default_factory=list, description="Feature blocks, in order.")
    model: str = Field(description="Model family (registry name).")
    compression: str = Field(default="none", description="Compression (registry name).")
    runtime: str = Field(default="c", description="Runtime / emitter.")


class RecipeSearch(_Strict):
    """How to search a recipe's parameters."""

    strategy: Literal["tpe", "nsga2", "gp", "random", "grid"] = Field(
        default="tpe", description="Preferred sampler when the spec says `auto`."
    )
    space: dict[str, SearchParam] = Field(
        default_factory=dict,
        description="Parameters to search; `block.param` keys belong to feature blocks.",
    )
    fixed: dict[str, Any] = Field(default_factory=dict, description="Parameters not searched.")
    trials: int = Field(default=30, ge=1, description="Default number of trials.")


class Recipe(_Strict):
    """A named, versioned way to build a model."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", description="Recipe name.")
    version: int = Field(ge=1, description="Recipe version; a higher one supersedes.")
    description: str = Field(description="One line: what the recipe does.")
    applies: RecipeApplies = Field(description="When the recipe can be used.")
    pipeline: RecipePipeline = Field(description="Feature blocks, model, compression, runtime.")
    search: RecipeSearch = Field(default_factory=RecipeSearch, description="Search space.")
    when: str = Field(default="", description="When this recipe wins.")

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def with_overrides(self, overrides: RecipeOverrides) -> Recipe:
        """This recipe with the spec's overrides applied (validated like the recipe)."""
        space = {
            k: v.model_dump(by_alias=True, exclude_none=True) for k, v in self.search.space.items()
        }
        space.update(overrides.space)
        for key in overrides.fixed:
            space.pop(key, None)
        search = self.search.model_dump(by_alias=True, exclude_none=True)
        search["space"] = space
        search["fixed"] = {**self.search.fixed, **overrides.fixed}
        data = self.model_dump(by_alias=True, exclude_none=True)
        data["search"] = search
        return Recipe.model_validate(data)


@dataclass(frozen=True)
class Entry:
    """A catalog item with the file it came from and the hash of that file."""

    path: Path
    sha256: str
    marks: Marks = field(default_factory=dict, compare=False, repr=False)


def _close(name: str, names: list[str]) -> str:
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3)
    return f"did you mean {', '.join(by_lower[c] for c in close)}?" if close else ""


def _named(name: str, names: Iterable[str]) -> str | None:
    """The catalog's spelling of ``name``: the same name, or the one name that differs
    only in case (target and recipe names are case-insensitive)."""
    keys = list(names)
    if name in keys:
        return name
    same = [k for k in keys if k.casefold() == name.casefold()]
    return same[0] if len(same) == 1 else None


def _close_core(name: str, names: list[str]) -> str:
    """``did you mean 'x'?`` for a core name (an enumerated field), else the known ones."""
    close = difflib.get_close_matches(name, names, n=1)
    return f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(names))}"


@dataclass
class Catalog:
    """Targets, cores and recipes loaded from the built-in and user folders."""

    targets: dict[str, Target] = field(default_factory=dict)
    cores: dict[str, Core] = field(default_factory=dict)
    qemu_machines: dict[str, QemuMachine] = field(default_factory=dict)
    default_profilers: list[str] = field(default_factory=list)
    recipes: dict[str, list[Recipe]] = field(default_factory=dict)
    sources: dict[str, Entry] = field(default_factory=dict)

    def target(self, name: str) -> Target:
        """A target by name (case-insensitive)."""
        found = _named(name, self.targets)
        if found is not None:
            return self.targets[found]
        hint = _close(name, list(self.targets)) or "see `mcuforge targets list`"
        raise CatalogError(f"unknown target {name!r}; {hint}")

    def recipe(self, ref: str) -> Recipe:
        """A recipe by ``name`` (highest version) or ``name@version``; names are
        case-insensitive."""
        name, _, ver = ref.partition("@")
        versions = self.recipes.get(self.recipe_name(name))
        if not versions:
            hint = _close(name, list(self.recipes)) or "see `mcuforge recipes list`"
            raise CatalogError(f"unknown recipe {name!r}; {hint}")
        if not ver:
            return max(versions, key=lambda r: r.version)
        for r in versions:
            if str(r.version) == ver:
                return r
        have = ", ".join(str(r.version) for r in sorted(versions, key=lambda r: r.version))
        raise CatalogError(f"recipe {name!r} has no version {ver}; versions: {have}")

    def recipe_name(self, name: str) -> str:
        """The catalog's spelling of a recipe name (``name`` itself when unknown)."""
        return _named(name, self.recipes) or name

    def core(self, name: str) -> Core:
        try:
            return self.cores[name]
        except KeyError:
            hint = _close_core(name, list(self.cores))
            raise CatalogError(
                f"core {name!r} is not in the core table (cores.yaml); {hint}"
            ) from None

    def target_from(self, ref: str | InlineTarget) -> Target:
        if isinstance(ref, str):
            return self.target(ref)
        return Target(
            version=1,
            name=ref.name,
            core=ref.core,
            clock_mhz=ref.clock_mhz,
            sram_kb=ref.sram_kb,
            flash_kb=ref.flash_kb,
            fpu=ref.fpu,
            dsp=ref.dsp,
            datasheet="inline in the spec",
            power=ref.power,
        )

    def profilers(self, core: str) -> list[str]:
        """The profiler chain (registry names, in order) that measures ``core``."""
        c = self.core(core)
        return list(c.profilers if c.profilers is not None else self.default_profilers)

    def sha256(self, key: str) -> str:
        return self.sources[key].sha256 if key in self.sources else ""


def _load(
    path: Path, model: type[BaseModel], problems: list[Located]
) -> tuple[Any, str, Marks] | None:
    """Validate one file; append its problems and return None when it is invalid."""
    try:
        raw = path.read_bytes()
        data, marks = load_file(path)
    except SpecError as exc:
        problems.extend(exc.problems)
        return None
    except OSError as exc:
        problems.append(Located(str(path), None, None, "", f"cannot read: {exc.strerror}"))
        return None
    if not isinstance(data, dict):
        problems.append(Located(str(path), 1, 1, "", "expected a YAML mapping"))
        return None
    obj, errs = validate_located(model, data, marks, str(path))
    problems.extend(errs)
    return None if obj is None else (obj, hashlib.sha256(raw).hexdigest(), marks)


def _load_folder(cat: Catalog, root: Path, problems: list[Located]) -> None:
    cores_file = root / "cores.yaml"
    if cores_file.is_file():
        got = _load(cores_file, CoreTable, problems)
        if got:
            table, sha, _ = got
            cat.cores.update(table.cores)
            cat.qemu_machines.update(table.qemu_machines)
            if table.profilers:
                cat.default_profilers = list(table.profilers)
            cat.sources[f"cores:{cores_file}"] = Entry(cores_file, sha)
    for path in sorted((root / "targets").glob("*.yaml")):
        got = _load(path, Target, problems)
        if got:
            target, sha, marks = got
            if path.stem != target.name:
                problems.append(
                    Located(
                        str(path),
                        1,
                        1,
                        "name",
                        f"target {target.name!r} must live in {target.name}.yaml",
                    )
                )
            cat.targets[target.name] = target
            cat.sources[f"target:{target.name}"] = Entry(path, sha, marks)
    seen: dict[str, Path] = {}
    for path in sorted(root.glob("*.yaml")):
        if path.name == "cores.yaml":
            continue
        got = _load(path, Recipe, problems)
        if not got:
            continue
        recipe, sha, marks = got
        if recipe.ref in seen:
            problems.append(
                Located(
                    str(path),
                    1,
                    1,
                    "version",
                    f"recipe {recipe.ref} is also defined in {seen[recipe.ref]}; "
                    "bump `version` in one of them",
                )
            )
            continue
        seen[recipe.ref] = path
        versions = cat.recipes.setdefault(recipe.name, [])
        versions[:] = [r for r in versions if r.version != recipe.version]  # user layer wins
        versions.append(recipe)
        cat.sources[f"recipe:{recipe.ref}"] = Entry(path, sha, marks)


def _cross_checks(cat: Catalog, problems: list[Located]) -> None:
    for name, core in cat.cores.items():
        if core.qemu_machine and core.qemu_machine not in cat.qemu_machines:
            problems.append(
                Located(
                    "cores.yaml",
                    None,
                    None,
                    f"cores.{name}.qemu_machine",
                    f"{core.qemu_machine!r} is not in qemu_machines",
                )
            )
    for name, target in cat.targets.items():
        if target.core not in cat.cores:
            src = cat.sources[f"target:{name}"]
            line, col = locate(src.marks, ("core",))
            hint = _close_core(target.core, list(cat.cores))
            problems.append(
                Located(
                    str(src.path),
                    line,
                    col,
                    "core",
                    f"core {target.core!r} is not in the core table (cores.yaml); {hint}",
                )
            )


def collect_catalog(extra: list[Path] | None = None) -> tuple[Catalog, list[Located]]:
    """Load the built-in catalog and each folder of ``extra`` over it; keep every problem."""
    cat = Catalog()
    problems: list[Located] = []
    for root in [data_dir("recipes"), *(extra or [])]:
        if not root.is_dir():
            problems.append(
                Located(
                    str(root),
                    None,
                    None,
                    "",
                    "catalog folder does not exist; fix --catalog or `catalogs`",
                )
            )
            continue
        _load_folder(cat, root, problems)
    _cross_checks(cat, problems)
    return cat, problems


def load_catalog(extra: list[Path] | None = None) -> Catalog:
    """Load the built-in catalog, then each folder of ``extra`` over it.

    Raises:
        CatalogError: a file is invalid, or the same name and version appear twice in
            one folder.
    """
    cat, problems = collect_catalog(extra)
    if problems:
        raise CatalogError("\n".join(str(p) for p in problems), problems)
    return cat
