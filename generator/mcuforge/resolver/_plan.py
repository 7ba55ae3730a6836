"""The plan: the spec's target and core, and the portfolio of recipes with the reason
for each choice."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from .._yaml import load_file, locate
from ..catalog import Catalog, Core, QemuMachine, Recipe, Target
from ..cost import Calibration
from ..data import shown
from ..errors import BudgetError, CatalogError, Located, McuforgeError
from ..recipe_check import check_catalog, check_overrides
from ..spec import LoadedSpec, RecipeRef
from ._applies import (
    check_budgets,
    lower_bound,
    mismatch,
    over_budget,
    over_latency,
)


@dataclass(frozen=True)
class Decision:
    """Whether a recipe takes part, and why."""

    recipe: str
    chosen: bool
    reason: str
    min_flash_bytes: float | None = None
    min_sram_bytes: float | None = None
    too_slow: bool = False  # fits the memory budgets, but not budgets.latency_ms
    #: the default configuration's bound over the budgets (the larger of flash and SRAM
    #: share; above 1 it fits only with other choices): the warm start's order
    default_share: float | None = None


@dataclass(frozen=True)
class Plan:
    """The resolved recipes, the target and its core, with the reasons for each choice."""

    spec: LoadedSpec
    target: Target
    core: Core
    recipes: list[Recipe]
    decisions: list[Decision]
    qemu: QemuMachine | None = None
    calibration: Calibration | None = None  # measured corrections of the analytic cost

    @property
    def seed(self) -> int:
        return self.spec.spec.search.seed


def resolve(
    loaded: LoadedSpec,
    catalog: Catalog,
    pinned: dict[str, int] | None = None,
    *,
    empty_ok: bool = False,
) -> Plan:
    """Choose the recipes for ``loaded`` from ``catalog``.

    ``pinned`` maps recipe names to the versions a lock file recorded: with
    ``recipe: auto`` the portfolio is those recipes, at those versions (newer versions
    and new recipes wait for ``mcuforge lock --update``), so the same spec and lock
    give the same search and the same C. With ``empty_ok`` a portfolio that nothing
    joins is returned (every decision a rejection, for ``explain``) instead of raised:
    :func:`nothing_fits` raises it.

    Raises:
        CatalogError: a recipe of the catalog names a parameter its family and blocks do
            not have (or a value they refuse), unknown target or recipe, or no recipe
            applies.
        BudgetError: no applicable recipe fits the budgets even at its smallest, or the
            budgets exceed the part.
    """
    check_catalog(catalog)
    target, core = _target(loaded, catalog)
    qemu = catalog.qemu_machines.get(core.qemu_machine) if core.qemu_machine else None
    pinned = pinned or {}
    if loaded.spec.recipe != "auto":
        recipe = _pinned_recipe(loaded, catalog, pinned)
        _check_pinned(recipe, loaded, target, core)
        decision = Decision(recipe.ref, True, "pinned in the spec")
        return Plan(loaded, target, core, [recipe], [decision], qemu)
    chosen, rejected = _portfolio(loaded, catalog, pinned, target, core)
    if not chosen and not empty_ok:
        nothing_fits(loaded, rejected)
    decisions = [d for _, _, d in chosen] + rejected
    return Plan(loaded, target, core, [r for _, r, _ in chosen], decisions, qemu)


def _target(loaded: LoadedSpec, catalog: Catalog) -> tuple[Target, Core]:
    """The spec's target and its core, checked against the part and the objectives.

    Raises:
        CatalogError: unknown target or core; ``energy`` without the part's power figures.
        SpecError: the budgets exceed the part.
    """
    spec = loaded.spec
    try:
        target = catalog.target_from(spec.target)
    except CatalogError as exc:
        raise CatalogError.at(loaded.problem(("target",), str(exc))) from None
    try:
        core = catalog.core(target.core)
    except CatalogError as exc:  # an inline target's core (a catalog's is checked on load)
        where = ("target", "core") if not isinstance(spec.target, str) else ("target",)
        raise CatalogError.at(loaded.problem(where, str(exc))) from None
    check_budgets(loaded, target)
    if "energy" in spec.search.objectives and target.power is None:
        raise CatalogError(
            f"{loaded.path}: search.objectives: `energy` needs the target's datasheet "
            f"current and supply voltage, which {target.name} does not give (catalog "
            "targets have them; an inline target takes `power: {supply_v, "
            "active_ua_per_mhz, datasheet}`)"
        )
    return target, core


def _check_pinned(recipe: Recipe, loaded: LoadedSpec, target: Target, core: Core) -> None:
    """A recipe the spec names must apply and fit at its smallest; located errors."""
    why = mismatch(recipe, loaded, target)
    if why:
        raise CatalogError.at(
            loaded.problem(("recipe",), f"recipe {recipe.ref} cannot be used: it {why}")
        )
    try:
        least = lower_bound(recipe, loaded, core, target)
    except (McuforgeError, ValueError) as exc:
        raise CatalogError.at(
            loaded.problem(("recipe",), f"recipe {recipe.ref} cannot run on this data: {exc}")
        ) from None
    over = over_budget(least.flash, least.sram, loaded) or over_latency(
        least.latency_ms, loaded, target
    )
    if over:
        raise BudgetError.at(
            loaded.problem(
                ("budgets",),
                f"recipe {recipe.ref} cannot fit the budgets even at its smallest "
                f"configuration: {over}",
            )
        )


def _catalog_recipe(
    loaded: LoadedSpec, catalog: Catalog, name: str, pinned: dict[str, int]
) -> Recipe:
    try:
        return catalog.recipe(f"{name}@{pinned[name]}" if name in pinned else name)
    except CatalogError as exc:
        line, col, where = _pin_location(loaded, name)
        raise CatalogError.at(
            Located(
                str(loaded.lock_path),
                line,
                col,
                where,
                f"{exc}, but the lock pins it; run `{update_command(loaded.path)}`",
            )
        ) from None


def _pin_location(loaded: LoadedSpec, name: str) -> tuple[int | None, int | None, str]:
    """Line, column and field of the lock's pin of recipe ``name`` (the lock was read
    and checked before; here only where the entry is)."""
    try:
        data, marks = load_file(loaded.lock_path)
    except McuforgeError:
        return None, None, "recipes"
    entries = data.get("recipes", []) if isinstance(data, dict) else []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and entry.get("name") == name:
            line, col = locate(marks, ("recipes", i, "version"))
            return line, col, f"recipes.{i}.version"
    return None, None, "recipes"


def _portfolio(
    loaded: LoadedSpec, catalog: Catalog, pinned: dict[str, int], target: Target, core: Core
) -> tuple[list[tuple[float, Recipe, Decision]], list[Decision]]:
    """Every recipe that applies and can fit (best fit first), and the others with why.

    Which one wins (raw window or projected features, trees or networks) is decided by
    measurement, in the search: every recipe that can fit takes part.
    """
    spec = loaded.spec
    rejected: list[Decision] = []
    fits: list[tuple[float, Recipe, Decision]] = []
    for name in sorted(catalog.recipes):
        recipe = _catalog_recipe(loaded, catalog, name, pinned)
        why = mismatch(recipe, loaded, target)
        if why:
            rejected.append(Decision(recipe.ref, False, why))
            continue
        try:
            least = lower_bound(recipe, loaded, core, target)
        except (McuforgeError, ValueError) as exc:
            rejected.append(Decision(recipe.ref, False, f"cannot run on this data: {exc}"))
            continue
        flash, sram = least.flash, least.sram
        over = over_budget(flash, sram, loaded)
        if over:
            rejected.append(Decision(recipe.ref, False, over, flash, sram))
            continue
        slow = over_latency(least.latency_ms, loaded, target)
        if slow:  # no smaller memory budget would help: not a size to name
            rejected.append(Decision(recipe.ref, False, slow, too_slow=True))
            continue
        if pinned and name not in pinned:  # checked last: the lock is the reason only if
            why = (  # nothing else keeps the recipe out
                f"applies and can fit, but is not in {loaded.lock_path.name}; run "
                f"`{update_command(loaded.path)}` to let the search use it"
            )
            rejected.append(Decision(recipe.ref, False, why, flash, sram))
            continue
        b = spec.budgets
        # rank: recipes made for this modality first (listed first in `applies`), then
        # the most headroom under the budgets of the default configuration (the warm
        # start tries it first, and the search starts from it)
        specific = 0 if recipe.applies.modality[0] == spec.data.modality else 1
        share = max(
            least.default_flash / (b.flash_kb * 1024), least.default_sram / (b.sram_kb * 1024)
        )
        fit = specific + share
        reason = (
            f"handles {spec.task.kind} on {spec.data.modality} data; the firmware with its "
            f"smallest configuration needs at least {flash / 1024:.2f} kB flash, "
            f"{sram / 1024:.2f} kB SRAM"
        )
        decision = Decision(recipe.ref, True, reason, flash, sram, default_share=share)
        fits.append((fit, recipe, decision))
    fits.sort(key=lambda t: (t[0], t[1].name))
    return fits, rejected


def shown_spec(spec: Path) -> str:
    """``spec`` as a user types it here in a command (relative when below, quoted)."""
    return shlex.quote(shown(spec))


def update_command(spec: Path) -> str:
    """The command that rewrites the lock of ``spec`` (the resolver's pins come from it)."""
    return f"mcuforge lock --update {shown_spec(spec)}"


def nothing_fits(loaded: LoadedSpec, decisions: list[Decision]) -> None:
    """Raise why no recipe takes part: the smallest budget that would fit, or why none
    applies; ``mcuforge explain`` lists each recipe's reason (the error names it).

    Raises:
        BudgetError: recipes apply but none fits; names the smallest budget that would.
        CatalogError: no recipe applies to this spec.
    """
    every = f"`mcuforge explain {shown_spec(loaded.path)}` lists every recipe and why"
    sized = [d for d in decisions if d.min_flash_bytes is not None]
    if sized:
        best = min(sized, key=lambda d: max(d.min_flash_bytes or 0, d.min_sram_bytes or 0))
        raise BudgetError.at(
            loaded.problem(
                ("budgets",),
                "no recipe fits the budgets even at its smallest configuration; the "
                f"smallest is {best.recipe} ({best.reason}): flash_kb >= "
                f"{(best.min_flash_bytes or 0) / 1024:.2f}, sram_kb >= "
                f"{(best.min_sram_bytes or 0) / 1024:.2f} would fit; {every}",
            )
        )
    if any(d.too_slow for d in decisions):
        raise BudgetError.at(
            loaded.problem(
                ("budgets", "latency_ms"),
                "no recipe can meet the latency budget even at its smallest configuration; "
                "raise budgets.latency_ms, shorten the window or lower the rate, or choose "
                f"a faster part; {every}",
            )
        )
    raise CatalogError.at(
        loaded.problem(
            ("task",),
            "no recipe applies to this spec: "
            + "; ".join(f"{d.recipe}: {d.reason}" for d in decisions[:3])
            + (f"; … ({every})" if len(decisions) > 3 else ""),
        )
    )


def _pinned_recipe(loaded: LoadedSpec, catalog: Catalog, pinned: dict[str, int]) -> Recipe:
    """The recipe the spec names (at the lock's version unless pinned), with its overrides.

    Raises:
        CatalogError: unknown name or version, or invalid overrides; located in the spec.
    """
    spec = loaded.spec
    name, at_, version = spec.recipe_ref.partition("@")
    ref = catalog.recipe_name(name) + at_ + version  # the catalog's spelling
    if "@" not in ref and ref in pinned:
        ref = f"{ref}@{pinned[ref]}"
    at: tuple[str, ...] = ("recipe",) if isinstance(spec.recipe, str) else ("recipe", "name")
    try:
        recipe = catalog.recipe(ref)
    except CatalogError as exc:
        raise CatalogError.at(loaded.problem(at, str(exc))) from None
    if not isinstance(spec.recipe, RecipeRef):
        return recipe
    overrides = spec.recipe.overrides
    try:
        changed = recipe.with_overrides(overrides)
    except ValidationError as exc:
        problems = []
        for e in exc.errors(include_url=False):
            where = tuple(str(x) for x in e["loc"] if x != "search")
            msg = str(e["msg"]).removeprefix("Value error, ")
            problems.append(loaded.problem(("recipe", "overrides", *where), msg))
        raise CatalogError("", problems) from exc
    check_overrides(loaded, changed, list(overrides.space), list(overrides.fixed))
    return changed
