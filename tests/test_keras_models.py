"""Keras families: deterministic training, pruning, QAT, int8 deployment, C == Python.

Tiny networks and few epochs on the bundled BasicMotions data; the int8 model is
compiled with the host compiler and must equal the reference interpreter's results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras  # type: ignore[import-untyped,unused-ignore]
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mcuforge.compress.prune import MagnitudePruning, magnitude_mask, schedule, sparsity
from mcuforge.compress.qat import ActivationQuant, WeightFakeQuant, fake_quant_weights
from mcuforge.data import Dataset, load_dataset
from mcuforge.emit import Provenance, emit_model
from mcuforge.errors import DataError
from mcuforge.features import FEATURES, FeaturePipeline
from mcuforge.hardware.host import run_host
from mcuforge.models import MODELS, DeployedModel
from mcuforge.models._keras import TrainParams, seed_everything, train
from mcuforge.spec import load_spec

from .conftest import EXAMPLE

pytestmark = pytest.mark.slow
PROV = Provenance("test", "0" * 64, "test@1", 0, "host")
FAST = {"epochs": 12, "batch_size": 8, "patience": 4}


@pytest.fixture(scope="module")
def ds() -> Dataset:
    loaded = load_spec(EXAMPLE / "spec.yaml")
    return load_dataset(loaded.spec.data, loaded.base_dir)


def _pipe(ds: Dataset, blocks: list[str]) -> FeaturePipeline:
    made = [FEATURES.get(b)({}, ds.window, ds.channels, ds.rate_hz) for b in blocks]
    return FeaturePipeline(made).fit(ds.train.x, ds.train.y)


def _tiny(qat: bool = False) -> keras.Model:
    inp = keras.Input((6,), name="features")
    x = keras.layers.Dense(16, activation="relu", name="dense0")(inp)
    if qat:
        x = ActivationQuant(name="aq_dense0")(x)
    return keras.Model(inp, keras.layers.Dense(3, name="head")(x))


def _toy(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(90, 6)).astype(np.float32)
    y = np.argmax(x[:, :3] + 0.1 * rng.normal(size=(90, 3)), axis=1)
    return x, y


def _train_toy(params: dict[str, Any], seed: int = 0, on_epoch: Any = None) -> keras.Model:
    x, y = _toy()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    cfg = TrainParams.read({**FAST, **params}, "toy")
    return train(_tiny, (x[:70], y[:70]), (x[70:], y[70:]), cfg, loss, seed, on_epoch, True).model


def test_training_is_deterministic_per_seed() -> None:
    a = [w.copy() for w in _train_toy({}, seed=3).get_weights()]
    b = _train_toy({}, seed=3).get_weights()
    c = _train_toy({}, seed=4).get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c, strict=True))


def test_on_epoch_sees_every_epoch_and_its_exception_propagates() -> None:
    seen: list[tuple[int, float]] = []
    _train_toy({"epochs": 3, "patience": 10}, on_epoch=lambda e, s: seen.append((e, s)))
    assert [e for e, _ in seen] == [0, 1, 2] and all(0.0 <= s <= 1.0 for _, s in seen)

    class Stop(Exception):
        pass

    def prune(epoch: int, score: float) -> None:
        if epoch == 1:
            raise Stop

    with pytest.raises(Stop):
        _train_toy({"epochs": 5}, on_epoch=prune)


def test_magnitude_pruning_reaches_the_target_and_keeps_the_mask() -> None:
    assert schedule(0.8, 0.0) == 0.0 and schedule(0.8, 1.0) == pytest.approx(0.8)
    w = np.array([[0.5, -0.1], [0.1, 2.0]], dtype=np.float32)
    mask = magnitude_mask(w, np.ones_like(w), 0.5)
    assert mask.tolist() == [[1.0, 0.0], [0.0, 1.0]]  # equal magnitudes: lower index first
    model = _train_toy({"sparsity": 0.75})
    assert sparsity(model) == pytest.approx(0.75, abs=0.01)
    for layer in model.layers:
        if layer.weights:
            k = layer.kernel.numpy()
            assert (k == 0).mean() == pytest.approx(0.75, abs=0.02)


def test_pruned_weights_stay_zero_during_training() -> None:
    x, y = _toy()
    seed_everything(0)
    model = _tiny()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    pruner = MagnitudePruning(0.5, total_steps=10, end=0.0)
    model.fit(x, y, epochs=1, batch_size=9, verbose=0, callbacks=[pruner])
    zeros = [m == 0 for m in pruner.masks]
    model.fit(x, y, epochs=2, batch_size=9, verbose=0, callbacks=[pruner])
    for k, z in zip(
        [model.get_layer("dense0").kernel, model.get_layer("head").kernel], zeros, strict=True
    ):
        assert np.all(k.numpy()[z] == 0)


def test_qat_leaves_weights_on_the_int8_grid() -> None:
    w = np.array([[0.5, -1.0], [0.26, 0.3]], dtype=np.float32)
    q = fake_quant_weights(w)
    scale = np.abs(w).max(axis=0) / 127
    assert np.allclose(q / scale, np.round(q / scale), atol=1e-4)
    assert np.array_equal(fake_quant_weights(q), q)  # idempotent
    model = _train_toy({"compression": "qat_int8", "qat_epochs": 2})
    assert not any(isinstance(layer, ActivationQuant) for layer in model.layers)
    for name in ("dense0", "head"):
        k = model.get_layer(name).kernel.numpy()
        assert np.array_equal(fake_quant_weights(k), k)
    assert isinstance(WeightFakeQuant(), keras.callbacks.Callback)


def test_too_little_data_for_a_network_is_a_data_error(ds: Dataset) -> None:
    pipe = _pipe(ds, ["stats"])
    f = pipe.transform(ds.train.x)
    with pytest.raises(DataError, match="too few for a validation split"):
        one_each = [int(np.flatnonzero(ds.train.y == c)[0]) for c in range(4)]
        MODELS.get("mlp")().fit(f[one_each], ds.train.y[one_each], 4, FAST, 0)
    with pytest.raises(DataError, match="needs a 2-D input"):
        MODELS.get("cnn1d")().fit(f, ds.train.y, 4, FAST, 0)


# ---- int8 deployment: the model the search scores is the one the C runs ----


def _c_equals_python(
    ds: Dataset, pipe: FeaturePipeline, model: DeployedModel, classes: list[str]
) -> np.ndarray:
    sources = emit_model("k", pipe, model, classes, ds.channels, ds.window, ds.rate_hz, PROV)
    x = np.concatenate([ds.train.x, ds.test.x])
    host = run_host(sources, "k", x, pipe.n_outputs, model.n_outputs)
    f = pipe.transform(x)
    ref = model.outputs(f)
    diff = np.abs(host.outputs.astype(np.float64) - ref) / (1 + np.abs(ref))
    assert float(diff.max(initial=0.0)) <= model.tolerance
    if model.tolerance == 0.0:
        assert host.outputs.view(np.uint32).tolist() == ref.view(np.uint32).tolist()
    pred = model.predict(f)
    expected = np.zeros(len(x), dtype=np.int64) if model.task == "regression" else pred
    assert host.predictions.tolist() == expected.tolist()
    return ref[len(ds.train.x) :]


@pytest.mark.parametrize(
    ("family", "blocks", "params", "min_acc"),
    [
        ("mlp", ["stats", "standardize"], {"units": 16}, 0.85),
        ("mlp", ["stats", "standardize"], {"units": 16, "compression": "prune_qat_int8"}, 0.8),
        ("cnn1d", ["raw"], {"filters": 8, "layers": 2, "learning_rate": 0.01}, 0.7),
        ("ds_cnn", ["raw"], {"filters": 4, "blocks": 1, "learning_rate": 0.01}, 0.5),
    ],
)
def test_int8_classifier_c_equals_python(
    ds: Dataset, family: str, blocks: list[str], params: dict[str, Any], min_acc: float
) -> None:
    pipe = _pipe(ds, blocks)
    f = pipe.transform(ds.train.x)
    model = MODELS.get(family)().fit(
        f, ds.train.y, 4, {**FAST, **params}, 0, input_shape=pipe.output_shape
    )
    assert type(model).__name__ == "Int8Model" and model.task == "classification"
    out = _c_equals_python(ds, pipe, model, ds.classes)
    acc = float((np.argmax(out, axis=1) == ds.test.y).mean())
    assert acc >= min_acc, f"{family} int8 test accuracy {acc:.2f}"


def test_pruned_weights_stay_zero_after_int8_conversion(ds: Dataset) -> None:
    from mcuforge.compress.int8 import quantize_int8

    x, _ = _toy()
    model = _train_toy({"sparsity": 0.5})
    flat = quantize_int8(model, x, 0)
    from ai_edge_litert.interpreter import (  # type: ignore[import-untyped,unused-ignore]
        Interpreter,
        OpResolverType,
    )

    interp = Interpreter(
        model_content=flat, experimental_op_resolver_type=OpResolverType.BUILTIN_REF
    )
    interp.allocate_tensors()
    kernels = {(16, 6), (3, 16)}  # (out, in) of dense0 and head; activations are (1, n)
    by_shape = {
        tuple(d["shape"]): interp.get_tensor(d["index"])
        for d in interp.get_tensor_details()
        if d["dtype"] == np.int8 and tuple(d["shape"]) in kernels
    }
    for name in ("dense0", "head"):
        kernel = model.get_layer(name).kernel.numpy().T  # TFLite stores (out, in)
        q = by_shape[kernel.shape]
        assert np.all(q[kernel == 0] == 0)
        assert (q == 0).mean() >= 0.5


def test_autoencoder_finds_unseen_activities(ds: Dataset) -> None:
    normal = [ds.classes.index("standing"), ds.classes.index("walking")]
    train = np.isin(ds.train.y, normal)
    pipe = FeaturePipeline(
        [FEATURES.get(b)({}, ds.window, ds.channels, ds.rate_hz) for b in ("stats", "standardize")]
    ).fit(ds.train.x[train], np.zeros(int(train.sum())))
    f = pipe.transform(ds.train.x[train])
    params = {"epochs": 60, "batch_size": 4, "patience": 15, "units": 16, "bottleneck": 4}
    model = MODELS.get("autoencoder")().fit(f, np.zeros(len(f), np.int64), 2, params, 0)
    assert model.task == "anomaly" and getattr(model, "threshold", None) is not None
    y_test = (~np.isin(ds.test.y, normal)).astype(int)
    score = _c_equals_python(ds, pipe, model, ["normal", "anomaly"])[:, 0]
    assert roc_auc_score(y_test, score) > 0.8


def test_mlp_regressor_beats_the_mean(ds: Dataset) -> None:
    pipe = _pipe(ds, ["stats", "standardize"])
    f = pipe.transform(ds.train.x)
    target = f[:, 1].astype(np.float64) * 2.0 + 1.0  # a learnable function of the inputs
    model = MODELS.get("mlp_regressor")().fit(f, target, 0, {**FAST, "epochs": 30}, 0)
    assert model.task == "regression"
    ft = pipe.transform(ds.test.x)
    pred = model.predict(ft).astype(np.float64)
    truth = ft[:, 1].astype(np.float64) * 2.0 + 1.0
    assert np.mean((pred - truth) ** 2) < 0.5 * np.var(truth)
    _c_equals_python(ds, pipe, model, [])


def test_cnn1d_regressor_learns_a_value_from_the_raw_window(ds: Dataset) -> None:
    pipe = _pipe(ds, ["raw"])
    f = pipe.transform(ds.train.x)

    def level(x: np.ndarray) -> np.ndarray:  # a value the window's samples carry
        return x[:, :, 0].mean(axis=1).astype(np.float64) * 2.0 + 1.0

    params = {**FAST, "epochs": 40, "filters": 8, "layers": 1, "learning_rate": 0.01}
    model = MODELS.get("cnn1d_regressor")().fit(
        f, level(ds.train.x), 0, params, 0, input_shape=pipe.output_shape
    )
    assert model.task == "regression" and model.n_outputs == 1
    pred = model.predict(pipe.transform(ds.test.x)).astype(np.float64)
    truth = level(ds.test.x)
    assert np.mean((pred - truth) ** 2) < 0.5 * np.var(truth)
    _c_equals_python(ds, pipe, model, [])


def test_keras_families_are_registered_with_int8_compressions() -> None:
    for name in ("mlp", "mlp_regressor", "cnn1d", "cnn1d_regressor", "ds_cnn", "autoencoder"):
        family = MODELS.get(name)
        assert "int8" in family.compressions and "qat_int8" in family.compressions
    assert Path(__file__).exists()


def test_tensorflow_start_up_lines_stay_off_the_screen() -> None:
    """Loading TensorFlow through mcuforge filters its native start-up lines, also the
    device probe that runs on the first tensor (CUDA's "failed call to cuInit" on a
    machine without a GPU), while what else reaches stderr passes through."""
    import os
    import re
    import subprocess
    import sys

    from mcuforge._lazy import _NOISE

    code = (  # the pruning and QAT modules first: they imported keras directly (noise)
        "import sys\n"
        "import mcuforge.compress.qat\n"
        "from mcuforge._lazy import keras, tensorflow as tf\n"
        "keras.layers.Dense\n"
        "tf.constant([1.0]) + 1\n"
        "print('mine', file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "mine" in lines
    assert not [ln for ln in lines if _NOISE.match(ln) or re.search(r"cuInit|\.cc:\d+\]", ln)]
