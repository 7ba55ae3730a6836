"""Float32 DSP kernels shared by the spectral and audio blocks, in numpy and in C.

Each kernel exists twice: a numpy function that performs the float32 operations of
the C in the same order (so C and Python agree bit for bit under
``-ffp-contract=off``), and a C emitter. Transcendental constants (window, twiddles)
are computed in float64 here and emitted as ``static const`` tables; the one
per-sample transcendental, the natural logarithm, is our own (:func:`ln_f32`), not
libm's, so that it is reproducible on every C library.

Real FFT of ``N`` samples: the ``M = N/2``-point complex FFT of
``z[n] = x[2n] + i x[2n+1]`` (iterative radix-2, decimation in time, inputs stored in
bit-reversed order), then the split ``X[k] = E[k] + W_N^k O[k]``. Only the power
``|X[k]|², k = 0..M`` is returned. One table ``cos/sin(2πk/N), k < M`` serves both
the butterflies (every ``N/size``-th entry) and the split.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np

from ..codegen.c import c_array, c_float, smallest_int_type
from ._params import FeatureParamError, is_pow2

F32 = np.float32

Window = Literal["hann", "hamming", "none"]
WINDOWS: tuple[str, ...] = get_args(Window)

# ln(x) = e ln2 + 2 atanh(s), s = (m-1)/(m+1), m in (sqrt(1/2), sqrt(2)]: |s| < 0.1716,
# so the odd series to s^9 leaves a relative error < 0.1716^10 / 11 ~ 2e-9, far below
# float32 resolution; the float32 evaluation itself errs by a few ulp.
_LN2 = F32(math.log(2.0))
_SQRT2 = F32(math.sqrt(2.0))
_INV = [F32(1.0 / k) for k in (3, 5, 7, 9)]


def window_table(kind: str, n: int) -> np.ndarray:
    """Periodic ("DFT-even") window of length ``n`` as scipy/librosa build it, float32."""
    t = np.arange(n, dtype=np.float64)
    if kind == "hann":
        w = 0.5 - 0.5 * np.cos(2.0 * np.pi * t / n)
    elif kind == "hamming":
        w = 0.54 - 0.46 * np.cos(2.0 * np.pi * t / n)
    elif kind == "none":
        w = np.ones(n)
    else:
        raise FeatureParamError(f"window must be one of {', '.join(WINDOWS)}; got {kind!r}")
    return np.asarray(w, dtype=F32)


def ln_f32(x: np.ndarray) -> np.ndarray:
    """Natural log of positive normal float32 values, exactly as the emitted C computes it."""
    x = np.ascontiguousarray(x, dtype=F32)
    bits = x.view(np.uint32)
    e = ((bits >> np.uint32(23)) & np.uint32(0xFF)).astype(np.int32) - 127
    m = ((bits & np.uint32(0x007FFFFF)) | np.uint32(0x3F800000)).view(F32)
    big = m > _SQRT2
    m = np.where(big, m * F32(0.5), m).astype(F32)
    e = e + big.astype(np.int32)
    s = (m - F32(1.0)) / (m + F32(1.0))
    s2 = s * s
    p = _INV[3] * s2 + _INV[2]
    p = p * s2 + _INV[1]
    p = p * s2 + _INV[0]
    p = p * s2 + F32(1.0)
    r = (s + s) * p
    out: np.ndarray = (e.astype(F32) * _LN2 + r).astype(F32)
    return out


def emit_ln(name: str) -> str:
    """C of ``static float name(float v)``: :func:`ln_f32` for positive normal ``v``."""
    return f"""/* ln(v) for positive normal v, our own (not libm's) so that every C library
 * gives the same bits: v = 2^e m, m in (sqrt(1/2), sqrt(2)], ln m = 2 atanh(s). */
static float {name}(float v)
{{
    union {{ float f; uint32_t u; }} b;
    int e;
    float m, s, s2, p;
    b.f = v;
    e = (int)((b.u >> 23) & 0xFFu) - 127;
    b.u = (b.u & 0x007FFFFFu) | 0x3F800000u;
    m = b.f;
    if (m > {c_float(float(_SQRT2))}) {{
        m = m * 0.5f;
        e += 1;
    }}
    s = (m - 1.0f) / (m + 1.0f);
    s2 = s * s;
    p = {c_float(float(_INV[3]))} * s2 + {c_float(float(_INV[2]))};
    p = p * s2 + {c_float(float(_INV[1]))};
    p = p * s2 + {c_float(float(_INV[0]))};
    p = p * s2 + 1.0f;
    return (float)e * {c_float(float(_LN2))} + (s + s) * p;
}}"""


def bitrev(m: int) -> np.ndarray:
    """Bit-reversal permutation of ``0..m-1`` (m a power of two)."""
    bits = m.bit_length() - 1
    return np.array([int(f"{i:0{bits}b}"[::-1], 2) if bits else 0 for i in range(m)])


class RealFFT:
    """Power spectrum of an ``n``-point real FFT, float32, in numpy and C."""

    def __init__(self, n: int, param: str) -> None:
        if not is_pow2(n) or n < 8:
            raise FeatureParamError(
                f"{param} must be a power of two >= 8 (8, 16, 32, 64, ...); got {n}"
            )
        self.n = n
        self.m = n // 2
        k = np.arange(self.m, dtype=np.float64)
        self.cos = np.cos(2.0 * np.pi * k / n).astype(F32)
        self.sin = np.sin(2.0 * np.pi * k / n).astype(F32)
        self.rev = bitrev(self.m)

    def power(self, frames: np.ndarray) -> np.ndarray:
        """``|X[k]|², k = 0..n/2`` of float32 frames ``(..., n)``, as the C computes it."""
        m = self.m
        frames = np.asarray(frames, dtype=F32)
        re: np.ndarray = np.empty((*frames.shape[:-1], m), dtype=F32)
        im: np.ndarray = np.empty_like(re)
        re[..., self.rev] = frames[..., 0::2]
        im[..., self.rev] = frames[..., 1::2]
        half = 1
        while half < m:
            step = self.n // (2 * half)
            c = self.cos[np.arange(half) * step]
            s = self.sin[np.arange(half) * step]
            shape = (*re.shape[:-1], m // (2 * half), 2, half)
            r, i = re.reshape(shape), im.reshape(shape)
            ar, ai, br, bi = r[..., 0, :], i[..., 0, :], r[..., 1, :], i[..., 1, :]
            tr = br * c + bi * s
            ti = bi * c - br * s
            re = np.stack([ar + tr, ar - tr], axis=-2).reshape(re.shape)
            im = np.stack([ai + ti, ai - ti], axis=-2).reshape(im.shape)
            half *= 2
        out = np.empty((*frames.shape[:-1], m + 1), dtype=F32)
        d0, dm = re[..., 0] + im[..., 0], re[..., 0] - im[..., 0]
        out[..., 0] = d0 * d0
        out[..., m] = dm * dm
        ar, ai = re[..., 1:], im[..., 1:]
        br, bi = re[..., :0:-1], im[..., :0:-1]
        er, ei = F32(0.5) * (ar + br), F32(0.5) * (ai - bi)
        o_r, o_i = F32(0.5) * (ai + bi), F32(0.5) * (br - ar)
        c, s = self.cos[1:], self.sin[1:]
        xr = er + (o_r * c + o_i * s)
        xi = ei + (o_i * c - o_r * s)
        out[..., 1:m] = xr * xr + xi * xi
        return out

    def emit(self, name: str) -> str:
        """Tables and ``static void name(float *re, float *im, float *power)``.

        The caller stores ``x[2n]`` in ``re[BITREV[n]]`` and ``x[2n+1]`` in
        ``im[BITREV[n]]``; the function destroys ``re``/``im`` and writes ``power[0..M]``.
        """
        m, n = self.m, self.n
        rev_t = smallest_int_type(0, m - 1)
        return "\n".join(
            [
                c_array(f"{name}_COS", "float", self.cos.tolist()),
                c_array(f"{name}_SIN", "float", self.sin.tolist()),
                c_array(f"{name}_BITREV", rev_t, self.rev.tolist(), per_line=16),
                "",
                f"/* Power |X[k]|^2, k = 0..{m}, of a {n}-point real FFT (see the module doc). */",
                f"static void {name}(float *re, float *im, float *power)",
                "{",
                "    int half, k;",
                f"    for (half = 1; half < {m}; half *= 2) {{",
                f"        const int step = {n} / (2 * half);",
                "        int start;",
                f"        for (start = 0; start < {m}; start += 2 * half) {{",
                "            int j;",
                "            for (j = 0; j < half; ++j) {",
                f"                const float c = {name}_COS[j * step], s = {name}_SIN[j * step];",
                "                const int a = start + j, b = a + half;",
                "                const float tr = re[b] * c + im[b] * s;",
                "                const float ti = im[b] * c - re[b] * s;",
                "                re[b] = re[a] - tr;",
                "                im[b] = im[a] - ti;",
                "                re[a] = re[a] + tr;",
                "                im[a] = im[a] + ti;",
                "            }",
                "        }",
                "    }",
                "    {",
                "        const float d0 = re[0] + im[0], dm = re[0] - im[0];",
                "        power[0] = d0 * d0;",
                f"        power[{m}] = dm * dm;",
                "    }",
                f"    for (k = 1; k < {m}; ++k) {{",
                f"        const float ar = re[k], ai = im[k], br = re[{m} - k], bi = im[{m} - k];",
                "        const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);",
                "        const float o_r = 0.5f * (ai + bi), o_i = 0.5f * (br - ar);",
                f"        const float c = {name}_COS[k], s = {name}_SIN[k];",
                "        const float xr = er + (o_r * c + o_i * s);",
                "        const float xi = ei + (o_i * c - o_r * s);",
                "        power[k] = xr * xr + xi * xi;",
                "    }",
                "}",
            ]
        )

    def instructions(self, float_op: float) -> float:
        """Analytic instructions of one call: butterflies, split and power. A butterfly
        is 4 multiplies and 6 adds; fitted to QEMU counts (bench/features.py, the
        spectral block at fft_size 16-64 on the M0+ and M4F) it costs 14.6 mean float
        operations (a soft-float multiply costs more than the mean) and 17 instructions
        of loads, stores and indexing."""
        m = self.m
        stages = int(math.log2(m))
        butterflies = (m // 2) * stages * (14.6 * float_op + 17)
        split = (m - 1) * (17 * float_op + 14)
        return butterflies + split + 4 * m  # + loop overhead of the stages

    def flash(self, soft_float: bool) -> int:
        rev_bytes = 1 if self.m <= 256 else 2
        code = 260 if soft_float else 200
        return 8 * self.m + rev_bytes * self.m + code
