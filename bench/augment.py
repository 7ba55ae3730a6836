"""What augmenting the training windows does on the smallest archive set (issue 20).

ArrowHead (UCR: 36 training series of 251 samples, 3 classes, 175 test series) through
mcuforge's own search functions: for each recipe below, its default configuration with
``augment.copies`` 0 and 2 (the other ``augment.*`` at their defaults: scale 0.1, shift
0.1, noise 0.05), the grouped 3-fold CV score the search sees and the test accuracy of
the model trained on all training windows (and their copies), seed 7.

    .venv/bin/python bench/augment.py [--dataset ArrowHead] [--copies 0 2 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import DATASETS, Archive, export

from mcuforge.pipeline import prepare
from mcuforge.search import FeatureCache, build, cross_validate, evaluate
from mcuforge.search._space import config_from_params, default_params

RECIPES = ("minirocket-ridge", "raw-knn", "raw-forest", "imu-stats-forest", "raw-cnn1d")
EXTRA = {
    "ArrowHead": Archive(
        "ArrowHead", "UCR", "load_arrow_head", [{"name": "outline", "channels": ["d"]}], 1.0, {}
    )
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ArrowHead")
    ap.add_argument("--copies", nargs="+", type=int, default=[0, 2])
    args = ap.parse_args(argv)
    command = " ".join([".venv/bin/python bench/augment.py", *(argv or sys.argv[1:])])
    ds = {**DATASETS, **EXTRA}[args.dataset]
    t0 = time.perf_counter()
    lines = [
        "## Augmentation of training windows on the smallest archive set",
        "",
        f"Command: `{command}`.",
        "",
        f"{ds.name}: each recipe's default configuration with `augment.copies` set as shown"
        " (scale 0.1, shift 0.1, noise 0.05); CV: grouped 3-fold on the training series,"
        " the validation folds never augmented; test: the archive's test series.",
        "",
        "| recipe | copies | cv accuracy | test accuracy | training windows |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-augment-") as tmp:
        work = Path(tmp)
        length = export(ds, work / "data")
        spec = {
            "version": 1,
            "name": "augment",
            "data": {
                "format": "npz",
                "path": "data/",
                "sensors": [{**s, "rate_hz": ds.rate_hz} for s in ds.sensors],
                "window": {"length": length},
                "split": {"test_files": ["test.npz*"]},
                "checks": {"allow_copies": True},
            },
            "target": "nrf52840",
            "budgets": {"sram_kb": 64, "flash_kb": 256},
            "search": {"seed": 7},
        }
        path = work / "spec.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        p = prepare(path)
        by_name = {r.name: r for r in p.plan.recipes}
        cache = FeatureCache(p.dataset)
        for name in RECIPES:
            recipe = by_name[name]
            base = config_from_params(default_params(recipe, False), [recipe])
            for copies in args.copies:
                blocks = {**base.block_params, "augment": {"copies": copies}}
                config = replace(base, block_params=blocks)
                cv = cross_validate(config, cache, p.plan).score
                cand = build(config, cache, p.plan)
                xt = cand.features.transform(p.dataset.test.x)
                test = evaluate("accuracy", cand.model, xt, p.dataset.test.y)
                n = len(p.dataset.train.x) * (1 + copies)
                lines.append(f"| {recipe.ref} | {copies} | {cv:.3f} | {test:.3f} | {n} |")
                print(
                    f"augment: {name} copies {copies}: cv {cv:.3f} test {test:.3f}",
                    file=sys.stderr,
                    flush=True,
                )
    lines += ["", f"Total: {time.perf_counter() - t0:.0f} s.", ""]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
