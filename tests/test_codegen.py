"""Generated C against the Python reference, compiled with the host compiler."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from mcuforge.codegen import c_float, smallest_int_type
from mcuforge.data import Dataset, load_dataset
from mcuforge.emit import Provenance, emit_model
from mcuforge.features import FEATURES, FeaturePipeline
from mcuforge.features.stats import STATS
from mcuforge.hardware.host import run_host
from mcuforge.models import MODELS
from mcuforge.models.trees import _float32_floor
from mcuforge.spec import load_spec

from .conftest import EXAMPLE

PROV = Provenance("test", "0" * 64, "test@1", 0, "host")
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def ds() -> Dataset:
    loaded = load_spec(EXAMPLE / "spec.yaml")
    return load_dataset(loaded.spec.data, loaded.base_dir)


def _pipeline(ds: Dataset, stats: list[str], family: str, params: dict[str, object]):  # type: ignore[no-untyped-def]
    block = FEATURES.get("stats")({"features": stats}, ds.window, ds.channels, ds.rate_hz)
    pipe = FeaturePipeline([block]).fit(ds.train.x, ds.train.y)
    model = MODELS.get(family)().fit(
        pipe.transform(ds.train.x), ds.train.y, len(ds.classes), params, 0
    )
    return pipe, model


@pytest.mark.parametrize("stats", [list(STATS), ["mean"], ["std", "rms"], ["min", "max"]])
def test_stats_features_are_bit_exact_in_c(ds: Dataset, stats: list[str]) -> None:
    pipe, model = _pipeline(ds, stats, "decision_tree", {"max_depth": 3})
    sources = emit_model("bm", pipe, model, ds.classes, ds.channels, ds.window, ds.rate_hz, PROV)
    x = np.concatenate([ds.train.x, ds.test.x])
    host = run_host(sources, "bm", x, pipe.n_outputs, model.n_outputs)
    ref = pipe.transform(x)
    assert host.features.view(np.uint32).tolist() == ref.view(np.uint32).tolist()


def test_stats_reference_matches_numpy_definitions(ds: Dataset) -> None:
    block = FEATURES.get("stats")({}, ds.window, ds.channels, ds.rate_hz)
    f = block.transform(ds.test.x).reshape(len(ds.test.x), len(ds.channels), len(STATS))
    x = ds.test.x.astype(np.float64)
    expect = np.stack([x.mean(1), x.std(1), x.min(1), x.max(1), np.sqrt((x**2).mean(1))], axis=2)
    # float32 sequential sums of 100 values of magnitude <= ~10: relative error ~1e-6
    np.testing.assert_allclose(f, expect, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize(
    ("family", "params"),
    [
        ("decision_tree", {"max_depth": 8}),
        ("random_forest", {"n_estimators": 12, "max_depth": 6, "voting": "soft"}),
        ("random_forest", {"n_estimators": 7, "max_depth": 4, "voting": "hard"}),
    ],
)
def test_tree_predictions_equal_in_c_on_every_window(
    ds: Dataset, family: str, params: dict[str, object]
) -> None:
    pipe, model = _pipeline(ds, list(STATS), family, params)
    sources = emit_model("bm", pipe, model, ds.classes, ds.channels, ds.window, ds.rate_hz, PROV)
    x = np.concatenate([ds.train.x, ds.test.x])
    host = run_host(sources, "bm", x, pipe.n_outputs, model.n_outputs)
    f = pipe.transform(x)
    assert host.predictions.tolist() == model.predict(f).tolist()
    assert host.outputs.tolist() == model.outputs(f).tolist()  # class scores, exact


def test_deployed_forest_agrees_with_sklearn(ds: Dataset) -> None:
    from sklearn.ensemble import RandomForestClassifier

    block = FEATURES.get("stats")({}, ds.window, ds.channels, ds.rate_hz)
    xtr, xte = block.transform(ds.train.x), block.transform(ds.test.x)
    params = {"n_estimators": 15, "max_depth": 6, "voting": "soft"}
    model = MODELS.get("random_forest")().fit(xtr, ds.train.y, 4, params, 0)
    sk = RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0, n_jobs=1).fit(
        xtr, ds.train.y
    )
    # leaf shares are quantised to 1/255: only near-ties may differ
    assert (model.predict(xte) == sk.predict(xte)).mean() >= 0.95
    dt = MODELS.get("decision_tree")().fit(xtr, ds.train.y, 4, {"max_depth": 5}, 0)
    from sklearn.tree import DecisionTreeClassifier

    skdt = DecisionTreeClassifier(max_depth=5, random_state=0).fit(xtr, ds.train.y)
    assert dt.predict(xte).tolist() == skdt.predict(xte).tolist()


def test_float32_threshold_floor_keeps_sklearn_decision() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=2000).astype(np.float32)
    b = np.nextafter(a, np.float32(np.inf))
    t = (a.astype(np.float64) + b.astype(np.float64)) / 2  # sklearn's midpoint threshold
    f = _float32_floor(t)
    assert np.all(a <= f) and np.all(~(b <= f))
    assert np.all((a.astype(np.float64) <= t) == (a <= f))
    assert np.all((b.astype(np.float64) <= t) == (b <= f))


def test_c_literals_round_trip() -> None:
    for v in [0.1, -3.4028234663852886e38, 1e-45, 123456.789, 0.0, -0.0]:
        text = c_float(v)
        assert np.float32(float(text[:-1])) == np.float32(v)
    with pytest.raises(ValueError):
        c_float(float("nan"))
    assert smallest_int_type(-3, 100) == "int8_t"
    assert smallest_int_type(-3, 200) == "int16_t"
    assert smallest_int_type(0, 70000) == "int32_t"
    assert smallest_int_type(0, 3_000_000_000) == "uint32_t"


def test_emission_is_deterministic(ds: Dataset) -> None:
    outs = []
    for _ in range(2):
        pipe, model = _pipeline(
            ds, ["mean", "max"], "random_forest", {"n_estimators": 5, "max_depth": 4}
        )
        outs.append(
            emit_model("bm", pipe, model, ds.classes, ds.channels, ds.window, ds.rate_hz, PROV)
        )
    assert outs[0] == outs[1]


def test_golden_c_for_a_fixed_small_model(ds: Dataset, update_golden: bool) -> None:
    """The emitted C for one fixed model; `pytest --update-golden` rewrites it."""
    pipe, model = _pipeline(
        ds, ["mean", "std"], "random_forest", {"n_estimators": 3, "max_depth": 3, "voting": "soft"}
    )
    sources = emit_model(
        "golden", pipe, model, ds.classes, ds.channels, ds.window, ds.rate_hz, PROV
    )
    for name, text in sources.items():
        path = GOLDEN / name
        if update_golden:
            GOLDEN.mkdir(exist_ok=True)
            path.write_text(text)
        assert path.read_text() == text, f"{name} changed; review and run pytest --update-golden"


def test_all_feature_subsets_are_distinct_and_ordered(ds: Dataset) -> None:
    seen = set()
    for r in range(1, len(STATS) + 1):
        for combo in itertools.combinations(STATS, r):
            block = FEATURES.get("stats")(
                {"features": list(reversed(combo))}, ds.window, ds.channels, ds.rate_hz
            )
            assert block.stats == list(combo)  # canonical order whatever the input order
            seen.add(tuple(block.feature_names))
    assert len(seen) == 2 ** len(STATS) - 1
