"""One multiply-accumulate in place of a fully connected layer's requantisation.

The requantisation of an output channel, ``y = clamp(f(bias + dot), lo, hi)`` with
``f`` LiteRT's ``round(double(acc) * scale) + zp`` or TFLite Micro's
``MultiplyByQuantizedMultiplier(acc, m, shift) + zp``, is a nondecreasing step function
of the dot product ``dot`` (the scale is positive; every rounding step is monotone).
So is ``g(dot) = (c + dot * m) >> (32 + r)`` (64-bit ``c``, one SMLAL and one ASR on a
Cortex-M4) for any ``m > 0``. Two nondecreasing functions that agree on both sides of
every step of the first, ``b_t - 1`` and ``b_t`` with ``b_t`` the smallest ``dot`` at
which ``clamp(f)`` reaches ``t``, agree after the clamp on every ``dot`` in between:
matching ``2 * (hi - lo)`` points is an exact proof over the whole reachable range
``|dot| <= 128 * sum |w|``. Each matched point bounds ``c`` from one side (exact Python
integers), so a slope ``m`` works when those bounds leave room; a few slopes around
``scale * 2^(32 + r)`` are tried, and a channel that fits none keeps the general
kernel.

``add_input_form`` settles an ADD input's rescaling the same way, on all 256 int8
values.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._quant import mbqm, wrap32

#: Slopes tried around the nearest one (+-1, +-2, ...).
SLOPE_TRIES = 16
IntFn = Callable[[np.ndarray], np.ndarray]


def dround_fn(scale: float, zp: int) -> IntFn:
    """LiteRT's reference fully connected requantisation: ``round(double(acc) *
    scale) + zp`` (IEEE double product, then half away from zero), vectorised."""

    def f(acc: np.ndarray) -> np.ndarray:
        v = acc.astype(np.float64) * np.float64(scale)
        whole = np.trunc(v)
        up = np.abs(v - whole) >= 0.5
        out: np.ndarray = whole.astype(np.int64) + np.where(up, np.sign(v).astype(np.int64), 0)
        return out + zp

    return f


def mbqm_fn(m: int, shift: int, zp: int) -> IntFn:
    """``MultiplyByQuantizedMultiplier(acc, m, shift) + zp`` (gemmlowp's
    SaturatingRoundingDoublingHighMul then RoundingDivideByPOT), vectorised for
    ``0 < m < 2^31`` and accumulators whose left-shifted value fits int32."""
    left, right = max(shift, 0), max(-shift, 0)

    def f(acc: np.ndarray) -> np.ndarray:
        a = acc.astype(np.int64) << left
        hi = (a * m + (1 << 30)) >> 31
        mask = (1 << right) - 1
        q = hi >> right
        out: np.ndarray = q + ((hi & mask) > (mask >> 1) + (q < 0)).astype(np.int64)
        return out + zp

    return f


def litert_fns(md: np.ndarray, sh: np.ndarray, zp: int) -> tuple[list[IntFn], list[float]]:
    """Each channel's LiteRT requantisation and scale from ``(md >> 32, md & 0xffffffff)``
    pairs and shifts (scale ``md * 2^-sh``)."""
    scales = [
        math.ldexp((int(md[2 * i]) << 32) | int(md[2 * i + 1]), -int(sh[i])) for i in range(len(sh))
    ]
    return [dround_fn(s, zp) for s in scales], scales


def tflm_fns(mults: np.ndarray, shifts: np.ndarray, zp: int) -> tuple[list[IntFn], list[float]]:
    """Each channel's TFLite Micro requantisation and scale ``m * 2^(shift - 31)``."""
    pairs = [(int(m), int(s)) for m, s in zip(mults, shifts, strict=True)]
    return [mbqm_fn(m, s, zp) for m, s in pairs], [math.ldexp(m, s - 31) for m, s in pairs]


def add_input_form(zp: int, m: int, shift: int, left: int) -> tuple[list[int], list[int]] | None:
    """One ADD input's rescaling ``mbqm((x - zp) << left, m, shift)`` for every int8
    ``x``, and the SMMULR form ``{s, c, r}`` giving the same 256 values
    (``v = SMMULR((x - zp) << s, m); (v + c + (v >> 31)) >> r``), or None."""
    xs = range(-128, 128)
    values = [mbqm(wrap32((x - zp) << left), m, shift) for x in xs]
    r = -shift
    s, c = (left + 1, 1 << (r - 1)) if r >= 1 else (left + 2, 1)
    r = max(r, 1)
    for x, want in zip(xs, values, strict=True):
        v = (((x - zp) << s) * m + (1 << 31)) >> 32
        if not -(2**31) <= (x - zp) << s < 2**31 or (v + c + (v >> 31)) >> r != want:
            return None
    return [s, c, r], values


def _steps(f: IntFn, bias: int, lo: int, hi: int, bound: int) -> np.ndarray:
    """For t = lo + 1 .. hi the smallest dot in [-bound, bound + 1] with
    clamp(f(bias + dot)) >= t (bound + 1 when none), by bisection of all t at once."""
    t = np.arange(lo + 1, hi + 1, dtype=np.int64)
    a = np.full(len(t), -bound - 1, dtype=np.int64)  # f < t here (or the range start)
    b = np.full(len(t), bound + 1, dtype=np.int64)  # f >= t here (or past the range)
    while True:
        open_ = b - a > 1
        if not open_.any():
            return b
        mid = (a + b) // 2
        ok = np.minimum(np.maximum(f(bias + mid), lo), hi) >= t
        b = np.where(open_ & ok, mid, b)
        a = np.where(open_ & ~ok, mid, a)


def fit_channel(
    f: IntFn, scale: float, bias: int, lo: int, hi: int, bound: int, shift: int | None = None
) -> tuple[int, int, int] | None:
    """``(c, m, r)`` with ``clamp((c + dot * m) >> (32 + r), lo, hi) ==
    clamp(f(bias + dot), lo, hi)`` for every ``|dot| <= bound``, or None; ``r`` is the
    largest that keeps ``m`` below 2^31, or ``shift`` when given (the convolution
    kernels take the high word of the SMLAL as it is: ``shift=0``)."""
    steps = [int(v) for v in _steps(f, bias, lo, hi, bound)]
    r = 0
    while shift is None and scale * 2.0 ** (33 + r) < 2**31 and r < 30:
        r += 1
    r = r if shift is None else shift
    shift = 32 + r
    base = round(scale * 2.0**shift)
    for delta in sorted(range(-SLOPE_TRIES, SLOPE_TRIES + 1), key=abs):
        m = base + delta
        if not 0 < m < 2**31:
            continue
        c_min, c_max = None, None
        for t, b in zip(range(lo + 1, hi + 1), steps, strict=True):
            if b <= bound:  # g(b) >= t
                low = (t << shift) - b * m
                c_min = low if c_min is None else max(c_min, low)
            if b > -bound:  # g(b - 1) <= t - 1
                high = (t << shift) - (b - 1) * m - 1
                c_max = high if c_max is None else min(c_max, high)
        if c_min is not None and c_max is not None and c_min > c_max:
            continue
        # one side unbounded: its bound; none at all (lo == hi): anything
        c = c_min if c_max is None else c_max if c_min is None else (c_min + c_max) // 2
        c = 0 if c is None else c
        if abs(c) + bound * m < 2**63:  # no int64 overflow in the C
            return c, m, r
    return None


def fit_layer(
    fns: list[IntFn],
    scales: list[float],
    bias: np.ndarray,
    lo: int,
    hi: int,
    bounds: np.ndarray,
    shift: int | None = None,
) -> np.ndarray | None:
    """Per channel ``{c & 0xffffffff, c >> 32, m, r}`` as int32 values (int64 array),
    or None when a channel does not fit (``shift``: see ``fit_channel``)."""
    rows = []
    for f, s, b, bound in zip(fns, scales, bias, bounds, strict=True):
        fitted = fit_channel(f, s, int(b), lo, hi, int(bound), shift)
        if fitted is None:
            return None
        c, m, r = fitted
        low = c & 0xFFFFFFFF
        rows.append([low - (1 << 32) if low >= 1 << 31 else low, c >> 32, m, r])
    return np.asarray(rows, dtype=np.int64).reshape(-1)
