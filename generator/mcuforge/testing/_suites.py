"""Conformance suites: the contract of each extension point, as pytest test classes.

Like Optuna's ``optuna.testing`` sampler suites, a suite is a class of tests that takes
the registry name to check from a fixture. mcuforge runs every suite over every name in
its registries (``tests/test_conformance.py``); a plugin author runs the same suite over
their own names::

    import pytest
    from mcuforge.testing import ModelFamilySuite

    @pytest.fixture(params=["my_family"])
    def family_name(request):
        return request.param

    class TestMyFamily(ModelFamilySuite):
        pass

What is checked: registration and naming; shapes, dtypes and determinism of the Python
reference; the generated C compiled on the host with ``-Wall -Wextra -Werror
-pedantic`` against the reference on every row (bit for bit, or within the tolerance
the implementation states); the analytic cost; for profilers, that they say why they
cannot run rather than fail, and tag what they measure; for firmware templates, that a
project renders completely for a target they accept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..catalog import load_catalog
from ..cost import Cost, Figure
from ..emit import Provenance, emit_model
from ..errors import CatalogError, DataError
from ..features import FEATURES, CoreCosts, FeatureBlock, FeaturePipeline
from ..hardware import PROFILERS, Profiler, Workload
from ..hardware.host import run_host
from ..models import MODELS, DeployedModel, ModelFamily
from ..params import Params
from ..spec import Hardware
from . import _data
from ._features_c import run_features_c

M4F = CoreCosts(float_op=1, float_div=14)
M0P = CoreCosts(float_op=78, float_div=352)
PROV = Provenance("conformance", "0" * 64, "conformance@1", 0, "host")


def _agree(c: np.ndarray, ref: np.ndarray, tolerance: float, what: str) -> None:
    """Bit-exact when ``tolerance`` is 0, else within the relative tolerance."""
    assert c.shape == ref.shape, (what, c.shape, ref.shape)
    if tolerance == 0.0:
        same = np.array_equal(
            np.ascontiguousarray(c, np.float32).view(np.uint32),
            np.ascontiguousarray(ref, np.float32).view(np.uint32),
        )
        assert same, f"{what}: C differs from Python (bit-exact claimed)"
    else:
        rel = np.abs(c.astype(np.float64) - ref) / (1.0 + np.abs(ref.astype(np.float64)))
        assert rel.max() <= tolerance, f"{what}: max relative error {rel.max():.3g}"


def check_params_model(model: type[Any], parse: Any, owner: str) -> None:
    """A ``Params`` model: unknown keys refused, every field described in one line, its
    defaults valid; ``parse`` (the extension point's ``parse_params``) refuses an unknown
    key naming it."""
    assert isinstance(model, type) and issubclass(model, Params), f"{owner}: Params model"
    assert model.model_config.get("extra") == "forbid", f"{owner}: extra='forbid'"
    for key, field in model.model_fields.items():
        text = field.description or ""
        assert text.strip() and "\n" not in text, f"{owner}.{key}: a one-line description"
    model()  # every parameter has a default
    parse({})
    with pytest.raises(CatalogError) as err:
        parse({"no_such_parameter": 1})
    assert "'no_such_parameter'" in str(err.value) and owner in str(err.value)


class FeatureBlockSuite:
    """The contract of a feature block; needs a ``block_name`` fixture."""

    def _pipeline(
        self, cls: type[FeatureBlock], params: dict[str, Any], case: Any
    ) -> tuple[FeaturePipeline, np.ndarray, np.ndarray]:
        w = _data.windows(24, case.length, len(case.channels), case.rate_hz)
        blocks: list[FeatureBlock] = []
        if cls.input == "vector":  # vector blocks (projections) work on statistics
            blocks.append(FEATURES.get("stats")({}, case.length, list(case.channels), case.rate_hz))
        blocks.append(cls(params, case.length, list(case.channels), case.rate_hz))
        return FeaturePipeline(blocks).fit(w.x, w.y), w.x, w.y

    def _cases(self, block_name: str) -> list[tuple[FeaturePipeline, np.ndarray, np.ndarray]]:
        cls = FEATURES.get(block_name)
        return [self._pipeline(cls, dict(case.params), case) for case in cls.conformance_cases()]

    def test_declares_its_parameters(self, block_name: str) -> None:
        cls = FEATURES.get(block_name)
        check_params_model(cls.Params, cls.parse_params, block_name)
        case = cls.conformance_cases()[0]
        with pytest.raises(CatalogError, match="no_such_parameter"):
            cls({"no_such_parameter": 1}, case.length, list(case.channels), case.rate_hz)

    def test_default_parameters_make_a_working_block(self, block_name: str) -> None:
        cls = FEATURES.get(block_name)
        pipe, x, _ = self._pipeline(cls, {}, cls.conformance_cases()[0])
        f = pipe.transform(x)
        assert f.shape == (len(x), pipe.blocks[-1].n_outputs) and np.isfinite(f).all()

    def test_registered_under_its_name(self, block_name: str) -> None:
        cls = FEATURES.get(block_name)
        assert issubclass(cls, FeatureBlock)
        assert cls.name == block_name
        assert cls.input in ("window", "vector")
        assert cls.tolerance >= 0.0

    def test_reference_shapes_names_and_dtype(self, block_name: str) -> None:
        for pipe, x, _ in self._cases(block_name):
            block = pipe.blocks[-1]
            f = pipe.transform(x)
            assert f.dtype == np.float32 and f.shape == (len(x), block.n_outputs)
            assert len(block.feature_names) == block.n_outputs
            assert int(np.prod(block.output_shape)) == block.n_outputs
            assert np.isfinite(f).all()

    def test_reference_is_deterministic(self, block_name: str) -> None:
        first = [pipe.transform(x) for pipe, x, _ in self._cases(block_name)]
        again = [pipe.transform(x) for pipe, x, _ in self._cases(block_name)]
        for a, b in zip(first, again, strict=True):
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32))

    def test_c_equals_python(self, block_name: str) -> None:
        for pipe, x, _ in self._cases(block_name):
            _agree(run_features_c(pipe, x), pipe.transform(x), pipe.tolerance, block_name)

    def test_cost_is_sane(self, block_name: str) -> None:
        for pipe, _, _ in self._cases(block_name):
            block = pipe.blocks[-1]
            fast, slow = block.cost(M4F), block.cost(M0P)
            for c in (fast, slow):
                assert min(c.flash_bytes, c.sram_bytes, c.instructions) >= 0
                assert all(isinstance(v, int) for v in (c.flash_bytes, c.sram_bytes))
            assert slow.instructions >= fast.instructions  # soft float never costs less


_FITTED: dict[tuple[str, int], tuple[DeployedModel, FeaturePipeline, Any]] = {}


class ModelFamilySuite:
    """The contract of a model family; needs a ``family_name`` fixture."""

    def _setup(
        self, family_name: str
    ) -> tuple[ModelFamily, FeaturePipeline, np.ndarray, np.ndarray, int, dict[str, Any]]:
        cls = MODELS.get(family_name)
        case = cls.conformance_case()
        shape = case.input_shape
        length, channels = (shape[0], shape[1]) if len(shape) == 2 else (1, shape[0])
        w = _data.windows(case.rows, length, channels, 50.0, seed=_data.SEED + 1)
        if len(shape) == 1:  # a feature vector: class-separated means
            w = _data.features(case.rows, shape[0])
            length, channels = 1, shape[0]
        names = [f"f{i}" for i in range(channels)]
        pipe = FeaturePipeline([FEATURES.get("raw")({}, length, names, 50.0)])
        y = _data.targets_for(cls.task, w)
        n_classes = {"classification": 3, "anomaly": 2}.get(cls.task, 0)
        return cls(), pipe, w.x, y, n_classes, dict(case.params)

    def _fit(self, family_name: str, seed: int = 0) -> tuple[DeployedModel, FeaturePipeline, Any]:
        key = (family_name, seed)
        if key not in _FITTED:  # each family is trained once per seed for the whole suite
            family, pipe, x, y, n_classes, params = self._setup(family_name)
            f = pipe.transform(x)
            model = family.fit(f, y, n_classes, params, seed, input_shape=pipe.output_shape)
            _FITTED[key] = (model, pipe, x)
        return _FITTED[key]

    def _refit(self, family_name: str, seed: int) -> DeployedModel:
        family, pipe, x, y, n_classes, params = self._setup(family_name)
        return family.fit(
            pipe.transform(x), y, n_classes, params, seed, input_shape=pipe.output_shape
        )

    def test_declares_its_parameters(self, family_name: str) -> None:
        cls = MODELS.get(family_name)
        check_params_model(cls.Params, cls.parse_params, family_name)
        for key in ("compression", "runtime"):  # what the search passes every family
            assert key in cls.Params.model_fields, f"{family_name}: Params has no {key!r}"
        cls.parse_params({**cls.conformance_case().params, "compression": cls.compressions[0]})

    def test_registered_under_its_name(self, family_name: str) -> None:
        cls = MODELS.get(family_name)
        assert issubclass(cls, ModelFamily)
        assert cls.name == family_name
        assert cls.task in ("classification", "regression", "anomaly")
        assert cls.compressions and cls.training_cost in (0, 1, 2)

    def test_fit_gives_the_deployed_form(self, family_name: str) -> None:
        model, pipe, x = self._fit(family_name)
        f = pipe.transform(x)
        assert model.task == MODELS.get(family_name).task
        pred, out = model.predict(f), model.outputs(f)
        assert pred.shape == (len(x),)
        assert out.shape == (len(x), model.n_outputs) and out.dtype == np.float32
        assert np.isfinite(out).all()
        json.dumps(model.describe())  # report-ready

    def test_fit_is_deterministic_per_seed(self, family_name: str) -> None:
        a, pipe, x = self._fit(family_name, seed=3)
        b = self._refit(family_name, seed=3)
        f = pipe.transform(x)
        assert np.array_equal(a.outputs(f).view(np.uint32), b.outputs(f).view(np.uint32))

    def test_c_equals_python(self, family_name: str) -> None:
        model, pipe, x = self._fit(family_name)
        length, channels = x.shape[1], [f"f{i}" for i in range(x.shape[2])]
        classes = {"classification": ["a", "b", "c"], "anomaly": ["normal", "anomaly"]}
        sources = emit_model(
            "cf", pipe, model, classes.get(model.task, []), channels, length, 50.0, PROV
        )
        host = run_host(sources, "cf", x, pipe.n_outputs, model.n_outputs)
        f = pipe.transform(x)
        _agree(host.outputs, model.outputs(f), model.tolerance, family_name)
        if model.task != "regression":
            assert np.array_equal(host.predictions, model.predict(f).astype(np.int32))

    def test_cost_is_sane(self, family_name: str) -> None:
        model, _, _ = self._fit(family_name)
        for core in (M4F, M0P):
            c = model.cost(core)
            assert min(c.flash_bytes, c.sram_bytes, c.instructions, c.parameters) >= 0

    def test_one_class_is_a_data_error(self, family_name: str) -> None:
        family, pipe, x, y, n_classes, params = self._setup(family_name)
        if family.task != "classification":
            pytest.skip("only classifiers need two classes")
        with pytest.raises(DataError):
            family.fit(
                pipe.transform(x),
                np.zeros_like(y),
                n_classes,
                params,
                0,
                input_shape=pipe.output_shape,
            )


def _analytic() -> Cost:
    return Cost(
        Figure(500.0, "analytic"),
        Figure(100.0, "analytic"),
        Figure(0.02, "analytic"),
        Figure(1000.0, "analytic"),
    )


class ProfilerSuite:
    """The contract of a profiler; needs a ``profiler_name`` fixture and, for profilers
    that need settings, a ``hardware`` fixture (default: a device on ``loop://``)."""

    @pytest.fixture
    def hardware(self) -> Hardware:
        return Hardware(port="loop://", flash_command="true {elf}")

    def _work(self, target: str, tmp: Path) -> Workload:
        """A small decision tree on statistics, its C and test vectors, for ``target``."""
        from ..emit import emit_test_vectors

        cat = load_catalog()
        t = cat.target(target)
        w = _data.windows(12, 32, 2, 50.0)
        pipe = FeaturePipeline([FEATURES.get("stats")({}, 32, ["a", "b"], 50.0)]).fit(w.x, w.y)
        model = MODELS.get("decision_tree")().fit(pipe.transform(w.x), w.y, 3, {}, 0)
        sources = emit_model("cf", pipe, model, ["p", "q", "r"], ["a", "b"], 32, 50.0, PROV)
        vectors = emit_test_vectors("cf", w.x[:4], model.predict(pipe.transform(w.x[:4])), PROV)
        return Workload("cf", sources, vectors, t, cat.core(t.core), tmp)

    def test_registered_under_its_name(self, profiler_name: str, hardware: Hardware) -> None:
        cls = PROFILERS.get(profiler_name)
        assert issubclass(cls, Profiler) and cls.name == profiler_name
        assert cls.source in ("analytic", "compiled", "emulated", "linked", "device")
        assert set(cls.measures) <= {"flash_bytes", "sram_bytes", "instructions", "latency_ms"}
        assert isinstance(cls.configure(hardware), cls)

    def test_says_why_it_cannot_run(
        self, profiler_name: str, hardware: Hardware, tmp_path: Path
    ) -> None:
        prof = PROFILERS.get(profiler_name).configure(hardware)
        for target in ("nrf52840", "atmega328p"):  # an Arm part, and one no GCC here builds
            why = prof.unavailable(self._work(target, tmp_path))
            assert why is None or (isinstance(why, str) and why.strip() and "\n" not in why)

    def test_tags_what_it_measures(
        self, profiler_name: str, hardware: Hardware, tmp_path: Path
    ) -> None:
        prof = PROFILERS.get(profiler_name).configure(hardware)
        work = self._work("nrf52840", tmp_path)
        if prof.unavailable(work) is not None:
            pytest.skip("cannot run on this workload here")
        base = _analytic()
        got = prof.profile(work, base).cost
        for name in ("flash_bytes", "sram_bytes", "instructions", "latency_ms"):
            fig = getattr(got, name)
            assert fig == getattr(base, name) or (
                name in prof.measures and fig.source == prof.source
            ), name


class TemplateSuite:
    """The contract of a firmware template; needs a ``template_name`` fixture."""

    def test_describes_its_assembly(self, template_name: str) -> None:
        from ..scaffold import template_info

        info = template_info(template_name)
        assert info.name == template_name
        assert (info.path / "cookiecutter.json").is_file()
        assert all(isinstance(v, str) and v for v in info.requires.values())

    def test_renders_completely_for_every_target_it_accepts(
        self, template_name: str, tmp_path: Path
    ) -> None:
        from ..scaffold import context, render, supported_templates, template_info

        cat = load_catalog()
        requires = template_info(template_name).requires
        accepted = 0
        for name in sorted(cat.targets):
            target = cat.targets[name]
            core = cat.core(target.core)
            qemu = cat.qemu_machines.get(core.qemu_machine) if core.qemu_machine else None
            variables = context("cf", target, core, qemu, "0" * 64, "conformance@1", 0)
            if template_name not in supported_templates(variables):
                continue
            accepted += 1
            project = render(
                template_name, variables, {"cf_model.h": "/* model */\n"}, tmp_path / name
            )
            texts = [p.read_text() for p in project.rglob("*") if p.is_file()]
            assert texts, name
            assert not [t for t in texts if "{{ cookiecutter" in t or "{% " in t], name
            assert any(p.name == "cf_model.h" for p in project.rglob("*")), name
            for key in requires:  # the board it needs lands in the project
                if key.startswith("board_"):
                    assert any(variables[key] in t for t in texts), (name, key)
        if not accepted:
            pytest.skip(f"no catalog target supports {template_name}")

    def test_refuses_a_target_it_cannot_build_naming_those_that_can(
        self, template_name: str
    ) -> None:
        from ..errors import OutputError
        from ..scaffold import check_template, context, supported_templates

        cat = load_catalog()
        for name in sorted(cat.targets):
            target = cat.targets[name]
            core = cat.core(target.core)
            variables = context("cf", target, core, None, "0" * 64, "conformance@1", 0)
            able = supported_templates(variables)
            if template_name in able:
                check_template(template_name, target, core)
                continue
            with pytest.raises(OutputError, match="Templates that support") as err:
                check_template(template_name, target, core)
            assert all(other in str(err.value) for other in able), name


__all__ = ["FeatureBlockSuite", "ModelFamilySuite", "ProfilerSuite", "TemplateSuite"]
