"""Every registered feature block, model family, profiler and firmware template runs its
extension point's conformance suite (``mcuforge.testing``): a new one is covered by
being registered, and a plugin's author runs the same suites."""

from __future__ import annotations

import pytest

from mcuforge.features import FEATURES
from mcuforge.hardware import PROFILERS
from mcuforge.models import MODELS
from mcuforge.scaffold import templates
from mcuforge.testing import FeatureBlockSuite, ModelFamilySuite, ProfilerSuite, TemplateSuite


def _families() -> list[object]:
    """Network families train with TensorFlow: marked slow."""
    return [
        pytest.param(n, marks=pytest.mark.slow) if MODELS.get(n).training_cost >= 2 else n
        for n in MODELS.names()
    ]


@pytest.fixture(params=FEATURES.names())
def block_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=_families())
def family_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=PROFILERS.names())
def profiler_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=templates())
def template_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestFeatureBlocks(FeatureBlockSuite):
    pass


class TestModelFamilies(ModelFamilySuite):
    pass


class TestProfilers(ProfilerSuite):
    pass


class TestTemplates(TemplateSuite):
    pass
