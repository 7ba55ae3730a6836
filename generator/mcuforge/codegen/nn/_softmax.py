"""SOFTMAX's exponentials at generation time.

TFLite's int8 reference SOFTMAX exponentiates ``diff = x - max(row)`` (an integer in
[-255, 0]) through gemmlowp's ``exp_on_negative_values`` after scaling it by the
input multiplier: a pure function of ``diff``. The generated C looks the Q0.31 values
up in a table of the differences that can pass the kernel's ``diff >= diff_min`` test
instead of computing them (twice per element); this module ports the fixed-point
arithmetic operation for operation.
"""

from __future__ import annotations

from ._quant import INT32_MAX, rdbp, srdhm, wrap32

_BARREL = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)


def _sat_shl(x: int, exponent: int) -> int:
    """gemmlowp ``SaturatingRoundingMultiplyByPOT`` for a positive exponent."""
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return -(2**31)
    return x << exponent


def exp_on_negative_values(a: int) -> int:
    """gemmlowp ``exp_on_negative_values`` of a Q5.26 value ``a <= 0``; Q0.31 result."""
    quarter = 1 << 24
    a_mod = (a & (quarter - 1)) - quarter
    x = _sat_shl(a_mod, 5) + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    poly = rdbp(srdhm(rdbp(x4, 2) + x3, 715827883) + x2, 1)
    result = 1895147668 + srdhm(1895147668, x + poly)
    remainder = a_mod - a
    for e, factor in enumerate(_BARREL):
        if remainder & (1 << (24 + e)):
            result = srdhm(result, factor)
    return INT32_MAX if a == 0 else result


def exp_table(mult: int, left_shift: int, diff_min: int) -> list[int]:
    """``exp(diff)`` for ``diff = 0, -1, ...`` down to ``max(diff_min, -255)``, as the
    reference kernel computes it: ``exp_on_negative_values(SRDHM(diff << left_shift,
    mult))``, without its tail of values below 2^11 (they decrease with ``-diff``).

    Such a value changes nothing, so the C may skip it like a difference below
    ``diff_min``: it adds ``RoundingDivideByPOT(e, 12) = 0`` to the sum, and its output
    is ``RoundingDivideByPOT(SRDHM(scale, e), 35 - headroom) - 128 = -128`` since
    ``SRDHM(scale, e) <= e < 2^22`` and the sum, at least ``exp(0) >> 12 = 2^19``, has
    at most 12 leading zeros (a shift of at least 23).
    """
    table = [
        exp_on_negative_values(srdhm(wrap32(-d << left_shift), mult))
        for d in range(0, min(-diff_min, 255) + 1)
    ]
    while len(table) > 1 and table[-1] < 1 << 11:
        table.pop()
    return table
