"""Requantisation as one 32 x 32 + 64-bit multiply-add (the ``affine`` form).

TFLite requantises an accumulator as ``MultiplyByQuantizedMultiplier(acc, m, shift) +
zp`` clamped to the activation range ``[lo, hi]``: two roundings, about seven
instructions on a Cortex-M4. Both are monotone step functions of ``acc``, and over the
accumulators a layer can produce the clamped result is often exactly
``clamp((acc * M + C) >> 32)`` for one integer pair (M, C) per channel: one SMLAL (the
high word of the 64-bit sum is the result). Whether such a pair exists is decided here
by checking every accumulator whose requantised value lies inside ``[lo, hi]`` (below
and above that window both functions are monotone and clamp), so the form is used only
where it is bit-exact. The usual case is a ReLU layer whose output zero point is -128:
there the negative accumulators (where TFLite's round-half-away-from-zero would differ
from the floor of an affine function) all clamp to -128.
"""

from __future__ import annotations

import numpy as np

#: Largest window of accumulators checked per channel (beyond it: no affine form).
MAX_WINDOW = 1 << 22
#: Multipliers tried around the nearest to the real scale.
_STEPS = (0, 1, -1, 2, -2, 3, -3, 4, -4)


def mbqm_array(acc: np.ndarray, m: int, right: int) -> np.ndarray:
    """``MultiplyByQuantizedMultiplier`` for a right shift (``shift = -right <= 0``) on
    int64 accumulators with ``|acc| < 2^31`` (SaturatingRoundingDoublingHighMul
    cannot saturate for ``m > 0``), then RoundingDivideByPOT."""
    ab = acc.astype(np.int64) * np.int64(m)
    v = ab + np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    q = np.where(v >= 0, v >> 31, -((-v) >> 31))
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (q < 0)
    out: np.ndarray = (q >> right) + ((q & mask) > threshold)
    return out


def _channel(m: int, right: int, zp: int, lo: int, hi: int, bound: int) -> tuple[int, int] | None:
    """(M, C) with ``clamp((acc * M + C) >> 32) == clamp(mbqm(acc) + zp)`` for every
    ``|acc| <= bound``, or None."""
    scale = m / 2.0 ** (31 + right)
    a0 = max(-bound, int(np.floor((lo - zp - 2) / scale)) - 2)
    a1 = min(bound, int(np.ceil((hi - zp + 2) / scale)) + 2)
    if a1 < a0 or a1 - a0 > MAX_WINDOW:
        return None
    acc = np.arange(a0, a1 + 1, dtype=np.int64)
    f = mbqm_array(acc, m, right) + zp
    if (a0 > -bound and f[0] > lo) or (a1 < bound and f[-1] < hi):
        return None  # the window does not reach both clamps (cannot happen; be safe)
    above, below = f > lo, f < hi
    low_f = np.minimum(f[above], hi) << 32
    high_f = (np.maximum(f[below], lo) + 1) << 32
    nearest = round(scale * 2.0**32)
    for step in _STEPS:
        mult = nearest + step
        if not 0 < mult < 2**31:
            continue
        c_min = int(np.max(low_f - acc[above] * mult, initial=-(2**62)))
        c_max = int(np.min(high_f - 1 - acc[below] * mult, initial=2**62))
        if c_min <= c_max:
            return mult, c_min
    return None


def affine_rows(
    mults: np.ndarray, shifts: np.ndarray, zp: int, lo: int, hi: int, bound: int
) -> np.ndarray | None:
    """Per channel ``{C & 0xffffffff (as int32), C >> 32, M, 0}`` of the affine form, or
    None when a channel has a left shift or no exact (M, C)."""
    rows = []
    for m, shift in zip(mults, shifts, strict=True):
        if shift > 0 or m <= 0:
            return None
        found = _channel(int(m), int(-shift), zp, lo, hi, bound)
        if found is None:
            return None
        mult, c = found
        c_lo = c & 0xFFFFFFFF
        rows.append([c_lo - (1 << 32) if c_lo >= 1 << 31 else c_lo, c >> 32, mult, 0])
    return np.asarray(rows, dtype=np.int64).reshape(-1)
