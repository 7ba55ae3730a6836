"""Feature blocks: Python reference + C emitter + cost, keyed by name."""

from ..cost import CoreCosts
from ..registry import Registry
from ._base import BlockCase, BlockCost, BlockParams, CFunction, FeatureBlock
from ._pipeline import FeaturePipeline

FEATURES: Registry[FeatureBlock] = Registry(
    "feature block",
    "mcuforge.features",
    {
        "stats": "mcuforge.features.stats:StatsBlock",
        "raw": "mcuforge.features.raw:RawBlock",
        "spectral": "mcuforge.features.spectral:SpectralBlock",
        "minirocket": "mcuforge.features.minirocket:MiniRocketBlock",
        "mfe": "mcuforge.features.audio:MfeBlock",
        "mfcc": "mcuforge.features.audio:MfccBlock",
        "standardize": "mcuforge.features.projection:StandardizeBlock",
        "pca": "mcuforge.features.projection:PcaBlock",
        "lda": "mcuforge.features.projection:LdaBlock",
    },
)

__all__ = [
    "FEATURES",
    "BlockCase",
    "BlockCost",
    "BlockParams",
    "CFunction",
    "CoreCosts",
    "FeatureBlock",
    "FeaturePipeline",
]
