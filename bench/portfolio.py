"""The shape-based recipes at their default configuration vs plain baselines (issue 14).

For each data set (sktime ships them offline; the archive's own train/test split) every
recipe in ``RECIPES`` is trained at its default configuration — the first value of each
``choice`` and the low end of each range in its search space, what the search tries
first — through mcuforge's own classes: the feature blocks' ``fit``/``transform``, the
model family's ``fit``, the deployed model's ``predict`` (the float32 form the C runs).
Beside them, on the same split, the plain baselines an engineer would try first, each
printed with its exact configuration: a random forest and 1-NN (Euclidean) on the raw
window (flattened), and sktime's MiniRocket with a ridge classifier. No search, no
budget: this measures what each recipe brings to the portfolio, and the cost table
gives the analytic flash, SRAM and latency of each default on a Cortex-M4F and a
Cortex-M0+ part.

    .venv/bin/python bench/portfolio.py [--datasets GunPoint ItalyPowerDemand ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mcuforge.catalog import Catalog, Recipe, load_catalog
from mcuforge.features import FEATURES, FeaturePipeline
from mcuforge.hardware.analytic import analytic_cost
from mcuforge.models import MODELS, DeployedModel

LOADERS = {
    "GunPoint": "load_gunpoint",
    "ItalyPowerDemand": "load_italy_power_demand",
    "BasicMotions": "load_basic_motions",
    "ArrowHead": "load_arrow_head",
}
RECIPES = ("minirocket-ridge", "raw-linear", "raw-forest", "raw-gbt", "raw-knn")
TARGETS = ("nrf52840", "atsamd21g18")  # Cortex-M4F 64 MHz, Cortex-M0+ 48 MHz
SEED = 0


@dataclass(frozen=True)
class Split:
    """Windows (n, length, channels) float32 and class indices of an archive split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]

    @property
    def flat_train(self) -> np.ndarray:
        return self.x_train.reshape(len(self.x_train), -1)

    @property
    def flat_test(self) -> np.ndarray:
        return self.x_test.reshape(len(self.x_test), -1)


def load(name: str) -> Split:
    import sktime.datasets

    loader: Callable[..., Any] = getattr(sktime.datasets, LOADERS[name])
    parts = {}
    for split in ("train", "test"):
        x, y = loader(split=split, return_X_y=True, return_type="numpy3D")
        parts[split] = (np.transpose(x, (0, 2, 1)).astype(np.float32), np.asarray(y).astype(str))
    classes = sorted(set(parts["train"][1]))
    index = {c: i for i, c in enumerate(classes)}
    (xtr, ytr), (xte, yte) = parts["train"], parts["test"]
    return Split(
        xtr,
        np.array([index[c] for c in ytr]),
        xte,
        np.array([index[c] for c in yte]),
        classes,
    )


def default_config(recipe: Recipe) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Block and model parameters of the recipe's default configuration."""
    space = recipe.search.space
    values = {**recipe.search.fixed, **{k: p.default_value() for k, p in space.items()}}
    blocks: dict[str, dict[str, Any]] = {}
    model: dict[str, Any] = {}
    for key, value in values.items():
        block, dot, param = key.partition(".")
        if dot:
            blocks.setdefault(block, {})[param] = value
        else:
            model[key] = value
    return blocks, model


def describe(recipe: Recipe) -> str:
    blocks, model = default_config(recipe)
    feats = " + ".join(
        f"{b}({', '.join(f'{k}={v}' for k, v in blocks.get(b, {}).items()) or 'defaults'})"
        for b in recipe.pipeline.features
    )
    params = ", ".join(f"{k}={v}" for k, v in model.items())
    return f"{feats} -> {recipe.pipeline.model}({params})"


@dataclass(frozen=True)
class Trained:
    accuracy: float
    seconds: float
    pipe: FeaturePipeline
    model: DeployedModel


def train_recipe(recipe: Recipe, data: Split) -> Trained:
    start = time.perf_counter()
    blocks, params = default_config(recipe)
    length, n_ch = data.x_train.shape[1:]
    channels = [f"c{i}" for i in range(n_ch)]
    pipe = FeaturePipeline(
        [
            FEATURES.get(b)(blocks.get(b, {}), length, channels, 1.0)
            for b in recipe.pipeline.features
        ]
    ).fit(data.x_train, data.y_train)
    model = MODELS.get(recipe.pipeline.model)().fit(
        pipe.transform(data.x_train),
        data.y_train,
        len(data.classes),
        params,
        SEED,
        input_shape=pipe.output_shape,
    )
    acc = float((model.predict(pipe.transform(data.x_test)) == data.y_test).mean())
    return Trained(acc, time.perf_counter() - start, pipe, model)


def _timed(fit_score: Callable[[], float]) -> tuple[float, float]:
    start = time.perf_counter()
    acc = fit_score()
    return acc, time.perf_counter() - start


def peers(data: Split) -> dict[str, tuple[float, float]]:
    """Accuracy and seconds of each baseline (labels give the exact configuration)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sktime.transformations.rocket import MiniRocket, MiniRocketMultivariate

    def forest() -> float:
        rf = RandomForestClassifier(n_estimators=100, random_state=SEED)
        return float(rf.fit(data.flat_train, data.y_train).score(data.flat_test, data.y_test))

    def one_nn() -> float:
        nn = KNeighborsClassifier(n_neighbors=1)  # Euclidean
        return float(nn.fit(data.flat_train, data.y_train).score(data.flat_test, data.y_test))

    def minirocket() -> float:
        kind = MiniRocket if data.x_train.shape[2] == 1 else MiniRocketMultivariate
        tr = kind(num_kernels=10_000, random_state=SEED)
        xtr = np.transpose(data.x_train, (0, 2, 1))
        ftr = np.asarray(tr.fit_transform(xtr))
        fte = np.asarray(tr.transform(np.transpose(data.x_test, (0, 2, 1))))
        head = make_pipeline(
            StandardScaler(with_mean=False), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
        )
        return float(head.fit(ftr, data.y_train).score(fte, data.y_test))

    return {
        "RF raw": _timed(forest),
        "1-NN Euclidean": _timed(one_nn),
        "sktime MiniRocket + ridge": _timed(minirocket),
    }


PEER_CONFIGS = {
    "RF raw": "sklearn RandomForestClassifier(n_estimators=100, random_state=0) on the "
    "flattened window",
    "1-NN Euclidean": "sklearn KNeighborsClassifier(n_neighbors=1) on the flattened window",
    "sktime MiniRocket + ridge": "sktime MiniRocket (MiniRocketMultivariate for several "
    "channels)(num_kernels=10000, random_state=0) -> StandardScaler(with_mean=False) -> "
    "RidgeClassifierCV(alphas=logspace(-3, 3, 10))",
}


def _cost_cell(cat: Catalog, trained: Trained, target_name: str) -> str:
    target = cat.target(target_name)
    cost = analytic_cost(trained.pipe, trained.model, target, cat.core(target.core))
    return (
        f"{cost.flash_bytes.value / 1024:.1f} / {cost.sram_bytes.value / 1024:.1f} / "
        f"{cost.latency_ms.value:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    cat = load_catalog()
    recipes = [cat.recipe(r) for r in RECIPES]
    acc_rows, cost_rows = [], []
    for name in args.datasets:
        data = load(name)
        length, n_ch = data.x_train.shape[1:]
        shape = f"{len(data.x_train)}/{len(data.x_test)} x {length} x {n_ch}"
        trained = {r.name: train_recipe(r, data) for r in recipes}
        base = peers(data)
        cells = [f"{t.accuracy:.3f}" for t in trained.values()]
        cells += [f"{acc:.3f}" for acc, _ in base.values()]
        acc_rows.append(f"| {name} | {shape} | " + " | ".join(cells) + " |")
        for r in recipes:
            t = trained[r.name]
            costs = " | ".join(_cost_cell(cat, t, tg) for tg in TARGETS)
            cost_rows.append(
                f"| {name} | {r.name} | {t.pipe.n_outputs} | {costs} | {t.seconds:.1f} |"
            )
        print(f"{name}: done", flush=True, file=sys.stderr)
    heads = [*RECIPES, *PEER_CONFIGS]
    lines = [
        "Test accuracy on the archive split; recipes at their default configuration "
        "(trained with mcuforge's classes, scored on the deployed float32 model), seed 0.",
        "",
        "| data set | train/test x length x channels | " + " | ".join(heads) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in heads) + " |",
        *acc_rows,
        "",
        "Configurations:",
        "",
        *(f"- `{r.name}` default: `{describe(r)}`" for r in recipes),
        *(f"- {k}: `{v}`" for k, v in PEER_CONFIGS.items()),
        "",
        "Analytic cost of each default (flash kB / SRAM kB / latency ms; features + model, "
        "the model's input vector included) on nrf52840 (Cortex-M4F, 64 MHz) and "
        "atsamd21g18 (Cortex-M0+, 48 MHz), and the training time on this machine:",
        "",
        "| data set | recipe | model inputs | nrf52840 | atsamd21g18 | train s |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        *cost_rows,
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
