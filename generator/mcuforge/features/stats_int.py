"""Per-channel statistics in integer arithmetic (``stats`` with ``numeric: int16``).

For cores without an FPU, where every float operation is a library call: every
operation per sample is an integer one; float arithmetic is left to a few operations
per statistic. Right shifts of negative values are arithmetic, as GCC, Clang and Arm's
compilers implement them.

**Pass 1** finds, per channel, the smallest and largest sample by comparing integer
order keys of their bits (``key(b) = b`` for ``b >= 0``, ``b ^ 0x7fffffff`` otherwise,
as the tree models do). ``E``, the larger biased exponent of the two, is the block
exponent of the window (the largest ``|x|`` is one of them).

**The int16 samples.** A sample with bits ``b`` and biased exponent ``e`` becomes
``q = ±((((b << 8) | 2^31) >> h) + 1) >> 1`` with ``h = E + 17 - e``, and 0 when
``h > 31`` (zeros, subnormals, samples 2^14 times below the peak): the 24-bit mantissa
rounded (half up on the magnitude) to ``|q| <= 16384``, so ``x ~= q * 2^(E - 140)``. A
channel whose peak is below 2^-112 (``E < 15``) reads as zeros.

**Pass 2** sums ``S = Σq`` (int32) and ``Q = Σq²`` (uint64) and counts the sign
changes of ``q >= 0`` (zcr); ``lo``/``hi`` are the conversions of the smallest and
largest sample (the conversion is monotone).

**The statistics** (``n`` = window length, ``1/n`` a float32 constant, ``ldexp`` =
exponent arithmetic on the float's bits, flushing to 0 below the normal range):

* ``mean = ldexp((float)S * (1/n), E - 140)``
* ``min``, ``max``, ``ptp`` = ``ldexp((float)v, E - 140)`` of ``lo``, ``hi``, ``hi - lo``
* ``std = sqrt(n Q - S²) / n``, ``rms = sqrt(n Q) / n``: the integer under the root is
  exact (int64); shifted by an even ``2j`` into ``[2^30, 2^32)``, its integer square
  root ``r`` (16 bits) gives ``ldexp((float)r * (1/n), E - 140 + j)``
* ``zcr`` = ``(float)count * (1/(n-1))``
* **pass 3** (``mcr``, ``skew``, ``kurtosis`` only) converts the samples again:
  ``mcr`` counts changes of ``n q >= S`` (exact: ``q >= mean``); for the moments,
  with ``m = S / n`` (C's truncating division), ``D = max(hi - m, m - lo)`` and the
  smallest ``t`` with ``D >> t < 1024``, ``d = (q - m) >> t`` (10 bits) sums
  ``A1 = Σd``, ``A2 = Σd²``, ``A3 = Σd³`` and ``A4 = Σ(d² >> 4)²``; then in float32,
  ``a_k = (float)A_k * (1/n)`` (``a4`` also times 256), ``δ = a1``,
  ``m2 = a2 - δ²``, ``m3 = a3 - 3δ a2 + 2δ²δ``, ``m4 = a4 - 4δ a3 + 6δ² a2 - 3δ²δ²``;
  skew ``m3 / (m2 sqrtf(m2))``, kurtosis ``m4 / (m2 m2) - 3`` (0 when ``m2 <= 0``),
  written in this order in C.

The numpy reference below does the same integer and float32 operations, so the C is
bit-exact against it (tolerance 0). Against the float32 statistics the difference is
the 14-bit quantisation of the window (bench/features.py shows its effect on the
example's test accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cost import CoreCosts
from ._base import BlockCost

I64 = np.int64
F32 = np.float32
#: q = x * 2^(Q_EXP - E): |q| <= 2^14.
Q_EXP = 140
#: h = E + H_BASE - e; below MIN_EXPONENT a channel reads as zeros.
H_BASE = 17
MIN_EXPONENT = 15
#: Windows longer than this could overflow the int64 sums (n * n * 2^28 < 2^63).
MAX_LENGTH = 65536
#: The moments use 10-bit deviations; A4 sums (d² >> A4_SHIFT)².
MOMENT_BITS = 10
#: q² <= 2^28: 15 of them fit a uint32 (summed so on cores without 64-bit adds in a
#: register pair to spare).
SQ_BLOCK = 15
A4_SHIFT = 4


def _bits(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.ascontiguousarray(x, dtype=F32).view(np.uint32).astype(I64)
    return out


def _key(b: np.ndarray) -> np.ndarray:
    """Order keys (int64) of float bit patterns (uint32 values in int64)."""
    signed = np.where(b >= 1 << 31, b - (1 << 32), b)
    out: np.ndarray = np.where(signed >= 0, signed, signed ^ 0x7FFFFFFF)
    return out


def to_int16(b: np.ndarray, k0: np.ndarray) -> np.ndarray:
    """The samples ``q`` (int64) of float bits ``b`` with ``k0 = E + 17`` (or -1)."""
    e = (b >> 23) & 0xFF
    h = k0 - e
    ok = (h >= 0) & (h <= 31)
    m = ((b << 8) & 0xFFFFFFFF) | 0x80000000
    mag = np.where(ok, ((m >> np.clip(h, 0, 31)) + 1) >> 1, 0)
    out: np.ndarray = np.where((b >> 31) != 0, -mag, mag)
    return out


def ldexp(v: np.ndarray, k: np.ndarray) -> np.ndarray:
    """float32 ``v * 2^k`` on the exponent bits: 0 stays 0, below the normal range
    flushes to 0, the exponent is capped at 254 (as the C helper)."""
    bits = _bits(v)
    e = ((bits >> 23) & 0xFF) + k
    out = (bits & 0x807FFFFF) | (np.clip(e, 1, 254) << 23)
    out = np.where(((bits & 0x7FFFFFFF) == 0) | (e <= 0), 0, out)
    res: np.ndarray = out.astype(np.uint32).view(F32)
    return res


def isqrt_scaled(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(r, j)``: ``r = isqrt(v * 4^-j)`` with ``v * 4^-j`` in ``[2^30, 2^32)``
    (``v >= 0``; ``v == 0`` gives ``(0, 0)``)."""
    w = np.asarray(v, dtype=I64).copy()
    j = np.zeros(w.shape, dtype=I64)
    for _ in range(32):
        big = w >= (I64(1) << 32)
        small = (w > 0) & (w < (I64(1) << 30))
        w = np.where(big, w >> 2, np.where(small, w << 2, w))
        j = j + big - small
    r = np.floor(np.sqrt(w.astype(np.float64))).astype(I64)  # exact below 2^32
    r = np.where(r * r > w, r - 1, r)
    r = np.where((r + 1) * (r + 1) <= w, r + 1, r)
    return r, j


def int_stats(x: np.ndarray, stats: list[str]) -> dict[str, np.ndarray]:
    """The statistics (each float32 (n, ch)) of windows ``x`` (n, L, ch), as the C."""
    x = np.ascontiguousarray(x, dtype=F32)
    n = x.shape[1]
    b = _bits(x)
    key = _key(b)
    rows = np.arange(x.shape[0])[:, None]
    cols = np.arange(x.shape[2])[None, :]
    b_lo = b[rows, key.argmin(axis=1), cols]
    b_hi = b[rows, key.argmax(axis=1), cols]
    e_max = np.maximum((b_lo >> 23) & 0xFF, (b_hi >> 23) & 0xFF)
    k0 = np.where(e_max < MIN_EXPONENT, -1, e_max + H_BASE)
    q = to_int16(b, k0[:, None, :])
    lo, hi = to_int16(b_lo, k0), to_int16(b_hi, k0)
    s = q.sum(axis=1)
    sq = (q * q).sum(axis=1)
    inv_n = F32(1.0 / n)
    inv_pairs = F32(1.0 / max(n - 1, 1))
    k = e_max - Q_EXP
    out: dict[str, np.ndarray] = {
        "mean": ldexp(s.astype(F32) * inv_n, k),
        "min": ldexp(lo.astype(F32), k),
        "max": ldexp(hi.astype(F32), k),
        "ptp": ldexp((hi - lo).astype(F32), k),
    }
    for name, v in (("std", n * sq - s * s), ("rms", n * sq)):
        r, j = isqrt_scaled(v)
        out[name] = ldexp(r.astype(F32) * inv_n, k + j)
    pos = q >= 0
    out["zcr"] = (pos[:, 1:] != pos[:, :-1]).sum(axis=1).astype(F32) * inv_pairs
    above = n * q >= s[:, None, :]
    out["mcr"] = (above[:, 1:] != above[:, :-1]).sum(axis=1).astype(F32) * inv_pairs
    if "skew" in stats or "kurtosis" in stats:
        out.update(_moments(q, s, lo, hi, n, inv_n))
    return {name: out[name].astype(F32) for name in stats}


def _moments(
    q: np.ndarray, s: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int, inv_n: np.float32
) -> dict[str, np.ndarray]:
    m = np.where(s >= 0, s // n, -((-s) // n))  # C99 truncating division
    spread = np.maximum(hi - m, m - lo)
    t = np.zeros_like(spread)
    while np.any(big := (spread >> t) >= (1 << MOMENT_BITS)):
        t = t + big
    d = (q - m[:, None, :]) >> t[:, None, :]
    d2 = d * d
    h = d2 >> A4_SHIFT
    a1 = d.sum(axis=1).astype(F32) * inv_n
    a2 = d2.sum(axis=1).astype(F32) * inv_n
    a3 = (d2 * d).sum(axis=1).astype(F32) * inv_n
    a4 = (h * h).sum(axis=1).astype(F32) * inv_n * F32(2 ** (2 * A4_SHIFT))
    dd = a1 * a1
    with np.errstate(all="ignore"):
        m2 = a2 - dd
        m3 = a3 - F32(3.0) * a1 * a2 + F32(2.0) * dd * a1
        m4 = a4 - F32(4.0) * a1 * a3 + F32(6.0) * dd * a2 - F32(3.0) * dd * dd
        ok = m2 > 0
        safe = np.where(ok, m2, F32(1.0))
        skew = np.where(ok, m3 / (safe * np.sqrt(safe)), F32(0.0))
        kurt = np.where(ok, m4 / (safe * safe) - F32(3.0), F32(0.0))
    return {"skew": skew.astype(F32), "kurtosis": kurt.astype(F32)}


@dataclass(frozen=True)
class _PassCost:
    """Instructions per sample of :func:`emit_int_stats`'s passes and their parts."""

    pass1: float  # keys, smallest and largest
    pass2: float  # conversion and S
    sq: float  # Q (std, rms)
    zcr: float
    pass3: float  # conversion
    mcr: float
    moment: float  # skew or kurtosis: the cubed deviation
    kurtosis: float  # the fourth power on top


#: Fitted to QEMU counts (arm-none-eabi-gcc 12.2 -Os, bench/features.py, one
#: BasicMotions window, each statistic beside the mean, the five defaults and all ten):
#: within 5 % on each. ARMv6-M (Cortex-M0+) builds the 64-bit products of the moments
#: and the crossings' bookkeeping from more instructions than Thumb-2 (Cortex-M4F).
PASSES_NARROW = _PassCost(14, 25.7, 9.2, 15.5, 5, 30.5, 64, 21)
PASSES_THUMB2 = _PassCost(14, 19.2, 7.2, 9.6, 17.3, 16.3, 20.5, 10.6)
#: Per statistic and channel: the conversion to float and its scaling (one or two
#: soft-float calls without an FPU, 1.5 float operations on average), the integer
#: square root of std and rms, and the float finish of skew and kurtosis.
STAT_INSTR = 30.0
STAT_FLOAT_OPS = 1.5
SQRT_INSTR = 250.0
MOMENT_FLOAT_OPS = 12
#: Flash (bytes, Cortex-M4F; soft-float routines are counted once per program).
BASE_BYTES = 300
STAT_BYTES = 40
SQRT_BYTES = 150
MOMENT_BYTES = 700


def int_stats_cost(core: CoreCosts, stats: list[str], length: int, channels: int) -> BlockCost:
    """Analytic cost of :func:`emit_int_stats` (bench/features.py measures it)."""
    has = set(stats).__contains__
    moments = has("skew") or has("kurtosis")
    c = PASSES_NARROW if core.narrow_integer else PASSES_THUMB2
    later = 0.0  # passes 2 and 3, per sample
    if any(has(st) for st in ("mean", "std", "rms", "zcr", "mcr", "skew", "kurtosis")):
        later += c.pass2 + c.sq * (has("std") or has("rms")) + c.zcr * has("zcr")
    if has("mcr") or moments:
        later += c.pass3 + c.mcr * has("mcr") + c.moment * moments + c.kurtosis * has("kurtosis")
    tail = len(stats) * (STAT_INSTR + STAT_FLOAT_OPS * core.float_op)
    tail += SQRT_INSTR * (has("std") + has("rms"))
    tail += (has("skew") + has("kurtosis")) * (MOMENT_FLOAT_OPS * core.float_op + core.float_div)
    instructions = int(channels * (length * (c.pass1 + later) + tail))
    flash = BASE_BYTES + STAT_BYTES * len(stats) + SQRT_BYTES * (has("std") or has("rms"))
    flash += MOMENT_BYTES * moments
    return BlockCost(flash, 72, instructions)
