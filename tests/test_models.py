"""scikit-learn model families: trained on BasicMotions, emitted as C, C == Python.

Every family is trained on the stats features of the bundled data, its C is compiled
with the host compiler and run on every window (train and test), and the predictions
and the ``out`` vector must equal the Python reference bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mcuforge.data import Dataset, load_dataset
from mcuforge.emit import Provenance, emit_model
from mcuforge.errors import DataError
from mcuforge.features import (
    FEATURES,
    BlockCost,
    CFunction,
    CoreCosts,
    FeatureBlock,
    FeaturePipeline,
)
from mcuforge.hardware.host import run_host
from mcuforge.models import MODELS, DeployedModel, check_labels
from mcuforge.models.knn import Prototypes
from mcuforge.spec import load_spec

from .conftest import EXAMPLE

PROV = Provenance("test", "0" * 64, "test@1", 0, "host")
M4F = CoreCosts(float_op=1, float_div=14)
M0 = CoreCosts(float_op=45, float_div=160)


class Identity(FeatureBlock):
    """The window itself as the feature vector (row-major), for hand-made inputs."""

    name = "identity"

    @property
    def feature_names(self) -> list[str]:
        return [f"{c}[{t}]" for t in range(self.length) for c in self.channels]

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float32).reshape(len(x), -1)

    def emit_c(self, fn_name: str) -> CFunction:
        n = self.length * len(self.channels)
        code = (
            f"static void {fn_name}(const float *x, float *out)\n{{\n    int i;\n"
            f"    for (i = 0; i < {n}; ++i) {{ out[i] = x[i]; }}\n}}"
        )
        return CFunction(fn_name, code)

    def cost(self, core: CoreCosts) -> BlockCost:
        return BlockCost(0, 0, 0)


@dataclass
class Task:
    """Windows, features and targets of one small real task."""

    pipe: FeaturePipeline
    x_train: np.ndarray  # windows
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    channels: list[str]
    classes: list[str]

    @property
    def f_train(self) -> np.ndarray:
        return self.pipe.transform(self.x_train)

    @property
    def f_test(self) -> np.ndarray:
        return self.pipe.transform(self.x_test)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    loaded = load_spec(EXAMPLE / "spec.yaml")
    return load_dataset(loaded.spec.data, loaded.base_dir)


def _stats(channels: list[str], length: int) -> FeaturePipeline:
    return FeaturePipeline([FEATURES.get("stats")({}, length, channels, 10.0)])


@pytest.fixture(scope="module")
def classify(ds: Dataset) -> Task:
    pipe = _stats(ds.channels, ds.window)
    return Task(pipe, ds.train.x, ds.train.y, ds.test.x, ds.test.y, ds.channels, ds.classes)


@pytest.fixture(scope="module")
def regress(ds: Dataset) -> Task:
    """Mean gyro magnitude of the second half of a recording from accel stats of the first."""

    def split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gyro = np.linalg.norm(x[:, 50:, 3:6].astype(np.float64), axis=2).mean(axis=1)
        return np.ascontiguousarray(x[:, :50, :3]), gyro

    xtr, ytr = split(ds.train.x)
    xte, yte = split(ds.test.x)
    return Task(_stats(ds.channels[:3], 50), xtr, ytr, xte, yte, ds.channels[:3], [])


@pytest.fixture(scope="module")
def anomaly(ds: Dataset) -> Task:
    """Normal: standing and walking (train on those only); anomalies: running, badminton."""
    normal = [ds.classes.index("standing"), ds.classes.index("walking")]
    train = np.isin(ds.train.y, normal)
    y_test = (~np.isin(ds.test.y, normal)).astype(np.int64)
    pipe = _stats(ds.channels, ds.window)
    return Task(
        pipe,
        ds.train.x[train],
        np.zeros(int(train.sum()), dtype=np.int64),
        ds.test.x,
        y_test,
        ds.channels,
        ["normal", "anomaly"],
    )


def _fit(task: Task, family: str, params: dict[str, Any], seed: int = 0) -> DeployedModel:
    n_classes = max(len(task.classes), 1)
    return MODELS.get(family)().fit(task.f_train, task.y_train, n_classes, params, seed)


def _assert_c_equals_python(task: Task, model: DeployedModel) -> np.ndarray:
    """Compile the C, run it on every window; returns the Python outputs on the test set."""
    length = task.x_train.shape[1]
    sources = emit_model("m", task.pipe, model, task.classes, task.channels, length, 10.0, PROV)
    x = np.concatenate([task.x_train, task.x_test])
    host = run_host(sources, "m", x, task.pipe.n_outputs, model.n_outputs)
    f = task.pipe.transform(x)
    ref_out = model.outputs(f)
    assert ref_out.dtype == np.float32 and ref_out.shape == (len(x), model.n_outputs)
    assert host.outputs.view(np.uint32).tolist() == ref_out.view(np.uint32).tolist()
    pred = model.predict(f)
    expected = np.zeros(len(x), dtype=np.int64) if model.task == "regression" else pred
    assert host.predictions.tolist() == expected.tolist()
    if model.task == "regression":
        assert pred.view(np.uint32).tolist() == ref_out[:, 0].view(np.uint32).tolist()
    return ref_out[len(task.x_train) :]


CLASSIFIERS = [
    ("decision_tree", {"max_depth": 6, "thresholds": "int16"}, 0.8),
    ("random_forest", {"n_estimators": 8, "thresholds": "int16"}, 0.9),
    ("extra_trees", {"n_estimators": 10, "max_depth": 6}, 0.9),
    ("extra_trees", {"n_estimators": 10, "voting": "hard", "compression": "tree_int16"}, 0.9),
    ("random_forest", {"n_estimators": 6, "voting": "hard", "layout": "table"}, 0.9),
    ("decision_tree", {"max_depth": 5, "layout": "table"}, 0.8),
    ("gradient_boosting", {"n_estimators": 10, "max_depth": 2}, 0.9),
    ("gradient_boosting", {"n_estimators": 10, "max_depth": 2, "thresholds": "int16"}, 0.9),
    ("gradient_boosting", {"n_estimators": 6, "max_depth": 2, "layout": "table"}, 0.9),
    ("logistic_regression", {"C": 1.0}, 0.9),
    ("linear_svm", {"C": 0.5}, 0.9),
    ("ridge_classifier", {"alpha": 1.0}, 0.9),
    ("ridge_classifier", {"alpha": 100.0}, 0.8),
    ("gaussian_nb", {}, 0.8),
    ("knn", {"n_neighbors": 3, "max_prototypes": 12}, 0.9),
    ("knn", {"n_neighbors": 1, "max_prototypes": 8, "prototypes": "random"}, 0.8),
]


@pytest.mark.parametrize(("family", "params", "min_acc"), CLASSIFIERS)
def test_classifier_c_equals_python_and_learns(
    classify: Task, family: str, params: dict[str, Any], min_acc: float
) -> None:
    model = _fit(classify, family, params)
    assert MODELS.get(family).task == "classification" == model.task
    out = _assert_c_equals_python(classify, model)
    acc = float((np.argmax(out, axis=1) == classify.y_test).mean())
    assert acc >= min_acc, f"{family} test accuracy {acc:.2f}"
    for core in (M4F, M0):
        cost = model.cost(core)
        assert cost.flash_bytes > 0 and cost.sram_bytes > 0 and cost.instructions > 0


REGRESSORS = [
    ("decision_tree_regressor", {"max_depth": 4}),
    ("decision_tree_regressor", {"max_depth": 4, "thresholds": "int16"}),
    ("random_forest_regressor", {"n_estimators": 8, "max_depth": 5}),
    ("random_forest_regressor", {"n_estimators": 8, "max_depth": 5, "thresholds": "int16"}),
    ("random_forest_regressor", {"n_estimators": 4, "max_depth": 5, "layout": "table"}),
    ("extra_trees_regressor", {"n_estimators": 8}),
    ("gradient_boosting_regressor", {"n_estimators": 15, "thresholds": "int16"}),
    ("linear_regression", {"alpha": 1.0}),
]


@pytest.mark.parametrize(("family", "params"), REGRESSORS)
def test_regressor_c_equals_python_and_beats_the_mean(
    regress: Task, family: str, params: dict[str, Any]
) -> None:
    model = _fit(regress, family, params)
    assert model.task == "regression" and model.n_outputs == 1
    out = _assert_c_equals_python(regress, model)[:, 0].astype(np.float64)
    mse = float(np.mean((out - regress.y_test) ** 2))
    baseline = float(np.mean((regress.y_train.mean() - regress.y_test) ** 2))
    assert mse < 0.5 * baseline, f"{family}: mse {mse:.4g} vs predicting the mean {baseline:.4g}"


@pytest.mark.parametrize("thresholds", ["float", "int16"])
def test_isolation_forest_finds_unseen_activities(anomaly: Task, thresholds: str) -> None:
    params = {"n_estimators": 40, "max_samples": 32, "thresholds": thresholds}
    model = _fit(anomaly, "isolation_forest", params)
    assert model.task == "anomaly"
    score = _assert_c_equals_python(anomaly, model)[:, 0]
    assert roc_auc_score(anomaly.y_test, score) > 0.8
    threshold = getattr(model, "threshold", None)
    assert threshold is not None
    flags = model.predict(anomaly.f_test)
    assert flags.tolist() == (score > threshold).astype(int).tolist()
    sources = emit_model("m", anomaly.pipe, model, anomaly.classes, anomaly.channels, 100, 10, PROV)
    assert "#define M_ANOMALY_THRESHOLD" in sources["m_model.h"]


@pytest.mark.parametrize(
    "params",
    [{}, {"n_neighbors": 3, "prototypes": "kmeans", "scaling": "standardize"}],
)
def test_knn_distance_finds_unseen_activities(anomaly: Task, params: dict[str, Any]) -> None:
    """The distance to the nearest normal windows, in C as in Python, bit for bit."""
    model = _fit(anomaly, "knn_distance", {"max_prototypes": 24, **params})
    assert model.task == "anomaly" and model.describe()["prototypes"] <= 24
    score = _assert_c_equals_python(anomaly, model)[:, 0]
    assert roc_auc_score(anomaly.y_test, score) > 0.8
    threshold = getattr(model, "threshold", None)
    assert threshold is not None
    assert model.predict(anomaly.f_test).tolist() == (score > threshold).astype(int).tolist()


def test_knn_distance_stores_the_held_out_normal_rows_when_there_is_room() -> None:
    """The held-out normal rows choose the threshold, then join the stored ones (a
    quarter of GunPoint's few normal windows was left out of the deployed model); the
    score of a window can only fall, so no normal window alarms that did not before."""
    from mcuforge.models import MODELS

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (40, 6)), rng.normal(4, 1, (6, 6))]).astype(np.float32)
    y = np.array([0] * 40 + [1] * 6)
    family = MODELS.get("knn_distance")()
    full = family.fit(x, y, 2, {"max_prototypes": 100}, 0)
    stored = {tuple(r) for r in full.points.tolist()}  # type: ignore[attr-defined]
    assert stored == {tuple(r) for r in x[:40].tolist()}
    capped = family.fit(x, y, 2, {"max_prototypes": 30}, 0)
    assert len(capped.points) == 30  # type: ignore[attr-defined]
    probe = rng.normal(0, 1.5, (200, 6)).astype(np.float32)
    assert np.all(full.outputs(probe) <= capped.outputs(probe))
    assert full.anomaly_threshold == capped.anomaly_threshold


def test_anomaly_threshold_sits_half_way_between_normal_and_anomaly_scores() -> None:
    """It sat at the highest held-out normal score: on test data the detector separated
    perfectly (normal 0.03-0.49, faults 7.5-11), half the normal windows raised an alarm."""
    from mcuforge.models._anomaly import pick_threshold

    t = pick_threshold(np.array([0.1, 0.2, 0.27, 7.0, 8.0]), np.array([0, 0, 0, 1, 1]), 0.95)
    assert t == pytest.approx(0.27 + 0.5 * (7.0 - 0.27), rel=1e-6)
    # overlapping classes: the best balance (one normal above), then half-way to the next
    t = pick_threshold(np.array([0.1, 0.2, 0.27, 0.3, 8.0]), np.array([0, 0, 1, 0, 1]), 0.95)
    assert t == pytest.approx(0.2 + 0.5 * (0.27 - 0.2), rel=1e-6)
    scores = np.array([0.1, 0.2, 0.3, 0.4])  # no anomaly held out: the quantile
    assert pick_threshold(scores, np.zeros(4, dtype=np.int64), 0.5) == np.float32(0.3)


def test_anomaly_validation_is_a_contiguous_block_of_normal_rows() -> None:
    """A random choice left each held-out window's overlapping neighbours in training."""
    from mcuforge.models._anomaly import split_anomaly

    x = np.arange(40, dtype=np.float32)[:, None]  # rows in time order
    y = np.array([0] * 36 + [1] * 4)
    for seed in range(5):
        split = split_anomaly(x, y, 0.25, seed)
        held = np.sort(split.val_x[split.val_y == 0][:, 0])
        assert len(held) == 9 and np.all(np.diff(held) == 1), held
        assert set(held) | set(split.fit_x[:, 0]) == set(range(36))
        assert np.array_equal(split.val_x[split.val_y == 1][:, 0], np.arange(36, 40))


def test_int16_trees_compare_integers_and_keep_the_float_decisions(classify: Task) -> None:
    params = {"n_estimators": 10, "max_depth": 6, "layout": "table"}
    exact = _fit(classify, "random_forest", params)
    small = _fit(classify, "random_forest", {**params, "thresholds": "int16"})
    code = small.emit_c("p")
    assert "static const int16_t p_node_threshold" in code and "q[p_node_feature[n]]" in code
    # float thresholds are compared as integer order keys of the float bits
    exact_code = exact.emit_c("p")
    assert (
        "static const int32_t p_node_threshold" in exact_code
        and "float" not in (exact_code.split("p_node_threshold")[1].split(";")[0])
    )
    # the quantiser is monotone: training rows keep their side of every split
    assert small.predict(classify.f_train).tolist() == exact.predict(classify.f_train).tolist()
    agree = (small.predict(classify.f_test) == exact.predict(classify.f_test)).mean()
    assert agree >= 0.9
    # 2-byte thresholds make a large table smaller, but the quantiser's float operations
    # cost more than comparing float keys as integers, on every core
    big = {"n_estimators": 60, "max_depth": 10, "layout": "table"}
    big_float = _fit(classify, "extra_trees", big)
    big_int16 = _fit(classify, "extra_trees", {**big, "thresholds": "int16"})
    assert big_int16.cost(M0).flash_bytes < big_float.cost(M0).flash_bytes
    for core in (M0, M4F):
        assert big_int16.cost(core).instructions > big_float.cost(core).instructions


def test_deployed_models_agree_with_sklearn(classify: Task) -> None:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB

    xtr, ytr, xte = classify.f_train, classify.y_train, classify.f_test
    gbt = _fit(classify, "gradient_boosting", {"n_estimators": 10, "max_depth": 2})
    sk = GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0).fit(xtr, ytr)
    np.testing.assert_allclose(gbt.outputs(xte), sk.decision_function(xte), rtol=1e-4, atol=1e-4)
    nb = _fit(classify, "gaussian_nb", {})
    assert nb.predict(xte).tolist() == GaussianNB().fit(xtr, ytr).predict(xte).tolist()
    lr = _fit(classify, "logistic_regression", {"C": 1.0})
    std = xtr.std(0)
    sk_lr = LogisticRegression(C=1.0, max_iter=500).fit((xtr - xtr.mean(0)) / std, ytr)
    assert (lr.predict(xte) == sk_lr.predict((xte - xtr.mean(0)) / std)).mean() >= 0.95


def test_binary_and_missing_classes(classify: Task) -> None:
    keep = classify.y_train <= 1  # two of the four classes
    for family, params in [
        ("logistic_regression", {}),
        ("ridge_classifier", {}),
        ("gradient_boosting", {"n_estimators": 5}),
        ("gaussian_nb", {}),
        ("random_forest", {"n_estimators": 4}),
        ("knn", {"max_prototypes": 4}),
    ]:
        model = MODELS.get(family)().fit(
            classify.f_train[keep], classify.y_train[keep], 4, params, 0
        )
        assert model.n_outputs == 4
        pred = model.predict(classify.f_test)
        assert set(pred.tolist()) <= {0, 1}, family


def test_knn_caps_prototypes_and_is_deterministic(classify: Task) -> None:
    a = _fit(classify, "knn", {"max_prototypes": 6, "n_neighbors": 3}, seed=5)
    b = _fit(classify, "knn", {"max_prototypes": 6, "n_neighbors": 3}, seed=5)
    assert isinstance(a, Prototypes) and len(a.points) <= 6
    assert sorted(set(a.labels.tolist())) == [0, 1, 2, 3]
    assert a.emit_c("p") == b.emit_c("p")


def test_knn_ties_go_to_the_earlier_prototype_and_the_lower_class() -> None:
    one = np.ones(2, dtype=np.float32)
    # x = (0, 0): prototypes 0 (class 2) and 1 (class 0) at equal distance 1, then 2 farther
    protos = np.array([[1, 0], [0, 1], [3, 3]], dtype=np.float32)
    k1 = Prototypes(protos, np.array([2, 0, 1]), one, 1, 3)
    x = np.zeros((1, 2), dtype=np.float32)
    assert k1.predict(x).tolist() == [2]  # earlier prototype wins the distance tie
    k2 = Prototypes(protos, np.array([2, 0, 1]), one, 2, 3)
    assert k2.outputs(x).tolist() == [[1.0, 0.0, 1.0]] and k2.predict(x).tolist() == [0]
    pipe = FeaturePipeline([Identity({}, 2, ["a"], 10.0)])
    windows = np.array([[[0], [0]], [[1], [1]], [[0.5], [0.5]], [[3], [2]]], dtype=np.float32)
    for model in (k1, k2, Prototypes(protos, np.array([2, 0, 1]), one, 3, 3)):
        task = Task(pipe, windows, np.zeros(4), windows[:0], np.zeros(0), ["a"], ["x", "y", "z"])
        _assert_c_equals_python(task, model)


def test_fit_is_deterministic_per_seed(classify: Task) -> None:
    for family, params in [("extra_trees", {"n_estimators": 5}), ("gradient_boosting", {})]:
        a = _fit(classify, family, {**params, "subsample": 0.7} if "grad" in family else params)
        b = _fit(classify, family, {**params, "subsample": 0.7} if "grad" in family else params)
        assert a.emit_c("p") == b.emit_c("p")


def test_bad_training_data_is_a_clear_data_error(classify: Task, anomaly: Task) -> None:
    one_class = np.zeros(len(classify.f_train), dtype=np.int64)
    for family in (
        "decision_tree",
        "logistic_regression",
        "ridge_classifier",
        "gradient_boosting",
        "knn",
    ):
        with pytest.raises(DataError, match="single class"):
            MODELS.get(family)().fit(classify.f_train, one_class, 4, {}, 0)
    with pytest.raises(DataError, match="too few for a validation split"):
        MODELS.get("isolation_forest")().fit(anomaly.f_train[:1], anomaly.y_train[:1], 1, {}, 0)
    bad = classify.f_train.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        MODELS.get("random_forest")().fit(bad, classify.y_train, 4, {}, 0)
    with pytest.raises(DataError, match="0 \\(normal\\) or 1"):
        MODELS.get("isolation_forest")().fit(classify.f_train, classify.y_train, 4, {}, 0)


def test_check_labels_names_classes_unseen_in_training() -> None:
    check_labels(np.array([0, 1, 2]), np.array([2, 1]), ["a", "b", "c"])
    with pytest.raises(DataError, match="class c occurs in the test split"):
        check_labels(np.array([0, 1, 1]), np.array([2, 0]), ["a", "b", "c"])


def test_unknown_family_is_refused_by_the_registry() -> None:
    from mcuforge.registry import RegistryError

    with pytest.raises(RegistryError, match="did you mean random_forest"):
        MODELS.get("random_forrest")
