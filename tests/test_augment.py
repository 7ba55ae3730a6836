"""Augmentation of training windows: deterministic, training folds only, reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mcuforge.data.augment import Augment, augment
from mcuforge.errors import CatalogError
from mcuforge.pipeline import prepare
from mcuforge.search import FeatureCache, cross_validate
from mcuforge.search._space import config_from_params, default_params
from mcuforge.testing import windows


def test_copies_are_deterministic_and_keep_labels() -> None:
    w = windows(12, 40, 3, 50.0)
    aug = Augment(copies=2, scale=0.2, shift=0.2, warp=0.3, mix=0.5, noise=0.1)
    a_x, a_y = augment(w.x, w.y, aug, seed=5)
    b_x, b_y = augment(w.x, w.y, aug, seed=5)
    assert a_x.shape == (24, 40, 3) and a_x.dtype == np.float32
    assert np.array_equal(a_x, b_x) and np.array_equal(a_y, b_y)
    assert np.array_equal(a_y, np.tile(w.y, 2))  # same-class mixing keeps the class
    assert not np.array_equal(augment(w.x, w.y, aug, seed=6)[0], a_x)
    assert not np.allclose(a_x[:12], w.x)  # altered copies, not the originals
    none_x, _ = augment(w.x, w.y, Augment(), seed=5)
    assert len(none_x) == 0


def test_regression_targets_blend_with_the_windows() -> None:
    w = windows(10, 20, 1, 10.0)
    y = np.linspace(0, 1, 10).astype(np.float32)
    _, ya = augment(w.x, y, Augment(copies=1, mix=1.0), seed=0)
    assert ya.dtype == np.float32 and ya.min() >= 0 and ya.max() <= 1
    assert not np.array_equal(ya, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"copy": 2}, "augment has no parameter 'copy'; did you mean 'copies'"),
        ({"copies": 1.5}, "augment.copies must be an integer, got 1.5"),
        ({"noise": -1}, r"augment.noise must be in \[0, 1\], got -1"),
    ],
)
def test_bad_parameters_are_clear_errors(params: dict[str, Any], match: str) -> None:
    with pytest.raises(CatalogError, match=match):
        Augment.from_params(params)


def test_only_training_folds_are_augmented(
    write_spec: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model is fitted on the fold's windows and their copies, and scored on the
    validation fold's own windows; the test split is never touched."""
    spec = write_spec()
    spec.write_text(
        spec.read_text()
        + "recipe: {name: imu-stats-tree, overrides: {fixed: {augment.copies: 2}}}\n"
    )
    p = prepare(spec)
    test_before = p.dataset.test.x.copy()
    recipe = p.plan.recipes[0]
    config = config_from_params(default_params(recipe, False), [recipe])
    from mcuforge.models import MODELS

    family = MODELS.get(recipe.pipeline.model)
    fitted: list[int] = []
    scored: list[int] = []
    real_fit = family.fit

    def spy_fit(self: Any, x: np.ndarray, y: np.ndarray, *a: Any, **k: Any) -> Any:
        fitted.append(len(x))
        model = real_fit(self, x, y, *a, **k)
        real_predict = model.predict

        def predict(f: np.ndarray) -> np.ndarray:
            scored.append(len(f))
            return real_predict(f)

        object.__setattr__(model, "predict", predict)
        return model

    monkeypatch.setattr(family, "fit", spy_fit)
    cross_validate(config, FeatureCache(p.dataset), p.plan)
    n = len(p.dataset.train.x)
    assert sum(scored) == n  # every training window validated once, as itself
    # each window trains k - 1 of the k folds, with its 2 copies
    assert sum(fitted) == 3 * (len(fitted) - 1) * n
    assert np.array_equal(p.dataset.test.x, test_before)


@pytest.mark.slow
def test_report_gives_the_cv_score_with_and_without(write_spec: Callable[..., Path]) -> None:
    from mcuforge.pipeline import generate

    spec = write_spec()
    spec.write_text(
        spec.read_text().replace(
            "search: {trials: 4, seed: 3, rescore_top: 0}", "search: {trials: 2, seed: 3}"
        )
        + "recipe: {name: imu-stats-tree, overrides: {fixed: {augment.copies: 1}}}\n"
    )
    res = generate(spec, measure_cost=False)
    report = json.loads((res.out_dir / "report.json").read_text())
    a = report["search"]["augment"]
    assert a["params"]["copies"] == 1
    assert 0 <= a["cv_with"] <= 1 and 0 <= a["cv_without"] <= 1
    assert "Training windows augmented (copies 1" in (res.out_dir / "report.md").read_text()


@pytest.mark.parametrize(
    "space", ["fixed: {augment.copies: 2}", "space: {augment.copies: {choice: [0, 2]}}"]
)
def test_an_anomaly_recipe_that_augments_is_refused(
    write_spec: Callable[..., Path], space: str
) -> None:
    """A detector holds normal windows out to set its alarm threshold: altered copies of
    those windows among the ones it learns from would make the threshold too low (the
    held-out windows look familiar). Refused where the spec names the recipe (the
    portfolio of `recipe: auto` leaves such a recipe out by the same check, saying why)."""
    spec = write_spec()
    anomaly = spec.read_text().replace(
        "task: {kind: classification, metric: accuracy}",
        "task: {kind: anomaly, normal: [standing, walking]}",
    )
    spec.write_text(anomaly + f"recipe: {{name: raw-knn-anomaly, overrides: {{{space}}}}}\n")
    with pytest.raises(CatalogError, match=r"spec.yaml:\d+:\d+: recipe: .*augment.copies"):
        prepare(spec)
    spec.write_text(
        anomaly + "recipe: {name: raw-knn-anomaly, overrides: {fixed: {augment.copies: 0}}}\n"
    )
    assert prepare(spec).plan.recipes[0].name == "raw-knn-anomaly"
