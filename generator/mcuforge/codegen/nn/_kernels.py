"""The C kernels: TFLite's int8 reference arithmetic, written for small cores.

Each kernel is a ``static`` C99 function (named ``PFX_...``, the network's prefix
replaces ``PFX``) emitted only when an operator needs it, with the kernels it calls.
Integer semantics follow TFLite's reference kernels (``reference_integer_ops``) and
gemmlowp's fixed-point helpers exactly; the one implementation-defined behaviour they
rely on, arithmetic right shift of negative integers, is what GCC, Clang, Arm Compiler
and IAR all do.

Dot products (fully connected and convolution) use a weight layout in blocks of four
output rows: for each group of four inputs, the four rows' four weights follow each
other (16 bytes), then each row's last ``k % 4`` weights. On cores with the DSP
extension (``__ARM_FEATURE_DSP``) the inner loop loads four inputs once, sign-extends
them with ``SXTB16`` (and ``SXTB16 ..., ROR #8``) and does two ``SMLAD`` per row: 16
multiply-accumulates in 23 instructions. Elsewhere a portable loop computes the same
sums; integer addition is associative, so both paths are bit-exact.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._kernels_math import _DROUND, _GEMMLOWP, _SOFTMAX

_CLAMP = """\
static int8_t PFX_clamp8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}
"""

_FIXED = """\
static int32_t PFX_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    /* MultiplyByQuantizedMultiplier (TFLite's default double rounding). The multiplier
     * is positive, so SaturatingRoundingDoublingHighMul cannot saturate and equals
     * floor((x * m + 2^30) / 2^31) (its nudged truncating division, rewritten as in
     * CMSIS-NN); RoundingDivideByPOT follows. */
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
    const int64_t ab = (int64_t)(int32_t)((uint32_t)x << left) * multiplier;
    const int32_t hi = (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
    const int32_t q = hi >> right;
    return q + ((hi & mask) > ((mask >> 1) + (q < 0 ? 1 : 0)) ? 1 : 0);
}

"""


_DOT = """\
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__) && !defined(PFXU_NO_DSP)
static uint32_t PFX_ld32(const int8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

static uint32_t PFX_sxtb16(uint32_t v)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(v));
    return r;
}

static uint32_t PFX_sxtb16_ror8(uint32_t v)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

static int32_t PFX_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}

/* acc[r] += x . w_r for the four rows of one weight block (DSP: SXTB16 + SMLAD) */
static void PFX_dot4(const int8_t *x, const int8_t *w, int32_t k, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t n = k >> 2;
    int32_t i;
    while (n-- > 0) {
        const uint32_t xv = PFX_ld32(x);
        const uint32_t x02 = PFX_sxtb16(xv);
        const uint32_t x13 = PFX_sxtb16_ror8(xv);
        uint32_t wv = PFX_ld32(w);
        a0 = PFX_smlad(x02, PFX_sxtb16(wv), a0);
        a0 = PFX_smlad(x13, PFX_sxtb16_ror8(wv), a0);
        wv = PFX_ld32(w + 4);
        a1 = PFX_smlad(x02, PFX_sxtb16(wv), a1);
        a1 = PFX_smlad(x13, PFX_sxtb16_ror8(wv), a1);
        wv = PFX_ld32(w + 8);
        a2 = PFX_smlad(x02, PFX_sxtb16(wv), a2);
        a2 = PFX_smlad(x13, PFX_sxtb16_ror8(wv), a2);
        wv = PFX_ld32(w + 12);
        a3 = PFX_smlad(x02, PFX_sxtb16(wv), a3);
        a3 = PFX_smlad(x13, PFX_sxtb16_ror8(wv), a3);
        x += 4;
        w += 16;
    }
    n = k & 3;
    for (i = 0; i < n; ++i) { a0 += (int32_t)x[i] * w[i]; }
    w += n;
    for (i = 0; i < n; ++i) { a1 += (int32_t)x[i] * w[i]; }
    w += n;
    for (i = 0; i < n; ++i) { a2 += (int32_t)x[i] * w[i]; }
    w += n;
    for (i = 0; i < n; ++i) { a3 += (int32_t)x[i] * w[i]; }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

static int32_t PFX_dot1(const int8_t *x, const int8_t *w, int32_t k)
{
    int32_t acc = 0;
    int32_t n = k >> 2;
    int32_t i;
    while (n-- > 0) {
        const uint32_t xv = PFX_ld32(x);
        const uint32_t wv = PFX_ld32(w);
        acc = PFX_smlad(PFX_sxtb16(xv), PFX_sxtb16(wv), acc);
        acc = PFX_smlad(PFX_sxtb16_ror8(xv), PFX_sxtb16_ror8(wv), acc);
        x += 4;
        w += 4;
    }
    n = k & 3;
    for (i = 0; i < n; ++i) { acc += (int32_t)x[i] * w[i]; }
    return acc;
}
#else
/* acc[r] += x . w_r for the four rows of one weight block (portable C) */
static void PFX_dot4(const int8_t *x, const int8_t *w, int32_t k, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t n = k >> 2;
    int32_t i;
    while (n-- > 0) {
        for (i = 0; i < 4; ++i) {
            const int32_t xi = x[i];
            a0 += xi * w[i];
            a1 += xi * w[4 + i];
            a2 += xi * w[8 + i];
            a3 += xi * w[12 + i];
        }
        x += 4;
        w += 16;
    }
    n = k & 3;
    for (i = 0; i < n; ++i) { a0 += (int32_t)x[i] * w[i]; }
    w += n;
    for (i = 0; i < n; ++i) { a1 += (int32_t)x[i] * w[i]; }
    w += n;
    for (i = 0; i < n; ++i) { a2 += (int32_t)x[i] * w[i]; }
    w += n;
    for (i = 0; i < n; ++i) { a3 += (int32_t)x[i] * w[i]; }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

static int32_t PFX_dot1(const int8_t *x, const int8_t *w, int32_t k)
{
    int32_t acc = 0;
    int32_t i;
    for (i = 0; i < k; ++i) { acc += (int32_t)x[i] * w[i]; }
    return acc;
}
#endif
"""

_MATVEC = """\
/* y = clamp(zp + requant(bias + W x)) for n_out rows of the block layout; bias already
 * holds -input_zero_point * sum(w_row) so the dot products use raw int8 inputs */
static void PFX_matvecSFX(const int8_t *x, int32_t k, const int8_t *w, const int32_t *bias,
                          const RQTYPE *rq, const int8_t *shift, int32_t n_out,
                          int32_t out_zp, int32_t act_min, int32_t act_max, int8_t *y)
{
    int32_t oc = 0;
    int32_t r;
    for (; oc + 4 <= n_out; oc += 4) {
        int32_t acc[4];
        for (r = 0; r < 4; ++r) { acc[r] = bias[oc + r]; }
        PFX_dot4(x, w, k, acc);
        w += 4 * k;
        for (r = 0; r < 4; ++r) {
            y[oc + r] = PFX_clamp8(REQUANT(acc[r], oc + r) + out_zp, act_min, act_max);
        }
    }
    for (; oc < n_out; ++oc) {
        const int32_t acc = bias[oc] + PFX_dot1(x, w, k);
        w += k;
        y[oc] = PFX_clamp8(REQUANT(acc, oc) + out_zp, act_min, act_max);
    }
}
"""

_FIXED_MATVEC = (
    _MATVEC.replace("SFX", "")
    .replace("RQTYPE", "int32_t")
    .replace("REQUANT(acc[r], oc + r)", "PFX_mbqm(acc[r], rq[oc + r], shift[oc + r])")
    .replace("REQUANT(acc, oc)", "PFX_mbqm(acc, rq[oc], shift[oc])")
)


_DOUBLE_MATVEC = (
    _MATVEC.replace("SFX", "_d")
    .replace("RQTYPE", "uint32_t")
    .replace(
        "REQUANT(acc[r], oc + r)",
        "PFX_dround(acc[r], rq[2 * (oc + r)], rq[2 * (oc + r) + 1], shift[oc + r])",
    )
    .replace("REQUANT(acc, oc)", "PFX_dround(acc, rq[2 * oc], rq[2 * oc + 1], shift[oc])")
)

_CONV = """\
/* CONV_2D, NHWC, as im2col + matvec per output pixel. A receptive field that lies
 * inside the input and is contiguous in memory is read in place; otherwise it is
 * gathered into col (k_h * k_w * c_in bytes) with padding filled with the input zero
 * point, which contributes nothing once the bias holds -zp * sum(w). */
static void PFX_conv(const int8_t *in, const int32_t *g, int32_t in_zp, const int8_t *w,
                     const int32_t *bias, const int32_t *mult, const int8_t *shift,
                     int32_t out_zp, int32_t act_min, int32_t act_max, int8_t *col,
                     int8_t *out)
{
    /* g: in_h, in_w, in_c, k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w,
     *    out_h, out_w, out_c */
    const int32_t in_h = g[0], in_w = g[1], in_c = g[2], k_h = g[3], k_w = g[4];
    const int32_t out_h = g[11], out_w = g[12], out_c = g[13];
    const int32_t k = k_h * k_w * in_c;
    const int32_t rows_contiguous = (g[8] == 1) && (k_h == 1 || (k_w == in_w && g[7] == 1));
    int32_t oy, ox, fy, fx, c;
    for (oy = 0; oy < out_h; ++oy) {
        for (ox = 0; ox < out_w; ++ox) {
            const int32_t y0 = oy * g[5] - g[9];
            const int32_t x0 = ox * g[6] - g[10];
            const int8_t *src;
            if (rows_contiguous && y0 >= 0 && x0 >= 0 && y0 + (k_h - 1) * g[7] < in_h
                && x0 + k_w - 1 < in_w) {
                src = in + (y0 * in_w + x0) * in_c;
            } else {
                int8_t *dst = col;
                for (fy = 0; fy < k_h; ++fy) {
                    const int32_t iy = y0 + fy * g[7];
                    for (fx = 0; fx < k_w; ++fx) {
                        const int32_t ix = x0 + fx * g[8];
                        if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w) {
                            const int8_t *p = in + (iy * in_w + ix) * in_c;
                            for (c = 0; c < in_c; ++c) { *dst++ = p[c]; }
                        } else {
                            for (c = 0; c < in_c; ++c) { *dst++ = (int8_t)in_zp; }
                        }
                    }
                }
                src = col;
            }
            PFX_matvec(src, k, w, bias, mult, shift, out_c, out_zp, act_min, act_max,
                       out + (oy * out_w + ox) * out_c);
        }
    }
}
"""

_DWCONV = """\
/* DEPTHWISE_CONV_2D, NHWC, TFLite's reference sum (padding taps are skipped) */
static void PFX_dwconv(const int8_t *in, const int32_t *g, int32_t in_off, const int8_t *w,
                       const int32_t *bias, const int32_t *mult, const int8_t *shift,
                       int32_t out_zp, int32_t act_min, int32_t act_max, int8_t *out)
{
    /* g: in_h, in_w, in_c, k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w,
     *    out_h, out_w, depth_multiplier */
    const int32_t in_h = g[0], in_w = g[1], in_c = g[2], k_h = g[3], k_w = g[4];
    const int32_t dil_h = g[7], dil_w = g[8], out_h = g[11], out_w = g[12], dm = g[13];
    const int32_t out_c = in_c * dm;
    int32_t oy, ox, ic, m, fy, fx;
    for (oy = 0; oy < out_h; ++oy) {
        const int32_t y0 = oy * g[5] - g[9];
        int32_t fy0 = 0, fy1 = k_h;
        while (fy0 < k_h && y0 + fy0 * dil_h < 0) { ++fy0; }
        while (fy1 > fy0 && y0 + (fy1 - 1) * dil_h >= in_h) { --fy1; }
        for (ox = 0; ox < out_w; ++ox) {
            const int32_t x0 = ox * g[6] - g[10];
            int32_t fx0 = 0, fx1 = k_w;
            while (fx0 < k_w && x0 + fx0 * dil_w < 0) { ++fx0; }
            while (fx1 > fx0 && x0 + (fx1 - 1) * dil_w >= in_w) { --fx1; }
            for (ic = 0; ic < in_c; ++ic) {
                for (m = 0; m < dm; ++m) {
                    const int32_t oc = ic * dm + m;
                    int32_t acc = bias[oc];
                    for (fy = fy0; fy < fy1; ++fy) {
                        const int8_t *ip = in + ((y0 + fy * dil_h) * in_w + x0 + fx0 * dil_w)
                                                    * in_c + ic;
                        const int8_t *wp = w + (fy * k_w + fx0) * out_c + oc;
                        for (fx = fx0; fx < fx1; ++fx) {
                            acc += (int32_t)*wp * ((int32_t)*ip + in_off);
                            ip += dil_w * in_c;
                            wp += out_c;
                        }
                    }
                    out[(oy * out_w + ox) * out_c + oc] = PFX_clamp8(
                        PFX_mbqm(acc, mult[oc], shift[oc]) + out_zp, act_min, act_max);
                }
            }
        }
    }
}
"""

_POOL = """\
/* AVERAGE_POOL_2D (is_max == 0) and MAX_POOL_2D (is_max == 1), TFLite reference */
static void PFX_pool(const int8_t *in, const int32_t *g, int32_t is_max, int32_t act_min,
                     int32_t act_max, int8_t *out)
{
    /* g: in_h, in_w, c, f_h, f_w, stride_h, stride_w, pad_h, pad_w, out_h, out_w */
    const int32_t in_h = g[0], in_w = g[1], ch = g[2];
    int32_t oy, ox, c, y, x;
    for (oy = 0; oy < g[9]; ++oy) {
        for (ox = 0; ox < g[10]; ++ox) {
            const int32_t y0 = oy * g[5] - g[7];
            const int32_t x0 = ox * g[6] - g[8];
            const int32_t ys = y0 < 0 ? 0 : y0;
            const int32_t xs = x0 < 0 ? 0 : x0;
            const int32_t ye = y0 + g[3] < in_h ? y0 + g[3] : in_h;
            const int32_t xe = x0 + g[4] < in_w ? x0 + g[4] : in_w;
            for (c = 0; c < ch; ++c) {
                int32_t acc = is_max ? -128 : 0;
                const int32_t count = (ye - ys) * (xe - xs);
                for (y = ys; y < ye; ++y) {
                    for (x = xs; x < xe; ++x) {
                        const int32_t v = in[(y * in_w + x) * ch + c];
                        if (is_max) {
                            acc = v > acc ? v : acc;
                        } else {
                            acc += v;
                        }
                    }
                }
                if (!is_max && count > 0) {
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                out[(oy * g[10] + ox) * ch + c] = PFX_clamp8(acc, act_min, act_max);
            }
        }
    }
}
"""

_MEAN = """\
/* MEAN over contiguous axes: in is (outer, red, inner); QuantizedMeanOrSum */
static void PFX_mean(const int8_t *in, int32_t outer, int32_t red, int32_t inner,
                     int32_t in_zp, int32_t mult, int32_t shift, int32_t out_zp, int8_t *out)
{
    int32_t o, i, r;
    for (o = 0; o < outer; ++o) {
        for (i = 0; i < inner; ++i) {
            int32_t sum = 0;
            for (r = 0; r < red; ++r) { sum += in[(o * red + r) * inner + i]; }
            out[o * inner + i] = PFX_clamp8(
                PFX_mbqm(sum - in_zp * red, mult, shift) + out_zp, -128, 127);
        }
    }
}
"""

_ADD = """\
/* ADD of two int8 tensors of one shape, TFLite's general rescaling path */
static void PFX_add(const int8_t *a, const int8_t *b, int32_t n, const int32_t *q,
                    int8_t *out)
{
    /* q: a_off, a_mult, a_shift, b_off, b_mult, b_shift, left_shift, out_mult,
     *    out_shift, out_zp, act_min, act_max */
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t sa = (int32_t)((uint32_t)(a[i] + q[0]) << q[6]);
        const int32_t sb = (int32_t)((uint32_t)(b[i] + q[3]) << q[6]);
        const int32_t sum = PFX_mbqm(sa, q[1], q[2]) + PFX_mbqm(sb, q[4], q[5]);
        out[i] = PFX_clamp8(PFX_mbqm(sum, q[7], q[8]) + q[9], q[10], q[11]);
    }
}
"""

_REQUANT = """\
/* out = clamp(out_zp + requant(in - in_zp)): QUANTIZE int8->int8, RELU, RELU6 */
static void PFX_requant(const int8_t *in, int32_t n, int32_t in_zp, int32_t mult,
                        int32_t shift, int32_t out_zp, int32_t lo, int32_t hi, int8_t *out)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = PFX_clamp8(out_zp + PFX_mbqm(in[i] - in_zp, mult, shift), lo, hi);
    }
}
"""

_LUT = """\
/* elementwise int8 -> int8 through a 256-entry table indexed by (uint8_t)x */
static void PFX_lut(const int8_t *in, int32_t n, const int8_t *table, int8_t *out)
{
    int32_t i;
    for (i = 0; i < n; ++i) { out[i] = table[(uint8_t)in[i]]; }
}
"""

_COPY = """\
static void PFX_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) { dst[i] = src[i]; }
}
"""


#: kernel name -> (C text, kernels it calls)
KERNELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "clamp": (_CLAMP, ()),
    "fixed": (_FIXED, ("clamp",)),
    "dot": (_DOT, ()),
    "matvec": (_FIXED_MATVEC, ("fixed", "dot")),
    "dround": (_DROUND, ()),
    "matvec_d": (_DOUBLE_MATVEC, ("clamp", "dot", "dround")),
    "conv": (_CONV, ("matvec",)),
    "dwconv": (_DWCONV, ("fixed",)),
    "pool": (_POOL, ("clamp",)),
    "mean": (_MEAN, ("fixed",)),
    "add": (_ADD, ("fixed",)),
    "requant": (_REQUANT, ("fixed",)),
    "lut": (_LUT, ()),
    "copy": (_COPY, ()),
    "gemmlowp": (_GEMMLOWP, ()),
    "softmax": (_SOFTMAX, ("gemmlowp",)),
}


def kernel_source(names: Iterable[str], prefix: str) -> str:
    """The C of the named kernels and their dependencies, dependencies first."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for dep in KERNELS[name][1]:
            visit(dep)
        order.append(name)

    for name in sorted(set(names)):
        visit(name)
    text = "\n".join(KERNELS[n][0] for n in order)
    return text.replace("PFXU_", f"{prefix.upper()}_").replace("PFX_", f"{prefix}_")
