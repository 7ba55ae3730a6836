"""Whether a recipe applies to a spec and target, and the least it can cost.

A recipe applies when it handles the task, the data modality, the window and channel
counts and the core's features, and names blocks and a model family this mcuforge
has; its analytic lower bound (its smallest configuration, plus the firmware around
it) must fit the budgets. Each check returns the reason a recipe is out, or None.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._yaml import load_file, locate
from ..catalog import Catalog, Core, Recipe, Target
from ..cost import firmware_overhead
from ..errors import Located, McuforgeError, SpecError
from ..extras import needs
from ..features import FEATURES, CoreCosts, FeatureBlock
from ..models import MODELS
from ..recipe_check import dimension_values
from ..spec import LoadedSpec

#: The analytic instruction counts are within 25 % of unicorn's exact ones (the goal
#: bench/RESULTS.md checks on every core it measures); a latency lower bound takes the
#: estimate at 75 %, so that no recipe is refused on an overestimate.
LATENCY_BOUND_SHARE = 0.75


@dataclass(frozen=True)
class Least:
    """The least a recipe's firmware can cost (analytic): flash and SRAM bytes, and the
    time of one window's features (at :data:`LATENCY_BOUND_SHARE`; the model on top)."""

    flash: float
    sram: float
    latency_ms: float
    default_flash: float  # the same bound with the first value of every choice (the
    default_sram: float  # default configuration's), which orders the warm start


def lower_bound(recipe: Recipe, loaded: LoadedSpec, core: Core, target: Target) -> Least:
    """The firmware with the recipe's smallest configuration: features + model, plus the
    input window buffer and the runtime (flash, SRAM), and its window features' time."""
    (flash, sram, instructions), (first_flash, first_sram, _) = _smallest(recipe, loaded, core)
    latency = LATENCY_BOUND_SHARE * instructions * core.cpi / (target.clock_mhz * 1e3)
    return Least(flash, sram, latency, first_flash, first_sram)


#: At most this many combinations of the block parameters' choices are costed for the
#: lower bound (every recipe of the catalog has fewer); beyond it, the first values.
MAX_COMBINATIONS = 512


def _block_params(recipe: Recipe) -> list[dict[str, dict[str, Any]]]:
    """Every combination of the recipe's block parameters that can make the firmware
    smallest: each choice's values (the first is the default, not the smallest), the
    low end of ranges, the first value of subsets; fixed parameters as fixed."""
    dims: list[tuple[str, str, list[Any]]] = []
    for key, space in recipe.search.space.items():
        block, dot, param = key.partition(".")
        if dot:
            dims.append((block, param, list(space.choice or [space.smallest()])))
    if math.prod(len(v) for _, _, v in dims) > MAX_COMBINATIONS:
        dims = [(b, p, v[:1]) for b, p, v in dims]
    out = []
    for values in itertools.product(*(v for _, _, v in dims)):
        params: dict[str, dict[str, Any]] = {}
        for (block, param, _), value in zip(dims, values, strict=True):
            params.setdefault(block, {})[param] = value
        for key, value in recipe.search.fixed.items():
            block, dot, param = key.partition(".")
            if dot:
                params.setdefault(block, {})[param] = value
        out.append(params)
    return out


Figures = tuple[float, float, float]


def _smallest(recipe: Recipe, loaded: LoadedSpec, core: Core) -> tuple[Figures, Figures]:
    """Flash and SRAM bytes of the firmware and instructions of the window features,
    each the least of any configuration of the recipe's blocks (analytic); and the same
    with the first value of every choice."""
    spec = loaded.spec
    length, _ = spec.data.window.samples(spec.data.rate_hz)
    cc = CoreCosts(core.float_op_instructions, core.float_div_instructions)
    least = [math.inf, math.inf, math.inf]
    first: list[float] = []
    for params in _block_params(recipe):  # the first: every choice at its first value
        blocks: list[FeatureBlock] = [
            FEATURES.get(name)(params.get(name, {}), length, spec.data.channels, spec.data.rate_hz)
            for name in recipe.pipeline.features
        ]
        # window blocks only: vector blocks (projections) are costed once fitted, and small
        window = [b for b in blocks if b.input == "window"]
        costs = [b.cost(cc) for b in window]
        figures = (
            float(sum(c.flash_bytes for c in costs)),
            # the window blocks' outputs are held at once (the model's input vector)
            float(max([c.sram_bytes for c in costs] + [0]) + 4 * sum(b.n_outputs for b in window)),
            float(sum(c.instructions for c in costs)),
        )
        least = [min(a, b) for a, b in zip(least, figures, strict=True)]
        first = first or list(figures)
    family = MODELS.get(recipe.pipeline.model)
    bound = getattr(family, "lower_bound_bytes", None)
    model_flash, model_sram = bound() if callable(bound) else (0.0, 0.0)
    extra = firmware_overhead(core, length * len(spec.data.channels), 1)

    def firmware(f: list[float]) -> Figures:
        flash = max(
            f[0] + core.float_lib_flash_bytes + model_flash, recipe.applies.min_flash_kb * 1024
        )
        sram = max(f[1] + model_sram, recipe.applies.min_sram_kb * 1024)
        return flash + extra.flash_bytes, sram + extra.sram_bytes, f[2]

    return firmware(least), firmware(first)


#: Data modalities that are also a ``timeseries`` (a sampled signal): a recipe for time
#: series takes them too (IMU windows; audio, where spectral features, MiniRocket or a
#: forest on the window may beat the audio recipes on a few clips).
SIGNALS = ("imu", "audio")


def handles_modality(listed: Sequence[str], modality: str) -> bool:
    """Whether a recipe whose ``applies.modality`` is ``listed`` takes ``modality`` data."""
    return modality in listed or (modality in SIGNALS and "timeseries" in listed)


def mismatch(recipe: Recipe, loaded: LoadedSpec, target: Target) -> str | None:
    """Why ``recipe`` does not apply to this spec and target, or None."""
    spec = loaded.spec
    app = recipe.applies
    kind, modality = spec.task.kind, spec.data.modality
    if kind not in app.task:
        return f"does not handle {kind} (handles {', '.join(app.task)})"
    if not handles_modality(app.modality, modality):
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
    if kind == "anomaly" and _augments(recipe):
        return (
            "augments its training windows (augment.copies); a detector holds normal "
            "windows out to set its alarm threshold, and their altered copies would be "
            "among the windows it learns from: set augment.copies to 0 for anomaly detection"
        )
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


def _augments(recipe: Recipe) -> bool:
    """Whether a configuration of ``recipe`` can have augmented copies of its windows."""
    key = "augment.copies"
    if key in recipe.search.fixed:
        return bool(recipe.search.fixed[key])
    space = recipe.search.space.get(key)
    return space is not None and any(bool(v) for _, v, _ in dimension_values(space))


def over_latency(latency_ms: float, loaded: LoadedSpec, target: Target) -> str | None:
    """Why the least time a window can take exceeds ``budgets.latency_ms``, or None."""
    budget = loaded.spec.budgets.latency_ms
    if budget is None or latency_ms <= budget:
        return None
    return (
        f"its window features alone take at least {latency_ms:.3g} ms per window at "
        f"{target.clock_mhz:g} MHz (analytic) > budget {budget:g} ms"
    )


def over_budget(flash: float, sram: float, loaded: LoadedSpec) -> str | None:
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
        SpecError: naming the figure and the part, located in the spec (a mistake in
            the spec, exit 2 like any other: no search can make the part larger).
    """
    b = loaded.spec.budgets
    over = [
        loaded.problem(
            ("budgets", key),
            f"{what} for the model ({need:g} kB with the application's) exceeds "
            f"what {target.name} has ({have:g} kB)",
        )
        for what, key, need, have in (
            ("SRAM", "sram_kb", b.sram_kb + b.app_sram_kb, target.sram_kb),
            ("flash", "flash_kb", b.flash_kb + b.app_flash_kb, target.flash_kb),
        )
        if need > have
    ]
    if over:  # both at once when both are over
        raise SpecError(over)


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
