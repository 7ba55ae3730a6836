"""The model family interface: search space from the recipe, fit, export, cost."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from ..cost import CoreCosts
from ..params import ParamError, Params


class FamilyParams(Params):
    """The parameters the search passes to every family: the recipe's pipeline choices.

    A family's own ``Params`` model derives from this one and adds its parameters, each
    with its type, default, range and a one-line description (the only place its
    defaults are written).
    """

    compression: str = Field(
        default="none",
        description="The recipe's `pipeline.compression` (one of the family's `compressions`).",
    )
    runtime: str = Field(default="c", description="The recipe's `pipeline.runtime`.")


@dataclass(frozen=True)
class ModelCase:
    """What the conformance suite (:mod:`mcuforge.testing`) fits a family on: parameters
    (small and quick) and the shape of one input (a feature vector, or a window)."""

    params: dict[str, Any] = field(default_factory=dict)
    input_shape: tuple[int, ...] = (12,)
    rows: int = 90


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

    @property
    def anomaly_threshold(self) -> float | None:
        """Anomaly detectors: ``out[0]`` above this is an anomaly (the header's
        ``PREFIX_ANOMALY_THRESHOLD``); None for the other tasks."""
        return None

    @property
    def arena_bytes(self) -> int:
        """Bytes of the activation arena the C uses during one inference (int8
        networks); 0 when everything lives on the stack (the model is reentrant)."""
        return 0


#: Called after each training epoch with (epoch, validation score; higher is better).
#: It may raise (e.g. ``optuna.TrialPruned``); the exception propagates out of ``fit``.
EpochCallback = Callable[[int, float], None]


class ModelFamily(ABC):
    """A kind of model (decision tree, random forest, MLP, …) that the search can train.

    Contract:
        * ``task`` says what ``y`` holds: class indices ``0..n_classes-1``
          (classification), float targets (regression) or 0 = normal / 1 = anomaly
          (anomaly: families train on the normal rows and choose their threshold on
          held-out rows).
        * ``fit`` is deterministic for a given ``seed``; the returned
          :class:`DeployedModel` is what is scored, costed and emitted.
        * ``input_shape`` is the shape of one feature vector before flattening (the
          pipeline's ``output_shape``, e.g. ``(length, channels)`` for ``raw``);
          families that need structure (convolutions) require it, the others ignore it.
        * Families that train by epochs call ``on_epoch(epoch, score)`` after each;
          the others never call it.
        * Bad data (too few rows for the validation split, a single class) raises
          :class:`mcuforge.errors.DataError`.
        * ``compressions`` lists the recipe ``compression`` names the family accepts;
          the search passes the recipe's choice as the parameter ``compression``.
        * ``extra`` names the pip extra (:data:`mcuforge.extras.EXTRAS`) whose modules
          ``fit`` imports, or None for the core install; the module itself imports
          without it (the resolver explains and skips the family when it is missing).
        * ``Params`` declares every parameter ``fit`` reads (a :class:`FamilyParams`
          model: unknown keys refused, each key typed, ranged, described, with its
          default); ``fit`` reads ``parse_params(params)``, never ``params.get(key,
          default)``. Recipe keys are checked against it when the catalog loads.
        * ``size_param`` names the parameter the model's size grows with about linearly
          (e.g. ``n_estimators``), or None: a recipe default that is over the budgets is
          tried again with it scaled down (:class:`mcuforge.search.ShrinkToBudget`).
    """

    name: ClassVar[str]
    task: ClassVar[str] = "classification"
    compressions: ClassVar[tuple[str, ...]] = ("none",)
    extra: ClassVar[str | None] = None
    size_param: ClassVar[str | None] = None
    Params: ClassVar[type[FamilyParams]] = FamilyParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> FamilyParams:
        """``raw`` (recipe values, ``compression`` and ``runtime``) validated into ``Params``.

        Raises:
            ParamError: an unknown key (with the closest known one), a value of the wrong
                type or out of range, or a compression the family does not have.
        """
        params = cls.Params.read(raw, cls.name)
        if params.compression not in cls.compressions:
            raise ParamError(
                f"{cls.name}.compression must be one of {', '.join(cls.compressions)}, got "
                f"{params.compression!r}"
            )
        return params

    @classmethod
    def conformance_case(cls) -> ModelCase:
        """What :class:`mcuforge.testing.ModelFamilySuite` fits this family on."""
        return ModelCase()

    #: How costly training is, for ordering the search's first trials: 0 closed form,
    #: 1 trees and other classic models, 2 neural networks (trained by epochs).
    training_cost: ClassVar[int] = 1

    @abstractmethod
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
        """Train on float32 features ``x`` (n, k) and targets ``y`` (see ``task``)."""
