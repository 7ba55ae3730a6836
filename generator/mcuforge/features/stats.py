"""Per-channel statistics of a window: mean, std, min, max, rms.

Each statistic is computed in float32 with sequential accumulation, exactly as the
emitted C does it, so Python and C agree bit for bit:

* ``mean = (Σ x) / n``
* ``std = sqrtf((Σ (x - mean)²) / n)`` (population, two passes)
* ``rms = sqrtf((Σ x²) / n)``
* ``min``, ``max``

Outputs are ordered channel-major: ``ax.mean, ax.std, …, ay.mean, …``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import BlockCost, CFunction, CoreCosts, FeatureBlock

STATS = ("mean", "std", "min", "max", "rms")


class StatsBlock(FeatureBlock):
    """Statistics per channel; parameter ``features``: the subset to compute."""

    name = "stats"

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        super().__init__(params, length, channels, rate_hz)
        chosen = list(params.get("features", STATS))
        unknown = [s for s in chosen if s not in STATS]
        if unknown or not chosen:
            raise ValueError(f"stats.features must be a non-empty subset of {list(STATS)}")
        self.stats = [s for s in STATS if s in chosen]  # canonical order

    @property
    def feature_names(self) -> list[str]:
        return [f"{c}.{s}" for c in self.channels for s in self.stats]

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        n, length, _ = x.shape
        f32 = np.float32
        count = f32(length)
        total = np.zeros((n, x.shape[2]), dtype=f32)
        sumsq = np.zeros_like(total)
        lo = x[:, 0, :].copy()
        hi = x[:, 0, :].copy()
        for t in range(length):
            v = x[:, t, :]
            total += v
            sumsq += v * v
            lo = np.where(v < lo, v, lo)  # as C's `if (v < lo) lo = v;`
            hi = np.where(v > hi, v, hi)
        mean = total / count
        out: dict[str, np.ndarray] = {
            "mean": mean,
            "min": lo,
            "max": hi,
            "rms": np.sqrt(sumsq / count),
        }
        if "std" in self.stats:
            acc = np.zeros_like(total)
            for t in range(length):
                d = x[:, t, :] - mean
                acc += d * d
            out["std"] = np.sqrt(acc / count)
        cols = [out[s] for s in self.stats]  # each (n, channels)
        return np.stack(cols, axis=2).reshape(n, -1).astype(np.float32)

    def emit_c(self, fn_name: str) -> CFunction:
        ch = len(self.channels)
        k = len(self.stats)
        need_sumsq = "rms" in self.stats
        need_minmax = [s for s in ("min", "max") if s in self.stats]
        need_sum = "mean" in self.stats or "std" in self.stats
        decl = ["float sum = 0.0f;"] if need_sum else []
        loop = ["const float v = x[t * CH + c];"] + (["sum += v;"] if need_sum else [])
        if need_sumsq:
            decl.append("float sumsq = 0.0f;")
            loop.append("sumsq += v * v;")
        if "min" in need_minmax:
            decl.append("float lo = x[c];")
            loop.append("if (v < lo) { lo = v; }")
        if "max" in need_minmax:
            decl.append("float hi = x[c];")
            loop.append("if (v > hi) { hi = v; }")
        post = ["const float mean = sum / (float)LEN;"] if need_sum else []
        if "std" in self.stats:
            post += [
                "float acc = 0.0f;",
                "for (t = 0; t < LEN; ++t) {",
                "    const float d = x[t * CH + c] - mean;",
                "    acc += d * d;",
                "}",
            ]
        assign = {
            "mean": "mean",
            "std": "sqrtf(acc / (float)LEN)",
            "min": "lo",
            "max": "hi",
            "rms": "sqrtf(sumsq / (float)LEN)",
        }
        outs = [f"o[{j}] = {assign[s]};  /* {s} */" for j, s in enumerate(self.stats)]
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

    def cost(self, core: CoreCosts) -> BlockCost:
        ch, n = len(self.channels), self.length
        per_sample = 4 + core.float_op * (
            1 + ("rms" in self.stats) * 2 + sum(s in self.stats for s in ("min", "max"))
        )
        passes = per_sample * n
        if "std" in self.stats:
            passes += (4 + 3 * core.float_op) * n
        tail = core.float_div * (1 + ("std" in self.stats) * 2 + ("rms" in self.stats) * 2)
        instructions = int(ch * (passes + tail + 10))
        # code: ~60 bytes of loop scaffolding plus ~14 bytes per statistic (FPU);
        # soft-float cores add calls into libgcc (~350 bytes once for add/mul/div/sqrt).
        soft = 350 if core.float_op > 1 else 0
        flash = 60 + 14 * len(self.stats) + soft + ("std" in self.stats) * 40
        sram = 48  # registers spilled: a handful of floats and the frame
        return BlockCost(flash, sram, instructions)
