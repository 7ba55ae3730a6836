"""Int8Model: the DeployedModel contract for int8 networks, Python against the C."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from mcuforge.codegen.nn import ModelFormatError, reconstruction_mse
from mcuforge.compress import quantize_int8
from mcuforge.emit import Provenance, emit_model
from mcuforge.features import FEATURES, CoreCosts, FeaturePipeline
from mcuforge.hardware.host import run_host
from mcuforge.models import DeployedModel
from mcuforge.models.int8 import Int8Model, Int8ModelError
from mcuforge.testing._network_c import run_model_host

from .test_nn_codegen import ZOO, dataset, small, trained

PROV = Provenance("test", "0" * 64, "test@1", 0, "host")
FPU = CoreCosts(float_op=1, float_div=14)
SOFT = CoreCosts(float_op=45, float_div=160)


def _features(name: str) -> np.ndarray:
    ds = dataset()
    x = ZOO[name][1](np.concatenate([ds.train.x, ds.test.x]))
    out: np.ndarray = x.reshape(len(x), -1).astype(np.float32)
    return out


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a32, b32 = np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32)
    return a32.shape == b32.shape and bool(np.array_equal(a32.view(np.uint32), b32.view(np.uint32)))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "task"),
    [
        ("mlp", "classification"),
        ("cnn1d", "classification"),
        ("ds_cnn", "classification"),
        ("regressor", "regression"),
        ("autoencoder", "anomaly"),
    ],
)
@pytest.mark.parametrize("reference", ["litert", "tflm"])
def test_c_infer_equals_predict_and_outputs(name: str, task: str, reference: str) -> None:
    if reference == "tflm":
        pytest.importorskip("tflite_micro")
    f = _features(name)
    model = Int8Model(trained(name), task, reference=reference)
    if task == "anomaly":  # the median training score: both decisions occur
        model.threshold = float(np.median(model.anomaly_scores(f[:40])))
    assert isinstance(model, DeployedModel)
    pred, out = run_model_host(model.emit_c("bm_model"), "bm_model", f, model.n_outputs)
    assert _same_bits(out, model.outputs(f))
    if task == "regression":  # the C returns 0; the value is out[0]
        assert _same_bits(out[:, 0], model.predict(f))
    else:
        assert pred.tolist() == model.predict(f).tolist()
    if task == "classification":
        assert model.n_outputs == 4 and set(pred.tolist()) <= {0, 1, 2, 3}
    elif task == "anomaly":
        assert set(pred.tolist()) == {0, 1}
        assert out[:, 0].tolist() == reconstruction_mse(model.dequantized(f), f).tolist()
    else:
        assert pred.tolist() == [0] * len(f)


@pytest.mark.slow
def test_generated_project_sources_agree_through_the_feature_pipeline() -> None:
    """Stats features -> int8 MLP, through codegen.emit_model and hardware.host.run_host."""
    import keras

    ds = dataset()
    block = FEATURES.get("stats")({}, ds.window, ds.channels, ds.rate_hz)
    pipe = FeaturePipeline([block]).fit(ds.train.x, ds.train.y)
    ftr = pipe.transform(ds.train.x)
    keras.utils.set_random_seed(0)
    i = keras.Input((ftr.shape[1],))
    net = keras.Model(i, keras.layers.Dense(4, activation="softmax")(keras.layers.Dense(8)(i)))
    net.compile("adam", "sparse_categorical_crossentropy")
    net.fit(ftr, ds.train.y, epochs=2, verbose=0)
    model = Int8Model(quantize_int8(net, ftr, seed=0), "classification")
    sources = emit_model("bm", pipe, model, ds.classes, ds.channels, ds.window, ds.rate_hz, PROV)
    # the header says what the arena means: one inference at a time
    assert "Not reentrant" in sources["bm_model.h"] and "reentrant." not in sources["bm_model.h"]
    x = np.concatenate([ds.train.x, ds.test.x])
    host = run_host(sources, "bm", x, pipe.n_outputs, model.n_outputs)
    f = pipe.transform(x)
    assert host.predictions.tolist() == model.predict(f).tolist()
    assert _same_bits(host.outputs, model.outputs(f))


@pytest.mark.slow
def test_cost_and_describe_reflect_the_network() -> None:
    model = Int8Model(trained("ds_cnn"), "classification")
    facts = model.describe()
    assert facts["layers"]["DEPTHWISE_CONV_2D"] == 1 and facts["layers"]["CONV_2D"] == 2
    assert facts["arena_bytes"] == facts["arena_lower_bound"] > 0
    assert facts["macs"] > facts["params"] > 0
    fpu, soft = model.cost(FPU), model.cost(SOFT)
    assert fpu.parameters == soft.parameters == facts["params"]
    assert fpu.sram_bytes > facts["arena_bytes"] and fpu.flash_bytes > facts["weight_bytes"]
    assert facts["macs"] < fpu.instructions < soft.instructions  # DSP kernels on FPU cores
    bigger = Int8Model(trained("mlp"), "classification")
    assert bigger.cost(FPU).flash_bytes > fpu.flash_bytes  # 10k weights vs 0.5k


@pytest.mark.slow
def test_model_pickles_and_rejects_what_it_cannot_deploy() -> None:
    tflite = trained("regressor")
    model = Int8Model(tflite, "regression")
    f = small(dataset().test.x)
    assert pickle.loads(pickle.dumps(model)).predict(f).tolist() == model.predict(f).tolist()
    with pytest.raises(Int8ModelError, match="unknown task"):
        Int8Model(tflite, "clustering")
    with pytest.raises(Int8ModelError, match="one output"):
        Int8Model(trained("mlp"), "regression")
    with pytest.raises(Int8ModelError, match="reconstructs"):
        Int8Model(trained("mlp"), "anomaly")
    anomaly = Int8Model(trained("autoencoder"), "anomaly")
    with pytest.raises(Int8ModelError, match="threshold"):
        anomaly.predict(f)
    with pytest.raises(Int8ModelError, match="expected 60 features"):
        model.predict(f[:, :10])
    with pytest.raises(ModelFormatError, match="not a TFLite model"):
        Int8Model(b"\0" * 16, "classification")
