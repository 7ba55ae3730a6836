"""Linear models: logistic regression, linear SVM, ridge classifier, ridge regression.

The deployed form :class:`LinearModel` is a float32 weight matrix ``w`` (outputs,
features) and bias ``b``: ``out[c] = b[c] + w[c][0]*f[0] + w[c][1]*f[1] + …``,
accumulated one product at a time from the bias, in float32 (each product and each
sum rounded, no FMA: the C is built with ``-ffp-contract=off``). The Python reference
does the same operations in the same order on whole columns, so C is bit-exact.

Training standardises the features (mean 0, variance 1) for the solver; the scaling
is folded into ``w`` and ``b`` (in float64, then rounded to float32), so the C needs
no separate scaling step. Classification takes the argmax (ties to the lowest class).
For two classes sklearn has one decision function ``d`` for the second class; the
first class gets a zero row, so the second wins exactly when ``d > 0``. A class
missing from the training rows gets a zero row and bias ``ABSENT``: it never wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from ..codegen.c import c_array
from ..cost import CoreCosts
from ..errors import DataError
from ._base import DeployedModel, EpochCallback, FamilyParams, ModelCost, ModelFamily
from ._checks import check_classes, check_features

ABSENT = -1e30


def sequential_affine(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float32 ``b + Σ_j w[:, j] x[:, j]``, one rounded product and sum at a time."""
    x = np.asarray(x, dtype=np.float32)
    acc = np.tile(b.astype(np.float32), (len(x), 1))
    for j in range(x.shape[1]):
        acc = acc + w[None, :, j] * x[:, j : j + 1]
    return acc


@dataclass(frozen=True)
class LinearModel(DeployedModel):
    """``out = b + W f`` in float32, sequentially; see the module docstring."""

    weight: np.ndarray  # float32 (outputs, features)
    bias: np.ndarray  # float32 (outputs,)
    task: str = "classification"

    @property
    def n_outputs(self) -> int:
        return len(self.bias)

    def outputs(self, features: np.ndarray) -> np.ndarray:
        return sequential_affine(features, self.weight, self.bias)

    def predict(self, features: np.ndarray) -> np.ndarray:
        out = self.outputs(features)
        if self.task == "classification":
            best: np.ndarray = np.argmax(out, axis=1)
            return best
        value: np.ndarray = out[:, 0]
        return value

    def emit_c(self, prefix: str) -> str:
        p = prefix
        n_out, k = self.weight.shape
        best = self.task == "classification"
        return "\n\n".join(
            [
                f"/* Linear model: {n_out} output(s) = bias + weights x {k} features, "
                "float32, accumulated in order. */",
                c_array(f"{p}_weight", "float", self.weight.tolist(), inner=k),
                c_array(f"{p}_bias", "float", self.bias.tolist()),
                "\n".join(
                    [
                        f"static int {p}_infer(const float *f, float *out)",
                        "{",
                        "    int c, j" + (", best = 0;" if best else ";"),
                        f"    for (c = 0; c < {n_out}; ++c) {{",
                        f"        float acc = {p}_bias[c];",
                        f"        for (j = 0; j < {k}; ++j) {{",
                        f"            acc += {p}_weight[c][j] * f[j];",
                        "        }",
                        "        out[c] = acc;",
                        *(["        if (acc > out[best]) { best = c; }"] if best else []),
                        "    }",
                        "    return best;" if best else "    return 0;",
                        "}",
                    ]
                ),
            ]
        )

    def cost(self, core: CoreCosts) -> ModelCost:
        n_out, k = self.weight.shape
        instructions = int(n_out * (k * (4 + 2 * core.float_op) + 8 + core.float_op))
        return ModelCost(4 * (n_out * k + n_out) + 90, 32, instructions, n_out * (k + 1))

    def describe(self) -> dict[str, Any]:
        n_out, k = self.weight.shape
        return {
            "outputs": n_out,
            "features": k,
            "nonzero_weights": int(np.count_nonzero(self.weight)),
        }


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x64 = np.asarray(x, dtype=np.float64)
    mean = x64.mean(axis=0)
    std = x64.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (x64 - mean) / std, mean, std


def _fold(coef: np.ndarray, intercept: np.ndarray, mean: np.ndarray, std: np.ndarray) -> Any:
    """Weights on raw features from weights on standardised ones."""
    w = coef / std[None, :]
    b = intercept - w @ mean
    return w, b


def _classifier(sk: Any, x: np.ndarray, y: np.ndarray, n_classes: int) -> LinearModel:
    check_features(x, y)
    present = check_classes(y, n_classes)
    xs, mean, std = _standardise(x)
    sk.fit(xs, y)
    coef = np.atleast_2d(sk.coef_)
    intercept = np.atleast_1d(sk.intercept_)
    w, b = _fold(coef, intercept, mean, std)
    weight = np.zeros((n_classes, x.shape[1]))
    bias = np.full(n_classes, ABSENT)
    if len(present) == 2:
        bias[present[0]] = 0.0
        weight[present[1]], bias[present[1]] = w[0], b[0]
    else:
        weight[present], bias[present] = w, b
    return LinearModel(weight.astype(np.float32), bias.astype(np.float32))


class LogisticParams(FamilyParams):
    """Logistic regression."""

    C: float = Field(default=1.0, gt=0.0, description="Inverse strength of the L2 penalty.")
    max_iter: int = Field(default=500, ge=1, description="Most solver iterations.")


class SvmParams(FamilyParams):
    """Linear SVM."""

    C: float = Field(default=1.0, gt=0.0, description="Inverse strength of the L2 penalty.")
    max_iter: int = Field(default=2000, ge=1, description="Most solver iterations.")


class RidgeParams(FamilyParams):
    """Ridge classifier and ridge regression."""

    alpha: float = Field(
        default=1.0, ge=0.0, description="Strength of the L2 penalty (0: least squares)."
    )


class LogisticRegressionFamily(ModelFamily):
    """Multinomial logistic regression (L2); parameters in :class:`LogisticParams`."""

    name = "logistic_regression"
    Params = LogisticParams

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
        assert isinstance(p, LogisticParams)
        from sklearn.linear_model import LogisticRegression

        sk = LogisticRegression(C=p.C, max_iter=p.max_iter, random_state=seed)
        return _classifier(sk, x, y, n_classes)


class LinearSvmFamily(ModelFamily):
    """One-vs-rest linear SVM (squared hinge); parameters in :class:`SvmParams`."""

    name = "linear_svm"
    Params = SvmParams

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
        assert isinstance(p, SvmParams)
        from sklearn.svm import LinearSVC

        sk = LinearSVC(C=p.C, max_iter=p.max_iter, random_state=seed)
        return _classifier(sk, x, y, n_classes)


class RidgeClassifierFamily(ModelFamily):
    """Ridge classifier: least squares on ±1 targets per class (one-vs-rest), L2
    penalty; parameters in :class:`RidgeParams`. The linear head MiniRocket is made for:
    fast and robust with many features and few training windows."""

    name = "ridge_classifier"
    Params = RidgeParams

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
        assert isinstance(p, RidgeParams)
        from sklearn.linear_model import RidgeClassifier

        return _classifier(RidgeClassifier(alpha=p.alpha), x, y, n_classes)


class LinearRegressionFamily(ModelFamily):
    """Ridge regression; ``out[0]`` is the value; parameters in :class:`RidgeParams`."""

    name = "linear_regression"
    task = "regression"
    Params = RidgeParams

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
        assert isinstance(p, RidgeParams)
        check_features(x, y)
        yf = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(yf)):
            raise DataError("regression targets contain NaN or infinite values")
        xs, mean, std = _standardise(x)
        from sklearn.linear_model import Ridge

        sk = Ridge(alpha=p.alpha).fit(xs, yf)
        w, b = _fold(np.atleast_2d(sk.coef_), np.atleast_1d(sk.intercept_), mean, std)
        return LinearModel(w.astype(np.float32), b.astype(np.float32), task="regression")
