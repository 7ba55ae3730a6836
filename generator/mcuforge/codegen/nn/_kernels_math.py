"""C kernels for the fixed-point and exact-rounding arithmetic of a few operators.

* gemmlowp's ``SaturatingRoundingDoublingHighMul`` / ``RoundingDivideByPOT`` and the
  int8 SOFTMAX of TFLite's reference kernel (``exp_on_negative_values``,
  ``one_over_one_plus_x_for_x_in_0_1``), ported operation for operation.
* ``dround``: LiteRT's reference FULLY_CONNECTED requantises with
  ``round(double(acc) * scale)``; this reproduces that IEEE double multiply and
  ``round`` exactly with integer arithmetic, so cores without a double FPU agree.

``PFX_`` is replaced by the network's prefix (see :mod:`._kernels`).
"""

_GEMMLOWP = """\
static int32_t PFX_srdhm(int32_t a, int32_t b)
{
    /* gemmlowp SaturatingRoundingDoublingHighMul */
    int64_t ab;
    int64_t nudge;
    if (a == b && a == INT32_MIN) { return INT32_MAX; }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static int32_t PFX_rdbp(int32_t x, int32_t exponent)
{
    /* gemmlowp RoundingDivideByPOT */
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

"""

_SOFTMAX = """\
static int32_t PFX_fx_mul(int32_t a, int32_t b) { return PFX_srdhm(a, b); }

static int32_t PFX_sat_shl(int32_t x, int32_t exponent)
{
    /* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent */
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) { return INT32_MAX; }
    if (x < -threshold) { return INT32_MIN; }
    return (int32_t)((uint32_t)x << exponent);
}

/* gemmlowp exp_on_negative_values for a Q5.26 input; result Q0.31 */
static int32_t PFX_exp_neg(int32_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535, 720401, 242};
    const int32_t quarter = (int32_t)1 << 24;
    const int32_t a_mod = (a & (quarter - 1)) - quarter;
    const int32_t x = PFX_sat_shl(a_mod, 5) + ((int32_t)1 << 28);
    const int32_t x2 = PFX_fx_mul(x, x);
    const int32_t x3 = PFX_fx_mul(x2, x);
    const int32_t x4 = PFX_fx_mul(x2, x2);
    const int32_t x4_over_4 = PFX_rdbp(x4, 2);
    const int32_t poly = PFX_rdbp(PFX_fx_mul(x4_over_4 + x3, 715827883) + x2, 1);
    int32_t result = 1895147668 + PFX_fx_mul(1895147668, x + poly);
    const int32_t remainder = a_mod - a;
    int32_t e;
    for (e = 0; e < 7; ++e) {
        if (remainder & ((int32_t)1 << (24 + e))) { result = PFX_fx_mul(result, barrel[e]); }
    }
    return a == 0 ? INT32_MAX : result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1 (Newton-Raphson); Q0.31 in and out */
static int32_t PFX_recip(int32_t a)
{
    /* RoundingHalfSum(a, one) */
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = 1515870810 + PFX_fx_mul(half_den, -1010580540);
    int32_t i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus = one_q2 - PFX_fx_mul(half_den, x);
        x = x + PFX_sat_shl(PFX_fx_mul(x, one_minus), 2);
    }
    return PFX_sat_shl(x, 1);
}

/* SOFTMAX int8 -> int8 (scale 1/256, zero point -128), TFLite's reference kernel */
static void PFX_softmax(const int8_t *in, int32_t outer, int32_t depth, int32_t mult,
                        int32_t left_shift, int32_t diff_min, int8_t *out)
{
    int32_t o, c;
    for (o = 0; o < outer; ++o) {
        const int8_t *row = in + o * depth;
        int8_t *dst = out + o * depth;
        int32_t max_in = -128;
        int32_t sum = 0;
        int32_t headroom, bits_over_unit, scale;
        for (c = 0; c < depth; ++c) { max_in = row[c] > max_in ? row[c] : max_in; }
        for (c = 0; c < depth; ++c) {
            const int32_t diff = row[c] - max_in;
            if (diff >= diff_min) {
                const int32_t scaled = PFX_srdhm((int32_t)((uint32_t)diff << left_shift), mult);
                sum += PFX_rdbp(PFX_exp_neg(scaled), 12);
            }
        }
        headroom = 0;
        while (headroom < 32 && !((uint32_t)sum & (0x80000000u >> headroom))) { ++headroom; }
        bits_over_unit = 12 - headroom;
        scale = PFX_recip((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
        for (c = 0; c < depth; ++c) {
            const int32_t diff = row[c] - max_in;
            if (diff >= diff_min) {
                const int32_t scaled = PFX_srdhm((int32_t)((uint32_t)diff << left_shift), mult);
                const int32_t e = PFX_exp_neg(scaled);
                const int32_t v = PFX_rdbp(PFX_fx_mul(scale, e), bits_over_unit + 23) - 128;
                dst[c] = (int8_t)(v > 127 ? 127 : (v < -128 ? -128 : v));
            } else {
                dst[c] = -128;
            }
        }
    }
}
"""

_DROUND = """\
/* (int32_t)round((double)acc * d) with d = md * 2^-sh (md < 2^53): an IEEE double
 * multiply (round to nearest even, 53 bits) then round half away from zero, done in
 * integers so that cores without a double FPU give the same result */
static int32_t PFX_dround(int32_t acc, uint32_t md_hi, uint32_t md_lo, int32_t sh)
{
    const uint32_t a = acc < 0 ? (uint32_t)0 - (uint32_t)acc : (uint32_t)acc;
    const uint64_t lo = (uint64_t)a * md_lo;
    const uint64_t mid = (lo >> 32) + (uint64_t)a * md_hi;
    const uint32_t w0 = (uint32_t)lo, w1 = (uint32_t)mid, w2 = (uint32_t)(mid >> 32);
    int32_t nbits = 0, k, s;
    uint64_t q, rem = 0, half = 0, mag;
    if (w2) {
        nbits = 64;
        while ((w2 >> (nbits - 64)) != 0u) { ++nbits; }
    } else if (w1) {
        nbits = 32;
        while (nbits < 64 && (w1 >> (nbits - 32)) != 0u) { ++nbits; }
    } else {
        while (nbits < 32 && (w0 >> nbits) != 0u) { ++nbits; }
    }
    k = nbits > 53 ? nbits - 53 : 0;
    if (k == 0) {
        q = ((uint64_t)w1 << 32) | w0;
    } else {
        q = ((((uint64_t)w2 << 32) | w1) << (32 - k)) | (w0 >> k);
        rem = w0 & (((uint32_t)1 << k) - 1u);
        half = (uint64_t)1 << (k - 1);
        if (rem > half || (rem == half && (q & 1u))) { ++q; }
    }
    s = sh - k;
    if (s <= 0) {
        mag = 0x7fffffffu;
    } else if (s > 62) {
        mag = 0;
    } else {
        mag = (q + ((uint64_t)1 << (s - 1))) >> s;
        if (mag > 0x7fffffffu) { mag = 0x7fffffffu; }
    }
    return acc < 0 ? -(int32_t)mag : (int32_t)mag;
}
"""
