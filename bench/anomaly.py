"""Anomaly detection: mcuforge's detector and its alarm threshold beside plain ones.

The one-class protocol on archive sets sktime ships offline: one class is normal, the
others are the anomalies; the archive's own train/test split. mcuforge trains its
detector on the normal training windows only and sets the alarm threshold on held-out
ones (and the training split's anomalies); the table gives, on the test split, the
ROC AUC (how well the score ranks) and the false-positive and true-positive rates at
the threshold the firmware uses (what a user gets). Plain detectors on the PC, fitted
on the same normal training windows, each with its own default alarm rule:

* IsolationForest (sklearn defaults) on per-channel statistics, and on the raw window:
  ``predict`` (its ``contamination='auto'`` offset) is the alarm;
* the distance to the nearest normal training window (1-NN, Euclidean, raw window): the
  alarm is a distance above the 95th percentile of the training windows' own
  leave-one-out distances.

    .venv/bin/python bench/anomaly.py [--datasets BasicMotions GunPoint] [--budget m4f]
        [--trials N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import BUDGETS, _log, _quiet
from baselines import SETS, STATS, equal_length, export, load, stats, write_spec

PEERS = {
    "IF stats": "sklearn IsolationForest(random_state=0) on the per-channel "
    f"{', '.join(STATS)}; alarm: predict() == -1",
    "IF raw": "sklearn IsolationForest(random_state=0) on the flattened window; alarm: "
    "predict() == -1",
    "1-NN dist": "Euclidean distance of the flattened window to the nearest normal "
    "training window; alarm: above the 95th percentile of the training windows' "
    "leave-one-out distances",
}


def _rates(alarm: np.ndarray, anomalous: np.ndarray) -> tuple[float, float]:
    """False-positive rate (normal windows with an alarm), true-positive rate."""
    return float(alarm[~anomalous].mean()), float(alarm[anomalous].mean())


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of each row of ``b`` to its nearest row of ``a``."""
    d: np.ndarray = np.sqrt(((b[:, None, :] - a[None, :, :]) ** 2).sum(-1)).min(1)
    return d


def _scorers(a: np.ndarray) -> dict[str, Any]:
    """Each peer fitted on normal windows ``a``: (anomaly score, default alarm) of ``b``."""
    from sklearn.ensemble import IsolationForest

    out: dict[str, Any] = {}
    for name, view in (("IF stats", stats), ("IF raw", lambda x: x.reshape(len(x), -1))):
        forest = IsolationForest(random_state=0).fit(view(a))
        out[name] = lambda b, f=forest, v=view: (-f.score_samples(v(b)), f.predict(v(b)) == -1)
    flat = a.reshape(len(a), -1)
    own = np.sqrt(((flat[:, None, :] - flat[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(own, np.inf)
    limit = np.percentile(own.min(1), 95)

    def nearest(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = _nearest(flat, b.reshape(len(b), -1))
        return d, d > limit

    out["1-NN dist"] = nearest
    return out


def peers(
    xtr: np.ndarray, ytr: np.ndarray, normal: str, xte: np.ndarray, anomalous: np.ndarray
) -> dict[str, str]:
    """Each plain detector: ``AUC / FPR / TPR`` on the test windows with its default alarm
    (fitted on every normal training window), then ``FPR / TPR`` with mcuforge's own
    rule: fitted on the same share of the normal windows, the threshold chosen by
    ``pick_threshold`` on the held-out block and the training split's anomalies."""
    from sklearn.metrics import roc_auc_score

    from mcuforge.models._anomaly import pick_threshold, split_anomaly

    x = xtr.astype(np.float32)
    y = (ytr != normal).astype(np.int64)
    split = split_anomaly(x.reshape(len(x), -1), y, 0.25, 0)
    shape = x.shape[1:]
    fit = split.fit_x.reshape(-1, *shape)
    val = split.val_x.reshape(-1, *shape)
    default, tuned = _scorers(x[y == 0]), _scorers(fit)
    out = {}
    for name in PEERS:
        score, alarm = default[name](xte)
        fpr, tpr = _rates(alarm, anomalous)
        threshold = pick_threshold(tuned[name](val)[0], split.val_y, 0.95)
        fpr2, tpr2 = _rates(tuned[name](xte)[0] > threshold, anomalous)
        out[name] = (
            f"{roc_auc_score(anomalous, score):.3f} / {fpr:.2f} / {tpr:.2f}; "
            f"{fpr2:.2f} / {tpr2:.2f}"
        )
    return out


def run_mcuforge(spec: Path) -> dict[str, Any]:
    """generate() with measured cost: the test split's ROC and the firmware's threshold."""
    from mcuforge.errors import McuforgeError
    from mcuforge.pipeline import generate

    t0 = time.perf_counter()
    try:
        with _quiet():
            res = generate(spec, None, None, True, _log, measure_cost=True)
    except McuforgeError as exc:
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    r = res.report
    point = r["roc"]["operating_point"]
    parity = r.get("parity", {})
    return {
        "cell": f"{r['score']:.3f} / {point['fpr']:.2f} / {point['tpr']:.2f}",
        "recipe": r["recipe"],
        "flash": r["cost"]["flash_bytes"],
        "sram": r["cost"]["sram_bytes"],
        "parity": f"{parity.get('agree')}/{parity.get('total')}",
        "seconds": time.perf_counter() - t0,
    }


def _kb(f: dict[str, Any]) -> str:
    return f"{f['value'] / 1024:.1f} kB ({f['source']})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["BasicMotions", "GunPoint"])
    ap.add_argument("--budget", default="m4f", choices=list(BUDGETS))
    ap.add_argument("--trials", type=int, default=None, help="default: the time budget")
    args = ap.parse_args(argv)
    budget = BUDGETS[args.budget]
    t_all = time.perf_counter()
    rows = []
    for name in args.datasets:
        ds = SETS[name]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            train, test = load(ds, work)
            xtr_all, xte, length = equal_length(train, test)
            variable = len({len(r) for r in [*train.x, *test.x]}) > 1
            export(ds, train, test, work / "data")
            for normal in sorted(map(str, set(train.y))):  # (numpy strings: YAML)
                print(f"anomaly: {name}, normal {normal}", file=sys.stderr, flush=True)
                keep = train.y == normal
                anomalous = test.y != normal
                spec = write_spec(
                    ds,
                    budget,
                    length,
                    variable,
                    work,
                    task={"kind": "anomaly", "metric": "roc_auc", "normal": [normal]},
                    tag=normal,
                    trials=args.trials,
                )
                r = run_mcuforge(spec)
                plain = peers(xtr_all, train.y, normal, xte, anomalous)
                mine = (
                    f"**{r['cell']}** {r['recipe']}, {_kb(r['flash'])} flash, "
                    f"{_kb(r['sram'])} SRAM, C == Python {r['parity']}, {r['seconds']:.0f} s"
                    if "cell" in r
                    else r["error"]
                )
                rows.append(
                    f"| {name} | {normal} | {int(keep.sum())}/{int((~keep).sum())} | "
                    f"{int((~anomalous).sum())}/{int(anomalous.sum())} | {mine} | "
                    + " | ".join(plain[k] for k in PEERS)
                    + " |"
                )
    lines = [  # bench/run.py puts the command above it
        "One class normal, the others anomalies, the archive's split. mcuforge's cell: ROC "
        "AUC on the test split / false-positive rate / true-positive rate at the threshold "
        "its firmware compares with (set on held-out normal windows and the training "
        "split's anomalies, which also rank the recipes). A peer's cell: the same three "
        "with its default alarm rule, fitted on every normal training window (one-class, "
        "no labelled anomaly used); then the two rates with mcuforge's rule (fitted on the "
        "same 75 % of the normal windows, the threshold chosen the same way on the same "
        "held-out windows). mcuforge: `generate` under the "
        f"{budget.label} budget ({budget.sram_kb:g} kB SRAM, {budget.flash_kb:g} kB flash), "
        "`task: {kind: anomaly}`, `recipe: auto`, "
        + (f"{args.trials} trials" if args.trials else "the default time budget")
        + ", cost measured.",
        "",
        "| data set | normal class | train normal/anomalous | test normal/anomalous | "
        "mcuforge | " + " | ".join(PEERS) + " |",
        "| --- | --- | ---: | ---: | --- | " + " | ".join("---" for _ in PEERS) + " |",
        *rows,
        "",
        "Peers, exact configuration (fitted on the normal training windows only):",
        "",
        *(f"- {k}: {v}" for k, v in PEERS.items()),
        "",
        f"Total: {time.perf_counter() - t_all:.0f} s.",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
