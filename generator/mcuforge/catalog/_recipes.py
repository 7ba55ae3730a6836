"""How to build a model: a recipe, where it applies, its pipeline and search space."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from ..spec import RecipeOverrides
from ._base import _Strict


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
        min_length=1,
        description=(
            "Data modalities this recipe handles; `timeseries` also takes `imu` and "
            "`audio` data (both are sampled signals)."
        ),
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
