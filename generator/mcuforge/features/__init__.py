"""Feature blocks: Python reference + C emitter + cost, keyed by name."""

from ..registry import Registry
from ._base import BlockCost, CFunction, CoreCosts, FeatureBlock
from ._pipeline import FeaturePipeline

FEATURES: Registry[FeatureBlock] = Registry(
    "feature block",
    "mcuforge.features",
    {"stats": "mcuforge.features.stats:StatsBlock"},
)

__all__ = ["FEATURES", "BlockCost", "CFunction", "CoreCosts", "FeatureBlock", "FeaturePipeline"]
