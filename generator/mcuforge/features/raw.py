"""The raw window for models that learn their own features (CNNs): decimate, normalise.

``decimate: D`` (integer >= 1) averages each run of ``D`` samples (a boxcar
anti-alias filter followed by keeping one sample in ``D``):
``y[t] = (Σ_{i<D} x[tD + i]) * (1/D)``, summed in order; samples after the last whole
run are dropped, so ``length' = length // D``. ``normalize: true`` then maps each
channel to zero mean and unit variance with the mean and standard deviation learned
in ``fit`` over every training sample (float64, stored as float32), folded into one
multiply-add: ``z = y * a + b`` with ``a = 1/std`` (1 for a constant channel) and
``b = -mean * a``. Without normalisation and decimation the block is a copy.

The output keeps the window's layout, ``(length', channels)`` row-major
(``out[t * channels + c]``), so a convolutional model can consume it as is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ..codegen.c import c_array, c_float
from ..cost import CoreCosts
from ._base import BlockCost, BlockParams, CFunction, FeatureBlock
from ._params import FeatureParamError

F32 = np.float32


class RawParams(BlockParams):
    """``raw``."""

    decimate: int = Field(
        default=1, ge=1, description="Average each run of this many samples into one."
    )
    normalize: bool = Field(
        default=False,
        description="Zero mean and unit variance per channel (learned on the training set).",
    )


class RawBlock(FeatureBlock):
    """The (decimated, normalised) window itself; ``output_shape = (length', channels)``;
    parameters in :class:`RawParams`."""

    name = "raw"
    Params = RawParams

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        super().__init__(params, length, channels, rate_hz)
        p = self.config
        assert isinstance(p, RawParams)
        self.decimate = p.decimate
        if self.decimate > length:
            raise FeatureParamError(
                f"raw.decimate={self.decimate} is larger than the window ({length} samples); "
                f"use decimate <= {length}"
            )
        self.normalize = p.normalize
        self.out_len = length // self.decimate
        ch = len(channels)
        self.a = np.ones(ch, dtype=F32)
        self.b = np.zeros(ch, dtype=F32)
        self.fitted = not self.normalize

    @property
    def feature_names(self) -> list[str]:
        return [f"{c}[{t}]" for t in range(self.out_len) for c in self.channels]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.out_len, len(self.channels))

    def _decimated(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=F32)
        if self.decimate == 1:
            return x
        d = self.decimate
        runs = x[:, : self.out_len * d].reshape(len(x), self.out_len, d, x.shape[2])
        acc = runs[:, :, 0].copy()
        for i in range(1, d):
            acc = acc + runs[:, :, i]
        return (acc * F32(1.0 / d)).astype(F32)

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        if not self.normalize:
            return
        y64 = self._decimated(x).astype(np.float64).reshape(-1, x.shape[2])
        mean, std = y64.mean(axis=0), y64.std(axis=0)
        a = np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 1.0)
        self.a = a.astype(F32)
        self.b = (-mean * a).astype(F32)
        self.fitted = True

    def transform(self, x: np.ndarray) -> np.ndarray:
        if not self.fitted:
            raise RuntimeError("raw: normalize is on; call fit() before transform()")
        y = self._decimated(x)
        if self.normalize:
            y = (y * self.a + self.b).astype(F32)
        return y.reshape(len(y), -1)

    def emit_c(self, fn_name: str) -> CFunction:
        if not self.fitted:
            raise RuntimeError("raw: normalize is on; call fit() before emit_c()")
        ch, d = len(self.channels), self.decimate
        tables: list[str] = []
        if self.normalize:
            tables = [
                c_array(f"{fn_name}_A", "float", self.a.tolist()),
                c_array(f"{fn_name}_B", "float", self.b.tolist()),
            ]
        if d == 1:
            value = "x[t * CH + c]"
            pre: list[str] = []
        else:
            pre = [
                "float v = x[(t * D) * CH + c];",
                "int i;",
                "for (i = 1; i < D; ++i) { v += x[(t * D + i) * CH + c]; }",
                f"v = v * {c_float(1.0 / d)};",
            ]
            value = "v"
        expr = f"{value} * {fn_name}_A[c] + {fn_name}_B[c]" if self.normalize else value
        body = "\n".join(
            [
                f"/* Raw window: decimate by {d}, "
                f"{'normalise per channel' if self.normalize else 'no normalisation'}. */",
                *tables,
                f"static void {fn_name}(const float *x, float *out)",
                "{",
                f"    enum {{ OUT_LEN = {self.out_len}, CH = {ch}, D = {d} }};",
                "    int t, c;",
                "    for (t = 0; t < OUT_LEN; ++t) {",
                "        for (c = 0; c < CH; ++c) {",
                *(f"            {p}" for p in pre),
                f"            out[t * CH + c] = {expr};",
                "        }",
                "    }",
                "}",
            ]
        )
        return CFunction(fn_name, body)

    def cost(self, core: CoreCosts) -> BlockCost:
        ch, d, fo = len(self.channels), self.decimate, core.float_op
        # each libgcc call adds its argument moves on ARMv6-M (low registers only; the
        # Cortex-M3's soft float needs none: it was 40 % high there)
        soft = core.narrow_integer
        # Per output value, fitted to QEMU counts (bench/features.py's fit grid,
        # BasicMotions, decimate 1/2/4 with and without normalisation, Cortex-M0+ and M4F,
        # checked on the M3: within 20 %; it was 2x high on the M4F): a load and a store;
        # d float ops to average d samples, the
        # inner loop unrolled for d = 2 and kept for larger d; a multiply and an add of
        # the per-channel table values to normalise.
        per_out = 5.0
        if d > 1:
            per_out += d * fo + 2 + (d > 2) * 7 * (d - 1) + soft * 25
        per_out += self.normalize * (2 * fo + 2 + soft * 35)
        flash = 60 + (d > 1) * 40 + self.normalize * (8 * ch + 24)
        return BlockCost(int(flash), 32, int(self.out_len * ch * per_out + 10))
