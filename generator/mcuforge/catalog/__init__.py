"""The catalogs: microcontroller targets, cores and recipes, as data.

Targets (``targets/*.yaml``) say what a part has; the core table (``cores.yaml``)
says how to compile for a core and what it costs to run on it; recipes (``*.yaml``)
say how to build a model. The built-in catalog lives in ``recipes/``; user catalogs
(folders with the same layout, kept in the user's git) layer over it: a recipe with
the same name and a higher version wins unless the spec pins ``name@version``.
Every file is validated with a pydantic model; errors point at ``file:line``.
"""

from __future__ import annotations

from ._catalog import Catalog, Entry, collect_catalog, load_catalog
from ._recipes import Recipe, RecipeApplies, RecipePipeline, RecipeSearch, SearchParam
from ._targets import BOARD_KEYS, BOARD_PATTERN, Core, CoreTable, QemuMachine, Target, TargetMemory

__all__ = [
    "BOARD_KEYS",
    "BOARD_PATTERN",
    "Catalog",
    "Core",
    "CoreTable",
    "Entry",
    "QemuMachine",
    "Recipe",
    "RecipeApplies",
    "RecipePipeline",
    "RecipeSearch",
    "SearchParam",
    "Target",
    "TargetMemory",
    "collect_catalog",
    "load_catalog",
]
