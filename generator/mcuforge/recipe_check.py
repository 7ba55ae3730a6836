"""Recipe parameters checked against what the recipe's family, blocks and augmentation declare.

Every key of a recipe's ``search.space`` and ``search.fixed`` (and of a spec's
``recipe.overrides``) must be a parameter of the recipe's model family (a plain key), of
one of its feature blocks (``block.param``) or of the augmentation (``augment.param``),
as their ``Params`` models declare them; every value it can take must be one the
parameter accepts: each ``choice``, both ends of an ``int`` or ``float`` range, a
``subset`` as a whole, a ``default`` and each ``fixed`` value. A problem is located at
the key, or at the value, in the file that holds it::

    recipes/mine.yaml:9:5: search.space.n_estimator: random_forest has no parameter
    'n_estimator'; did you mean 'n_estimators'?

The catalog itself cannot know the parameters (it sits below the feature blocks and
model families), so the resolver runs these checks on every catalog it is given, and
``mcuforge catalog validate`` on the folders it checks.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._yaml import Marks, locate
from .catalog import Catalog, Recipe, SearchParam
from .data.augment import Augment
from .errors import CatalogError, Located
from .features import FEATURES
from .models import MODELS
from .params import unknown_message
from .spec import LoadedSpec

AUGMENT = "augment"
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class _Owner:
    """Whose parameters a key names: a family, a block or the augmentation."""

    name: str
    fields: tuple[str, ...]
    parse: Callable[[Mapping[str, Any]], object]


def _owners(recipe: Recipe) -> tuple[_Owner | None, dict[str, _Owner]]:
    """The recipe's family and its blocks (and ``augment``); None/absent when unregistered."""
    family = None
    if recipe.pipeline.model in MODELS:
        fam = MODELS.get(recipe.pipeline.model)
        family = _Owner(fam.name, tuple(fam.Params.model_fields), fam.parse_params)
    blocks = {AUGMENT: _Owner(AUGMENT, tuple(Augment.model_fields), Augment.from_params)}
    for name in recipe.pipeline.features:
        if name in FEATURES:
            cls = FEATURES.get(name)
            blocks[name] = _Owner(name, tuple(cls.Params.model_fields), cls.parse_params)
    return family, blocks


def _key_problem(
    recipe: Recipe, key: str, family: _Owner | None, blocks: dict[str, _Owner]
) -> tuple[_Owner, str] | str | None:
    """The owner and parameter name of ``key``, or why it names none (None: unknown owner)."""
    block, dot, param = key.partition(".")
    if dot:
        if block in blocks:
            owner = blocks[block]
            return (
                (owner, param)
                if param in owner.fields
                else unknown_message(block, param, owner.fields)
            )
        if block in recipe.pipeline.features:
            return None  # an unregistered block: the registry check reports it
        names = [*recipe.pipeline.features, AUGMENT]
        close = difflib.get_close_matches(block, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"its blocks are {', '.join(names)}"
        return f"{block!r} is not a feature block of this recipe (nor {AUGMENT}); {hint}"
    if family is None:
        return None
    if key in family.fields:
        return family, key
    if not difflib.get_close_matches(key, family.fields, n=1):
        owners = [b for b, o in blocks.items() if key in o.fields]
        if owners:
            return (
                f"{family.name} has no parameter {key!r}; did you mean '{owners[0]}.{key}'? "
                "(a feature block's parameters are written `block.param`)"
            )
    return unknown_message(family.name, key, family.fields)


def dimension_values(dim: SearchParam) -> list[tuple[Loc, Any, str]]:
    """Every value a search dimension can take that a parameter must accept, with its
    place under the dimension and a note."""
    out: list[tuple[Loc, Any, str]] = []
    for kind, rng in (("int", dim.int_), ("float", dim.float_)):
        if rng is not None:
            out += [((kind, 0), rng[0], " (the range's low end)")]
            out += [((kind, 1), rng[1], " (the range's high end)")]
    if dim.choice is not None:
        out += [(("choice", i), v, "") for i, v in enumerate(dim.choice)]
    if dim.subset is not None:
        out.append((("subset",), list(dim.subset), ""))
    if dim.default is not None:
        out.append((("default",), dim.default, " (the default)"))
    return out


Report = Callable[[Loc, Loc, str, bool], None]


def check_recipe(recipe: Recipe, keys: list[tuple[str, str]], report: Report) -> None:
    """Check ``keys`` (``(section, key)``, section ``space`` or ``fixed``) of ``recipe``;
    ``report(key_loc, value_loc, message, at_key)`` gets each problem."""
    family, blocks = _owners(recipe)
    for section, key in keys:
        where: Loc = (section, key)
        found = _key_problem(recipe, key, family, blocks)
        if found is None:
            continue
        if isinstance(found, str):
            report(where, where, found, True)
            continue
        owner, param = found
        if section == "space":
            values = dimension_values(recipe.search.space[key])
        else:
            values = [((), recipe.search.fixed[key], "")]
        for sub, value, note in values:
            try:
                owner.parse({param: value})
            except CatalogError as exc:
                report(where, (*where, *sub), f"{exc}{note}", False)
                break  # one problem per key


def _keys(recipe: Recipe) -> list[tuple[str, str]]:
    return [("space", k) for k in recipe.search.space] + [("fixed", k) for k in recipe.search.fixed]


def _file_report(path: Path, marks: Marks, out: list[Located]) -> Report:
    def report(key_loc: Loc, value_loc: Loc, message: str, at_key: bool) -> None:
        line, col = locate(marks, ("search", *value_loc), key=at_key)
        field = ".".join(map(str, ("search", *key_loc)))
        out.append(Located(str(path), line, col, field, message))

    return report


def catalog_problems(catalog: Catalog, folders: list[Path] | None = None) -> list[Located]:
    """The parameter problems of every recipe of ``catalog`` (of those in ``folders``,
    when given), located in the recipe files."""
    out: list[Located] = []
    for name in sorted(catalog.recipes):
        for recipe in sorted(catalog.recipes[name], key=lambda r: r.version):
            src = catalog.sources[f"recipe:{recipe.ref}"]
            if folders is not None and not any(
                src.path.resolve().is_relative_to(f) for f in folders
            ):
                continue
            check_recipe(recipe, _keys(recipe), _file_report(src.path, src.marks, out))
    return out


def check_catalog(catalog: Catalog) -> None:
    """Raises:
    CatalogError: a recipe names a parameter its family, blocks and the augmentation
        do not have, or a value they do not accept; every problem, located.
    """
    problems = catalog_problems(catalog)
    if problems:
        raise CatalogError("\n".join(map(str, problems)), problems)


def check_overrides(loaded: LoadedSpec, recipe: Recipe, space: list[str], fixed: list[str]) -> None:
    """The spec's ``recipe.overrides`` keys of ``recipe`` (already applied to it).

    Raises:
        CatalogError: every problem, located in the spec.
    """
    out: list[Located] = []

    def report(key_loc: Loc, value_loc: Loc, message: str, at_key: bool) -> None:
        prefix = ("recipe", "overrides")
        line, col = locate(loaded.marks, (*prefix, *value_loc), key=at_key)
        field = ".".join(map(str, (*prefix, *key_loc)))
        out.append(Located(loaded.file or str(loaded.path), line, col, field, message))

    check_recipe(recipe, [("space", k) for k in space] + [("fixed", k) for k in fixed], report)
    if out:
        raise CatalogError("\n".join(map(str, out)), out)


__all__ = ["catalog_problems", "check_catalog", "check_overrides", "check_recipe"]
