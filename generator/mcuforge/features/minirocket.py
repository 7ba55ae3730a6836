"""MiniRocket features (Dempster, Schmidt & Webb, KDD 2021): fixed kernels, PPV pooling.

The 84 kernels have length 9 and weights in {-1, 2}: the three positions ``(a, b, c)``
of a kernel (one of the ``C(9, 3) = 84`` triples, in lexicographic order) weigh 2, the
six others -1. A kernel at dilation ``d`` reads the taps ``x[t + (j - 4) d]``,
``j = 0..8``, zero outside the window. With ``S = Σ_j tap_j`` (the sum of all nine,
shared by every kernel of the dilation) and ``T_j = 3 tap_j``, the convolution is
``conv = ((T_a + T_b) + T_c) - S``, each operation rounded to float32 in this order in
Python and C alike (``S`` sums taps 4, 0, 1, 2, 3, 5, 6, 7, 8 in that order). The C
reuses ``T_a + T_b`` across the kernels that share ``(a, b)``; the value is the same.

Each (dilation, kernel) has ``nf`` biases; its features are the proportion of positive
values ``PPV = count(conv > bias) / positions``, over all ``length`` positions
(padded) or only the ``length - 8d`` positions whose taps are all inside the window;
the two alternate: a kernel is padded when ``dilation index + kernel index`` is even.
Multivariate windows (MiniRocketMultivariate): each (dilation, kernel) sums ``conv``
over its own subset of 1 to ``min(channels, 9)`` channels (``size = floor(2^u)``, ``u``
uniform in ``[0, log2(min(channels, 9) + 1))``, channels drawn without replacement,
kept in increasing order), starting from the first channel's value.

Fit (as MiniRocket): ``features`` is rounded down to a multiple of 84 (at least 84);
each kernel gets ``features / 84`` of them, spread over up to ``max_dilations``
dilations spaced exponentially from 1 to ``(length - 1) / 8``; the biases of a
(dilation, kernel) are quantiles (low-discrepancy: ``(i φ) mod 1``) of ``conv`` over
all positions of one training window drawn at random. Every random draw (channel
subsets, the window per kernel) comes from ``numpy.random.default_rng(seed)``, so the
block is deterministic; ``seed`` is a block parameter (default 0).

``numeric: q15`` is the integer variant for cores without an FPU: each sample is
centred and scaled per channel, ``(x - m) * s`` in float32 (``m``: the channel's mean
over the training windows, ``s = 16383 / max |x - m|``, so samples up to twice the
training range keep their value; the kernels' weights sum to zero, so the offset
matters only where taps fall outside the window), clamped to ±32767 and truncated to
an integer, once per window; taps, sums, ``conv`` (int32) and the
comparisons are exact integer arithmetic, with each bias rounded down to an integer
(``conv > b`` ⟺ ``conv > floor(b)`` for an integer ``conv``). Both variants are
bit-exact between numpy and C.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
from pydantic import Field

from ..cost import CoreCosts
from ._base import BlockCost, BlockParams, CFunction, FeatureBlock
from ._params import FeatureParamError, need_fitted

F32 = np.float32
TAPS = 9
#: The 84 kernels: positions of the three weights 2, in lexicographic order.
KERNELS: tuple[tuple[int, int, int], ...] = tuple(itertools.combinations(range(TAPS), 3))
N_KERNELS = len(KERNELS)
#: The order in which the nine taps are summed into ``S``: the centre first.
SUM_ORDER = (4, 0, 1, 2, 3, 5, 6, 7, 8)
Q_MAX = 32767  # q15: samples are clamped to ±Q_MAX
Q_FULL = 16383.0  # q15: the largest |training sample - mean| maps here (2x headroom)
Numeric = Literal["float32", "q15"]
NUMERICS: tuple[str, ...] = get_args(Numeric)
CHUNK_SAMPLES = 1 << 20  # samples transformed at once (bounds the memory of the taps)


def dilations_for(length: int, features: int, max_dilations: int) -> tuple[list[int], list[int]]:
    """MiniRocket's dilations and features per (kernel, dilation) for one window length."""
    per_kernel = max(features, N_KERNELS) // N_KERNELS
    n_dil = min(per_kernel, max_dilations)
    top = math.log2((length - 1) / (TAPS - 1))
    spaced = np.logspace(0, top, n_dil, base=2).astype(np.int32)
    dil, counts = np.unique(spaced, return_counts=True)
    nf = (counts * (per_kernel / n_dil)).astype(np.int32)
    i = 0
    for _ in range(per_kernel - int(nf.sum())):  # spread what rounding left over
        nf[i] += 1
        i = (i + 1) % len(nf)
    return [int(d) for d in dil], [int(n) for n in nf]


def quantiles(n: int) -> np.ndarray:
    """The low-discrepancy quantiles ``(i φ) mod 1``, ``i = 1..n`` (float32)."""
    phi = (math.sqrt(5) + 1) / 2
    return np.array([(i * phi) % 1 for i in range(1, n + 1)], dtype=F32)


def channel_subsets(channels: int, combinations: int, rng: np.random.Generator) -> list[list[int]]:
    """One sorted channel subset per (dilation, kernel); ``[0]`` each for one channel."""
    if channels == 1:
        return [[0] for _ in range(combinations)]
    top = math.log2(min(channels, TAPS) + 1)
    sizes = (2 ** rng.uniform(0, top, combinations)).astype(np.int64)
    return [sorted(int(c) for c in rng.choice(channels, int(m), replace=False)) for m in sizes]


@dataclass(frozen=True)
class Quantiser:
    """q15: ``trunc(clamp((x - offset) * scale, ±Q_MAX))`` per channel, float32."""

    offset: np.ndarray  # float32 (channels,)
    scale: np.ndarray  # float32 (channels,)

    @classmethod
    def fit(cls, x: np.ndarray) -> Quantiser:
        x64 = x.astype(np.float64).reshape(-1, x.shape[2])
        offset = x64.mean(axis=0).astype(F32)
        peak = np.abs(x64 - offset.astype(np.float64)).max(axis=0)
        scale = np.where(peak > 0, Q_FULL / np.where(peak > 0, peak, 1.0), 1.0)
        return cls(offset, scale.astype(F32))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """int32 samples of float32 windows (n, length, channels)."""
        v = (x - self.offset[None, None, :]) * self.scale[None, None, :]
        q: np.ndarray = np.clip(v, F32(-Q_MAX), F32(Q_MAX)).astype(F32).astype(np.int32)
        return q


@dataclass(frozen=True)
class Kernels:
    """Everything the transform needs: dilations, biases, channel subsets, scales."""

    dilations: list[int]
    per_dilation: list[int]  # features per (kernel, dilation), one entry per dilation
    subsets: list[list[int]]  # per (dilation, kernel), dilation-major
    biases: np.ndarray  # float32 (features,), int32 for q15; (dilation, kernel, nf) order
    quant: Quantiser | None = None  # q15 only

    @property
    def n_features(self) -> int:
        return N_KERNELS * sum(self.per_dilation)


class MiniRocketParams(BlockParams):
    """``minirocket``."""

    features: int = Field(
        default=336,
        ge=N_KERNELS,
        le=20_000,
        description=f"Features to compute, rounded down to a multiple of {N_KERNELS}.",
    )
    max_dilations: int = Field(
        default=32, ge=1, le=64, description="Most dilations (exponentially spaced)."
    )
    seed: int = Field(
        default=0,
        ge=0,
        le=2**32 - 1,
        description="Seed of the channel subsets and of the windows the biases come from.",
    )
    numeric: Numeric = Field(
        default="float32",
        description="float32, or q15: integer convolutions (cores without an FPU).",
    )


class MiniRocketBlock(FeatureBlock):
    """MiniRocket PPV features; parameters in :class:`MiniRocketParams` (see the module
    docstring)."""

    name = "minirocket"
    Params = MiniRocketParams

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        super().__init__(params, length, channels, rate_hz)
        if length < TAPS:
            raise FeatureParamError(
                f"minirocket needs windows of at least {TAPS} samples (its kernels are "
                f"{TAPS} long); this window has {length}: use a longer `data.window`"
            )
        p = self.config
        assert isinstance(p, MiniRocketParams)
        requested = p.features
        self.max_dilations = p.max_dilations
        self.seed = p.seed
        self.numeric: str = p.numeric
        self.dilations, self.per_dilation = dilations_for(length, requested, self.max_dilations)
        rng = np.random.default_rng(self.seed)
        self.subsets = channel_subsets(len(channels), N_KERNELS * len(self.dilations), rng)
        self._rng_state = rng.bit_generator.state  # the bias draws continue from here
        self.kernels: Kernels | None = None

    @property
    def n_outputs(self) -> int:
        return N_KERNELS * sum(self.per_dilation)

    @property
    def feature_names(self) -> list[str]:
        return [
            f"k{k}.d{d}.{j}"
            for d, nf in zip(self.dilations, self.per_dilation, strict=True)
            for k in range(N_KERNELS)
            for j in range(nf)
        ]

    # -- fit -------------------------------------------------------------------------

    def use(self, kernels: Kernels) -> None:
        """Take fitted parameters from elsewhere (e.g. sktime's MiniRocket)."""
        if kernels.n_features != self.n_outputs or len(kernels.subsets) != N_KERNELS * len(
            kernels.dilations
        ):
            raise ValueError("minirocket: the kernels do not match this block's size")
        self.dilations, self.per_dilation = list(kernels.dilations), list(kernels.per_dilation)
        self.subsets = [list(s) for s in kernels.subsets]
        self.numeric = "float32" if kernels.quant is None else "q15"
        self.kernels = kernels

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.ascontiguousarray(x, dtype=F32)
        if len(x) == 0:
            raise FeatureParamError("minirocket needs training windows to fit its biases")
        quant = Quantiser.fit(x) if self.numeric == "q15" else None
        v = quant.apply(x) if quant is not None else x
        rng = np.random.default_rng()
        rng.bit_generator.state = self._rng_state
        q = quantiles(self.n_outputs).astype(np.float64)
        biases: list[np.ndarray] = []
        start = 0
        for di, d in enumerate(self.dilations):
            nf = self.per_dilation[di]
            rows = [int(rng.integers(len(v))) for _ in range(N_KERNELS)]  # a window per kernel
            prepared = _prepare(v[rows], d)
            for k in range(N_KERNELS):
                one = _Prepared(prepared.t3[:, k : k + 1], prepared.s[k : k + 1])
                conv = one.conv(k, self.subsets[di * N_KERNELS + k])[0]
                cut = np.quantile(conv.astype(np.float64), q[start : start + nf])
                biases.append(np.floor(cut) if quant is not None else cut)
                start += nf
        dtype = np.int32 if quant is not None else F32
        self.kernels = Kernels(
            list(self.dilations),
            list(self.per_dilation),
            [list(s) for s in self.subsets],
            np.concatenate(biases).astype(dtype),
            quant,
        )

    # -- reference -------------------------------------------------------------------

    def transform(self, x: np.ndarray) -> np.ndarray:
        need_fitted(self.name, self.kernels is not None)
        x = np.ascontiguousarray(x, dtype=F32)
        chunk = max(1, CHUNK_SAMPLES // (self.length * len(self.channels)))
        parts = [self._transform(x[i : i + chunk]) for i in range(0, len(x), chunk)]
        if not parts:
            return np.zeros((0, self.n_outputs), dtype=F32)
        return np.concatenate(parts)

    def _transform(self, x: np.ndarray) -> np.ndarray:
        assert self.kernels is not None
        kn = self.kernels
        v = kn.quant.apply(x) if kn.quant is not None else x
        out = np.zeros((len(x), self.n_outputs), dtype=F32)
        start = 0
        for di, d in enumerate(kn.dilations):
            prepared = _prepare(v, d)
            nf, pad = kn.per_dilation[di], 4 * d
            for k in range(N_KERNELS):
                conv = prepared.conv(k, kn.subsets[di * N_KERNELS + k])
                if (di + k) % 2:
                    conv = conv[:, pad : self.length - pad]
                bias = kn.biases[start : start + nf]
                counts = (conv[:, :, None] > bias[None, None, :]).sum(axis=1)
                out[:, start : start + nf] = counts.astype(F32) / F32(conv.shape[1])
                start += nf
        return out

    # -- C and cost ------------------------------------------------------------------

    def emit_c(self, fn_name: str) -> CFunction:
        need_fitted(self.name, self.kernels is not None)
        assert self.kernels is not None
        from ._minirocket_c import emit

        return emit(self.kernels, self.length, len(self.channels), fn_name)

    def cost(self, core: CoreCosts) -> BlockCost:
        from ._minirocket_c import cost

        return cost(
            self.dilations,
            self.per_dilation,
            self.subsets,
            self.length,
            len(self.channels),
            self.numeric == "q15",
            core,
        )


@dataclass(frozen=True)
class _Prepared:
    """What every kernel of one dilation shares: ``T_j = 3 tap_j`` and ``S = Σ_j tap_j``."""

    t3: np.ndarray  # (9, n, channels, length)
    s: np.ndarray  # (n, channels, length)

    def conv(self, k: int, subset: list[int]) -> np.ndarray:
        """``conv`` (n, length) of kernel ``k``, summed over ``subset`` in order."""
        a, b, c = KERNELS[k]
        t3, s = self.t3, self.s
        total: np.ndarray | None = None
        for ch in subset:
            term = ((t3[a, :, ch] + t3[b, :, ch]) + t3[c, :, ch]) - s[:, ch]
            total = term if total is None else total + term
        assert total is not None
        return total


def _prepare(v: np.ndarray, d: int) -> _Prepared:
    """Taps ``v[t + (j - 4) d]`` (zero outside the window) of windows ``v`` (n, length,
    channels), float32 or int64, at dilation ``d``."""
    n, length, ch = v.shape
    padded = np.zeros((n, ch, length + 8 * d), dtype=v.dtype)
    padded[:, :, 4 * d : 4 * d + length] = np.transpose(v, (0, 2, 1))
    taps = np.stack([padded[:, :, j * d : j * d + length] for j in range(TAPS)])
    s = taps[SUM_ORDER[0]]
    for j in SUM_ORDER[1:]:
        s = s + taps[j]
    return _Prepared(taps * v.dtype.type(3), s)
