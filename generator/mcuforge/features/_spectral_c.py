"""The C of the spectral block (:mod:`.spectral` defines what it computes)."""

from __future__ import annotations

import math

from ..codegen.c import c_float
from .spectral import AMIN, DB, SpectralBlock

C_DB, C_AMIN = c_float(float(DB)), c_float(float(AMIN))


def c_body(block: SpectralBlock, fn: str, q: bool) -> str:
    """The C function of the block: per channel, frames averaged, then the outputs."""
    n, m, ch = block.n, block.m, len(block.channels)
    lines = [
        f"static void {fn}(const float *x, float *out)",
        "{",
        f"    enum {{ LEN = {block.length}, CH = {ch}, N = {n}, M = {m}, HOP = {block.hop}, "
        f"FRAMES = {block.frames}, K = {block.per_channel} }};",
        "    int c;",
        "    for (c = 0; c < CH; ++c) {",
    ]
    ctype, acct = ("int32_t", "int64_t") if q else ("float", "float")
    if block.filter is not None:
        lines.append("        float buf[LEN];")
    lines += [
        f"        {ctype} re[M], im[M];",
        f"        {acct} acc[M + 1];",
        *([] if q else ["        float power[M + 1];"]),
        "        float *o = out + c * K;",
        "        const float *src;",
        "        int stride, f, k;",
    ]
    if block.filter is not None:
        lines += [
            "        for (k = 0; k < LEN; ++k) { buf[k] = x[k * CH + c]; }",
            f"        {fn}_filter(buf, LEN);",
            "        src = buf;",
            "        stride = 1;",
        ]
    else:
        lines += ["        src = x + c;", "        stride = CH;"]
    if q:
        lines += [
            "        int emax = 0, shift = 0;",
            "        int32_t offset = 0, peak = 0;",
            "        for (k = 0; k < LEN; ++k) {",
            f"            const int e = {fn}_fft_exponent(src[k * stride]);",
            "            if (e > emax) { emax = e; }",
            "        }",
        ]
        if block.remove_mean:
            lines += [
                "        {",
                "            int64_t tot = 0;",
                "            for (k = 0; k < LEN; ++k) {",
                f"                tot += {fn}_fft_q24(src[k * stride], emax);",
                "            }",
                "            offset = (int32_t)(tot / LEN);",
                "        }",
            ]
        lines += [
            "        for (k = 0; k < LEN; ++k) {",
            f"            int32_t d = {fn}_fft_q24(src[k * stride], emax) - offset;",
            "            if (d < 0) { d = -d; }",
            "            if (d > peak) { peak = d; }",
            "        }",
            "        while ((peak >> shift) >= 16384) { ++shift; }",
        ]
    lines.append(f"        for (k = 0; k <= M; ++k) {{ acc[k] = {'0' if q else '0.0f'}; }}")
    lines += [
        "        for (f = 0; f < FRAMES; ++f) {",
        "            const float *s = src + f * HOP * stride;",
    ]
    lines += _c_frame(block, fn, q)
    lines.append("        }")
    lines += _c_summary(block, fn, q)
    lines += ["    }", "}"]
    return "\n".join(lines)


def _c_frame(block: SpectralBlock, fn: str, q: bool) -> list[str]:
    """One frame: mean removed, windowed, bit-reversed, FFT into ``acc``."""
    log2n = int(math.log2(block.n))
    if q:
        out = [
            "            int32_t sum = 0, mean = 0;"
            if block.remove_mean
            else "            const int32_t mean = 0;",
            "            for (k = 0; k < M; ++k) {",
            f"                const int j = {fn}_fft_BITREV[k];",
            f"                re[j] = {fn}_fft_q15(s[(2 * k) * stride], emax, offset, shift);",
            f"                im[j] = {fn}_fft_q15(s[(2 * k + 1) * stride], emax, offset, shift);",
            *(["                sum += re[j] + im[j];"] if block.remove_mean else []),
            "            }",
        ]
        if block.remove_mean:
            out.append(f"            mean = (sum + N / 2) >> {log2n};")
        out += [
            "            for (k = 0; k < M; ++k) {",
            f"                const int j = {fn}_fft_BITREV[k];",
            f"                re[k] = ((re[k] - mean) * {fn}_WIN[2 * j] + 16384) >> 15;",
            f"                im[k] = ((im[k] - mean) * {fn}_WIN[2 * j + 1] + 16384) >> 15;",
            "            }",
            f"            {fn}_fft(re, im, acc);",
        ]
        return out
    out = []
    sub = ""
    if block.remove_mean:
        out += [
            "            float sum = 0.0f, mean;",
            "            for (k = 0; k < N; ++k) { sum += s[k * stride]; }",
            "            mean = sum / (float)N;",
        ]
        sub = " - mean"
    out += [
        "            for (k = 0; k < M; ++k) {",
        f"                const int j = {fn}_fft_BITREV[k];",
        f"                re[j] = (s[(2 * k) * stride]{sub}) * {fn}_WIN[2 * k];",
        f"                im[j] = (s[(2 * k + 1) * stride]{sub}) * {fn}_WIN[2 * k + 1];",
        "            }",
        f"            {fn}_fft(re, im, power);",
        "            for (k = 0; k <= M; ++k) { acc[k] += power[k]; }",
    ]
    return out


def _c_summary(block: SpectralBlock, fn: str, q: bool) -> list[str]:
    """The outputs of the averaged spectrum ``acc``: bands, dominant, centroid."""
    lines = []
    j = 0
    scale = c_float(float(block.scale))
    if q:
        lines.append(
            f"        {{ const int kexp = {2 * block.qfft.stages} + 2 * (emax - 149 + shift);"
        )
    else:
        lines.append("        {")
        lines.append(f"            for (k = 0; k <= M; ++k) {{ acc[k] = acc[k] * {scale}; }}")
    if "bands" in block.outputs:
        etype = "int64_t" if q else "float"
        zero = "0" if q else "0.0f"
        value = f"{fn}_fft_ldexp((float)e * {scale}, kexp)" if q else "e"
        lines += [
            "            int b;",
            f"            for (b = 0; b < {block.bands}; ++b) {{",
            f"                {etype} e = {zero};",
            "                float v;",
            f"                for (k = {fn}_EDGES[b]; k < {fn}_EDGES[b + 1]; ++k) {{",
            "                    e += acc[k];",
            "                }",
            f"                v = {value};",
        ]
        if block.band_scale == "log":
            lines.append(f"                v = {C_DB} * {fn}_ln(v > {C_AMIN} ? v : {C_AMIN});")
        lines += ["                o[b] = v;", "            }"]
        j = block.bands
    for o in block.outputs:
        if o == "dominant":
            lines += [
                "            {",
                "                int best = 1;",
                "                for (k = 2; k <= M; ++k) {",
                "                    if (acc[k] > acc[best]) { best = k; }",
                "                }",
                f"                o[{j}] = (float)best * {c_float(float(block.bin_hz))};",
                "            }",
            ]
            j += 1
        elif o == "centroid":
            num_t = "int64_t" if q else "float"
            zero = "0" if q else "0.0f"
            term = "(int64_t)k * acc[k]" if q else "(float)k * acc[k]"
            lines += [
                "            {",
                f"                {num_t} num = {zero}, den = {zero};",
                f"                for (k = 0; k <= M; ++k) {{ num += {term}; den += acc[k]; }}",
                f"                o[{j}] = den > {zero} ? ((float)num / (float)den) * "
                f"{c_float(float(block.bin_hz))} : 0.0f;",
                "            }",
            ]
            j += 1
    lines.append("        }")
    return lines
