"""The C of the integer statistics (:mod:`.stats_int` defines what it computes)."""

from __future__ import annotations

from ..codegen.c import c_float
from .stats_int import A4_SHIFT, H_BASE, MIN_EXPONENT, MOMENT_BITS, Q_EXP, SQ_BLOCK

_SCALED = ("mean", "min", "max", "ptp", "std", "rms")

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
