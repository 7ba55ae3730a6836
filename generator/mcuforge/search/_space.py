"""From recipes' search spaces to Optuna parameters and back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna

from ..catalog import Recipe, SearchParam


@dataclass(frozen=True)
class CandidateConfig:
    """A recipe and concrete parameters: enough to rebuild a candidate."""

    recipe: Recipe
    model_params: dict[str, Any]
    block_params: dict[str, dict[str, Any]]


def _suggest(trial: optuna.Trial, name: str, p: SearchParam) -> Any:
    if p.int_ is not None:
        return trial.suggest_int(name, p.int_[0], p.int_[1], log=p.log)
    if p.float_ is not None:
        return trial.suggest_float(name, p.float_[0], p.float_[1], log=p.log)
    if p.choice is not None:
        return trial.suggest_categorical(name, p.choice)
    assert p.subset is not None
    picked = [o for o in p.subset if trial.suggest_categorical(f"{name}.{o}", [True, False])]
    if not picked:
        raise optuna.TrialPruned(f"empty subset: none of {name.split('/')[-1]} chosen; not run")
    return picked


def sample_config(trial: optuna.Trial, recipes: list[Recipe]) -> CandidateConfig:
    """Sample a recipe (a categorical when there are several) and its parameters.

    Parameter names are ``recipe-name/key``, so each recipe's space is conditional on
    the recipe being chosen. The recipe's compression and runtime reach the model
    family as the parameters ``compression`` and ``runtime``.
    """
    if len(recipes) > 1:
        ref = trial.suggest_categorical("recipe", [r.ref for r in recipes])
        recipe = next(r for r in recipes if r.ref == ref)
    else:
        recipe = recipes[0]
    model_params: dict[str, Any] = {
        "compression": recipe.pipeline.compression,
        "runtime": recipe.pipeline.runtime,
    }
    block_params: dict[str, dict[str, Any]] = {}
    values = {**recipe.search.fixed}
    for key, space in recipe.search.space.items():
        values[key] = _suggest(trial, f"{recipe.name}/{key}", space)
    for key, value in values.items():
        block, dot, param = key.partition(".")
        if dot:
            block_params.setdefault(block, {})[param] = value
        else:
            model_params[key] = value
    return CandidateConfig(recipe, model_params, block_params)


def default_params(recipe: Recipe, with_recipe: bool) -> dict[str, Any]:
    """The Optuna parameters of ``recipe``'s default configuration (for ``enqueue_trial``);
    ``with_recipe``: the recipe is itself a parameter (several recipes in the search)."""
    params: dict[str, Any] = {"recipe": recipe.ref} if with_recipe else {}
    for key, p in recipe.search.space.items():
        name = f"{recipe.name}/{key}"
        value = p.default_value()
        if p.subset is not None:
            for o in p.subset:
                params[f"{name}.{o}"] = o in value
        else:
            params[name] = value
    return params


def config_from_params(
    params: dict[str, Any], recipes: list[Recipe], number: int = 0
) -> CandidateConfig:
    """Replay a finished trial's parameters into a config."""
    return sample_config(optuna.trial.FixedTrial(params, number=number), recipes)  # type: ignore[arg-type]


GRID_MAX_INT_VALUES = 16


def grid_space(recipes: list[Recipe]) -> dict[str, list[Any]]:
    """The GridSampler space of a single recipe with discrete dimensions.

    Raises:
        ValueError: several recipes, a float range, or an integer range too wide to
            enumerate (more than ``GRID_MAX_INT_VALUES`` values).
    """
    if len(recipes) != 1:
        raise ValueError("grid search needs one recipe; pin `recipe:` in the spec")
    recipe = recipes[0]
    space: dict[str, list[Any]] = {}
    for key, p in recipe.search.space.items():
        name = f"{recipe.name}/{key}"
        if p.int_ is not None:
            lo, hi = p.int_
            if hi - lo + 1 > GRID_MAX_INT_VALUES:
                raise ValueError(
                    f"{key}: {hi - lo + 1} integer values are too many for a grid; "
                    "override it with `{choice: [...]}`"
                )
            space[name] = list(range(lo, hi + 1))
        elif p.float_ is not None:
            raise ValueError(
                f"{key}: a float range cannot be enumerated; override it with "
                "`{choice: [...]}` for grid search"
            )
        elif p.choice is not None:
            space[name] = list(p.choice)
        else:
            assert p.subset is not None
            for o in p.subset:
                space[f"{name}.{o}"] = [True, False]
    return space
