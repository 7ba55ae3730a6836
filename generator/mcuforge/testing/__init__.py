"""Public test tools for mcuforge and its plugins: conformance suites and synthetic data.

:class:`FeatureBlockSuite`, :class:`ModelFamilySuite`, :class:`ProfilerSuite` and
:class:`TemplateSuite` state the contract of each extension point as pytest tests
(see :mod:`._suites`); a plugin's tests subclass them with a fixture naming the
plugin's registry entries. They need pytest and a host C compiler.
"""

from ._data import SEED, Windows, features, targets_for, windows
from ._suites import FeatureBlockSuite, ModelFamilySuite, ProfilerSuite, TemplateSuite

__all__ = [
    "SEED",
    "FeatureBlockSuite",
    "ModelFamilySuite",
    "ProfilerSuite",
    "TemplateSuite",
    "Windows",
    "features",
    "targets_for",
    "windows",
]
