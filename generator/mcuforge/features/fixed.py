"""Q15 fixed-point kernels for cores without an FPU, bit-exact in numpy and C.

Input conversion (integer operations on the float's bits, no soft-float call), per
channel and window: with ``emax`` the largest biased exponent in the window, a sample
with exponent ``e`` and 24-bit mantissa ``m`` becomes the 24-bit
``q = round(m / 2^(emax - e + 1))`` with its sign (``x ~= q * 2^(emax - 149)``). The
window mean of ``q`` (when the block removes means; truncated division) is subtracted
and the result is shifted right (rounded) by the smallest ``shift`` that brings its
peak below ``2^14``: a block-floating-point window whose varying part, not its DC
offset, fills 14 bits, with one bit of headroom for the per-frame mean removal.
A sample is then ``~= d * 2^(emax - 149 + shift)``.

Windowing: ``v = ((q - mean) * w + 2^14) >> 15`` with the window in Q15
(``round(32768 w)``, at most 32767). FFT: the float kernel's algorithm (see
``_fft``) in int32 with Q15 twiddles, each product rounded (``+2^14 >> 15``) and
every butterfly stage scaled by 1/2 (``>> 1``), so magnitudes never exceed
``sqrt(2) * 32767`` and every product fits in 32 bits. Power ``xr² + xi²`` in int64.
A power ``P`` in these units is ``P * 2^(2 log2(M) + 2 emax - 280)`` in the units of
the float path; :func:`ldexp_f32` applies that exponent on the float's bits.

Right shifts of negative values are arithmetic, as GCC, Clang and Arm's compilers
implement them (C99 leaves it implementation-defined).
"""

from __future__ import annotations

import math

import numpy as np

from ..codegen.c import c_array, smallest_int_type
from ._fft import RealFFT

I64 = np.int64


def to_q24(x: np.ndarray, emax: np.ndarray) -> np.ndarray:
    """float32 ``(..., L)`` → int64 24-bit values with block exponent ``emax`` ``(...)``."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(I64)
    e = (bits >> 23) & 0xFF
    mant = (bits & 0x7FFFFF) | 0x800000
    sh = emax[..., None].astype(I64) - e + 1
    ok = (e != 0) & (sh < 25)
    shc = np.clip(sh, 1, 24)
    q = np.where(ok, (mant + (I64(1) << (shc - 1))) >> shc, 0)
    return np.where((bits >> 31) != 0, -q, q)


def normalise(q: np.ndarray, remove_mean: bool) -> tuple[np.ndarray, np.ndarray]:
    """Block-float 15-bit values ``(..., L)`` of 24-bit ``q`` and the shift ``(...)``."""
    if remove_mean:
        tot = q.sum(axis=-1)
        n = q.shape[-1]
        mean = np.where(tot >= 0, tot // n, -((-tot) // n))  # C99 truncating division
    else:
        mean = np.zeros(q.shape[:-1], dtype=I64)
    d = q - mean[..., None]
    peak = np.abs(d).max(axis=-1)
    shift = np.zeros_like(peak)
    while np.any(big := (peak >> shift) >= 16384):
        shift = shift + big
    half = np.where(shift > 0, I64(1) << np.maximum(shift - 1, 0), 0)
    return (d + half[..., None]) >> shift[..., None], shift


def block_exponent(x: np.ndarray) -> np.ndarray:
    """Largest biased float32 exponent along the last axis (0 for an all-zero block)."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(I64)
    return np.asarray(((bits >> 23) & 0xFF).max(axis=-1))


def ldexp_f32(v: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``v * 2^k`` for non-negative float32 ``v`` by exponent arithmetic, underflow → 0."""
    v = np.ascontiguousarray(v, dtype=np.float32)
    bits = v.view(np.uint32).astype(I64)
    e = ((bits >> 23) & 0xFF) + k
    e_clipped = np.clip(e, 1, 254)
    out = (bits & ~(I64(0xFF) << 23)) | (e_clipped << 23)
    out = np.where((bits == 0) | (e <= 0), 0, out)
    return out.astype(np.uint32).view(np.float32)


def q15_table(values: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(values, dtype=np.float64) * 32768.0), -32768, 32767).astype(
        I64
    )


class RealFFTQ15:
    """Q15 version of :class:`~mcuforge.features._fft.RealFFT` (power in int64)."""

    def __init__(self, n: int, param: str) -> None:
        ref = RealFFT(n, param)
        self.n, self.m, self.rev = n, ref.m, ref.rev
        k = np.arange(self.m, dtype=np.float64)
        self.cos = q15_table(np.cos(2.0 * np.pi * k / n))
        self.sin = q15_table(np.sin(2.0 * np.pi * k / n))
        self.stages = int(math.log2(self.m))

    def power(self, v: np.ndarray) -> np.ndarray:
        """int64 power ``(..., M+1)`` of windowed Q15 frames ``(..., N)``, as the C does."""
        m = self.m
        re: np.ndarray = np.empty((*v.shape[:-1], m), dtype=I64)
        im: np.ndarray = np.empty_like(re)
        re[..., self.rev] = v[..., 0::2]
        im[..., self.rev] = v[..., 1::2]
        half = 1
        while half < m:
            step = self.n // (2 * half)
            c = self.cos[np.arange(half) * step]
            s = self.sin[np.arange(half) * step]
            shape = (*re.shape[:-1], m // (2 * half), 2, half)
            r, i = re.reshape(shape), im.reshape(shape)
            ar, ai, br, bi = r[..., 0, :], i[..., 0, :], r[..., 1, :], i[..., 1, :]
            tr = (br * c + bi * s + 16384) >> 15
            ti = (bi * c - br * s + 16384) >> 15
            re = np.stack([(ar + tr) >> 1, (ar - tr) >> 1], axis=-2).reshape(re.shape)
            im = np.stack([(ai + ti) >> 1, (ai - ti) >> 1], axis=-2).reshape(im.shape)
            half *= 2
        out = np.empty((*v.shape[:-1], m + 1), dtype=I64)
        d0, dm = re[..., 0] + im[..., 0], re[..., 0] - im[..., 0]
        out[..., 0] = d0 * d0
        out[..., m] = dm * dm
        ar, ai = re[..., 1:], im[..., 1:]
        br, bi = re[..., :0:-1], im[..., :0:-1]
        er, ei = (ar + br) >> 1, (ai - bi) >> 1
        o_r, o_i = (ai + bi) >> 1, (br - ar) >> 1
        c, s = self.cos[1:], self.sin[1:]
        xr = er + ((o_r * c + o_i * s + 16384) >> 15)
        xi = ei + ((o_i * c - o_r * s + 16384) >> 15)
        out[..., 1:m] = xr * xr + xi * xi
        return out

    def emit(self, name: str) -> str:
        """Tables, helpers and ``static void name(int32_t *re, int32_t *im, int64_t *acc)``.

        Also emits the input conversions ``name_q24(float v, int emax)`` and
        ``name_q15(float v, int emax, int32_t offset, int shift)``, ``name_exponent``
        and ``name_ldexp(float v, int k)``. ``acc[0..M]`` is *added to*.
        """
        m, n = self.m, self.n
        rev_t = smallest_int_type(0, m - 1)
        return "\n".join(
            [
                c_array(f"{name}_COS", "int16_t", self.cos.tolist(), per_line=12),
                c_array(f"{name}_SIN", "int16_t", self.sin.tolist(), per_line=12),
                c_array(f"{name}_BITREV", rev_t, self.rev.tolist(), per_line=16),
                "",
                _conversions(name),
                "",
                f"/* Adds the Q15 power of a {n}-point real FFT to acc[0..{m}]. */",
                f"static void {name}(int32_t *re, int32_t *im, int64_t *acc)",
                "{",
                "    int half, k;",
                f"    for (half = 1; half < {m}; half *= 2) {{",
                f"        const int step = {n} / (2 * half);",
                "        int start;",
                f"        for (start = 0; start < {m}; start += 2 * half) {{",
                "            int j;",
                "            for (j = 0; j < half; ++j) {",
                f"                const int32_t c = {name}_COS[j * step];",
                f"                const int32_t s = {name}_SIN[j * step];",
                "                const int a = start + j, b = a + half;",
                "                const int32_t tr = (re[b] * c + im[b] * s + 16384) >> 15;",
                "                const int32_t ti = (im[b] * c - re[b] * s + 16384) >> 15;",
                "                re[b] = (re[a] - tr) >> 1;",
                "                im[b] = (im[a] - ti) >> 1;",
                "                re[a] = (re[a] + tr) >> 1;",
                "                im[a] = (im[a] + ti) >> 1;",
                "            }",
                "        }",
                "    }",
                "    {",
                "        const int64_t d0 = (int64_t)re[0] + im[0], dm = (int64_t)re[0] - im[0];",
                "        acc[0] += d0 * d0;",
                f"        acc[{m}] += dm * dm;",
                "    }",
                f"    for (k = 1; k < {m}; ++k) {{",
                f"        const int32_t ar = re[k], ai = im[k], br = re[{m} - k],"
                f" bi = im[{m} - k];",
                "        const int32_t er = (ar + br) >> 1, ei = (ai - bi) >> 1;",
                "        const int32_t o_r = (ai + bi) >> 1, o_i = (br - ar) >> 1;",
                f"        const int32_t c = {name}_COS[k], s = {name}_SIN[k];",
                "        const int64_t xr = er + ((o_r * c + o_i * s + 16384) >> 15);",
                "        const int64_t xi = ei + ((o_i * c - o_r * s + 16384) >> 15);",
                "        acc[k] += xr * xr + xi * xi;",
                "    }",
                "}",
            ]
        )

    def flash(self) -> int:
        rev_bytes = 1 if self.m <= 256 else 2
        return 4 * self.m + rev_bytes * self.m + 420


def _conversions(name: str) -> str:
    """``name_q24``, ``name_q15``, ``name_exponent`` and ``name_ldexp`` in C: the float
    to block-float conversions, on the bits of the float (integer operations only)."""
    return "\n".join(
        [
            "/* Float -> 24-bit fixed point with block exponent emax, integer operations. */",
            f"static int32_t {name}_q24(float v, int emax)",
            "{",
            "    union { float f; uint32_t u; } b;",
            "    int e, sh;",
            "    int32_t q;",
            "    b.f = v;",
            "    e = (int)((b.u >> 23) & 0xFFu);",
            "    sh = emax - e + 1;",
            "    if (e == 0 || sh >= 25) { return 0; }",
            "    q = (int32_t)((((b.u & 0x007FFFFFu) | 0x00800000u) + (1u << (sh - 1))) >> sh);",
            "    return (b.u >> 31) != 0u ? -q : q;",
            "}",
            "",
            "/* Block-float 15-bit sample: (q24 - offset) >> shift, rounded. */",
            f"static int32_t {name}_q15(float v, int emax, int32_t offset, int shift)",
            "{",
            f"    const int32_t d = {name}_q24(v, emax) - offset;",
            "    return shift > 0 ? (d + ((int32_t)1 << (shift - 1))) >> shift : d;",
            "}",
            "",
            "/* Biased float exponent of v (0 for zero and subnormals). */",
            f"static int {name}_exponent(float v)",
            "{",
            "    union { float f; uint32_t u; } b;",
            "    b.f = v;",
            "    return (int)((b.u >> 23) & 0xFFu);",
            "}",
            "",
            "/* v * 2^k for v >= 0 on the exponent bits; underflow gives 0. */",
            f"static float {name}_ldexp(float v, int k)",
            "{",
            "    union { float f; uint32_t u; } b;",
            "    int e;",
            "    b.f = v;",
            "    e = (int)((b.u >> 23) & 0xFFu) + k;",
            "    if (b.u == 0u || e <= 0) { return 0.0f; }",
            "    if (e > 254) { e = 254; }",
            "    b.u = (b.u & 0x807FFFFFu) | ((uint32_t)e << 23);",
            "    return b.f;",
            "}",
        ]
    )
