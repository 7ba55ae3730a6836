"""Vector blocks: ``standardize``, ``pca`` and ``lda`` on the feature vector.

Each is fitted in ``fit`` (numpy / scikit-learn, float64) and folded into float32
constants, so the C is one pass with a fixed operation order that :meth:`transform`
repeats in numpy (bit-exact):

* ``standardize``: ``z[i] = v[i] * a[i] + b[i]``, ``a = 1/std`` (1 where the feature
  is constant on the training set), ``b = -mean * a``.
* ``pca`` / ``lda``: ``z[j] = b[j] + Σ_i v[i] W[j][i]`` (sum in order of ``i``), with
  ``W`` the projection (``components_`` of ``sklearn.decomposition.PCA``, or the first
  ``scalings_`` columns of ``sklearn.discriminant_analysis.LinearDiscriminantAnalysis``
  with the SVD solver) and ``b = -W mean`` folding the centring in.

``n_components`` (default 8 for PCA, ``classes - 1`` for LDA) is capped at what the
data allows: ``min(samples, features)`` for PCA, ``min(classes - 1, features)`` for LDA,
so a search can propose it freely; the fitted value is ``n_outputs``.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
from pydantic import Field

from ..codegen.c import c_array
from ..cost import CoreCosts
from ._base import BlockCost, BlockParams, CFunction, FeatureBlock
from ._params import FeatureParamError, need_fitted

F32 = np.float32


class PcaParams(BlockParams):
    """``pca``."""

    n_components: int = Field(
        default=8, ge=1, description="Principal components kept (capped at what the data allows)."
    )


class LdaParams(BlockParams):
    """``lda``."""

    n_components: int | None = Field(
        default=None,
        ge=1,
        description="Discriminants kept (capped at classes - 1); null: classes - 1.",
    )


#: A multiply and an add (or subtract) in mean float operations: a soft-float multiply
#: costs more than the mean of add, multiply and compare (ARMv6-M: 122 + 73 = 2.5 x 78);
#: with the loads and the loop, fitted to QEMU counts of PCA, LDA and standardize
#: (bench/features.py, Cortex-M0+ and M4F): within 8 %.
MAC_FLOAT_OPS = 2.5
MAC_INSTR = 2.8


class StandardizeBlock(FeatureBlock):
    """Zero mean, unit variance per feature, one multiply-add each."""

    name = "standardize"
    input = "vector"

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        super().__init__(params, length, channels, rate_hz)
        self.a = np.zeros(0, dtype=F32)
        self.b = np.zeros(0, dtype=F32)
        self.fitted = False

    @property
    def feature_names(self) -> list[str]:
        need_fitted(self.name, self.fitted)
        return [f"z{i}" for i in range(len(self.a))]

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        v = np.asarray(x, dtype=np.float64)
        mean, std = v.mean(axis=0), v.std(axis=0)
        a = np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 1.0)
        self.a, self.b = a.astype(F32), (-mean * a).astype(F32)
        self.fitted = True

    def transform(self, x: np.ndarray) -> np.ndarray:
        need_fitted(self.name, self.fitted)
        return (np.asarray(x, dtype=F32) * self.a + self.b).astype(F32)

    def emit_c(self, fn_name: str) -> CFunction:
        need_fitted(self.name, self.fitted)
        code = "\n".join(
            [
                f"/* Standardisation of {len(self.a)} features: z = v * a + b. */",
                c_array(f"{fn_name}_A", "float", self.a.tolist()),
                c_array(f"{fn_name}_B", "float", self.b.tolist()),
                f"static void {fn_name}(const float *x, float *out)",
                "{",
                "    int i;",
                f"    for (i = 0; i < {len(self.a)}; ++i) {{",
                f"        out[i] = x[i] * {fn_name}_A[i] + {fn_name}_B[i];",
                "    }",
                "}",
            ]
        )
        return CFunction(fn_name, code)

    def cost(self, core: CoreCosts) -> BlockCost:
        k = len(self.a)
        return BlockCost(8 * k + 40, 16, int(k * (MAC_FLOAT_OPS * core.float_op + 5) + 8))


class _LinearProjection(FeatureBlock):
    """``z = b + W v``: the shared part of PCA and LDA."""

    input = "vector"
    prefix = "pc"

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        super().__init__(params, length, channels, rate_hz)
        p = self.config
        assert isinstance(p, PcaParams | LdaParams)
        self.requested = p.n_components
        self.w = np.zeros((0, 0), dtype=F32)
        self.b = np.zeros(0, dtype=F32)
        self.fitted = False

    @abstractmethod
    def _basis(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(W (k, d), mean (d,)) in float64."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        w, mean = self._basis(np.asarray(x, dtype=np.float64), np.asarray(y))
        self.w = w.astype(F32)
        self.b = (-(w @ mean)).astype(F32)
        self.fitted = True

    @property
    def feature_names(self) -> list[str]:
        need_fitted(self.name, self.fitted)
        return [f"{self.prefix}{j}" for j in range(self.w.shape[0])]

    def transform(self, x: np.ndarray) -> np.ndarray:
        need_fitted(self.name, self.fitted)
        v = np.asarray(x, dtype=F32)
        z = np.broadcast_to(self.b, (len(v), len(self.b))).copy()
        for i in range(self.w.shape[1]):
            z = z + v[:, i : i + 1] * self.w[:, i]
        return z.astype(F32)

    def emit_c(self, fn_name: str) -> CFunction:
        need_fitted(self.name, self.fitted)
        k, d = self.w.shape
        code = "\n".join(
            [
                f"/* {self.name}: {d} features -> {k} components, z = b + W v. */",
                c_array(f"{fn_name}_W", "float", self.w.tolist(), inner=d),
                c_array(f"{fn_name}_B", "float", self.b.tolist()),
                f"static void {fn_name}(const float *x, float *out)",
                "{",
                "    int i, j;",
                f"    for (j = 0; j < {k}; ++j) {{",
                f"        float acc = {fn_name}_B[j];",
                f"        for (i = 0; i < {d}; ++i) {{ acc += x[i] * {fn_name}_W[j][i]; }}",
                "        out[j] = acc;",
                "    }",
                "}",
            ]
        )
        return CFunction(fn_name, code)

    def cost(self, core: CoreCosts) -> BlockCost:
        need_fitted(self.name, self.fitted)
        k, d = self.w.shape
        instr = k * (d * (MAC_FLOAT_OPS * core.float_op + MAC_INSTR) + 10) + 8
        return BlockCost(4 * k * d + 4 * k + 60, 24, int(instr))


class PcaBlock(_LinearProjection):
    """Principal components (``sklearn.decomposition.PCA``, full SVD)."""

    name = "pca"
    prefix = "pc"
    Params = PcaParams

    def _basis(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.decomposition import PCA

        assert self.requested is not None  # PcaParams: always a number
        k = max(1, min(self.requested, x.shape[0], x.shape[1]))
        pca = PCA(n_components=k, svd_solver="full").fit(x)
        return np.asarray(pca.components_), np.asarray(pca.mean_)


class LdaBlock(_LinearProjection):
    """Linear discriminants (``LinearDiscriminantAnalysis``, SVD solver)."""

    name = "lda"
    prefix = "ld"
    Params = LdaParams

    def _basis(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        n_classes = len(np.unique(y))
        if n_classes < 2:
            raise FeatureParamError(
                "lda needs labels of at least two classes; use pca for one-class data"
            )
        cap = min(n_classes - 1, x.shape[1])
        want = self.requested if self.requested is not None else cap
        k = max(1, min(want, cap))
        lda = LinearDiscriminantAnalysis(solver="svd", n_components=k).fit(x, y)
        w = np.asarray(lda.scalings_)[:, :k].T
        return w, np.asarray(lda.xbar_)
