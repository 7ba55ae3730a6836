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

    Contract: ``predict`` is the reference for the emitted C and agrees with it on
    every input (integer paths exactly; the float comparisons of trees exactly, since
    thresholds are stored as float32 values rounded towards minus infinity).
    """

    @abstractmethod
    def predict(self, features: np.ndarray) -> np.ndarray:
        """Class index per row of float32 features (n, k)."""

    @abstractmethod
    def emit_c(self, prefix: str) -> str:
        """C99 definitions: constants and ``static int {prefix}_classify(const float *f)``."""

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
