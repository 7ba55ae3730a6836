"""The parameters of the tree families (:mod:`.trees`, :mod:`.tree_sums`, :mod:`.isolation`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ._anomaly import AnomalyParams
from ._base import FamilyParams

#: ``max_features`` as sklearn takes it: a rule, a count of features, a share of them,
#: or every feature (null).
MaxFeatures = (
    Literal["sqrt", "log2"]
    | Annotated[int, Field(ge=1)]
    | Annotated[float, Field(gt=0.0, le=1.0)]
    | None
)


class TreeCodeParams(FamilyParams):
    """How trees are written in C: the thresholds' type and the code layout."""

    thresholds: Literal["float", "int16"] = Field(
        default="float",
        description="Thresholds as float32, or int16 on features quantised per feature "
        "(compression `tree_int16` means int16).",
    )
    layout: Literal["inline", "table"] = Field(
        default="inline",
        description="C layout: nested if/else per tree (fastest) or node arrays walked in a "
        "loop (smallest); same decisions.",
    )

    def threshold_mode(self) -> str:
        """``int16`` with ``thresholds: int16`` or the ``tree_int16`` compression."""
        return "int16" if self.compression == "tree_int16" else self.thresholds


class TreeParams(TreeCodeParams):
    """One CART tree (and the shape of every tree of an ensemble)."""

    max_depth: int | None = Field(
        default=6, ge=1, description="Deepest split level of a tree; null: unlimited."
    )
    min_samples_leaf: int = Field(
        default=1, ge=1, description="Fewest training rows a leaf may hold."
    )


class ForestParams(TreeParams):
    """Random forest and extra trees (classification)."""

    n_estimators: int = Field(default=10, ge=1, le=10_000, description="Number of trees.")
    max_features: MaxFeatures = Field(
        default="sqrt",
        description="Features tried per split: sqrt, log2, a count, a share in (0, 1], or "
        "null for all.",
    )
    voting: Literal["soft", "hard"] = Field(
        default="soft",
        description="soft: the trees' class shares summed (probability average); hard: "
        "majority vote.",
    )


class ForestRegressorParams(TreeParams):
    """Random forest and extra trees (regression): the trees' values averaged."""

    n_estimators: int = Field(default=10, ge=1, le=10_000, description="Number of trees.")
    max_features: MaxFeatures = Field(
        default=1.0,
        description="Features tried per split: sqrt, log2, a count, a share in (0, 1], or "
        "null for all.",
    )


class BoostParams(TreeParams):
    """Gradient boosting (classification and regression)."""

    max_depth: int | None = Field(
        default=3, ge=1, description="Deepest split level of a tree; null: unlimited."
    )
    n_estimators: int = Field(default=20, ge=1, le=10_000, description="Boosting stages.")
    learning_rate: float = Field(
        default=0.1, gt=0.0, le=1.0, description="Shrinkage of each stage's contribution."
    )
    subsample: float = Field(
        default=1.0, gt=0.0, le=1.0, description="Share of the rows each stage is fitted on."
    )


class IsolationParams(TreeCodeParams, AnomalyParams):
    """Isolation forest (anomaly detection)."""

    n_estimators: int = Field(default=50, ge=1, le=10_000, description="Number of trees.")
    max_samples: int = Field(
        default=64, ge=1, description="Rows drawn for each tree (capped at the normal rows)."
    )
