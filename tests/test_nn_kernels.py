"""The int8 kernels' arithmetic, one function at a time, against TFLite's definitions.

The networks of test_nn_codegen check whole models byte for byte; these check the
rewritten requantisation functions on many more values, including the ones whole
networks rarely reach (rounding ties, the largest accumulators, every shift).
"""

from __future__ import annotations

import math

import numpy as np

from mcuforge.codegen.nn._fit import add_input_form, dround_fn, fit_channel, mbqm_fn
from mcuforge.codegen.nn._kernels import FAST_MAX_SHIFT, render
from mcuforge.codegen.nn._ops_conv import conv_requant
from mcuforge.codegen.nn._quant import mbqm, quantize_multiplier, softmax_params
from mcuforge.codegen.nn._softmax import exp_on_negative_values, exp_table
from mcuforge.testing._network_c import build_and_run

P = "k"


def _kernels(modes: list[str], helpers: set[str]) -> str:
    common = {"p": P, "P": P.upper(), "modes": modes, "forms": {}, "helpers": helpers}
    parts = [render("base.c.jinja", **common)]
    if "double" in modes:
        parts.append(render("dround.c.jinja", **common))
    parts.append(render("requant.c.jinja", **common))
    return "#include <stdint.h>\n#include <string.h>\n" + "\n".join(parts)


def _run(code: str, rows: np.ndarray) -> np.ndarray:
    """Apply ``code``'s ``static int32_t f(const int64_t *row)`` to every int64 row."""
    n = rows.shape[1]
    main = f"""{code}
#include <stdio.h>
int main(void)
{{
    int64_t row[{n}];
    while (fread(row, sizeof row, 1, stdin) == 1) {{
        const int32_t y = f(row);
        fwrite(&y, sizeof y, 1, stdout);
    }}
    return 0;
}}
"""
    raw = build_and_run(main, np.ascontiguousarray(rows, dtype="<i8").tobytes(), [])
    return np.frombuffer(raw, dtype="<i4").astype(np.int64)


def test_fast_requantisation_is_multiply_by_quantized_multiplier() -> None:
    """(smmulr(2 acc, m) + c - (v < 0)) >> r == MultiplyByQuantizedMultiplier + zp for
    every right shift 1..22 and |acc| < 2^30, in Python and in the C (portable SMMULR;
    the DSP instruction runs in the QEMU network tests)."""
    rng = np.random.default_rng(0)
    n = 6000
    acc = rng.integers(-(2**30) + 1, 2**30, n)
    acc[:40] = [0, 1, -1, 2**30 - 1, -(2**30) + 1, *rng.integers(-300, 300, 35)]
    m = rng.integers(2**30, 2**31, n)
    m[:10] = 2**30  # a power of two: the case where x m = -2^30 lands on a tie
    r = rng.integers(1, FAST_MAX_SHIFT + 1, n)
    zp = rng.integers(-128, 128, n)
    c = (np.int64(1) << (r - 1)) + (zp << r)
    expected = np.asarray([mbqm(int(a), int(q), -int(s)) + int(z) for a, q, s, z in
                           zip(acc, m, r, zp, strict=True)])  # fmt: skip
    v = ((2 * acc * m) + (1 << 31)) >> 32  # SMMULR, in Python
    assert np.array_equal((v + c + (v >> 63)) >> r, expected)
    code = _kernels(["fast"], {"smmulr"}) + (
        f"static int32_t f(const int64_t *q)\n{{\n    return {P}_rq_fast((int32_t)q[0], "
        "(int32_t)q[1], (int32_t)q[2], (int32_t)q[3], 0);\n}\n"
    )
    assert np.array_equal(_run(code, np.stack([acc, m, c, r], axis=1)), expected)


def _double_reference(acc: int, md: int, sh: int) -> int:
    """round(double(acc) * d), half away from zero, with d = md * 2^-sh (exact)."""
    product = float(acc) * math.ldexp(float(md), -sh)  # one IEEE rounding
    return int(math.copysign(math.floor(abs(product) + 0.5), product))


def test_integer_dround_is_round_of_the_double_product() -> None:
    """The integer emulation equals the IEEE double product then round(), including
    products whose 53-bit rounding moves them onto or off a half (double rounding);
    results of magnitude 512 and more only saturate int8 and may come back as 2^20."""
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(4000):
        sh = int(rng.integers(40, 90))
        md = int(rng.integers(2**52, 2**53))
        scale = math.ldexp(md, -sh)
        top = max(1, min(2**31 - 1, int(600 / scale)))
        acc = int(rng.integers(-top, top + 1))
        rows.append((acc, md, sh))
    # exact halves: acc * md = (2k + 1) * 2^(sh - 1)
    for k in range(40):
        odd = 2 * k + 1
        md = odd << (52 - odd.bit_length() + 1)
        sh = 52 - odd.bit_length() + 2
        rows += [(1, md, sh), (-1, md, sh), (3, md, sh + 2)]
    # double rounding: the 53-bit rounding lands exactly on a half
    found = 0
    while found < 60:
        sh = int(rng.integers(60, 75))
        acc = int(rng.integers(2**20, 2**30))
        md = int(rng.integers(2**52, 2**53))
        exact = acc * md
        half = (exact >> (sh - 1)) | 1  # an odd multiple of 2^(sh-1) near the product
        md = max(2**52, min(2**53 - 1, (half << (sh - 1)) // acc))
        exact = acc * md
        k = exact.bit_length() - 53
        if k > 0 and abs(exact - (half << (sh - 1))) < (1 << k):
            rows += [(acc, md, sh), (-acc, md, sh)]
            found += 1
    data = np.asarray([(a, md >> 32, md & 0xFFFFFFFF, s) for a, md, s in rows], dtype=np.int64)
    code = _kernels(["double"], set()) + (
        f"static int32_t f(const int64_t *q)\n{{\n    return {P}_dround((int32_t)q[0], "
        "(uint32_t)q[1], (uint32_t)q[2], (int32_t)q[3]);\n}\n"
    )
    got = _run(code, data)
    for (a, md, s), g in zip(rows, got, strict=True):
        ref = _double_reference(a, md, s)
        if abs(ref) < 512:
            assert g == ref, (a, md, s)
        else:  # saturates int8 either way
            assert abs(g) >= 512 and (g > 0) == (ref > 0), (a, md, s)


def test_affine_requantisation_equals_tflite_once_clamped() -> None:
    """Where ``conv_requant`` picks the affine form, clamp((acc * M + C) >> 32) equals
    TFLite's MultiplyByQuantizedMultiplier + zp clamped to [lo, hi] for every accumulator
    near the clamps and random ones up to the bound, in Python and in the C (portable;
    the SMLAL assembly runs in the QEMU network tests)."""
    rng = np.random.default_rng(2)
    cases, wants = [], []
    for trial in range(40):
        right = int(rng.integers(1, 12))
        m = int(rng.integers(2**30, 2**31))
        relu = trial % 2 == 0
        zp = -128 if relu else int(rng.integers(-20, 20))
        lo, hi = (zp, 127) if relu else (-128, 127)
        bound = int(rng.integers(2**12, 2**22))
        mode, rows = conv_requant(np.asarray([m]), np.asarray([-right]), zp, lo, hi, bound)
        if mode != "affine":
            continue
        c = (int(rows[1]) << 32) + (int(rows[0]) & 0xFFFFFFFF)
        acc = np.concatenate([np.arange(-3000, 3000), rng.integers(-bound, bound + 1, 2000)])
        acc = acc[np.abs(acc) <= bound]
        want = np.clip(mbqm_fn(m, -right, zp)(acc), lo, hi)
        assert np.array_equal(np.clip((acc * int(rows[2]) + c) >> 32, lo, hi), want)
        fixed = np.asarray([rows[0], rows[1], rows[2], lo, hi], dtype=np.int64)
        cases.append(np.column_stack([acc, np.tile(fixed, (len(acc), 1))]))
        wants.append(want)
    assert len(cases) >= 4
    code = _kernels(["affine"], set()) + (
        f"static int32_t f(const int64_t *q)\n{{\n    const int32_t v = {P}_rq_affine("
        "(int32_t)q[0], (int32_t)q[1], (int32_t)q[2], (int32_t)q[3], 0);\n"
        "    return v < q[4] ? (int32_t)q[4] : (v > q[5] ? (int32_t)q[5] : v);\n}\n"
    )
    assert np.array_equal(_run(code, np.concatenate(cases)), np.concatenate(wants))


def test_vectorised_references_equal_the_scalar_ones() -> None:
    """The fit's references: dround_fn is round(double(acc) * scale) half away from zero
    (ties included), mbqm_fn is MultiplyByQuantizedMultiplier, plus the zero point."""
    rng = np.random.default_rng(2)
    acc = rng.integers(-(2**24), 2**24, 3000)
    acc[:6] = [0, 1, -1, 3, -3, 2**24 - 1]
    md, sh = 3 << 51, 54  # scale 2^-1 * 3/2... = 0.75 * 2^... : exact halves at odd acc
    scale = math.ldexp(md, -sh)
    got = dround_fn(scale, 5)(acc)
    assert np.array_equal(got, [_double_reference(int(a), md, sh) + 5 for a in acc])
    for m, shift in [(2**30, -3), (1518500250, -9), (2**31 - 1, 0), (1234567890, 2)]:
        small = acc >> 4
        want = [mbqm(int(a), m, shift) - 7 for a in small]
        assert np.array_equal(mbqm_fn(m, shift, -7)(small), want)


def test_fitted_requantisation_equals_the_reference_on_every_dot_product() -> None:
    """clamp((c + dot * m) >> (32 + r)) of fit_channel equals clamp(f(bias + dot)) for
    every dot product in range, LiteRT's double rounding and TFLite Micro's fixed point,
    full and ReLU6-like output ranges; a None (no fit) is allowed but must be rare."""
    rng = np.random.default_rng(3)
    fitted = 0
    for case in range(60):
        scale = float(2.0 ** rng.uniform(-14, -4))
        zp = int(rng.integers(-128, 128))
        lo, hi = (-128, 127) if case % 2 else (zp, min(127, zp + 80))
        bound = int(rng.integers(2000, 40000))
        bias = int(rng.integers(-bound, bound))
        if case % 3 == 0:  # TFLite Micro: a right shift only
            m, shift = quantize_multiplier(scale)
            f = mbqm_fn(m, shift, zp)
        else:
            f = dround_fn(scale, zp)
        result = fit_channel(f, scale, bias, lo, hi, bound)
        if result is None:
            continue
        fitted += 1
        c, mm, r = result
        dot = np.arange(-bound, bound + 1, dtype=np.int64)
        want = np.clip(f(bias + dot), lo, hi)
        got = [(c + int(d) * mm) >> (32 + r) for d in dot[:: max(1, bound // 3000)]]
        assert np.array_equal(np.clip(got, lo, hi), want[:: max(1, bound // 3000)])
        g = (np.int64(c >> 32) << 32) + (c & 0xFFFFFFFF)  # the whole range, int64 only
        assert g == c
        hi_words = ((c + dot.astype(object) * mm) >> (32 + r)).astype(np.int64)
        assert np.array_equal(np.clip(hi_words, lo, hi), want)
    assert fitted >= 40
    # every output saturates (the bias alone is far beyond the range), and lo == hi
    f = dround_fn(2.0**-8, 0)
    for bias, lo, hi in [(10**7, -128, 127), (-(10**7), -128, 127), (0, 5, 5)]:
        fit = fit_channel(f, 2.0**-8, bias, lo, hi, 5000)
        assert fit is not None
        c, mm, r = fit
        got = [min(max((c + d * mm) >> (32 + r), lo), hi) for d in range(-5000, 5001, 7)]
        want = np.clip(f(bias + np.arange(-5000, 5001, 7)), lo, hi)
        assert np.array_equal(got, want)


def test_softmax_exp_table_is_gemmlowp() -> None:
    """The table against exp() within gemmlowp's error; exp(0) saturates to one; three
    entries as the C port of exp_on_negative_values that the table replaced gave them
    (that C was bit-exact with LiteRT in the network tests)."""
    assert exp_on_negative_values(0) == 2**31 - 1
    m, shift, diff_min = softmax_params(1.0, 0.1)
    table = exp_table(m, shift, diff_min)
    assert min(-diff_min, 255) + 1 == 249  # the tail below 2^11 is left out
    assert len(table) == 139 and table[138] >= 2**11 > math.exp(-0.1 * 139) * 2**31
    assert (table[1], table[17]) == (1943123572, 392309888)
    for d, e in enumerate(table):
        assert abs(e / 2**31 - math.exp(-0.1 * d)) < 1e-6


def test_fast_add_input_form_is_checked_on_every_int8_value() -> None:
    """The SMMULR form of one ADD input either reproduces mbqm((x - zp) << 20) for all
    256 inputs or is refused (the generic kernel is used then)."""
    for zp, real in [(-128, 0.5), (3, 0.123), (0, 0.4999), (-5, 0.01)]:
        m, shift = quantize_multiplier(real)
        form = add_input_form(zp, m, shift, 20)
        assert form is not None
        (s, c, r), values = form
        for x, want in zip(range(-128, 128), values, strict=True):
            v = (((x - zp) << s) * m + (1 << 31)) >> 32
            assert (v + c + (v >> 31)) >> r == want == mbqm((x - zp) << 20, m, shift)
