"""Gaussian naive Bayes with precomputed constants: the C needs only subtract, mul, add.

sklearn's joint log-likelihood of class ``c`` is
``log P(c) - ½ Σ_j log(2π σ²_cj) - Σ_j (x_j - μ_cj)² / (2 σ²_cj)``. We precompute, in
float64 then rounded to float32, ``k_c = log P(c) - ½ Σ_j log(2π σ²_cj)`` and
``a_cj = -1 / (2 σ²_cj)``; inference is ``acc = k_c``, then for each feature in order
``d = x_j - μ_cj; acc += (d * d) * a_cj``, all in float32. Python does the same
operations in the same order, so the class scores are bit-exact in C. The argmax
breaks ties to the lowest class; a class absent from training scores ``ABSENT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from ..codegen.c import c_array
from ..cost import CoreCosts
from ._base import DeployedModel, EpochCallback, FamilyParams, ModelCost, ModelFamily
from ._checks import check_classes, check_features

ABSENT = -1e30


@dataclass(frozen=True)
class GaussianBayes(DeployedModel):
    """Class log-likelihood scores; see the module docstring."""

    const: np.ndarray  # float32 (classes,): k_c
    mean: np.ndarray  # float32 (classes, features): μ
    coef: np.ndarray  # float32 (classes, features): -1 / (2 σ²)

    @property
    def n_outputs(self) -> int:
        return len(self.const)

    def outputs(self, features: np.ndarray) -> np.ndarray:
        x = np.asarray(features, dtype=np.float32)
        acc = np.tile(self.const, (len(x), 1))
        for j in range(x.shape[1]):
            d = x[:, j : j + 1] - self.mean[None, :, j]
            acc = acc + (d * d) * self.coef[None, :, j]
        return acc

    def predict(self, features: np.ndarray) -> np.ndarray:
        best: np.ndarray = np.argmax(self.outputs(features), axis=1)
        return best

    def emit_c(self, prefix: str) -> str:
        p = prefix
        n_c, k = self.mean.shape
        return "\n\n".join(
            [
                f"/* Gaussian naive Bayes: {n_c} classes x {k} features, float32 scores. */",
                c_array(f"{p}_const", "float", self.const.tolist()),
                c_array(f"{p}_mean", "float", self.mean.tolist(), inner=k),
                c_array(f"{p}_coef", "float", self.coef.tolist(), inner=k),
                "\n".join(
                    [
                        f"static int {p}_infer(const float *f, float *out)",
                        "{",
                        "    int c, j, best = 0;",
                        f"    for (c = 0; c < {n_c}; ++c) {{",
                        f"        float acc = {p}_const[c];",
                        f"        for (j = 0; j < {k}; ++j) {{",
                        f"            const float d = f[j] - {p}_mean[c][j];",
                        f"            acc += (d * d) * {p}_coef[c][j];",
                        "        }",
                        "        out[c] = acc;",
                        "        if (acc > out[best]) { best = c; }",
                        "    }",
                        "    return best;",
                        "}",
                    ]
                ),
            ]
        )

    def cost(self, core: CoreCosts) -> ModelCost:
        n_c, k = self.mean.shape
        instructions = int(n_c * (k * (6 + 4 * core.float_op) + 8 + core.float_op))
        return ModelCost(4 * (2 * n_c * k + n_c) + 110, 32, instructions, n_c * (2 * k + 1))

    def describe(self) -> dict[str, Any]:
        n_c, k = self.mean.shape
        return {"classes": n_c, "features": k}


class BayesParams(FamilyParams):
    """Gaussian naive Bayes."""

    var_smoothing: float = Field(
        default=1e-9,
        ge=0.0,
        description="Share of the largest feature variance added to every variance (as sklearn).",
    )


class GaussianNaiveBayesFamily(ModelFamily):
    """Gaussian naive Bayes; parameters in :class:`BayesParams`."""

    name = "gaussian_nb"
    Params = BayesParams

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        params: dict[str, Any],
        seed: int,
        *,
        input_shape: tuple[int, ...] | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> DeployedModel:
        p = self.parse_params(params)
        assert isinstance(p, BayesParams)
        check_features(x, y)
        present = check_classes(y, n_classes)
        from sklearn.naive_bayes import GaussianNB

        nb = GaussianNB(var_smoothing=p.var_smoothing)
        nb.fit(np.asarray(x, dtype=np.float64), y)
        var = nb.var_
        const = np.full(n_classes, ABSENT)
        mean = np.zeros((n_classes, x.shape[1]))
        coef = np.zeros((n_classes, x.shape[1]))
        const[present] = np.log(nb.class_prior_) - 0.5 * np.log(2.0 * np.pi * var).sum(axis=1)
        mean[present] = nb.theta_
        coef[present] = -0.5 / var
        return GaussianBayes(
            const.astype(np.float32), mean.astype(np.float32), coef.astype(np.float32)
        )
