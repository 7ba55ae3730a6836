"""Tree C forms (inline and table layouts, both vote kinds) against the Python reference.

The feature vectors are chosen to sit on the decisions: every threshold itself, its
float neighbours on both sides, both zeros, subnormals, infinities and NaN (on the
host; the emulated runs take the finite ones), so that the integer comparison of
float bits is checked where it could differ from ``x <= t``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mcuforge.data import load_dataset
from mcuforge.emit import Provenance, emit_model, emit_test_vectors
from mcuforge.features import FeaturePipeline
from mcuforge.hardware import emulate as emulate_mod
from mcuforge.hardware.cross import cross_build
from mcuforge.hardware.emulate import emulate_elf
from mcuforge.hardware.host import run_host
from mcuforge.models import MODELS, DeployedModel, ParamError, _inline
from mcuforge.models._flat import float_key
from mcuforge.models.tree_sums import TreeSum
from mcuforge.models.trees import TreeEnsemble
from mcuforge.spec import load_spec

from .conftest import EXAMPLE, needs_arm_gcc
from .test_models import M0, M4F, Identity

PROV = Provenance("test", "0" * 64, "test@1", 0, "host")
F32 = np.float32
CORES = [
    ("-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft", "CORTEX_M0"),
    ("-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16", "CORTEX_M4"),
]
needs_unicorn = pytest.mark.skipif(
    not emulate_mod.unicorn_installed(), reason="unicorn not installed (pip install unicorn)"
)


@functools.lru_cache(maxsize=1)
def features() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """BasicMotions stats features (train rows), labels, and the feature names."""
    from mcuforge.features import FEATURES

    loaded = load_spec(EXAMPLE / "spec.yaml")
    ds = load_dataset(loaded.spec.data, loaded.base_dir)
    pipe = FeaturePipeline([FEATURES.get("stats")({}, ds.window, ds.channels, ds.rate_hz)])
    return pipe.transform(ds.train.x), np.asarray(ds.train.y), pipe.feature_names


def fit(family: str, params: dict[str, Any]) -> DeployedModel:
    x, y, _ = features()
    return MODELS.get(family)().fit(x, y, 4, params, 0)


def on_the_edges(model: DeployedModel, finite: bool) -> np.ndarray:
    """Feature rows (n, k) that put every threshold, and its neighbours, under test."""
    x, _, _ = features()
    assert isinstance(model, TreeEnsemble | TreeSum)
    nodes = model.nodes
    rng = np.random.default_rng(0)
    rows = [x[i % len(x)].copy() for i in range(len(nodes.feature) * 3)]
    for i, (j, t) in enumerate(zip(nodes.feature, nodes.threshold, strict=True)):
        for k, v in enumerate((t, np.nextafter(t, F32(-np.inf)), np.nextafter(t, F32(np.inf)))):
            column = nodes.quant.columns[j] if nodes.quant is not None else j
            rows[3 * i + k][column] = v
    special = [0.0, -0.0, 1e-45, -1e-45, 1.2e-38, -1.2e-38, 3.4e38, -3.4e38]
    if not finite:
        special += [np.inf, -np.inf, np.nan, -np.nan]
    for v in special:
        rows.append(np.full(x.shape[1], v, dtype=F32))
        row = x[int(rng.integers(len(x)))].copy()
        row[rng.random(x.shape[1]) < 0.3] = v
        rows.append(row)
    return np.asarray(rows, dtype=F32)


def _sources(model: DeployedModel, k: int) -> dict[str, str]:
    _, _, names = features()
    pipe = FeaturePipeline([Identity({}, 1, names, 10.0)])
    return emit_model("m", pipe, model, ["a", "b", "c", "d"], names, 1, 10.0, PROV)


def assert_host_equals_python(model: DeployedModel, rows: np.ndarray) -> None:
    sources = _sources(model, rows.shape[1])
    host = run_host(sources, "m", rows[:, None, :], rows.shape[1], model.n_outputs)
    assert host.predictions.tolist() == model.predict(rows).tolist()
    ref = model.outputs(rows)
    assert host.outputs.view(np.uint32).tolist() == ref.view(np.uint32).tolist()


FORMS = [
    ("random_forest", {"voting": voting, "layout": layout, "thresholds": thr})
    for voting in ("soft", "hard")
    for layout in ("inline", "table")
    for thr in ("float", "int16")
] + [
    ("decision_tree", {"layout": "inline"}),
    ("random_forest", {"n_estimators": 1, "voting": "soft", "layout": "inline"}),
    ("gradient_boosting", {"n_estimators": 5, "layout": "inline"}),
    ("gradient_boosting", {"n_estimators": 5, "layout": "inline", "thresholds": "int16"}),
]


@pytest.mark.parametrize(("family", "params"), FORMS)
def test_every_tree_form_equals_python_on_the_decision_edges(
    family: str, params: dict[str, Any]
) -> None:
    ensemble = {} if family == "decision_tree" else {"n_estimators": 6}
    model = fit(family, {**ensemble, "max_depth": 5, **params})
    assert model.describe()["layout"] == params["layout"]
    assert_host_equals_python(model, on_the_edges(model, finite=False))


def test_float_keys_order_floats_as_the_comparison_does() -> None:
    rng = np.random.default_rng(1)
    with np.errstate(all="ignore"):  # (emlearn, imported by another test, sets "raise")
        v = np.concatenate(
            [
                rng.normal(size=200) * 10.0 ** rng.integers(-40, 38, 200),
                [0.0, -0.0, 1e-45, -1e-45, np.inf, -np.inf, 3.4e38, -3.4e38],
            ]
        ).astype(F32)
    a, b = np.meshgrid(v, v)
    with np.errstate(all="ignore"):
        agree = (float_key(a) <= float_key(b)) == (a <= b)
    # -0.0 sorts below +0.0 as a key; thresholds are stored as +0.0, so x = -0.0 and
    # x = +0.0 both go left of a zero threshold, as x <= 0.0 does
    zeros = (a == 0) & (b == 0)
    assert agree[~zeros].all()
    assert float_key(np.asarray([-0.0], F32))[0] <= float_key(np.asarray([0.0], F32))[0]


def test_vote_kind_and_layout_are_checked_and_deep_trees_fall_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ParamError, match=r"random_forest\.voting must be one of soft, hard"):
        fit("random_forest", {"voting": "majority"})
    with pytest.raises(ParamError, match=r"decision_tree\.layout must be one of inline, table"):
        fit("decision_tree", {"layout": "nested"})
    monkeypatch.setattr(_inline, "INLINE_MAX_DEPTH", 1)
    model = fit("decision_tree", {"max_depth": 4})
    assert model.describe()["layout"] == "table"  # too deep to nest: the table


def test_cost_model_orders_the_forms_as_measured() -> None:
    """inline: fewer instructions; table: less flash; int16: more instructions (the
    quantiser) on a core without an FPU, where float keys cost integer compares only."""
    base = {"n_estimators": 30, "max_depth": 8}
    inline = fit("extra_trees", {**base, "layout": "inline"})
    table = fit("extra_trees", {**base, "layout": "table"})
    int16 = fit("extra_trees", {**base, "layout": "inline", "thresholds": "int16"})
    hard = fit("extra_trees", {**base, "layout": "inline", "voting": "hard"})
    for core in (M0, M4F):
        assert inline.cost(core).instructions < table.cost(core).instructions
        assert table.cost(core).flash_bytes < inline.cost(core).flash_bytes
        assert int16.cost(core).instructions > inline.cost(core).instructions
        assert hard.cost(core).flash_bytes <= inline.cost(core).flash_bytes


@needs_arm_gcc
@needs_unicorn
@pytest.mark.parametrize(("flags", "cpu"), CORES)
@pytest.mark.parametrize("voting", ["soft", "hard"])
def test_inline_forest_on_the_emulated_core_equals_python(
    tmp_path: Path, flags: str, cpu: str, voting: str
) -> None:
    model = fit("random_forest", {"n_estimators": 6, "max_depth": 5, "voting": voting})
    rows = on_the_edges(model, finite=True)
    expected = model.predict(rows)
    sources = _sources(model, rows.shape[1])
    vectors = emit_test_vectors("m", rows[:, None, :], expected, PROV)
    build = cross_build(sources, "m", flags, tmp_path, vectors)
    assert build.bench is not None
    run = emulate_elf(build.bench, "m", cpu)
    assert run.returned == expected.tolist()


def _noisy_labels() -> tuple[np.ndarray, np.ndarray]:
    """Four well-separated classes, six labels flipped: boosting chases the flipped rows
    until their class probability is ~0, and the Newton step divides by it."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(4), 40)
    x = (rng.normal(size=(160, len(features()[2]))) + y[:, None] * 3.0).astype(F32)
    flip = rng.choice(160, 6, replace=False)
    y[flip] = (y[flip] + 2) % 4
    return x, y


def test_boosting_clips_the_runaway_newton_steps_of_noisy_labels() -> None:
    """scikit-learn's leaf values here reach ~1e8 (on PLAID's statistics 1e30 and more:
    float32 infinity); each stage's log-odds are clipped to ``STAGE_LOGIT_MAX`` and the
    int16 leaf codes keep the resolution of the ordinary leaves."""
    from sklearn.ensemble import GradientBoostingClassifier

    from mcuforge.models.tree_sums import STAGE_LOGIT_MAX

    x, y = _noisy_labels()
    params = {"n_estimators": 40, "learning_rate": 0.5, "max_depth": 3, "subsample": 0.8}
    raw = GradientBoostingClassifier(**params, random_state=0).fit(x, y)
    steps = np.concatenate([t.tree_.value.ravel() for t in raw.estimators_.ravel()]) * 0.5
    assert np.abs(steps).max() > 1e6  # the runaway this guards against
    family = MODELS.get("gradient_boosting")()
    models = {t: family.fit(x, y, 4, {**params, "thresholds": t}, 0) for t in ("float", "int16")}
    for thresholds, model in models.items():
        assert isinstance(model, TreeSum)
        scale = 1.0 if thresholds == "float" else float(model.post_scale)
        leaves = model.leaf_value * scale
        assert np.all(np.isfinite(leaves))
        assert STAGE_LOGIT_MAX * 0.999 <= np.abs(leaves).max() <= STAGE_LOGIT_MAX * 1.001
        assert_host_equals_python(model, on_the_edges(model, finite=False))
    # the int16 leaf codes decide as the float leaves do on every training row
    assert models["int16"].predict(x).tolist() == models["float"].predict(x).tolist()
