"""Feature block parameter errors and the checks shared by several blocks.

Block parameters come from a recipe's ``search`` (or a spec's recipe overrides); each
block declares them in its ``Params`` model (:mod:`mcuforge.params`). A bad one, or one
that does not fit the data's window or rate, is a :class:`FeatureParamError`, a
:class:`~mcuforge.params.ParamError` (a :class:`~mcuforge.errors.CatalogError` and a
``ValueError``).
"""

from __future__ import annotations

from ..params import ParamError


class FeatureParamError(ParamError):
    """A feature block parameter is invalid, or does not fit the data's window or rate."""


def is_pow2(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def power_of_two(n: int | None) -> int | None:
    """A field validator: an FFT size must be a power of two >= 8 (or null: the default)."""
    if n is not None and (not is_pow2(n) or n < 8):
        raise ValueError(f"must be a power of two >= 8 (8, 16, 32, 64, ...), got {n}")
    return n


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
