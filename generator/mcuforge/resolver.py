"""Spec + catalog → plan: which recipes to search, for which target, and why."""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog, Core, QemuMachine, Recipe, Target
from .errors import CatalogError
from .features import FEATURES
from .models import MODELS
from .spec import LoadedSpec


@dataclass(frozen=True)
class Decision:
    """Whether a recipe takes part, and why."""

    recipe: str
    chosen: bool
    reason: str


@dataclass(frozen=True)
class Plan:
    """The resolved recipes, the target and its core, with the reasons for each choice."""

    spec: LoadedSpec
    target: Target
    core: Core
    recipes: list[Recipe]
    decisions: list[Decision]
    qemu: QemuMachine | None = None

    @property
    def seed(self) -> int:
        return self.spec.spec.search.seed


def modality(spec: LoadedSpec) -> str:
    """Data modality of the spec, as recipes name it."""
    return "timeseries"


def _unavailable(recipe: Recipe, target: Target) -> str | None:
    """Why ``recipe`` cannot run here, or None."""
    missing = [f for f in recipe.pipeline.features if f not in FEATURES]
    if missing:
        return f"feature block {', '.join(missing)} is not available in this mcuforge"
    if recipe.pipeline.model not in MODELS:
        return f"model family {recipe.pipeline.model!r} is not available in this mcuforge"
    if recipe.pipeline.compression != "none":
        return f"compression {recipe.pipeline.compression!r} is not available in this mcuforge"
    if recipe.pipeline.runtime != "c":
        return f"runtime {recipe.pipeline.runtime!r} is not available in this mcuforge"
    if recipe.applies.needs_fpu and target.fpu == "none":
        return f"needs an FPU; {target.name} ({target.core}) has none"
    return None


def resolve(loaded: LoadedSpec, catalog: Catalog) -> Plan:
    """Choose the recipes for ``loaded`` from ``catalog``.

    Raises:
        CatalogError: unknown target or recipe, or no recipe applies.
    """
    spec = loaded.spec
    target = catalog.target_from(spec.target)
    core = catalog.core(target.core)
    qemu = catalog.qemu_machines.get(core.qemu_machine) if core.qemu_machine else None
    kind, mod = spec.task.kind, modality(loaded)
    decisions: list[Decision] = []
    chosen: list[Recipe] = []
    if spec.recipe != "auto":
        recipe = catalog.recipe(spec.recipe)
        why = _unavailable(recipe, target)
        if why:
            raise CatalogError(f"recipe {recipe.ref} cannot be used: {why}")
        if kind not in recipe.applies.task:
            raise CatalogError(
                f"recipe {recipe.ref} does not handle {kind} "
                f"(it handles {', '.join(recipe.applies.task)})"
            )
        return Plan(
            loaded, target, core, [recipe], [Decision(recipe.ref, True, "pinned in the spec")], qemu
        )
    for name in sorted(catalog.recipes):
        recipe = catalog.recipe(name)
        if kind not in recipe.applies.task:
            decisions.append(Decision(recipe.ref, False, f"does not handle {kind}"))
        elif mod not in recipe.applies.modality:
            decisions.append(
                Decision(
                    recipe.ref,
                    False,
                    f"is for {', '.join(recipe.applies.modality)} data, not {mod}",
                )
            )
        elif (why := _unavailable(recipe, target)) is not None:
            decisions.append(Decision(recipe.ref, False, why))
        else:
            decisions.append(Decision(recipe.ref, True, f"handles {kind} on {mod} data"))
            chosen.append(recipe)
    if not chosen:
        reasons = "; ".join(f"{d.recipe}: {d.reason}" for d in decisions)
        raise CatalogError(f"no recipe applies to this spec ({reasons})")
    return Plan(loaded, target, core, chosen, decisions, qemu)
