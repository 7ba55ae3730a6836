"""Model families: search space + training + deployed form + cost, keyed by name."""

from ..registry import Registry
from ._base import DeployedModel, ModelCost, ModelFamily

MODELS: Registry[ModelFamily] = Registry(
    "model family",
    "mcuforge.models",
    {
        "decision_tree": "mcuforge.models.trees:DecisionTreeFamily",
        "random_forest": "mcuforge.models.trees:RandomForestFamily",
    },
)

__all__ = ["MODELS", "DeployedModel", "ModelCost", "ModelFamily"]
