"""The spec as a whole, its recipe and output sections, and loading it with located errors
(the task, search and data sections are in their own modules)."""

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
)

from .._validate import validate_located
from .._yaml import Marks, load_file, locate
from ..errors import Located, SpecError
from ._common import Strict, check_c_prefix
from ._data import Data
from ._search import Hardware, Search
from ._task import Budgets, InlineTarget, Task


def _target_tag(value: Any) -> str:
    return "inline" if isinstance(value, dict) else "name"


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
