"""Validation of feature block parameters: one clear error naming the parameter and the fix.

Block parameters come from a recipe's ``pipeline``/``search`` (or a spec's recipe
overrides), so a bad one is reported as a :class:`FeatureParamError`, a
:class:`~mcuforge.errors.CatalogError` that is also a ``ValueError`` (what blocks
raised before this module existed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import CatalogError


class FeatureParamError(CatalogError, ValueError):
    """A feature block parameter is invalid, or does not fit the data's window or rate."""


def is_pow2(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def get_int(
    params: dict[str, Any], block: str, key: str, default: int, lo: int, hi: int | None = None
) -> int:
    """``params[key]`` as an int in ``[lo, hi]``."""
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise FeatureParamError(f"{block}.{key} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        span = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise FeatureParamError(f"{block}.{key} must be {span}, got {value}")
    return int(value)


def get_float(
    params: dict[str, Any], block: str, key: str, default: float | None, positive: bool = True
) -> float | None:
    """``params[key]`` as a float (None stays None), > 0 when ``positive``."""
    value = params.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeatureParamError(f"{block}.{key} must be a number, got {value!r}")
    if positive and not value > 0:
        raise FeatureParamError(f"{block}.{key} must be > 0, got {value}")
    return float(value)


def get_choice(
    params: dict[str, Any], block: str, key: str, default: str, options: Sequence[str]
) -> str:
    value = params.get(key, default)
    if value not in options:
        raise FeatureParamError(f"{block}.{key} must be one of {', '.join(options)}; got {value!r}")
    return str(value)


def get_bool(params: dict[str, Any], block: str, key: str, default: bool) -> bool:
    value = params.get(key, default)
    if not isinstance(value, bool):
        raise FeatureParamError(f"{block}.{key} must be true or false, got {value!r}")
    return value


def get_subset(
    params: dict[str, Any], block: str, key: str, options: Sequence[str], default: Sequence[str]
) -> list[str]:
    """A non-empty subset of ``options``, returned in the canonical order of ``options``."""
    chosen = params.get(key, list(default))
    if isinstance(chosen, str) or not isinstance(chosen, list | tuple):
        raise FeatureParamError(f"{block}.{key} must be a list, e.g. [{', '.join(options)}]")
    unknown = [s for s in chosen if s not in options]
    if unknown or not chosen:
        raise FeatureParamError(
            f"{block}.{key} must be a non-empty subset of [{', '.join(options)}]"
            + (f"; unknown: {', '.join(map(str, unknown))}" if unknown else "")
        )
    return [s for s in options if s in chosen]


def check_unknown(params: dict[str, Any], block: str, known: Sequence[str]) -> None:
    """Refuse parameters the block does not have (a typo would otherwise be ignored)."""
    extra = sorted(set(params) - set(known))
    if extra:
        raise FeatureParamError(
            f"{block} has no parameter {', '.join(extra)}; its parameters are "
            f"{', '.join(sorted(known))}"
        )


def need_rate(block: str, rate_hz: float | None) -> float:
    """The sample rate, which spectral and audio blocks cannot work without."""
    if rate_hz is None or not rate_hz > 0:
        raise FeatureParamError(
            f"{block} needs the sample rate: give `rate_hz` for every sensor in the spec's "
            f"`data.sensors` (got {rate_hz!r})"
        )
    return float(rate_hz)


def need_fitted(block: str, fitted: bool) -> None:
    if not fitted:
        raise RuntimeError(f"{block}: call fit() before transform(), emit_c() or cost()")
