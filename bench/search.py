"""Search benchmark: trials per minute, and best score vs trials for TPE and random.

    .venv/bin/python bench/search.py [--trials 40] [--seeds 3]   (bench/run.py collects it)

Runs the bundled example's spec (BasicMotions, nrf52840 budgets) with each sampler and
several seeds, in-memory SQLite storages, cost analytic (as inside the search). The
score per trial count is the best cross-validation score among trials within budget.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna

from mcuforge.pipeline import prepare
from mcuforge.search import SearchSettings, run_search

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "basicmotions" / "spec.yaml"


def curve(strategy: str, seed: int, trials: int, flash_kb: float) -> tuple[list[float], float]:
    """Best feasible CV score after each trial, and the wall time of the search."""
    text = SPEC.read_text().replace(
        "search: {strategy: tpe, trials: 30, seed: 7}",
        f"search: {{strategy: {strategy}, trials: {trials}, seed: {seed}}}",
    )
    text = text.replace("flash_kb: 16", f"flash_kb: {flash_kb}")
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.yaml"
        spec.write_text(text.replace("path: data/", f"path: {SPEC.parent / 'data'}"))
        p = prepare(spec)
        t0 = time.perf_counter()
        res = run_search(
            p.plan, p.dataset, SearchSettings(trials, f"sqlite:///{tmp}/study.db"), lambda s: None
        )
        wall = time.perf_counter() - t0
    best, out = 0.0, []
    for r in sorted(res.trials, key=lambda r: r.number):
        if r.feasible and r.score is not None:
            best = max(best, r.score)
        out.append(float(best))
    return out, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument(
        "--flash-kb",
        type=float,
        default=3.5,
        help="a tight whole-firmware flash budget (about 2.5 kB of it is the input window "
        "and the runtime), so that the sampler has to find small models",
    )
    args = ap.parse_args()
    optuna.logging.set_verbosity(logging.WARNING)
    rows, rates = {}, {}
    for strategy in ("tpe", "random"):
        curves, walls = [], []
        for seed in range(args.seeds):
            c, w = curve(strategy, seed, args.trials, args.flash_kb)
            curves.append(c)
            walls.append(w)
        rows[strategy] = np.mean(np.array(curves), axis=0)
        rates[strategy] = 60.0 * args.trials * args.seeds / sum(walls)
    marks = [m for m in (1, 5, 10, 20, 30, 40, 60, 80, 100) if m <= args.trials]
    print(
        f"### Search: best CV accuracy within budget vs trials (BasicMotions, nrf52840, "
        f"flash_kb {args.flash_kb:g}, mean of {args.seeds} seeds)\n"
    )
    print("| sampler | trials/min | " + " | ".join(f"best @{m}" for m in marks) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in marks) + " |")
    for strategy, c in rows.items():
        print(
            f"| {strategy} | {rates[strategy]:.0f} | "
            + " | ".join(f"{c[m - 1]:.3f}" for m in marks)
            + " |"
        )


if __name__ == "__main__":
    main()
