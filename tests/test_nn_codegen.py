"""Int8 network C (mcuforge.codegen.nn) against TFLite, on BasicMotions windows.

Tiny Keras models are trained for two epochs on the bundled example, quantised to
full int8, emitted as C, compiled and run; every output byte must equal the reference
interpreter's: ai-edge-litert (reference kernels) by default, TFLite Micro in ``tflm``
mode, on the host (portable kernels) and in QEMU (Cortex-M4 DSP kernels).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from mcuforge.codegen.nn import (
    SUPPORTED_OPS,
    UnsupportedOpError,
    check_ops,
    emit_network,
    quantize_input,
)
from mcuforge.codegen.nn._graph import parse
from mcuforge.codegen.nn._plan import Buffer, lower_bound, plan
from mcuforge.codegen.nn._reference import Reference
from mcuforge.compress import QuantizationError, quantize_int8
from mcuforge.data import Dataset, load_dataset
from mcuforge.spec import load_spec
from mcuforge.testing._baremetal import compile_object, run_baremetal, toolchain_available
from mcuforge.testing._network_c import build_and_run, run_network_host

from .conftest import EXAMPLE

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

M4 = "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
M0PLUS = "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft"
M3 = "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft"
needs_toolchain = pytest.mark.skipif(
    not toolchain_available(), reason="arm-none-eabi-gcc and qemu-system-arm are needed"
)


@functools.lru_cache(maxsize=1)
def dataset() -> Dataset:
    loaded = load_spec(EXAMPLE / "spec.yaml")
    return load_dataset(loaded.spec.data, loaded.base_dir)


def _mlp(keras: Any) -> Any:
    i = keras.Input((600,))
    h = keras.layers.ReLU(max_value=6.0)(i)  # a standalone RELU6
    h = keras.layers.Dense(16, activation="relu")(h)
    t = keras.layers.Dense(16, activation="tanh")(h)
    h = keras.layers.Add()([h, t])
    return keras.Model(i, keras.layers.Softmax()(keras.layers.Dense(4)(h)), name="mlp")


def _cnn1d(keras: Any) -> Any:
    i = keras.Input((100, 6))
    h = keras.layers.Conv1D(8, 5, padding="same", activation="relu6")(i)
    h = keras.layers.MaxPooling1D(2)(h)
    a = keras.layers.Conv1D(8, 3, padding="valid")(h)
    b = keras.layers.AveragePooling1D(3, strides=1)(h)
    h = keras.layers.Concatenate()([a, b])
    h = keras.layers.GlobalAveragePooling1D()(h)
    return keras.Model(i, keras.layers.Dense(4, activation="sigmoid")(h), name="cnn1d")


def _ds_cnn(keras: Any) -> Any:
    i = keras.Input((100, 6, 1))
    h = keras.layers.Conv2D(8, (5, 3), strides=(2, 1), padding="same", activation="relu")(i)
    h = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(h)
    h = keras.layers.Conv2D(12, 1, activation="relu")(h)
    h = keras.layers.AveragePooling2D((2, 1))(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.Model(i, keras.layers.Softmax()(keras.layers.Dense(4)(h)), name="ds_cnn")


def _one_channel(keras: Any) -> Any:
    """A convolution of one input channel is the only one of its requantisation form: on
    DSP cores a dwplane kernel takes it and the general convolution goes unused."""
    i = keras.Input((20, 6, 1))
    h = keras.layers.Conv2D(4, (3, 3), padding="same", activation="relu")(i)
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.Model(i, keras.layers.Dense(4)(h), name="one_channel")


def _autoencoder(keras: Any) -> Any:
    i = keras.Input((60,))
    h = keras.layers.Dense(12, activation="relu")(i)
    return keras.Model(i, keras.layers.Dense(60)(h), name="autoencoder")


def _regressor(keras: Any) -> Any:
    i = keras.Input((60,))
    h = keras.layers.Dense(8, activation="relu")(i)
    return keras.Model(i, keras.layers.Dense(1)(h), name="regressor")


def _kernels(keras: Any) -> Any:
    """Every path of the matrix and depthwise kernels: strides, padding, odd channel
    counts and k (k4 padding), an odd number of output pixels, a depth multiplier of 2
    and of 1 with channels a multiple of 4 (the DSP quad path), max pooling with
    channels not a multiple of 4, ReLU6 on more than 128 values (a table) and a 1 x 1
    convolution of four channels."""
    L = keras.layers
    i = keras.Input((25, 5, 1))  # 13 x 5 = 65 output pixels: an odd count
    h = L.Conv2D(5, (3, 2), strides=(2, 1), padding="same", activation="relu")(i)
    # a 1 x 1 convolution of four channels after ReLU (the pw4 kernel, affine form)
    d = L.Conv2D(4, (3, 2), padding="same", activation="relu")(h)
    d = L.GlobalAveragePooling2D()(L.Conv2D(6, 1, activation="relu")(d))
    h = L.DepthwiseConv2D((3, 3), depth_multiplier=2, padding="valid")(h)
    h = L.Conv2D(8, (3, 1), padding="same", activation="relu6")(h)
    h = L.DepthwiseConv2D(3, padding="same", activation="relu")(h)
    h = L.MaxPooling2D((2, 1))(L.Conv2D(7, 1)(h))  # (5, 3, 7): 105 values
    h = L.Concatenate()([h, h])  # 210 values
    h = L.GlobalAveragePooling2D()(L.ReLU(max_value=6.0)(h))
    return keras.Model(i, L.Dense(4)(L.Concatenate()([h, d])), name="kernels")


def small(x: np.ndarray) -> np.ndarray:
    """The windows subsampled to 10 steps x 6 channels: 60 features per window."""
    out: np.ndarray = x[:, ::10, :].reshape(len(x), -1).astype(np.float32)
    return out


#: name -> (builder, input from windows, training target from (windows, labels), loss)
ZOO: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], np.ndarray], str]] = {
    "mlp": (_mlp, lambda x: x.reshape(len(x), -1), "classes"),
    "cnn1d": (_cnn1d, lambda x: x, "classes"),
    "ds_cnn": (_ds_cnn, lambda x: x[..., None], "classes"),
    "one_channel": (_one_channel, lambda x: x[:, ::5, :, None], "classes"),
    "kernels": (_kernels, lambda x: x[:, ::4, :5, None], "classes"),
    "autoencoder": (_autoencoder, small, "reconstruct"),
    "regressor": (_regressor, small, "energy"),
}


@functools.cache
def trained(name: str) -> bytes:
    """The zoo model ``name`` trained for two epochs and quantised to int8."""
    import keras

    build, inputs, target = ZOO[name]
    ds = dataset()
    keras.utils.set_random_seed(0)
    model = build(keras)
    x = inputs(ds.train.x)
    if target == "classes":
        model.compile("adam", "sparse_categorical_crossentropy")
        y: np.ndarray = ds.train.y
    elif target == "reconstruct":
        model.compile("adam", "mse")
        y = x
    else:
        model.compile("adam", "mse")
        y = np.abs(ds.train.x).mean(axis=(1, 2)).astype(np.float32)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return quantize_int8(model, x, seed=0)


def windows_and_noise(name: str, scale: float, zp: int, n_noise: int = 120) -> np.ndarray:
    """int8 inputs: every BasicMotions window (train and test) plus random vectors."""
    ds = dataset()
    x = ZOO[name][1](np.concatenate([ds.train.x, ds.test.x]))
    q = quantize_input(x.reshape(len(x), -1), scale, zp)
    rng = np.random.default_rng(7)
    noise = rng.integers(-128, 128, size=(n_noise, q.shape[1])).astype(np.int8)
    return np.concatenate([q, noise])


def _reference(tflite: bytes, q: np.ndarray, kind: str) -> np.ndarray:
    net = emit_network(tflite, "nn", kind)
    io = (net.input.scale, net.input.zero_point), (net.output.scale, net.output.zero_point)
    return Reference(tflite, kind).run(q, *io)


@pytest.mark.slow
def test_quantize_int8_is_deterministic_with_int8_io() -> None:
    import keras

    ds = dataset()
    keras.utils.set_random_seed(1)
    model = _regressor(keras)
    a = quantize_int8(model, small(ds.train.x), seed=3)
    b = quantize_int8(model, small(ds.train.x), seed=3)
    assert a == b
    g = parse(a)
    assert g.tensor(g.inputs[0]).dtype == "int8" and g.tensor(g.outputs[0]).dtype == "int8"
    with pytest.raises(QuantizationError, match="takes"):
        quantize_int8(model, ds.train.x, seed=3)  # (100, 6) windows for a 60-input model
    i1, i2 = keras.Input((3,)), keras.Input((3,))
    with pytest.raises(QuantizationError, match="2 inputs"):
        quantize_int8(keras.Model([i1, i2], keras.layers.Add()([i1, i2])), np.zeros((4, 3)), 0)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ZOO))
@pytest.mark.parametrize("kind", ["litert", "tflm"])
def test_every_output_byte_equals_the_reference(name: str, kind: str) -> None:
    if kind == "tflm":
        pytest.importorskip("tflite_micro")
    tflite = trained(name)
    net = emit_network(tflite, "nn", kind)
    q = windows_and_noise(name, net.input.scale, net.input.zero_point)
    c = run_network_host(net.code, "nn", q, net.output.size)
    ref = _reference(tflite, q, kind)
    assert c.shape == ref.shape
    assert np.array_equal(c, ref), f"{int((c != ref).any(axis=1).sum())} rows differ"


@pytest.mark.slow
def test_general_kernels_where_nothing_is_fitted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernels the generation-time forms fall back to (a fully connected layer whose
    requantisation no SMLAL constants fit, an ADD whose inputs have no SMMULR form) are
    as exact as the fitted ones."""
    from mcuforge.codegen.nn import _ops_conv, _ops_misc

    monkeypatch.setattr(_ops_conv, "fit_layer", lambda *args: None)
    monkeypatch.setattr(_ops_misc, "_add_fast", lambda *args: None)
    tflite = trained("mlp")
    net = emit_network(tflite, "nn", "litert")
    assert "nn_matvec_double(" in net.code and "nn_add(" in net.code
    assert "nn_fc(" not in net.code and "nn_add_fast(" not in net.code
    q = windows_and_noise("mlp", net.input.scale, net.input.zero_point, 40)
    c = run_network_host(net.code, "nn", q, net.output.size)
    assert np.array_equal(c, _reference(tflite, q, "litert"))


@pytest.mark.slow
def test_the_zoo_covers_every_operator() -> None:
    kinds = {op.kind for name in ZOO for op in parse(trained(name)).ops}
    required = {
        "FULLY_CONNECTED",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "AVERAGE_POOL_2D",
        "MAX_POOL_2D",
        "MEAN",
        "SOFTMAX",
        "ADD",
        "LOGISTIC",
        "TANH",
        "RELU6",
        "CONCATENATION",
        "RESHAPE",
        "EXPAND_DIMS",
    }
    assert required <= kinds, f"not exercised: {sorted(required - kinds)}"
    assert kinds <= set(SUPPORTED_OPS)


def _independent_bound(tflite: bytes) -> int:
    """max over compute ops of (input + output + scratch), views folded, 4-byte sizes."""
    g = parse(tflite)
    net = emit_network(tflite, "nn")
    views = {"RESHAPE", "EXPAND_DIMS", "SQUEEZE"}
    layers = iter(net.layers)
    best = 0
    for op in g.ops:
        if op.kind in views:
            continue
        layer = next(layers)
        size = [(g.tensor(t).size + 3) // 4 * 4 for t in (op.inputs[0], op.outputs[0])]
        inplace = op.kind in ("LOGISTIC", "TANH", "RELU", "RELU6") and size[0] == size[1]
        best = max(best, (size[0] if inplace else sum(size)) + layer.scratch)
    return best


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ds_cnn", "autoencoder", "regressor"])
def test_sequential_arena_is_the_theoretical_minimum(name: str) -> None:
    net = emit_network(trained(name), "nn")
    assert net.arena_bytes == net.lower_bound == _independent_bound(trained(name))
    assert f"#define NN_ARENA_SIZE {net.arena_bytes}\n" in net.code
    assert "static int32_t nn_arena[NN_ARENA_WORDS];" in net.code


def test_planner_reaches_the_bound_on_chains_and_never_overlaps() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 9))
        chain = [Buffer(f"t{i}", int(rng.integers(1, 400)), max(i - 1, 0), i) for i in range(n)]
        chain += [Buffer(f"s{i}", int(rng.integers(0, 50)), i, i, scratch=True) for i in range(n)]
        chain = [b for b in chain if b.size]
        assert plan(chain).arena == lower_bound(chain)
        dag = [
            Buffer(f"d{i}", int(rng.integers(1, 300)), a, a + int(rng.integers(0, 4)))
            for i, a in enumerate(rng.integers(0, 6, size=int(rng.integers(2, 10))))
        ]
        result = plan(dag)
        assert result.arena >= lower_bound(dag)
        for i, x in enumerate(dag):
            for y in dag[i + 1 :]:
                if x.overlaps(y):
                    ox, oy = result.offsets[x.name], result.offsets[y.name]
                    assert ox + x.size <= oy or oy + y.size <= ox


@pytest.mark.slow
def test_caller_owned_arena_gives_the_same_bytes() -> None:
    tflite = trained("cnn1d")
    net = emit_network(tflite, "nn")
    q = windows_and_noise("cnn1d", net.input.scale, net.input.zero_point, 20)
    owned = net.code + "int32_t nn_arena[NN_ARENA_WORDS];\n"
    ext = run_network_host(owned, "nn", q, net.output.size, ["-DNN_ARENA_EXTERNAL"])
    assert "extern int32_t nn_arena[NN_ARENA_WORDS];" in net.code
    assert np.array_equal(ext, run_network_host(net.code, "nn", q, net.output.size))


@pytest.mark.slow
def test_unsupported_operators_are_named_with_their_layer() -> None:
    import keras

    keras.utils.set_random_seed(0)
    i = keras.Input((60,))
    h = keras.layers.Dense(8, name="hidden")(i)
    h = keras.layers.LeakyReLU(negative_slope=0.1, name="leaky")(h)
    h = keras.layers.Multiply(name="square")([h, h])
    model = keras.Model(i, keras.layers.Dense(2)(h))
    tflite = quantize_int8(model, small(dataset().train.x), seed=0)
    problems = check_ops(tflite)
    assert any(p.startswith("LEAKY_RELU (layer ") and "leaky" in p for p in problems)
    assert any(p.startswith("MUL (layer ") and "square" in p for p in problems)
    with pytest.raises(UnsupportedOpError) as err:
        emit_network(tflite, "nn")
    assert "LEAKY_RELU" in str(err.value) and "MUL" in str(err.value)
    assert err.value.reasons == problems
    assert check_ops(trained("mlp")) == []


def test_input_quantisation_in_c_matches_numpy() -> None:
    scale, zp = 0.0375, -7
    ties = (np.arange(-200, 200) + 0.5).astype(np.float32) * np.float32(scale)
    edge = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0, -0.0, 4.8, -4.8], np.float32)
    rng = np.random.default_rng(1)
    x = np.concatenate([ties, edge, rng.normal(0, 3, 2000).astype(np.float32)])
    main = f"""#include <stdio.h>
#include <stdint.h>
{_quantizer_only(scale, zp)}
int main(void)
{{
    float v;
    while (fread(&v, sizeof v, 1, stdin) == 1) {{
        const int8_t q = nn_quantize(v);
        fwrite(&q, 1, 1, stdout);
    }}
    return 0;
}}
"""
    raw = build_and_run(main, x.astype("<f4").tobytes(), [])
    assert np.array_equal(np.frombuffer(raw, np.int8), quantize_input(x[:, None], scale, zp)[:, 0])


def _quantizer_only(scale: float, zp: int) -> str:
    from mcuforge.codegen.nn._emit import TensorIO, _quantizer

    return _quantizer("nn", TensorIO("x", (1,), 1, scale, zp))


@pytest.mark.toolchain
@needs_toolchain
@pytest.mark.slow
@pytest.mark.parametrize(("flags", "dsp"), [(M4, True), (M0PLUS, False)])
def test_cross_compiles_warning_free_with_smlad_only_on_dsp_cores(flags: str, dsp: bool) -> None:
    net = emit_network(trained("cnn1d"), "nn")
    keep = (
        "int nn_keep(void);\n"
        "int nn_keep(void) { return nn_invoke()[0] + nn_quantize(0.0f) + *nn_input(); }\n"
    )
    obj = compile_object("#include <stdint.h>\n" + net.code + keep, flags)
    objdump = shutil.which("arm-none-eabi-objdump")
    assert objdump is not None
    path = f"/tmp/mcuforge-nn-test-{os.getpid()}.o"
    with open(path, "wb") as fh:
        fh.write(obj)
    try:
        text = subprocess.run([objdump, "-d", path], capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    assert bool(re.search(r"\bsmlad\b", text)) is dsp
    assert bool(re.search(r"\bsxtb16\b", text)) is dsp


@pytest.mark.toolchain
@needs_toolchain
@pytest.mark.slow
@pytest.mark.parametrize("name", ["ds_cnn", "kernels", "mlp", "one_channel"])
def test_cross_compiles_at_every_optimisation_level(name: str) -> None:
    """Users build with their own flags: the network compiles warning-free on a DSP core at
    -O0 to -O3 and -Os (the register-hungry assembly kernels only at -Os, the portable C
    otherwise)."""
    net = emit_network(trained(name), "nn")
    keep = (
        "int nn_keep(void);\n"
        "int nn_keep(void) { return nn_invoke()[0] + nn_quantize(0.0f) + *nn_input(); }\n"
    )
    for level in ("-O0", "-Og", "-O1", "-O2", "-O3", "-Os"):
        assert compile_object("#include <stdint.h>\n" + net.code + keep, M4, [level])


@pytest.mark.toolchain
@needs_toolchain
@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "flags", "machine"),
    [
        ("ds_cnn", M4, "mps2-an386"),
        ("mlp", M4, "mps2-an386"),
        ("cnn1d", M4, "mps2-an386"),
        ("kernels", M4, "mps2-an386"),
        ("autoencoder", M4, "mps2-an386"),
        ("cnn1d", M3, "mps2-an385"),
        ("kernels", M3, "mps2-an385"),
        ("mlp", M3, "mps2-an385"),
    ],
)
def test_qemu_runs_are_bit_exact(name: str, flags: str, machine: str) -> None:
    """Cortex-M4 runs the DSP kernels (SMLAD, SMLABB/SMLATT, SMMULR, SSUB8/SEL, the
    assembly loops), Cortex-M3 the portable ones; both equal LiteRT byte for byte."""
    tflite = trained(name)
    net = emit_network(tflite, "nn")
    q = windows_and_noise(name, net.input.scale, net.input.zero_point, 40)
    run = run_baremetal(net.code, "nn", q, net.output.size, len(parse(tflite).ops), flags, machine)
    assert np.array_equal(run.outputs, _reference(tflite, q, "litert"))
    assert run.ticks.min() > 0 and 0 < run.stack_bytes < 2048
    if name == "kernels":  # the pointwise kernel of four channels ran (see _kernels)
        assert "_pw4" in net.code
