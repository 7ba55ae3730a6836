"""C and analytic cost of the MiniRocket block (see :mod:`.minirocket` for the maths).

The C walks each dilation once: at every position it loads the nine taps of each
channel (zero outside the window), forms ``T_j = 3 tap_j`` and the all-tap sum ``S``,
then runs the 84 kernels in lexicographic order of their triples ``(a, b, c)`` (three
nested loops, so no kernel table), counting ``conv > bias`` per feature; a kernel
without padding skips the positions whose taps leave the window. One channel: the
partial sum ``T_a + T_b`` is formed once per ``(a, b)`` and shared by its kernels.
Counts live on the stack (84 x features per kernel at one dilation), the PPV is
``(float)count / (float)positions`` at the end of each dilation.
"""

from __future__ import annotations

from ..codegen.c import c_array, c_float, smallest_int_type
from ..cost import CoreCosts
from ._base import BlockCost, CFunction
from .minirocket import N_KERNELS, Q_MAX, SUM_ORDER, TAPS, Kernels

#: Integer instructions around the arithmetic, fitted to QEMU counts (see ``cost``):
TAP_OVERHEAD = 10.0  # per tap: bounds test, load, store
KERNEL_OVERHEAD = 12.5  # per kernel and position: loop, skip test, loads of T and S
CHANNEL_OVERHEAD = 22.0  # per channel of a multivariate kernel: index table, loads
COUNT_OVERHEAD = 17.5  # per bias: load, branch, counter update


def _tables(kn: Kernels, fn: str, channels: int) -> list[str]:
    q = kn.quant is not None
    nf_t = smallest_int_type(0, max(kn.per_dilation))
    out = [
        c_array(f"{fn}_BIAS", "int32_t" if q else "float", kn.biases.tolist()),
        c_array(f"{fn}_DIL", smallest_int_type(0, max(kn.dilations)), kn.dilations),
        c_array(f"{fn}_NF", nf_t, kn.per_dilation),
    ]
    if kn.quant is not None:
        out.append(c_array(f"{fn}_OFFSET", "float", kn.quant.offset.tolist()))
        out.append(c_array(f"{fn}_SCALE", "float", kn.quant.scale.tolist()))
    if channels > 1:
        index = [c for s in kn.subsets for c in s]
        offsets = [0]
        for s in kn.subsets[:-1]:
            offsets.append(offsets[-1] + len(s))
        out += [
            c_array(f"{fn}_NCH", "uint8_t", [len(s) for s in kn.subsets], per_line=21),
            c_array(f"{fn}_CHOFF", smallest_int_type(0, len(index)), offsets, per_line=12),
            c_array(f"{fn}_CHIDX", "uint8_t", index, per_line=21),
        ]
    return out


def _kernel_loop(fn: str, channels: int, val: str) -> list[str]:
    """The 84 kernels at one position: ``conv`` and the counts (inside the t loop)."""
    count = [
        "                        for (f = 0; f < nf; ++f) {",
        "                            if (conv > b[k * nf + f]) { ++cnt[k * nf + f]; }",
        "                        }",
    ]
    skip = "                        if (edge && ((di + k) & 1)) { continue; }"
    if channels == 1:
        return [
            "            for (i0 = 0; i0 < 7; ++i0) {",
            "                for (i1 = i0 + 1; i1 < 8; ++i1) {",
            f"                    const {val} pair = t3[0][i0] + t3[0][i1];",
            "                    for (i2 = i1 + 1; i2 < 9; ++i2, ++k) {",
            f"                        {val} conv;",
            skip,
            "                        conv = (pair + t3[0][i2]) - s[0];",
            *count,
            "                    }",
            "                }",
            "            }",
        ]
    return [
        "            for (i0 = 0; i0 < 7; ++i0) {",
        "                for (i1 = i0 + 1; i1 < 8; ++i1) {",
        "                    for (i2 = i1 + 1; i2 < 9; ++i2, ++k) {",
        "                        const int comb = di * 84 + k;",
        f"                        const uint8_t *ci = {fn}_CHIDX + {fn}_CHOFF[comb];",
        f"                        {val} conv;",
        "                        int m;",
        skip,
        "                        c = ci[0];",
        "                        conv = ((t3[c][i0] + t3[c][i1]) + t3[c][i2]) - s[c];",
        f"                        for (m = 1; m < {fn}_NCH[comb]; ++m) {{",
        "                            c = ci[m];",
        "                            conv = conv + (((t3[c][i0] + t3[c][i1]) + t3[c][i2]) - s[c]);",
        "                        }",
        *count,
        "                    }",
        "                }",
        "            }",
    ]


def emit(kn: Kernels, length: int, channels: int, fn: str) -> CFunction:
    """``static void fn(const float *x, float *out)``: the PPV features of one window."""
    q = kn.quant is not None
    val = "int32_t" if q else "float"
    zero = "0" if q else "0.0f"
    three = "3" if q else "3.0f"
    src = "q" if q else "x"
    cnt_t = smallest_int_type(0, length)
    quantise: list[str] = []
    if q:
        lim = c_float(Q_MAX)
        quantise = [
            "    {",
            "        int i, c;",
            "        for (i = 0; i < LEN; ++i) {",
            "            for (c = 0; c < CH; ++c) {",
            f"                float v = (x[i * CH + c] - {fn}_OFFSET[c]) * {fn}_SCALE[c];",
            f"                if (v > {lim}) {{ v = {lim}; }}",
            f"                if (v < -{lim}) {{ v = -{lim}; }}",
            "                q[i * CH + c] = (int16_t)v;",
            "            }",
            "        }",
            "    }",
        ]
    sums = [f"                s[c] = tap[{SUM_ORDER[0]}] + tap[{SUM_ORDER[1]}];"] + [
        f"                s[c] = s[c] + tap[{j}];" for j in SUM_ORDER[2:]
    ]
    body = [
        f"static void {fn}(const float *x, float *out)",
        "{",
        f"    enum {{ LEN = {length}, CH = {channels}, ND = {len(kn.dilations)}, "
        f"NFMAX = {max(kn.per_dilation)} }};",
        *(["    int16_t q[LEN * CH];"] if q else []),
        f"    {val} t3[CH][9], s[CH];",
        f"    {cnt_t} cnt[84 * NFMAX];",
        f"    const {val} *b = {fn}_BIAS;",
        "    int di;",
        *quantise,
        "    for (di = 0; di < ND; ++di) {",
        f"        const int d = {fn}_DIL[di], nf = {fn}_NF[di], pad = 4 * d;",
        "        int t, k, f;",
        "        for (k = 0; k < 84 * nf; ++k) { cnt[k] = 0; }",
        "        for (t = 0; t < LEN; ++t) {",
        "            const int edge = t < pad || t >= LEN - pad;",
        "            int c, i0, i1, i2;",
        "            for (c = 0; c < CH; ++c) {",
        f"                {val} tap[9];",
        "                int j;",
        "                for (j = 0; j < 9; ++j) {",
        "                    const int u = t + (j - 4) * d;",
        f"                    tap[j] = (u >= 0 && u < LEN) ? {src}[u * CH + c] : {zero};",
        f"                    t3[c][j] = {three} * tap[j];",
        "                }",
        *sums,
        "            }",
        "            k = 0;",
        *_kernel_loop(fn, channels, val),
        "        }",
        "        for (k = 0; k < 84; ++k) {",
        "            const float n = (float)(((di + k) & 1) ? LEN - 2 * pad : LEN);",
        "            for (f = 0; f < nf; ++f) { out[k * nf + f] = (float)cnt[k * nf + f] / n; }",
        "        }",
        "        out += 84 * nf;",
        "        b += 84 * nf;",
        "    }",
        "}",
    ]
    head = (
        f"/* MiniRocket: 84 kernels x {len(kn.dilations)} dilation(s) "
        f"{kn.dilations}, {kn.n_features} PPV features, "
        f"{'q15 inputs, int32 sums' if q else 'float32'}. */"
    )
    code = "\n\n".join([head, *_tables(kn, fn, channels), "\n".join(body)])
    return CFunction(fn, code, ("<stdint.h>",))


def cost(
    dilations: list[int],
    per_dilation: list[int],
    subsets: list[list[int]],
    length: int,
    channels: int,
    q15: bool,
    core: CoreCosts,
) -> BlockCost:
    """Analytic flash, stack and instructions of :func:`emit`'s C on one window.

    A float add or multiply costs ``core.float_op`` instructions (1 with an FPU, a
    libgcc call without), a float compare (``CoreCosts.float_compare``) + 1; integer
    arithmetic 1. The loop overheads (index arithmetic, loads, stores, branches) are
    fitted to instruction counts measured in QEMU (bench/features.py: BasicMotions, one
    and six channels, float32 and q15, Cortex-M0+ and M4F): within 10 %, except q15 on
    the M0+ (Thumb-1 needs more integer instructions): 15-20 % low.
    """
    fo = 1.0 if q15 else core.float_op  # one add of the convolution
    compare = 1.0 if q15 else core.float_compare + 1
    n_feat = N_KERNELS * sum(per_dilation)
    instr = 0.0
    if q15:  # quantise each sample once: subtract, multiply, two clamps, convert
        instr += length * channels * (5 * core.float_op + 10)
    for di, (d, nf) in enumerate(zip(dilations, per_dilation, strict=True)):
        inner = max(length - 8 * d, 0)
        # per position and channel: nine taps (bounds, load, x3, store) and the 8 adds of S
        instr += length * channels * (TAPS * (fo + TAP_OVERHEAD) + 8 * fo)
        instr += N_KERNELS * nf * 3  # clear the counts
        for k in range(N_KERNELS):
            positions = length if (di + k) % 2 == 0 else inner
            m = len(subsets[di * N_KERNELS + k])
            if channels == 1:
                per = (2 + 36 / N_KERNELS) * fo + KERNEL_OVERHEAD  # + the shared pair sum
            else:
                per = (4 * m - 1) * fo + KERNEL_OVERHEAD + CHANNEL_OVERHEAD * m
            per += nf * (compare + COUNT_OVERHEAD)
            instr += positions * per + (length - positions) * 6  # skipped: the edge test
    instr += n_feat * (core.float_op + core.float_div + 8)  # (float)count / positions
    flash = 4 * n_feat + 2 * len(dilations) + 560 + (80 if q15 else 0)  # code: QEMU builds
    if channels > 1:
        flash += 3 * len(subsets) + sum(len(s) for s in subsets) + 120
    cnt_bytes = 1 if length < 256 else 2 if length < 65536 else 4
    stack = 84 * max(per_dilation) * cnt_bytes + 4 * channels * (TAPS + 1) + 4 * TAPS + 64
    if q15:
        stack += 2 * length * channels
    return BlockCost(int(flash), int(stack), int(instr))
