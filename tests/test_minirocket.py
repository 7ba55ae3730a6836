"""MiniRocket block and the shape-based recipes: C == Python, sktime agreement, costs.

The block's C is compiled on the host and run on a handful of BasicMotions windows
(one channel and all six), for several parameter sets and both numeric variants; the
features must be the Python reference's float32 bits. sktime's own MiniRocket (if
installed: the ``bench`` extra) is fitted on the same windows and its parameters fed
into the block, whose transform must then agree with sktime's (see the tolerance).
The new recipes load, are chosen for time-series data, and their default configuration
trains, emits C that equals Python, and is costed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from mcuforge.catalog import load_catalog
from mcuforge.cli import cli
from mcuforge.data import Dataset, load_dataset
from mcuforge.emit import Provenance, emit_model
from mcuforge.errors import McuforgeError
from mcuforge.features import FEATURES, CoreCosts, FeatureBlock, FeaturePipeline
from mcuforge.features.minirocket import N_KERNELS, Kernels, dilations_for
from mcuforge.hardware.analytic import analytic_cost
from mcuforge.hardware.host import run_host
from mcuforge.models import MODELS
from mcuforge.resolver import resolve
from mcuforge.spec import load_spec
from mcuforge.testing._features_c import run_features_c

from .conftest import EXAMPLE

M4F = CoreCosts(float_op=1, float_div=14)
M0P = CoreCosts(float_op=78, float_div=352)
NEW_RECIPES = ("minirocket-ridge", "raw-linear", "raw-forest", "raw-gbt", "raw-knn")


@pytest.fixture(scope="module")
def ds() -> Dataset:
    loaded = load_spec(EXAMPLE / "spec.yaml")
    return load_dataset(loaded.spec.data, loaded.base_dir)


def _block(params: dict[str, Any], length: int, channels: list[str]) -> FeatureBlock:
    return FEATURES.get("minirocket")(params, length, channels, 10.0)


def _assert_bit_exact(c: np.ndarray, ref: np.ndarray) -> None:
    assert c.shape == ref.shape
    assert np.array_equal(c.view(np.uint32), ref.view(np.uint32))


CASES: list[tuple[str, int, dict[str, Any]]] = [
    ("1ch-defaults", 1, {}),
    ("1ch-840-two-dilations", 1, {"features": 840, "max_dilations": 2}),
    ("1ch-q15", 1, {"numeric": "q15", "features": 168}),
    ("6ch-defaults", 6, {}),
    ("6ch-q15-seed", 6, {"numeric": "q15", "features": 252, "seed": 5}),
    ("3ch-one-dilation", 3, {"features": 420, "max_dilations": 1}),
]


@pytest.mark.parametrize(("label", "n_ch", "params"), CASES, ids=[c[0] for c in CASES])
def test_c_is_bit_exact(ds: Dataset, label: str, n_ch: int, params: dict[str, Any]) -> None:
    x_fit = np.ascontiguousarray(ds.train.x[::5, :, :n_ch])
    windows = np.ascontiguousarray(np.concatenate([ds.train.x[:4], ds.test.x[:6]])[:, :, :n_ch])
    block = _block(params, ds.window, ds.channels[:n_ch])
    pipe = FeaturePipeline([block]).fit(x_fit, ds.train.y[::5])
    ref = pipe.transform(windows)
    assert ref.shape == (len(windows), block.n_outputs) and 0 < ref.mean() < 1
    _assert_bit_exact(run_features_c(pipe, windows), ref)


def test_edges_shortest_window_constant_channel_and_clamping() -> None:
    """9 samples (one dilation); a silent channel; q15 inputs far outside the training range."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(10, 9, 2)).astype(np.float32)
    x[:, :, 1] = 0.0
    for numeric in ("float32", "q15"):
        block = _block({"numeric": numeric}, 9, ["a", "b"])
        assert block.dilations == [1]  # type: ignore[attr-defined]
        pipe = FeaturePipeline([block]).fit(x[:6], np.zeros(6))
        wild = x.copy()
        wild[-3:] *= 1e6  # clamped to ±32767 in q15
        _assert_bit_exact(run_features_c(pipe, wild), pipe.transform(wild))


def test_fit_is_deterministic_per_seed(ds: Dataset) -> None:
    x = ds.train.x[:8]
    a, b, c = (_block({"seed": s}, ds.window, ds.channels) for s in (3, 3, 4))
    for blk in (a, b, c):
        blk.fit(x, ds.train.y[:8])
    a.fit(x, ds.train.y[:8])  # refitting draws the same windows again
    assert a.emit_c("f").code == b.emit_c("f").code != c.emit_c("f").code


def test_agrees_with_sktime_minirocket(ds: Dataset) -> None:
    """sktime's fitted dilations, biases (and channel subsets) in our block give its features.

    Tolerance: sktime sums a kernel as ``((-S + 3x_a) + 3x_b) + 3x_c`` (numba,
    fastmath), we as ``((3x_a + 3x_b) + 3x_c) - S``; the two roundings differ in the
    last bits, so a position whose convolution is within that rounding of a bias can
    fall on the other side. That moves a feature by 1/positions; it happens for at most
    a few features in ten thousand, never by more than two positions.
    """
    pytest.importorskip("sktime", reason="sktime (bench extra) not installed")
    from sktime.transformations.rocket import MiniRocket, MiniRocketMultivariate

    x = np.concatenate([ds.train.x, ds.test.x])
    for n_ch, features, max_dil in ((1, 420, 32), (1, 840, 2), (6, 336, 32)):
        sk_x = np.ascontiguousarray(np.transpose(x[:, :, :n_ch], (0, 2, 1)))
        kind = MiniRocket if n_ch == 1 else MiniRocketMultivariate
        sk = kind(num_kernels=features, max_dilations_per_kernel=max_dil, random_state=0)
        sk.fit(sk_x[: len(ds.train.x)])
        block = _block(
            {"features": features, "max_dilations": max_dil}, ds.window, ds.channels[:n_ch]
        )
        if n_ch == 1:
            dil, per, bias = sk.parameters
            subsets = [[0]] * (N_KERNELS * len(dil))
        else:
            sizes, index, dil, per, bias = sk.parameters
            ends = np.cumsum(sizes)
            subsets = [index[e - m : e].tolist() for m, e in zip(sizes, ends, strict=True)]
        # our fit chooses the same dilations and features per dilation as sktime's
        assert (list(dil), list(per)) == dilations_for(ds.window, features, max_dil)
        block.use(Kernels(dil.tolist(), per.tolist(), subsets, np.asarray(bias, np.float32)))  # type: ignore[attr-defined]
        ours = block.transform(x[:, :, :n_ch])
        theirs = np.asarray(sk.transform(sk_x), dtype=np.float32)
        positions = ds.window - 8 * max(dil)  # the fewest positions a feature counts
        diff = np.abs(ours - theirs)
        assert diff.max() <= 2.0 / positions + 1e-6, n_ch
        assert (diff > 0).mean() <= 1e-3, n_ch


@pytest.mark.parametrize(
    ("params", "length", "message"),
    [
        ({"kernels": 84}, 100, r"minirocket has no parameter 'kernels'"),
        ({"features": 40}, 100, r"minirocket.features must be in \[84, 20000\]"),
        ({"numeric": "q7"}, 100, r"minirocket.numeric must be one of float32, q15"),
        ({"max_dilations": 0}, 100, r"minirocket.max_dilations must be in \[1, 64\]"),
        ({}, 8, r"windows of at least 9 samples"),
    ],
)
def test_bad_parameters_are_clear_errors(params: dict[str, Any], length: int, message: str) -> None:
    with pytest.raises(McuforgeError, match=message):
        _block(params, length, ["a"])


def test_features_round_down_to_84_and_cost_follows_the_core() -> None:
    small = _block({"features": 200}, 150, ["a"])
    assert small.n_outputs == 168 and len(small.feature_names) == 168
    big = _block({"features": 840, "max_dilations": 2}, 150, ["a"])
    q15 = _block({"numeric": "q15"}, 150, ["a"])
    f32 = _block({}, 150, ["a"])
    assert f32.cost(M4F).instructions < f32.cost(M0P).instructions
    # integer convolutions: what the q15 variant is for on a core without an FPU
    assert q15.cost(M0P).instructions < f32.cost(M0P).instructions / 4
    assert big.cost(M4F).flash_bytes > f32.cost(M4F).flash_bytes > 4 * f32.n_outputs
    assert q15.cost(M4F).sram_bytes > f32.cost(M4F).sram_bytes  # the quantised window


# -- recipes ---------------------------------------------------------------------------


def _ts_spec(tmp_path: Path, target: str = "nrf52840", budgets: str = "64, flash_kb: 256") -> Path:
    spec = tmp_path / "ts.yaml"
    spec.write_text(
        "version: 1\nname: ts\ndata:\n  format: csv\n"
        f"  path: {EXAMPLE / 'data'}\n"
        "  sensors: [{name: s, channels: [ax, ay, az, gx, gy, gz], rate_hz: 10}]\n"
        "  window: {length_s: 10}\n"
        '  split: {test_files: ["*/test_*.csv"]}\n'
        f"target: {target}\nbudgets: {{sram_kb: {budgets}}}\n"
    )
    return spec


def test_new_recipes_are_chosen_for_time_series(tmp_path: Path) -> None:
    spec = _ts_spec(tmp_path)
    plan = resolve(load_spec(spec), load_catalog())
    chosen = {r.name for r in plan.recipes}
    assert set(NEW_RECIPES) <= chosen, chosen
    res = CliRunner().invoke(cli, ["explain", str(spec)])
    out = res.output
    assert res.exit_code == 0, out
    for name in NEW_RECIPES:
        assert re.search(rf"chosen\s+{name}@1\s+handles classification on timeseries", out)


def _default(recipe_name: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Block and model parameters of a recipe's default (first/smallest) configuration."""
    recipe = load_catalog().recipe(recipe_name)
    blocks: dict[str, dict[str, Any]] = {}
    model: dict[str, Any] = {}
    values = {**recipe.search.fixed, **{k: p.smallest() for k, p in recipe.search.space.items()}}
    for key, value in values.items():
        block, dot, param = key.partition(".")
        if dot:
            blocks.setdefault(block, {})[param] = value
        else:
            model[key] = value
    return blocks, model


@pytest.mark.parametrize("name", NEW_RECIPES)
def test_default_configuration_learns_and_its_c_equals_python(ds: Dataset, name: str) -> None:
    recipe = load_catalog().recipe(name)
    blocks, params = _default(name)
    pipe = FeaturePipeline(
        [
            FEATURES.get(b)(blocks.get(b, {}), ds.window, ds.channels, ds.rate_hz)
            for b in recipe.pipeline.features
        ]
    ).fit(ds.train.x, ds.train.y)
    family = MODELS.get(recipe.pipeline.model)()
    model = family.fit(
        pipe.transform(ds.train.x),
        ds.train.y,
        len(ds.classes),
        params,
        0,
        input_shape=pipe.output_shape,
    )
    f_test = pipe.transform(ds.test.x)
    acc = float((model.predict(f_test) == ds.test.y).mean())
    assert acc >= 0.5, f"{name}: test accuracy {acc:.2f}"
    prov = Provenance("test", "0" * 64, f"{name}@1", 0, "host")
    sources = emit_model("m", pipe, model, ds.classes, ds.channels, ds.window, ds.rate_hz, prov)
    x = ds.test.x[:8]
    host = run_host(sources, "m", x, pipe.n_outputs, model.n_outputs)
    ref = model.outputs(pipe.transform(x))
    assert host.outputs.view(np.uint32).tolist() == ref.view(np.uint32).tolist()
    assert host.predictions.tolist() == model.predict(pipe.transform(x)).tolist()
    cat = load_catalog()
    target = cat.target("nrf52840")
    cost = analytic_cost(pipe, model, target, cat.core(target.core))
    # the model's input vector (the raw window, or the PPV features) is held in SRAM
    assert cost.sram_bytes.value >= 4 * pipe.n_outputs
    assert cost.flash_bytes.value > 0 and cost.latency_ms.value > 0
