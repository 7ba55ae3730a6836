"""Spec + catalog → plan: which recipes to search, for which target, and why.

Each recipe is checked against the spec (task, data modality, window and channel
ranges, core features, registry names) and against the budgets with an analytic
lower bound of its cost (its smallest configuration). The recipes that pass form
the portfolio, best fit first; the search treats them as one categorical choice.
Every decision carries its reason (``mcuforge explain``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ._yaml import load_file, locate
from .catalog import Catalog, Core, QemuMachine, Recipe, Target
from .cost import Calibration, firmware_overhead
from .errors import BudgetError, CatalogError, Located, McuforgeError
from .extras import needs
from .features import FEATURES, CoreCosts, FeatureBlock
from .models import MODELS
from .recipe_check import check_catalog, check_overrides
from .spec import LoadedSpec, RecipeRef


@dataclass(frozen=True)
class Decision:
    """Whether a recipe takes part, and why."""

    recipe: str
    chosen: bool
    reason: str
    min_flash_bytes: float | None = None
    min_sram_bytes: float | None = None


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


def _lower_bound(recipe: Recipe, loaded: LoadedSpec, core: Core) -> tuple[float, float]:
    """Flash and SRAM bytes of the firmware with the recipe's smallest configuration
    (analytic): features + model, plus the input window buffer and the runtime."""
    spec = loaded.spec
    length, _ = spec.data.window.samples(spec.data.rate_hz)
    cc = CoreCosts(core.float_op_instructions, core.float_div_instructions)
    params: dict[str, dict[str, Any]] = {}
    for key, space in recipe.search.space.items():
        block, dot, param = key.partition(".")
        if dot:
            params.setdefault(block, {})[param] = space.smallest()
    for key, value in recipe.search.fixed.items():
        block, dot, param = key.partition(".")
        if dot:
            params.setdefault(block, {})[param] = value
    blocks: list[FeatureBlock] = [
        FEATURES.get(name)(params.get(name, {}), length, spec.data.channels, spec.data.rate_hz)
        for name in recipe.pipeline.features
    ]
    # window blocks only: vector blocks (projections) are costed once fitted, and are small
    window = [b for b in blocks if b.input == "window"]
    costs = [b.cost(cc) for b in window]
    flash = float(sum(c.flash_bytes for c in costs) + core.float_lib_flash_bytes)
    # the window blocks' outputs are held at once (the model's input vector)
    sram = float(max([c.sram_bytes for c in costs] + [0]) + 4 * sum(b.n_outputs for b in window))
    family = MODELS.get(recipe.pipeline.model)
    bound = getattr(family, "lower_bound_bytes", None)
    if callable(bound):
        mf, ms = bound()
        flash, sram = flash + mf, sram + ms
    flash = max(flash, recipe.applies.min_flash_kb * 1024)
    sram = max(sram, recipe.applies.min_sram_kb * 1024)
    extra = firmware_overhead(core, length * len(spec.data.channels), 1)
    return flash + extra.flash_bytes, sram + extra.sram_bytes


def _mismatch(recipe: Recipe, loaded: LoadedSpec, target: Target) -> str | None:
    """Why ``recipe`` does not apply to this spec and target, or None."""
    spec = loaded.spec
    app = recipe.applies
    kind, modality = spec.task.kind, spec.data.modality
    if kind not in app.task:
        return f"does not handle {kind} (handles {', '.join(app.task)})"
    if modality not in app.modality and not (modality == "imu" and "timeseries" in app.modality):
        return f"is for {', '.join(app.modality)} data, not {modality}"
    length, _ = spec.data.window.samples(spec.data.rate_hz)
    if app.window_samples and not app.window_samples[0] <= length <= app.window_samples[1]:
        return (
            f"is made for windows of {app.window_samples[0]}-{app.window_samples[1]} "
            f"samples; this one has {length}"
        )
    n_ch = len(spec.data.channels)
    if app.channels and not app.channels[0] <= n_ch <= app.channels[1]:
        return f"is made for {app.channels[0]}-{app.channels[1]} channels; the data has {n_ch}"
    if app.needs_fpu and target.fpu == "none":
        return f"needs an FPU; {target.name} ({target.core}) has none"
    if app.needs_dsp and not target.dsp:
        return f"needs the DSP extension; {target.name} ({target.core}) has none"
    missing = [f for f in recipe.pipeline.features if f not in FEATURES]
    if missing:
        return f"feature block {', '.join(missing)} is not available in this mcuforge"
    if recipe.pipeline.model not in MODELS:
        return f"model family {recipe.pipeline.model!r} is not available in this mcuforge"
    family = MODELS.get(recipe.pipeline.model)
    if family.task != kind:
        return f"model family {recipe.pipeline.model!r} is for {family.task}, not {kind}"
    compressions = family.compressions
    if recipe.pipeline.compression not in compressions:
        return (
            f"compression {recipe.pipeline.compression!r} is not available for "
            f"{recipe.pipeline.model} (has {', '.join(compressions)})"
        )
    runtimes = ("c",)  # every family emits plain C; TFLite Micro glue is not built here
    if recipe.pipeline.runtime not in runtimes:
        return (
            f"runtime {recipe.pipeline.runtime!r} is not available for "
            f"{recipe.pipeline.model} (has {', '.join(runtimes)})"
        )
    if family.extra is not None:
        return needs(family.extra)  # applies, but its model family's packages are missing
    return None


def _over_budget(flash: float, sram: float, loaded: LoadedSpec) -> str | None:
    b = loaded.spec.budgets
    if flash > b.flash_kb * 1024:
        return (
            f"the firmware with its smallest model needs {flash / 1024:.2f} kB flash > "
            f"budget {b.flash_kb:g} kB"
        )
    if sram > b.sram_kb * 1024:
        return (
            f"the firmware with its smallest model needs {sram / 1024:.2f} kB SRAM (the "
            f"input window alone {_input_kb(loaded):.2f} kB) > budget {b.sram_kb:g} kB"
        )
    return None


def _input_kb(loaded: LoadedSpec) -> float:
    spec = loaded.spec
    length, _ = spec.data.window.samples(spec.data.rate_hz)
    return 4 * length * len(spec.data.channels) / 1024


def check_budgets(loaded: LoadedSpec, target: Target) -> None:
    """Budgets plus what the application needs must fit the part.

    Raises:
        BudgetError: naming the figure and the part, located in the spec.
    """
    b = loaded.spec.budgets
    for what, key, need, have in (
        ("SRAM", "sram_kb", b.sram_kb + b.app_sram_kb, target.sram_kb),
        ("flash", "flash_kb", b.flash_kb + b.app_flash_kb, target.flash_kb),
    ):
        if need > have:
            raise BudgetError.at(
                loaded.problem(
                    ("budgets", key),
                    f"{what} for the model ({need:g} kB with the application's) exceeds "
                    f"what {target.name} has ({have:g} kB)",
                )
            )


def resolve(loaded: LoadedSpec, catalog: Catalog, pinned: dict[str, int] | None = None) -> Plan:
    """Choose the recipes for ``loaded`` from ``catalog``.

    ``pinned`` maps recipe names to the versions a lock file recorded: with
    ``recipe: auto`` the portfolio is those recipes, at those versions (newer versions
    and new recipes wait for ``mcuforge lock --update``), so the same spec and lock
    give the same search and the same C.

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
    if not chosen:
        _nothing_fits(loaded, rejected)
    decisions = [d for _, _, d in chosen] + rejected
    return Plan(loaded, target, core, [r for _, r, _ in chosen], decisions, qemu)


def _target(loaded: LoadedSpec, catalog: Catalog) -> tuple[Target, Core]:
    """The spec's target and its core, checked against the part and the objectives.

    Raises:
        CatalogError: unknown target or core; ``energy`` without the part's power figures.
        BudgetError: the budgets exceed the part.
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
    why = _mismatch(recipe, loaded, target)
    if why:
        raise CatalogError.at(
            loaded.problem(("recipe",), f"recipe {recipe.ref} cannot be used: it {why}")
        )
    try:
        flash, sram = _lower_bound(recipe, loaded, core)
    except (McuforgeError, ValueError) as exc:
        raise CatalogError.at(
            loaded.problem(("recipe",), f"recipe {recipe.ref} cannot run on this data: {exc}")
        ) from None
    over = _over_budget(flash, sram, loaded)
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
        raise CatalogError.at(
            Located(
                str(loaded.lock_path),
                None,
                None,
                "recipes",
                f"{exc}, but the lock pins it; run `mcuforge lock --update`",
            )
        ) from None


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
        why = _mismatch(recipe, loaded, target)
        if why is None and pinned and name not in pinned:
            why = (
                f"applies, but is not in {loaded.lock_path.name}; run `mcuforge lock "
                "--update` to let the search use it"
            )
        if why:
            rejected.append(Decision(recipe.ref, False, why))
            continue
        try:
            flash, sram = _lower_bound(recipe, loaded, core)
        except (McuforgeError, ValueError) as exc:
            rejected.append(Decision(recipe.ref, False, f"cannot run on this data: {exc}"))
            continue
        over = _over_budget(flash, sram, loaded)
        if over:
            rejected.append(Decision(recipe.ref, False, over, flash, sram))
            continue
        b = spec.budgets
        # rank: recipes made for this modality first (listed first in `applies`), then
        # the most headroom under the budgets
        specific = 0 if recipe.applies.modality[0] == spec.data.modality else 1
        fit = specific + max(flash / (b.flash_kb * 1024), sram / (b.sram_kb * 1024))
        reason = (
            f"handles {spec.task.kind} on {spec.data.modality} data; the firmware with its "
            f"smallest configuration needs at least {flash / 1024:.2f} kB flash, "
            f"{sram / 1024:.2f} kB SRAM"
        )
        fits.append((fit, recipe, Decision(recipe.ref, True, reason, flash, sram)))
    fits.sort(key=lambda t: (t[0], t[1].name))
    return fits, rejected


def _nothing_fits(loaded: LoadedSpec, decisions: list[Decision]) -> None:
    """Raise why no recipe takes part: the smallest budget that would fit, or why none applies.

    Raises:
        BudgetError: recipes apply but none fits; names the smallest budget that would.
        CatalogError: no recipe applies to this spec.
    """
    sized = [d for d in decisions if d.min_flash_bytes is not None]
    if sized:
        best = min(sized, key=lambda d: max(d.min_flash_bytes or 0, d.min_sram_bytes or 0))
        raise BudgetError.at(
            loaded.problem(
                ("budgets",),
                "no recipe fits the budgets even at its smallest configuration; the "
                f"smallest is {best.recipe}: flash_kb >= "
                f"{(best.min_flash_bytes or 0) / 1024:.2f}, sram_kb >= "
                f"{(best.min_sram_bytes or 0) / 1024:.2f} would fit. "
                + "; ".join(f"{d.recipe}: {d.reason}" for d in decisions),
            )
        )
    raise CatalogError.at(
        loaded.problem(
            ("task",),
            "no recipe applies to this spec: "
            + "; ".join(f"{d.recipe}: {d.reason}" for d in decisions),
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


def registry_problems(catalog: Catalog, folders: list[Path]) -> list[Located]:
    """Recipes in ``folders`` naming feature blocks or model families that do not exist."""
    out: list[Located] = []
    for versions in catalog.recipes.values():
        for r in versions:
            src = catalog.sources[f"recipe:{r.ref}"].path.resolve()
            if not any(src.is_relative_to(f) for f in folders):
                continue
            for block in r.pipeline.features:
                if block not in FEATURES:
                    out.append(
                        _unknown(src, "pipeline.features", "feature block", block, FEATURES.names())
                    )
            if r.pipeline.model not in MODELS:
                out.append(
                    _unknown(
                        src, "pipeline.model", "model family", r.pipeline.model, MODELS.names()
                    )
                )
    return out


def _unknown(src: Path, field: str, what: str, name: str, known: list[str]) -> Located:
    """An unknown registry name in a recipe file, located, with a suggestion."""
    line, col = _mark_of(src, field)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    return Located(str(src), line, col, field, f"unknown {what} {name!r}; {hint}")


def _mark_of(src: Path, field: str) -> tuple[int | None, int | None]:
    try:
        _, marks = load_file(src)
    except McuforgeError:
        return None, None
    return locate(marks, tuple(field.split(".")))
