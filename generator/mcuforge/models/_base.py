"""The model family interface: search space from the recipe, fit, export, cost."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..features import CoreCosts


@dataclass(frozen=True)
class ModelCost:
    """Analytic cost of a deployed model on one core."""

    flash_bytes: int
    sram_bytes: int
    instructions: int
    parameters: int


class DeployedModel(ABC):
    """A trained model in the exact form the C runs.

    Contract:
        * ``task`` is ``classification``, ``regression`` or ``anomaly``.
        * ``predict`` is the reference result per row: the class index
          (classification), the value (regression, float32) or 1 for an anomaly, 0
          otherwise. The emitted C returns the same class index / flag on every input.
        * ``outputs`` is the reference for the C's ``out`` vector (``n_outputs`` floats:
          class scores, the regression value, the anomaly score); integer paths are
          bit-exact, float paths within ``tolerance`` (relative, stated by the family).
        * ``emit_c(prefix)`` defines constants and
          ``static int {prefix}_infer(const float *f, float *out)`` returning the
          class index / anomaly flag (0 for regression), or a negative error.
    """

    task: str = "classification"
    #: max |C - Python| / (1 + |Python|) on ``outputs``; 0.0: bit-exact.
    tolerance: float = 0.0

    @property
    @abstractmethod
    def n_outputs(self) -> int:
        """Length of the ``out`` vector."""

    @abstractmethod
    def predict(self, features: np.ndarray) -> np.ndarray:
        """Class index / value / anomaly flag per row of float32 features (n, k)."""

    @abstractmethod
    def outputs(self, features: np.ndarray) -> np.ndarray:
        """float32 (n, n_outputs): what the C writes to ``out``."""

    @abstractmethod
    def emit_c(self, prefix: str) -> str:
        """C99: constants and ``static int {prefix}_infer(const float *f, float *out)``."""

    @abstractmethod
    def cost(self, core: CoreCosts) -> ModelCost:
        """Analytic flash, SRAM and instructions per inference."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Size facts for the report (nodes, leaves, trees, …)."""


class ModelFamily(ABC):
    """A kind of model (decision tree, random forest, …) that the search can train.

    Contract: ``fit`` is deterministic for a given ``seed``; the returned
    :class:`DeployedModel` is what is scored, costed and emitted.
    """

    name: ClassVar[str]

    @abstractmethod
    def fit(
        self, x: np.ndarray, y: np.ndarray, n_classes: int, params: dict[str, Any], seed: int
    ) -> DeployedModel:
        """Train on float32 features ``x`` and class indices ``y``."""
