"""The loaded catalog: each folder's files validated, layered, cross-checked and
looked up by name."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .._resources import data_dir
from .._validate import validate_located
from .._yaml import Marks, load_file, locate
from ..errors import CatalogError, Located, SpecError
from ..spec import InlineTarget
from ._recipes import Recipe
from ._targets import Core, CoreTable, QemuMachine, Target


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
            table, sha, marks = got
            cat.cores.update(table.cores)
            cat.qemu_machines.update(table.qemu_machines)
            if table.profilers:
                cat.default_profilers = list(table.profilers)
            cat.sources[f"cores:{cores_file}"] = Entry(cores_file, sha, marks)
            for name in table.cores:  # where each core was last defined (a user layer wins)
                cat.sources[f"core:{name}"] = Entry(cores_file, sha, marks)
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
        shadowed = next((r for r in versions if r.version == recipe.version), None)
        if shadowed is not None and shadowed.model_dump() != recipe.model_dump():
            problems.append(
                Located(
                    str(path),
                    *(marks.get(("version",), (1, 1))),
                    "version",
                    f"recipe {recipe.ref} differs from the {recipe.ref} of another catalog "
                    f"({cat.sources[f'recipe:{recipe.ref}'].path}); one name and version "
                    "is one recipe: bump `version` (a higher one wins) or rename it",
                )
            )
            continue
        versions[:] = [r for r in versions if r.version != recipe.version]  # user layer wins
        versions.append(recipe)
        cat.sources[f"recipe:{recipe.ref}"] = Entry(path, sha, marks)


def _cross_checks(cat: Catalog, problems: list[Located]) -> None:
    for name, core in cat.cores.items():
        if core.qemu_machine and core.qemu_machine not in cat.qemu_machines:
            src = cat.sources[f"core:{name}"]
            line, col = locate(src.marks, ("cores", name, "qemu_machine"))
            known = ", ".join(sorted(cat.qemu_machines)) or "none"
            problems.append(
                Located(
                    str(src.path),
                    line,
                    col,
                    f"cores.{name}.qemu_machine",
                    f"{core.qemu_machine!r} is not in qemu_machines (known: {known}); add it "
                    "under `qemu_machines` or name one of those",
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
