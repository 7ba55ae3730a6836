"""The catalogs: microcontroller targets, cores and recipes, as data.

Targets (``recipes/targets/*.yaml``) say what a part has; the core table
(``recipes/cores.yaml``) says how to compile for a core and what it costs to run on
it; recipes (``recipes/*.yaml``) say how to build a model. Each file is validated
with a pydantic model and errors point at ``file:line``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._resources import data_dir
from ._validate import validate_located
from ._yaml import load_file
from .errors import CatalogError, SpecError
from .spec import CoreName, InlineTarget


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
        default_factory=dict, description="Board name per firmware framework."
    )
    datasheet: str = Field(default="", description="Where these facts come from.")


class Core(_Strict):
    """How to compile for a CPU core and what it costs to run on it."""

    gcc_flags: str | None = Field(
        description="arm-none-eabi-gcc CPU flags; null: no GCC port here."
    )
    qemu_machine: str | None = Field(default=None, description="QEMU machine emulating this core.")
    cpi: float = Field(
        gt=0, description="Mean cycles per instruction on ML kernels (analytic model)."
    )
    float_op_instructions: float = Field(
        gt=0, description="Instructions per float add/mul/compare (1 with an FPU; soft-float more)."
    )
    float_div_instructions: float = Field(gt=0, description="Instructions per float divide/sqrt.")


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

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _exactly_one(self) -> SearchParam:
        given = [k for k in ("int_", "float_", "choice", "subset") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of int, float, choice, subset")
        for rng in (self.int_, self.float_):
            if rng is not None and rng[0] > rng[1]:
                raise ValueError(f"range {list(rng)} is inverted; write [low, high]")
        if self.choice is not None and not self.choice:
            raise ValueError("choice needs at least one value")
        if self.subset is not None and not self.subset:
            raise ValueError("subset needs at least one value")
        return self


class RecipeApplies(_Strict):
    task: list[Literal["classification", "regression", "anomaly"]] = Field(
        min_length=1, description="Task kinds this recipe handles."
    )
    modality: list[Literal["imu", "timeseries", "audio", "tabular"]] = Field(
        min_length=1, description="Data modalities this recipe handles."
    )
    needs_fpu: bool = Field(default=False, description="Only for cores with an FPU.")


class RecipePipeline(_Strict):
    features: list[str] = Field(default_factory=list, description="Feature blocks, in order.")
    model: str = Field(description="Model family (registry name).")
    compression: str = Field(default="none", description="Compression (registry name).")
    runtime: str = Field(default="c", description="Runtime / emitter.")


class RecipeSearch(_Strict):
    strategy: Literal["tpe", "random"] = Field(default="tpe")
    space: dict[str, SearchParam] = Field(default_factory=dict)
    fixed: dict[str, Any] = Field(default_factory=dict, description="Parameters not searched.")


class Recipe(_Strict):
    """A named, versioned way to build a model."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", description="Recipe name.")
    version: int = Field(ge=1, description="Recipe version; a higher one supersedes.")
    description: str
    applies: RecipeApplies
    pipeline: RecipePipeline
    search: RecipeSearch = Field(default_factory=RecipeSearch)
    when: str = Field(default="", description="When this recipe wins.")

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Entry:
    """A catalog item with the file it came from and the hash of that file."""

    path: Path
    sha256: str


@dataclass
class Catalog:
    """Targets, cores and recipes loaded from the built-in and user folders."""

    targets: dict[str, Target] = field(default_factory=dict)
    cores: dict[str, Core] = field(default_factory=dict)
    qemu_machines: dict[str, QemuMachine] = field(default_factory=dict)
    recipes: dict[str, list[Recipe]] = field(default_factory=dict)
    sources: dict[str, Entry] = field(default_factory=dict)

    def target(self, name: str) -> Target:
        try:
            return self.targets[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, list(self.targets), n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "see `mcuforge targets list`"
            raise CatalogError(f"unknown target {name!r}; {hint}") from None

    def recipe(self, ref: str) -> Recipe:
        """A recipe by ``name`` (highest version) or ``name@version``."""
        name, _, ver = ref.partition("@")
        versions = self.recipes.get(name)
        if not versions:
            import difflib

            close = difflib.get_close_matches(name, list(self.recipes), n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "see `mcuforge recipes list`"
            raise CatalogError(f"unknown recipe {name!r}; {hint}")
        if not ver:
            return max(versions, key=lambda r: r.version)
        for r in versions:
            if str(r.version) == ver:
                return r
        have = ", ".join(str(r.version) for r in versions)
        raise CatalogError(f"recipe {name!r} has no version {ver}; versions: {have}")

    def core(self, name: str) -> Core:
        try:
            return self.cores[name]
        except KeyError:
            raise CatalogError(
                f"core {name!r} is not in the core table (recipes/cores.yaml)"
            ) from None

    def target_from(self, ref: str | InlineTarget) -> Target:
        if isinstance(ref, str):
            return self.target(ref)
        return Target(
            version=1,
            name=ref.name if ref.name else "custom",
            core=ref.core,
            clock_mhz=ref.clock_mhz,
            sram_kb=ref.sram_kb,
            flash_kb=ref.flash_kb,
            fpu=ref.fpu,
            dsp=ref.dsp,
            datasheet="inline in the spec",
        )


def _load(path: Path, model: type[BaseModel]) -> tuple[Any, str]:
    raw = path.read_bytes()
    try:
        data, marks = load_file(path)
    except SpecError as exc:
        raise CatalogError(str(exc), exc.problems) from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}:1: expected a YAML mapping")
    obj, problems = validate_located(model, data, marks, str(path))
    if obj is None:
        raise CatalogError("\n".join(str(p) for p in problems), problems)
    return obj, hashlib.sha256(raw).hexdigest()


def load_catalog(extra: list[Path] | None = None) -> Catalog:
    """Load the built-in catalog, then each folder of ``extra`` over it.

    Raises:
        CatalogError: a file is invalid, or the same name and version appear twice.
    """
    cat = Catalog()
    for root in [data_dir("recipes"), *(extra or [])]:
        if not root.is_dir():
            raise CatalogError(f"catalog folder {root} does not exist")
        cores_file = root / "cores.yaml"
        if cores_file.is_file():
            table, sha = _load(cores_file, CoreTable)
            cat.cores.update(table.cores)
            cat.qemu_machines.update(table.qemu_machines)
            cat.sources[f"cores:{cores_file}"] = Entry(cores_file, sha)
        for path in sorted((root / "targets").glob("*.yaml")):
            target, sha = _load(path, Target)
            cat.targets[target.name] = target
            cat.sources[f"target:{target.name}"] = Entry(path, sha)
        for path in sorted(root.glob("*.yaml")):
            if path.name == "cores.yaml":
                continue
            recipe, sha = _load(path, Recipe)
            versions = cat.recipes.setdefault(recipe.name, [])
            clash = [r for r in versions if r.version == recipe.version]
            if clash:
                other = cat.sources[f"recipe:{recipe.ref}"].path
                if other.parent == path.parent:
                    raise CatalogError(
                        f"{path}:1: recipe {recipe.ref} is also defined in {other}; "
                        "bump `version` in one of them"
                    )
                versions.remove(clash[0])
            versions.append(recipe)
            cat.sources[f"recipe:{recipe.ref}"] = Entry(path, sha)
    for name, core in cat.cores.items():
        if core.qemu_machine and core.qemu_machine not in cat.qemu_machines:
            raise CatalogError(
                f"core {name}: qemu_machine {core.qemu_machine!r} is not in "
                "qemu_machines of cores.yaml"
            )
    for name, target in cat.targets.items():
        if target.core not in cat.cores:
            raise CatalogError(f"target {name}: core {target.core!r} missing from cores.yaml")
    return cat
