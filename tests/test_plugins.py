"""A plugin adds a model family and a profiler through entry points: both pass their
conformance suites and run in ``generate`` with no change anywhere else."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcuforge.hardware import PROFILERS
from mcuforge.models import MODELS
from mcuforge.testing import ModelFamilySuite, ProfilerSuite

from .conftest import EXAMPLE

PLUGIN = '''\
"""A toy plugin: a nearest-class-mean classifier and a profiler that counts C lines."""

from typing import Any

import numpy as np
from pydantic import Field

from mcuforge.errors import DataError
from mcuforge.hardware import Profile, Profiler
from mcuforge.models import FamilyParams, ModelFamily
from mcuforge.models.linear import LinearModel


class NearestMeanParams(FamilyParams):
    shrink: float = Field(default=0.0, ge=0.0, le=1.0,
                          description="Pull of each class mean towards the overall mean.")


class NearestMean(ModelFamily):
    """argmin_c |x - mu_c|^2 is argmax_c (mu_c . x - |mu_c|^2 / 2): a linear model."""

    name = "toy_mean"
    training_cost = 0
    Params = NearestMeanParams

    def fit(self, x, y, n_classes, params: dict[str, Any], seed, *, input_shape=None,
            on_epoch=None):
        p = self.parse_params(params)
        if len(np.unique(y)) < 2:
            raise DataError("toy_mean needs two classes")
        x64 = np.asarray(x, dtype=np.float64)
        mu = np.stack([x64[y == c].mean(axis=0) if (y == c).any() else np.zeros(x.shape[1])
                       for c in range(n_classes)])
        mu = (1 - p.shrink) * mu + p.shrink * x64.mean(axis=0)
        bias = -0.5 * (mu**2).sum(axis=1)
        return LinearModel(mu.astype(np.float32), bias.astype(np.float32))


class LineCounter(Profiler):
    """Measures nothing; reports how many lines of C the candidate has."""

    name = "toy"
    source = "analytic"

    def unavailable(self, work):
        return None if work.sources else "no generated C"

    def profile(self, work, base):
        lines = sum(t.count("\\n") for t in work.sources.values())
        return Profile(base, [f"toy profiler: {lines} lines of C"], {"lines": lines})
'''

RECIPE = """\
name: toy-recipe
version: 1
description: Statistics and the toy plugin's nearest class mean.
applies: {task: [classification], modality: [imu, timeseries]}
pipeline: {features: [stats], model: toy_mean}
search:
  space:
    stats.features: {subset: [mean, std, min, max, rms]}
    shrink: {float: [0.0, 0.5]}
when: Never; a test of the plugin mechanism.
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Install the toy plugin as a distribution on sys.path with entry points."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "toyplug.py").write_text(PLUGIN)
    info = site / "toyplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[mcuforge.models]\ntoy_mean = toyplug:NearestMean\n\n"
        "[mcuforge.profilers]\ntoy = toyplug:LineCounter\n"
    )
    monkeypatch.syspath_prepend(str(site))
    for registry in (MODELS, PROFILERS):  # scan the entry points again, then forget them
        monkeypatch.setattr(registry, "_paths", dict(registry._paths))
        monkeypatch.setattr(registry, "_loaded", dict(registry._loaded))
        monkeypatch.setattr(registry, "_plugins_scanned", False)
    yield site


def test_plugins_pass_the_suites(plugin: Path, tmp_path: Path) -> None:
    assert "toy_mean" in MODELS and "toy" in PROFILERS
    models, profilers = ModelFamilySuite(), ProfilerSuite()
    for name in (n for n in dir(models) if n.startswith("test_")):
        getattr(models, name)("toy_mean")
    hw = ProfilerSuite.hardware.__wrapped__(profilers)  # type: ignore[attr-defined]
    profilers.test_registered_under_its_name("toy", hw)
    profilers.test_says_why_it_cannot_run("toy", hw, tmp_path)
    profilers.test_tags_what_it_measures("toy", hw, tmp_path)


@pytest.mark.slow
def test_plugins_run_in_generate(plugin: Path, tmp_path: Path) -> None:
    from mcuforge.pipeline import generate

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "toy-recipe.yaml").write_text(RECIPE)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        textwrap.dedent(f"""\
        version: 1
        name: toy
        data:
          path: {EXAMPLE / "data"}
          sensors:
            - {{name: accel, channels: [ax, ay, az], unit: g, rate_hz: 10}}
          window: {{length_s: 10}}
          split: {{test_files: ["*/test_*.csv"]}}
        target: nrf52840
        budgets: {{sram_kb: 4, flash_kb: 16}}
        search: {{trials: 2, seed: 1}}
        recipe: toy-recipe
        hardware: {{profiler: toy}}
        catalogs: [catalog]
        output: {{dir: out, test_windows: 2}}
        """)
    )
    logs: list[str] = []
    res = generate(spec, log=logs.append)
    report = json.loads((res.out_dir / "report.json").read_text())
    assert report["recipe"] == "toy-recipe@1" and report["model"]["family"] == "toy_mean"
    assert report["parity"]["agree"] == report["parity"]["total"]
    assert report["hardware"]["toy"]["lines"] > 10
    assert any(n.startswith("toy profiler:") for n in report["notes"])
