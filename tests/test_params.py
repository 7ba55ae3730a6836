"""Typed parameters: every family, block and the augmentation declares its parameters, a
recipe may only name those, and a bad key or value is one clear, located error."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mcuforge.catalog import load_catalog
from mcuforge.cli import cli
from mcuforge.data.augment import Augment
from mcuforge.errors import CatalogError
from mcuforge.features import FEATURES
from mcuforge.models import MODELS, ParamError
from mcuforge.recipe_check import catalog_problems, check_catalog
from mcuforge.testing import windows

FOREST = """\
name: my-forest
version: 1
description: A forest with two misspelt parameters.
applies: {task: [classification], modality: [imu, timeseries]}
pipeline: {features: [stats], model: random_forest}
search:
  fixed: {n_estimator: 3, max_dept: 2}
"""


def test_every_builtin_recipe_names_only_declared_parameters() -> None:
    catalog = load_catalog()
    assert sum(len(v) for v in catalog.recipes.values()) >= 15
    assert catalog_problems(catalog) == []
    check_catalog(catalog)


def test_a_family_refuses_a_misspelt_parameter_instead_of_using_its_default() -> None:
    w = windows(40, 1, 4, 10.0)
    x, y = w.x.reshape(len(w.x), -1), w.y
    forest = MODELS.get("random_forest")()
    with pytest.raises(ParamError) as err:
        forest.fit(x, y, 3, {"n_estimator": 3, "max_dept": 2}, 0)
    assert str(err.value) == (
        "random_forest has no parameter 'n_estimator'; did you mean 'n_estimators'?; "
        "random_forest has no parameter 'max_dept'; did you mean 'max_depth'?"
    )
    model = forest.fit(x, y, 3, {"n_estimators": 3, "max_depth": 2}, 0)
    assert model.describe()["trees"] == 3


def test_catalog_validate_locates_each_misspelt_recipe_parameter(tmp_path: Path) -> None:
    (tmp_path / "my-forest.yaml").write_text(FOREST)
    res = CliRunner().invoke(cli, ["catalog", "validate", str(tmp_path)])
    assert res.exit_code == 2
    lines = [ln.removeprefix("error: ") for ln in res.output.strip().splitlines()]
    src = tmp_path / "my-forest.yaml"
    assert lines == [
        f"{src}:7:11: search.fixed.n_estimator: random_forest has no parameter 'n_estimator'; "
        "did you mean 'n_estimators'?",
        f"{src}:7:27: search.fixed.max_dept: random_forest has no parameter 'max_dept'; "
        "did you mean 'max_depth'?",
    ]


def test_a_user_recipe_with_a_bad_parameter_stops_the_resolver(tmp_path: Path) -> None:
    from mcuforge.resolver import resolve
    from mcuforge.spec import load_spec

    from .conftest import EXAMPLE

    (tmp_path / "my-forest.yaml").write_text(FOREST.replace("max_dept", "max_depth"))
    with pytest.raises(CatalogError) as err:
        resolve(load_spec(EXAMPLE / "spec.yaml"), load_catalog([tmp_path]))
    assert [p.field for p in err.value.problems] == ["search.fixed.n_estimator"]
    assert err.value.problems[0].line == 7


@pytest.mark.parametrize(
    ("owner", "params", "message"),
    [
        ("random_forest", {"max_features": 0}, "random_forest.max_features must be one of "
         "sqrt, log2 or an integer >= 1 or a number in (0, 1] or null, got 0"),
        ("random_forest", {"n_estimators": 2.0}, "random_forest.n_estimators must be an "
         "integer, got 2.0"),
        ("random_forest", {"compression": "int8"}, "random_forest.compression must be one of "
         "none, tree_int16, got 'int8'"),
        ("mlp", {"learning_rate": 0}, "mlp.learning_rate must be in (0, 1], got 0"),
        ("knn", {"scaling": True}, "knn.scaling must be one of standardize, none, got True"),
        ("spectral", {"filter": {"kind": "lowpass", "cutof_hz": 1}}, "spectral.filter.cutoff_hz "
         "is required; spectral.filter has no key 'cutof_hz'; did you mean 'cutoff_hz'?"),
        ("spectral", {"filter": {"kind": "bandpass", "cutoff_hz": 2}}, "spectral.filter."
         "cutoff_hz for bandpass must be [low_hz, high_hz]; got 2.0"),
        ("spectral", {"fft_size": 48}, "spectral.fft_size must be a power of two >= 8 (8, 16, "
         "32, 64, ...), got 48"),
        ("raw", {"normalize": 1}, "raw.normalize must be true or false, got 1"),
        ("standardize", {"scale": 1}, "standardize has no parameter 'scale'; it has no "
         "parameters"),
        ("augment", {"copies": 17}, "augment.copies must be in [0, 16], got 17"),
    ],
)  # fmt: skip
def test_bad_values_name_the_parameter_and_the_fix(
    owner: str, params: dict[str, Any], message: str
) -> None:
    if owner in MODELS:
        parse: Any = MODELS.get(owner).parse_params
    elif owner in FEATURES:
        parse = FEATURES.get(owner).parse_params
    else:
        parse = Augment.from_params
    with pytest.raises(CatalogError) as err:
        parse(params)
    assert str(err.value) == message


def test_defaults_live_in_the_params_model() -> None:
    """What the fit code uses when a key is absent is the declared default."""
    params = MODELS.get("random_forest").parse_params({})
    assert params.model_dump() == {
        "compression": "none",
        "runtime": "c",
        "thresholds": "float",
        "layout": "inline",
        "max_depth": 6,
        "min_samples_leaf": 1,
        "n_estimators": 10,
        "max_features": "sqrt",
        "voting": "soft",
    }
    block = FEATURES.get("stats")({}, 32, ["a"], 10.0)
    assert block.stats == ["mean", "std", "min", "max", "rms"] and block.numeric == "float32"
    spectral = FEATURES.get("spectral")({"features": ["centroid", "bands"]}, 32, ["a"], 10.0)
    assert spectral.outputs == ["bands", "centroid"]  # canonical order


def test_a_spec_override_with_a_bad_key_is_located_in_the_spec(tmp_path: Path) -> None:
    from mcuforge.resolver import resolve
    from mcuforge.spec import load_spec

    from .conftest import EXAMPLE

    text = (EXAMPLE / "spec.yaml").read_text()
    spec = tmp_path / "spec.yaml"
    overrides = textwrap.dedent("""\
        recipe:
          name: imu-stats-tree
          overrides:
            space: {max_depth: {int: [2, 4]}, stats.numerc: {choice: [int16]}}
            fixed: {augment.copies: -1}
        """)
    lines = [ln for ln in text.splitlines(keepends=True) if not ln.startswith("recipe:")]
    spec.write_text("".join(lines).replace("path: data", f"path: {EXAMPLE / 'data'}") + overrides)
    loaded = load_spec(spec)
    with pytest.raises(CatalogError) as err:
        resolve(loaded, load_catalog())
    got = [(p.field, p.message) for p in err.value.problems]
    assert got == [
        (
            "recipe.overrides.space.stats.numerc",
            "stats has no parameter 'numerc'; did you mean 'numeric'?",
        ),
        ("recipe.overrides.fixed.augment.copies", "augment.copies must be in [0, 16], got -1"),
    ]
    assert all(p.file == str(spec) and p.line is not None for p in err.value.problems)
