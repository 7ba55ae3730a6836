"""Benchmark of the model zoo: best test score per family under two MCU budgets.

For each data set (BasicMotions, bundled; GunPoint, shipped offline by sktime) every
registered family is trained on per-channel statistics of the window (the raw window
for ``cnn1d``) over a small fixed grid of parameters. A configuration *fits* a budget
when the analytic cost of features + model (:func:`mcuforge.hardware.analytic.
analytic_cost`, on the catalog target's core) is within its SRAM and flash; the table
gives, per family and budget, the best test score among the configurations that fit,
and for that configuration the flash measured by cross-compiling the generated C for
the core (:func:`mcuforge.hardware.cross.model_sizes`, when arm-none-eabi-gcc exists).

The test split selects the row (a capacity benchmark, not model selection: the
search in mcuforge selects by cross-validation on the training recordings).

Usage: ``.venv/bin/python bench/models.py [--out bench/RESULTS_models.md] [--quick]``
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.catalog import load_catalog
from mcuforge.emit import Provenance, emit_model
from mcuforge.errors import McuforgeError
from mcuforge.features import FEATURES, FeaturePipeline
from mcuforge.hardware.analytic import analytic_cost
from mcuforge.hardware.cross import cross_compiler, model_sizes
from mcuforge.models import MODELS, DeployedModel

ROOT = Path(__file__).resolve().parent.parent

#: name, catalog target (its core and clock), SRAM kB, flash kB
BUDGETS = [
    ("Cortex-M0+ (8 kB SRAM, 32 kB flash)", "atsamd21g18", 8, 32),
    ("Cortex-M4F (64 kB SRAM, 256 kB flash)", "stm32f401re", 64, 256),
]

#: family -> parameter grid (every combination is trained)
GRIDS: dict[str, dict[str, list[Any]]] = {
    "decision_tree": {"max_depth": [3, 6, 10], "thresholds": ["float", "int16"]},
    "random_forest": {
        "n_estimators": [5, 20, 60],
        "max_depth": [4, 8],
        "thresholds": ["float", "int16"],
    },
    "extra_trees": {
        "n_estimators": [5, 20, 60],
        "max_depth": [4, 8],
        "thresholds": ["float", "int16"],
    },
    "gradient_boosting": {
        "n_estimators": [10, 40],
        "max_depth": [1, 3],
        "thresholds": ["float", "int16"],
    },
    "logistic_regression": {"C": [0.1, 1.0, 10.0]},
    "linear_svm": {"C": [0.1, 1.0]},
    "gaussian_nb": {"var_smoothing": [1e-9, 1e-6]},
    "knn": {"n_neighbors": [1, 3], "max_prototypes": [8, 32, 128]},
    "mlp": {
        "layers": [1, 2],
        "units": [16, 64],
        "compression": ["int8", "prune_int8"],
        "epochs": [60],
        "patience": [10],
    },
    "cnn1d": {
        "filters": [8, 16],
        "layers": [2, 3],
        "kernel_size": [7],
        "learning_rate": [0.01],
        "epochs": [100],
        "patience": [15],
    },
}
QUICK: dict[str, dict[str, list[Any]]] = {
    "mlp": {"layers": [1], "units": [16], "compression": ["int8"]},
    "cnn1d": {"filters": [16], "layers": [3], "kernel_size": [7], "learning_rate": [0.01]},
}
PROV = Provenance("bench", "0" * 64, "bench@1", 0, "bench")


@dataclass
class Data:
    name: str
    x_train: np.ndarray  # (n, length, channels) float32
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    channels: list[str]
    classes: list[str]
    rate_hz: float


def basicmotions() -> Data:
    from mcuforge.data import load_dataset
    from mcuforge.spec import load_spec

    loaded = load_spec(ROOT / "examples" / "basicmotions" / "spec.yaml")
    ds = load_dataset(loaded.spec.data, loaded.base_dir)
    return Data(
        "BasicMotions", ds.train.x, ds.train.y, ds.test.x, ds.test.y, ds.channels, ds.classes, 10.0
    )


def gunpoint() -> Data:
    from sktime.datasets import load_gunpoint

    def load(split: str) -> tuple[np.ndarray, np.ndarray]:
        x, y = load_gunpoint(split=split, return_type="numpy3D")
        return np.ascontiguousarray(x.transpose(0, 2, 1), dtype=np.float32), y

    xtr, ytr = load("train")
    xte, yte = load("test")
    classes = sorted(set(ytr.tolist()))
    enc = {c: i for i, c in enumerate(classes)}
    return Data(
        "GunPoint",
        xtr,
        np.array([enc[c] for c in ytr]),
        xte,
        np.array([enc[c] for c in yte]),
        ["x"],
        [str(c) for c in classes],
        30.0,
    )


def _pipeline(data: Data, family: str) -> FeaturePipeline:
    length = data.x_train.shape[1]
    if family == "cnn1d":
        block = FEATURES.get("raw")({}, length, data.channels, data.rate_hz)
    else:
        block = FEATURES.get("stats")({}, length, data.channels, data.rate_hz)
    blocks = [block]
    if family in ("mlp", "knn"):
        blocks.append(FEATURES.get("standardize")({}, length, data.channels, data.rate_hz))
    return FeaturePipeline(blocks).fit(data.x_train, data.y_train)


@dataclass
class Row:
    family: str
    params: dict[str, Any]
    score: float
    model: DeployedModel
    pipe: FeaturePipeline
    costs: list[tuple[float, float]]  # per budget: (flash, sram) analytic bytes


def run_family(data: Data, family: str, quick: bool) -> list[Row]:
    grid = (QUICK if quick else {}).get(family, GRIDS[family])
    pipe = _pipeline(data, family)
    f_train, f_test = pipe.transform(data.x_train), pipe.transform(data.x_test)
    catalog = load_catalog(None)
    rows = []
    for values in itertools.product(*[list(v) for v in grid.values()]):
        params = dict(zip(grid.keys(), values, strict=True))
        fam = MODELS.get(family)()
        model = fam.fit(
            f_train, data.y_train, len(data.classes), params, 0, input_shape=pipe.output_shape
        )
        score = float((model.predict(f_test) == data.y_test).mean())
        costs = []
        for _, target_name, _, _ in BUDGETS:
            target = catalog.target(target_name)
            cost = analytic_cost(pipe, model, target, catalog.core(target.core))
            costs.append((cost.flash_bytes.value, cost.sram_bytes.value))
        rows.append(Row(family, params, score, model, pipe, costs))
    return rows


def compiled_flash(data: Data, row: Row, core_flags: str) -> str:
    if cross_compiler() is None:
        return "n/a"
    sources = emit_model(
        "bench",
        row.pipe,
        row.model,
        data.classes,
        data.channels,
        data.x_train.shape[1],
        data.rate_hz,
        PROV,
    )
    try:
        return str(model_sizes(sources, "bench", core_flags).flash)
    except McuforgeError as exc:
        return f"error: {str(exc).splitlines()[0][:40]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS_models.md")
    ap.add_argument("--quick", action="store_true", help="one configuration per network")
    ap.add_argument("--families", nargs="*", default=None)
    args = ap.parse_args()
    catalog = load_catalog(None)
    families = [f for f in (args.families or list(GRIDS)) if f in MODELS]
    lines = [
        "# Model zoo benchmark",
        "",
        f"Command: `.venv/bin/python bench/models.py {' '.join(sys.argv[1:])}`".rstrip(),
        f"Date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        "Best test accuracy per family among the configurations whose analytic cost "
        "(features + model) fits the budget; flash and SRAM analytic, `cc flash` from "
        "cross-compiling the generated C (arm-none-eabi-gcc -Os) for the core. "
        "Features: per-channel stats (`raw` window for cnn1d; `+ standardize` for mlp, knn).",
        "",
    ]
    for data in (basicmotions(), gunpoint()):
        lines += [
            f"## {data.name}: {len(data.x_train)} train / {len(data.x_test)} test windows, "
            f"{data.x_train.shape[1]} x {len(data.channels)}, {len(data.classes)} classes",
            "",
        ]
        header = "| family | " + " | ".join(
            f"{name}: acc | flash B | SRAM B | cc flash B | params" for name, *_ in BUDGETS
        )
        lines += [header + " |", "|---" * (1 + 5 * len(BUDGETS)) + "|"]
        for family in families:
            t0 = time.time()
            rows = run_family(data, family, args.quick)
            cells = [family]
            for b, (_, target_name, sram_kb, flash_kb) in enumerate(BUDGETS):
                fit = [
                    r
                    for r in rows
                    if r.costs[b][0] <= flash_kb * 1024 and r.costs[b][1] <= sram_kb * 1024
                ]
                if not fit:
                    cells += ["—", "—", "—", "—", "nothing fits"]
                    continue
                best = max(fit, key=lambda r: (r.score, -r.costs[b][0]))
                flags = catalog.core(catalog.target(target_name).core).gcc_flags or ""
                cells += [
                    f"{best.score:.3f}",
                    f"{best.costs[b][0]:.0f}",
                    f"{best.costs[b][1]:.0f}",
                    compiled_flash(data, best, flags) if flags else "n/a",
                    ", ".join(f"{k}={v}" for k, v in best.params.items()),
                ]
            lines.append("| " + " | ".join(cells) + " |")
            print(
                f"{data.name} {family}: {len(rows)} configs in {time.time() - t0:.1f}s", flush=True
            )
        lines.append("")
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
