"""Per-channel statistics of a window.

Each statistic is computed in float32 with sequential accumulation, exactly as the
emitted C does it, so Python and C agree bit for bit (``n`` = window length,
``d = x - mean``):

* ``mean = (Σ x) / n``
* ``std = sqrtf((Σ d²) / n)`` (population, two passes)
* ``min``, ``max``, ``ptp = max - min``
* ``rms = sqrtf((Σ x²) / n)``
* ``skew = m3 / (m2 sqrtf(m2))``, ``kurtosis = m4 / m2² - 3`` (Fisher), with
  ``mk = (Σ d^k) / n`` (``scipy.stats`` with ``bias=True``); 0 when the denominator
  is 0 (a constant channel), never a division by zero
* ``zcr``: the fraction of the ``n - 1`` consecutive pairs whose signs differ
  (``x >= 0`` against ``x < 0``); ``mcr``: the same about the mean (``x >= mean``)

The default is the first five (``STATS``); ``features`` picks any subset of
``ALL_STATS``. Outputs are channel-major in ``ALL_STATS`` order: ``ax.mean, …``.

``numeric: int16`` computes the same statistics in integer arithmetic on 16-bit
block-floating-point samples (:mod:`.stats_int`): for cores without an FPU, where it
runs several times fewer instructions; bit-exact against its own integer reference.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np
from pydantic import Field, field_validator

from ..cost import CoreCosts
from ..params import check_subset
from ._base import BlockCost, BlockParams, CFunction, FeatureBlock
from ._params import FeatureParamError
from ._stats_int_c import emit_int_stats
from .stats_int import MAX_LENGTH, int_stats, int_stats_cost

STATS = ("mean", "std", "min", "max", "rms")
ALL_STATS = (*STATS, "ptp", "skew", "kurtosis", "zcr", "mcr")
_CENTRAL = ("std", "skew", "kurtosis", "mcr")  # need the second pass over d = x - mean
F32 = np.float32
Numeric = Literal["float32", "int16"]
NUMERICS: tuple[str, ...] = get_args(Numeric)


class StatsParams(BlockParams):
    """``stats``."""

    features: list[str] = Field(
        default_factory=lambda: list(STATS),
        description=f"Statistics per channel, a non-empty subset of {', '.join(ALL_STATS)}.",
    )
    numeric: Numeric = Field(
        default="float32",
        description="float32, or int16: integer arithmetic on 16-bit block-floating-point "
        f"samples (cores without an FPU; windows of at most {MAX_LENGTH} samples).",
    )

    @field_validator("features")
    @classmethod
    def _subset(cls, v: list[str]) -> list[str]:
        return check_subset(v, ALL_STATS)


class StatsBlock(FeatureBlock):
    """Statistics per channel; parameters in :class:`StatsParams`."""

    name = "stats"
    Params = StatsParams

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        super().__init__(params, length, channels, rate_hz)
        p = self.config
        assert isinstance(p, StatsParams)
        self.stats: list[str] = list(p.features)
        self.numeric: str = p.numeric
        if self.numeric == "int16" and length > MAX_LENGTH:
            raise FeatureParamError(
                f"stats.numeric int16 sums windows of at most {MAX_LENGTH} samples, not "
                f"{length}; use numeric: float32"
            )

    @property
    def feature_names(self) -> list[str]:
        return [f"{c}.{s}" for c in self.channels for s in self.stats]

    def _has(self, *names: str) -> bool:
        return any(s in self.stats for s in names)

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=F32)
        n, length, _ = x.shape
        if self.numeric == "int16":
            ints = int_stats(x, self.stats)
            cols = [ints[s] for s in self.stats]
            return np.stack(cols, axis=2).reshape(n, -1).astype(F32)
        count = F32(length)
        total = np.zeros((n, x.shape[2]), dtype=F32)
        sumsq = np.zeros_like(total)
        lo = x[:, 0, :].copy()
        hi = x[:, 0, :].copy()
        zc = np.zeros(total.shape, dtype=np.int64)
        for t in range(length):
            v = x[:, t, :]
            total += v
            sumsq += v * v
            lo = np.where(v < lo, v, lo)  # as C's `if (v < lo) lo = v;`
            hi = np.where(v > hi, v, hi)
            if t > 0:
                zc += (v >= 0) != (x[:, t - 1, :] >= 0)
        mean = total / count
        pairs = F32(max(length - 1, 1))
        out: dict[str, np.ndarray] = {
            "mean": mean,
            "min": lo,
            "max": hi,
            "ptp": hi - lo,
            "rms": np.sqrt(sumsq / count),
            "zcr": zc.astype(F32) / pairs,
        }
        if self._has(*_CENTRAL):
            acc2 = np.zeros_like(total)
            acc3 = np.zeros_like(total)
            acc4 = np.zeros_like(total)
            mc = np.zeros(total.shape, dtype=np.int64)
            for t in range(length):
                d = x[:, t, :] - mean
                d2 = d * d
                acc2 += d2
                acc3 += d2 * d
                acc4 += d2 * d2
                if t > 0:
                    mc += (x[:, t, :] >= mean) != (x[:, t - 1, :] >= mean)
            m2 = acc2 / count
            out["std"] = np.sqrt(m2)
            den3 = m2 * np.sqrt(m2)
            den4 = m2 * m2
            out["skew"] = np.where(den3 > 0, (acc3 / count) / np.where(den3 > 0, den3, 1), 0)
            kurt = (acc4 / count) / np.where(den4 > 0, den4, 1) - F32(3)
            out["kurtosis"] = np.where(den4 > 0, kurt, 0)
            out["mcr"] = mc.astype(F32) / pairs
        cols = [out[s].astype(F32) for s in self.stats]  # each (n, channels)
        return np.stack(cols, axis=2).reshape(n, -1).astype(F32)

    def emit_c(self, fn_name: str) -> CFunction:
        if self.numeric == "int16":
            code = emit_int_stats(fn_name, self.stats, self.length, len(self.channels))
            return CFunction(fn_name, code, ("<math.h>",) if self._has("skew") else ())
        ch = len(self.channels)
        k = len(self.stats)
        decl, loop = self._c_first_pass()
        post = self._c_second_pass()
        outs = self._c_outputs()
        body = "\n".join(
            [
                f"/* Per-channel statistics: {', '.join(self.stats)}. */",
                f"static void {fn_name}(const float *x, float *out)",
                "{",
                f"    enum {{ LEN = {self.length}, CH = {ch}, K = {k} }};",
                "    int c;",
                "    for (c = 0; c < CH; ++c) {",
                "        int t;",
                *(f"        {d}" for d in decl),
                "        float *o = out + c * K;",
                "        for (t = 0; t < LEN; ++t) {",
                *(f"            {s}" for s in loop),
                "        }",
                "        {",
                *(f"            {p}" for p in post),
                *(f"            {a}" for a in outs),
                "        }",
                "    }",
                "}",
            ]
        )
        return CFunction(fn_name, body, ("<math.h>",))

    def _c_first_pass(self) -> tuple[list[str], list[str]]:
        """The declarations of the running sums and the body of the loop over the samples
        that accumulates them (sum, sum of squares, min, max, zero crossings)."""
        need_sum = self._has("mean", *_CENTRAL)
        decl = ["float sum = 0.0f;"] if need_sum else []
        loop = ["const float v = x[t * CH + c];"] + (["sum += v;"] if need_sum else [])
        if self._has("rms"):
            decl.append("float sumsq = 0.0f;")
            loop.append("sumsq += v * v;")
        if self._has("min", "ptp"):
            decl.append("float lo = x[c];")
            loop.append("if (v < lo) { lo = v; }")
        if self._has("max", "ptp"):
            decl.append("float hi = x[c];")
            loop.append("if (v > hi) { hi = v; }")
        if self._has("zcr"):
            decl += ["int zc = 0;", "int pos = x[c] >= 0.0f;"]
            loop += [
                "if (t > 0 && (v >= 0.0f) != pos) { ++zc; }",
                "pos = v >= 0.0f;",
            ]
        return decl, loop

    def _c_second_pass(self) -> list[str]:
        """The mean, then the pass over ``d = x - mean`` for the central moments and the
        mean crossings (only the sums the chosen statistics need)."""
        need_sum = self._has("mean", *_CENTRAL)
        post = ["const float mean = sum / (float)LEN;"] if need_sum else []
        if self._has(*_CENTRAL):
            higher = self._has("skew", "kurtosis")
            post += [
                "float acc = 0.0f;",
                *(["float acc3 = 0.0f, acc4 = 0.0f, m2;"] if higher else []),
                *(["int mc = 0;"] if self._has("mcr") else []),
                "for (t = 0; t < LEN; ++t) {",
                "    const float d = x[t * CH + c] - mean;",
            ]
            if higher:
                post += [
                    "    const float d2 = d * d;",
                    "    acc += d2;",
                    "    acc3 += d2 * d;",
                    "    acc4 += d2 * d2;",
                ]
            else:
                post.append("    acc += d * d;")
            if self._has("mcr"):
                post += [
                    "    if (t > 0 && (x[t * CH + c] >= mean) != (x[(t - 1) * CH + c] >= mean)) {",
                    "        ++mc;",
                    "    }",
                ]
            post.append("}")
            if higher:
                post.append("m2 = acc / (float)LEN;")
                post += [
                    f"(void){v};"
                    for v, st in (("acc3", "skew"), ("acc4", "kurtosis"))
                    if not self._has(st)
                ]
            if not self._has("std"):
                post.append("(void)acc;")
        return post

    def _c_outputs(self) -> list[str]:
        """One assignment per statistic into ``o``, in ``self.stats`` order."""
        pairs = f"(float){max(self.length - 1, 1)}"
        assign = {
            "mean": "mean",
            "std": "sqrtf(acc / (float)LEN)",
            "min": "lo",
            "max": "hi",
            "rms": "sqrtf(sumsq / (float)LEN)",
            "ptp": "hi - lo",
            "zcr": f"(float)zc / {pairs}",
            "mcr": f"(float)mc / {pairs}",
        }
        outs = []
        for j, s in enumerate(self.stats):
            if s == "skew":
                outs += [
                    "{",
                    "    const float den = m2 * sqrtf(m2);",
                    f"    o[{j}] = den > 0.0f ? (acc3 / (float)LEN) / den : 0.0f;  /* skew */",
                    "}",
                ]
            elif s == "kurtosis":
                outs += [
                    "{",
                    "    const float den = m2 * m2;",
                    f"    o[{j}] = den > 0.0f ? (acc4 / (float)LEN) / den - 3.0f : 0.0f;"
                    "  /* kurtosis */",
                    "}",
                ]
            else:
                outs.append(f"o[{j}] = {assign[s]};  /* {s} */")
        return outs

    def cost(self, core: CoreCosts) -> BlockCost:
        if self.numeric == "int16":
            return int_stats_cost(core, self.stats, self.length, len(self.channels))
        ch, n = len(self.channels), self.length
        has = self._has
        # Per sample, fitted to QEMU counts of each statistic alone and of all ten (6 x 100
        # samples, bench/features.py): a compare is VCMP + VMRS + a conditional move with
        # an FPU, a libgcc call (cheaper than an add) without; a crossing is a compare and
        # the sign bookkeeping, a mean crossing two compares; the pass over d = x - mean
        # runs only for the moments (the compiler drops it for the mean crossings alone).
        compare = core.float_compare if core.float_op > 3 else 4.0
        per_sample = 4 + core.float_op * (1 + has("rms") * 2)
        per_sample += compare * (has("min", "ptp") + has("max", "ptp"))
        per_sample += has("zcr") * (compare + 9)
        if has("std", "skew", "kurtosis"):
            skew, kurt = has("skew"), has("kurtosis")
            per_sample += 4 + core.float_op * (3 + 3 * skew + 3 * kurt - skew * kurt)
        per_sample += has("mcr") * (2 * compare + 10)
        passes = per_sample * n
        tail = core.float_div * (
            1 + has("std") * 2 + has("rms") * 2 + 3 * has("skew") + 2 * has("kurtosis")
            + has("zcr", "mcr")
        )  # fmt: skip
        instructions = int(ch * (passes + tail + 10))
        # code: ~60 bytes of loop scaffolding plus ~14 bytes per statistic (FPU);
        # the soft-float library itself is counted once per program (core table)
        flash = 60 + 14 * len(self.stats) + has(*_CENTRAL) * 40
        flash += has("skew", "kurtosis") * 60 + has("zcr", "mcr") * 40
        sram = 48  # registers spilled: a handful of floats and the frame
        return BlockCost(flash, sram, instructions)
