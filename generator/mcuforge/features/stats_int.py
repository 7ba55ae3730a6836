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

import numpy as np

from ..codegen.c import c_float
from ._base import BlockCost, CoreCosts

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
_THIRD_PASS = ("mcr", "skew", "kurtosis")
_SCALED = ("mean", "min", "max", "ptp", "std", "rms")


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


# --- C -----------------------------------------------------------------------------------

_BITS = """\
/* the bits of a float (a union: no aliasing cast) and their order key */
static uint32_t {fn}_bits(float v)
{{
    union {{ float f; uint32_t u; }} b;
    b.f = v;
    return b.u;
}}

static int32_t {fn}_key(uint32_t b)
{{
    return (int32_t)(b ^ ((b >> 31) * 0x7FFFFFFFu));
}}
"""

_Q = """\
/* the int16 sample of float bits b: +-((((b << 8) | 2^31) >> h) + 1) >> 1, h = k0 - e */
static int32_t {fn}_q(uint32_t b, int k0)
{{
    const uint32_t h = (uint32_t)(k0 - (int)((b >> 23) & 0xFFu));
    const int32_t sign = -(int32_t)(b >> 31);
    int32_t q;
    if (h > 31u) {{ return 0; }}
    q = (int32_t)(((((b << 8) | 0x80000000u) >> h) + 1u) >> 1);
    return (q ^ sign) - sign;
}}
"""

_LDEXP = """\
/* v * 2^k on the exponent bits: 0 stays 0, flush to 0 below the normal range */
static float {fn}_ldexp(float v, int k)
{{
    union {{ float f; uint32_t u; }} b;
    int e;
    b.f = v;
    e = (int)((b.u >> 23) & 0xFFu) + k;
    if ((b.u & 0x7FFFFFFFu) == 0u || e <= 0) {{ return 0.0f; }}
    if (e > 254) {{ e = 254; }}
    b.u = (b.u & 0x807FFFFFu) | ((uint32_t)e << 23);
    return b.f;
}}
"""

_SQRT = """\
/* floor(sqrt(v * 4^-j)) with v * 4^-j brought into [2^30, 2^32); *j gets j */
static float {fn}_sqrt(uint64_t v, int *j)
{{
    uint32_t w, res = 0u, one = 1u << 30;
    *j = 0;
    if (v == 0u) {{ return 0.0f; }}
    while (v >= ((uint64_t)1 << 32)) {{ v >>= 2; ++*j; }}
    while (v < ((uint64_t)1 << 30)) {{ v <<= 2; --*j; }}
    w = (uint32_t)v;
    while (one != 0u) {{
        if (w >= res + one) {{
            w -= res + one;
            res = (res >> 1) + one;
        }} else {{
            res >>= 1;
        }}
        one >>= 2;
    }}
    return (float)res;
}}
"""


def emit_int_stats(fn: str, stats: list[str], length: int, channels: int) -> str:
    """C99 of ``static void fn(const float *x, float *out)`` (see the module docstring)."""
    has = set(stats).__contains__
    moments = has("skew") or has("kurtosis")
    need_s = has("mean") or has("std") or has("mcr") or moments
    need_sq = has("std") or has("rms")
    need_lo = has("min") or has("ptp") or moments
    need_hi = has("max") or has("ptp") or moments
    decl = [
        "int t, e_max, k0;",
        "int32_t kmin = 0x7FFFFFFF, kmax = -0x7FFFFFFF - 1;",
        "uint32_t b_lo = 0u, b_hi = 0u;",
        *(["int32_t lo;"] if need_lo else []),
        *(["int32_t hi;"] if need_hi else []),
        *(["int32_t s = 0;"] if need_s else []),
        *(["uint64_t sq = 0u;"] if need_sq else []),
    ]
    pass2 = [
        *_sample(fn),
        *(["s += q;"] if need_s else []),
        *(["part += (uint32_t)(q * q);"] if need_sq else []),
    ]
    if has("zcr"):
        decl.append("int zc = 0, pos = 0;")
        pass2 += ["if (t > 0 && (q >= 0) != pos) { ++zc; }", "pos = q >= 0;"]
    if has("std") or has("rms"):
        decl += ["int j;", "float r;"]
    pass3 = _third_pass(fn, has("mcr"), moments, decl)
    outs: list[str] = []
    for i, st in enumerate(stats):
        outs += _output(fn, st, i)
    helpers = [_BITS.format(fn=fn), *([_Q.format(fn=fn)] if need_lo or need_hi else [])]
    if any(has(st) for st in _SCALED):
        helpers.append(_LDEXP.format(fn=fn))
    if has("std") or has("rms"):
        helpers.append(_SQRT.format(fn=fn))
    pairs = c_float(1.0 / max(length - 1, 1))
    need_inv_n = has("mean") or has("std") or has("rms") or moments
    body = [
        f"/* Per-channel statistics in integers ({', '.join(stats)}): int16 block-float",
        " * samples, integer sums and square roots, a few float operations per statistic. */",
        *helpers,
        f"static void {fn}(const float *x, float *out)",
        "{",
        f"    enum {{ LEN = {length}, CH = {channels}, K = {len(stats)}, Q_EXP = {Q_EXP} }};",
        *([f"    const float inv_n = {c_float(1.0 / length)};"] if need_inv_n else []),
        *([f"    const float inv_pairs = {pairs};"] if has("zcr") or has("mcr") else []),
        "    int c;",
        "    for (c = 0; c < CH; ++c) {",
        "        float *o = out + c * K;",
        *(f"        {d}" for d in decl),
        "        for (t = 0; t < LEN; ++t) {  /* smallest and largest sample */",
        f"            const uint32_t b = {fn}_bits(x[t * CH + c]);",
        f"            const int32_t key = {fn}_key(b);",
        "            if (key < kmin) { kmin = key; b_lo = b; }",
        "            if (key > kmax) { kmax = key; b_hi = b; }",
        "        }",
        "        e_max = (int)((b_lo >> 23) & 0xFFu);",
        "        if ((int)((b_hi >> 23) & 0xFFu) > e_max) { e_max = (int)((b_hi >> 23) & 0xFFu); }",
        f"        k0 = e_max < {MIN_EXPONENT} ? -1 : e_max + {H_BASE};",
        *([f"        lo = {fn}_q(b_lo, k0);"] if need_lo else []),
        *([f"        hi = {fn}_q(b_hi, k0);"] if need_hi else []),
        *((_blocks(pass2) if need_sq else _loop("sums", pass2)) if len(pass2) > 5 else []),
        *(f"        {s}" for s in pass3),
        *(f"        {s}" for s in outs),
        "    }",
        "}",
    ]
    return "\n".join(body)


def _sample(fn: str) -> list[str]:
    """``q`` of sample ``t``, written out in the loop (a call per sample would cost
    more than the conversion: -Os does not inline a function used three times)."""
    return [
        f"const uint32_t b = {fn}_bits(x[t * CH + c]);",
        "const uint32_t h = (uint32_t)(k0 - (int)((b << 1) >> 24));",
        "const int32_t sign = -(int32_t)(b >> 31);",
        "const int32_t mag = h > 31u ? 0 : (int32_t)(((((b << 8) | 0x80000000u) >> h) + 1u) >> 1);",
        "const int32_t q = (mag ^ sign) - sign;",
    ]


def _blocks(lines: list[str]) -> list[str]:
    """Pass 2 with q² summed in uint32 over blocks of SQ_BLOCK samples (< 2^32)."""
    return [
        f"        for (t = 0; t < LEN;) {{  /* sums; q * q in blocks of {SQ_BLOCK} */",
        f"            const int end = t + {SQ_BLOCK} < LEN ? t + {SQ_BLOCK} : LEN;",
        "            uint32_t part = 0u;",
        "            for (; t < end; ++t) {",
        *(f"                {s}" for s in lines),
        "            }",
        "            sq += part;",
        "        }",
    ]


def _loop(what: str, lines: list[str]) -> list[str]:
    return [
        f"        for (t = 0; t < LEN; ++t) {{  /* {what} */",
        *(f"            {s}" for s in lines),
        "        }",
    ]


def _third_pass(fn: str, mcr: bool, moments: bool, decl: list[str]) -> list[str]:
    """Declarations (appended to ``decl``) and lines of pass 3, if any statistic needs it."""
    if not (mcr or moments):
        return []
    lines = []
    if mcr:
        decl.append("int mc = 0, above = 0;")
    if moments:
        decl += [
            "int32_t m, spread, a1 = 0;",
            "int shift = 0;",
            "int64_t a2 = 0, a3 = 0;",
            "uint64_t a4 = 0u;",
        ]
        lines += [
            "m = s / LEN;",
            "spread = hi - m > m - lo ? hi - m : m - lo;",
            f"while ((spread >> shift) >= {1 << MOMENT_BITS}) {{ ++shift; }}",
        ]
    lines += ["for (t = 0; t < LEN; ++t) {", *(f"    {s}" for s in _sample(fn))]
    if mcr:
        lines += [
            "    const int up = LEN * q >= s;  /* |LEN q| < 2^31 */",
            "    if (t > 0 && up != above) { ++mc; }",
            "    above = up;",
        ]
    if moments:
        lines += [
            "    const int32_t d = (q - m) >> shift;",
            "    const int32_t d2 = d * d;",
            f"    const uint32_t g = (uint32_t)(d2 >> {A4_SHIFT});",
            "    a1 += d;",
            "    a2 += d2;",
            "    a3 += d2 * d;",
            "    a4 += g * g;",
        ]
    return [*lines, "}"]


def _output(fn: str, st: str, i: int) -> list[str]:
    scale = "e_max - Q_EXP"
    simple = {
        "mean": f"{fn}_ldexp((float)s * inv_n, {scale})",
        "min": f"{fn}_ldexp((float)lo, {scale})",
        "max": f"{fn}_ldexp((float)hi, {scale})",
        "ptp": f"{fn}_ldexp((float)(hi - lo), {scale})",
        "zcr": "(float)zc * inv_pairs",
        "mcr": "(float)mc * inv_pairs",
    }
    if st in simple:
        return [f"o[{i}] = {simple[st]};  /* {st} */"]
    if st in ("std", "rms"):
        v = "(int64_t)LEN * (int64_t)sq - (int64_t)s * s" if st == "std" else "(int64_t)LEN * sq"
        return [
            f"r = {fn}_sqrt((uint64_t)({v}), &j) * inv_n;",
            f"o[{i}] = {fn}_ldexp(r, {scale} + j);  /* {st} */",
        ]
    head = [
        "const float a1f = (float)a1 * inv_n;",
        "const float a2f = (float)a2 * inv_n;",
        "const float dd = a1f * a1f;",
        "const float m2 = a2f - dd;",
    ]
    if st == "skew":
        return [
            "{",
            *(f"    {line}" for line in head),
            "    const float a3f = (float)a3 * inv_n;",
            "    const float m3 = a3f - 3.0f * a1f * a2f + 2.0f * dd * a1f;",
            f"    o[{i}] = m2 > 0.0f ? m3 / (m2 * sqrtf(m2)) : 0.0f;  /* skew */",
            "}",
        ]
    return [
        "{",
        *(f"    {line}" for line in head),
        "    const float a3f = (float)a3 * inv_n;",
        f"    const float a4f = (float)a4 * inv_n * {c_float(2.0 ** (2 * A4_SHIFT))};",
        "    const float m4 = a4f - 4.0f * a1f * a3f + 6.0f * dd * a2f - 3.0f * dd * dd;",
        f"    o[{i}] = m2 > 0.0f ? m4 / (m2 * m2) - 3.0f : 0.0f;  /* kurtosis */",
        "}",
    ]


#: Analytic instruction counts per sample, measured (arm-none-eabi-gcc 12.2 -Os, QEMU,
#: bench/features.py, one BasicMotions window, subsets of the statistics): pass 1 (keys,
#: smallest and largest), pass 2 (conversion and S), its extras (Q, zcr), pass 3
#: (conversion) and its parts (mcr, the moments). Cores with an FPU (Cortex-M4F/M7:
#: Thumb-2 with 64-bit multiply-accumulate) run passes 2 and 3 in about 3/4 of that.
PASS1_INSTR = 14.0
PASS2_INSTR = 22.0
SQ_INSTR = 8.0
ZCR_INSTR = 10.0
PASS3_INSTR = 22.0
MCR_INSTR = 12.0
MOMENT_INSTR = 45.0
THUMB2_SHARE = 0.75
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
    later = 0.0  # passes 2 and 3, per sample
    if any(has(st) for st in ("mean", "std", "rms", "zcr", "mcr", "skew", "kurtosis")):
        later += PASS2_INSTR + SQ_INSTR * (has("std") or has("rms")) + ZCR_INSTR * has("zcr")
    if has("mcr") or moments:
        later += PASS3_INSTR + MCR_INSTR * has("mcr") + MOMENT_INSTR * moments
    if core.float_op <= 1:
        later *= THUMB2_SHARE
    tail = len(stats) * (STAT_INSTR + STAT_FLOAT_OPS * core.float_op)
    tail += SQRT_INSTR * (has("std") + has("rms"))
    tail += (has("skew") + has("kurtosis")) * (MOMENT_FLOAT_OPS * core.float_op + core.float_div)
    instructions = int(channels * (length * (PASS1_INSTR + later) + tail))
    flash = BASE_BYTES + STAT_BYTES * len(stats) + SQRT_BYTES * (has("std") or has("rms"))
    flash += MOMENT_BYTES * moments
    return BlockCost(flash, 72, instructions)
