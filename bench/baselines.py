"""mcuforge with its defaults beside the plain baselines, on the same splits (issue 14).

For each data set sktime ships offline (the archive's own train/test split) and for the
spoken-keyword example, one run:

* ``mcuforge generate`` with its defaults: ``recipe: auto``, no trial count (the default
  time budget), cost measured, under a Cortex-M4F budget (nrf52840: 64 kB SRAM, 256 kB
  flash) and a Cortex-M0+ budget (atsamd21g18: 8 kB, 32 kB); test accuracy, the chosen
  recipe, measured cost and the wall time of the whole ``generate``;
* on the PC, no budget, the same windows: RandomForest on the raw window, RandomForest
  on per-channel statistics, 1-NN Euclidean, 1-NN DTW (sktime) and MiniRocket + ridge
  (sktime), each with the exact configuration printed under the table.

Variable-length series (JapaneseVowels, PLAID) are written one recording per file and
read by mcuforge with its window policy (``whole``: resampled to the median length);
the PC baselines get the same resampled windows.

    .venv/bin/python bench/baselines.py [--datasets ...] [--budgets m4f m0plus]
        [--no-generate] [--dtw-limit-s 600]
    .venv/bin/python bench/baselines.py --search-seeds 5 --datasets ... --budgets m4f

``--search-seeds N`` runs only ``generate`` N times per data set and budget, with the
search seeds 7, 8, ...: how much mcuforge's test accuracy moves with its own seed (the
folds, the sampler, the models' training), beside ``--seed-spread`` for a baseline's.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import BUDGETS, Budget, run_one

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Set:
    name: str
    loader: str  # sktime.datasets function, or "keywords"
    sensors: list[dict[str, Any]]
    rate_hz: float
    published_dtw: float | None = None  # the archive's 1-NN DTW (for the record)
    #: The archive's split holds test recordings that are copies of training ones (PLAID):
    #: accepted (``data.checks.allow_copies``) to compare with the published figures.
    allow_copies: bool = False
    #: The files mcuforge reads: ``csv`` (one file per recording), or ``wav`` (the keyword
    #: example's own 16-bit mono WAV files, so that its audio recipes take part too).
    fmt: str = "csv"


def _ch(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


SETS = {
    s.name: s
    for s in (
        Set(
            "BasicMotions",
            "load_basic_motions",
            [
                {"name": "accel", "channels": ["ax", "ay", "az"], "unit": "g"},
                {"name": "gyro", "channels": ["gx", "gy", "gz"], "unit": "dps"},
            ],
            10.0,
            0.975,
        ),
        Set("GunPoint", "load_gunpoint", [{"name": "hand", "channels": ["x"]}], 30.0, 0.907),
        Set(
            "ItalyPowerDemand",
            "load_italy_power_demand",
            [{"name": "load", "channels": ["kw"]}],
            1.0,
            0.950,
        ),
        Set(
            "JapaneseVowels",
            "load_japanese_vowels",
            [{"name": "lpc", "channels": _ch("c", 12)}],
            1.0,
            0.949,
        ),
        Set("ArrowHead", "load_arrow_head", [{"name": "outline", "channels": ["d"]}], 1.0, 0.703),
        Set("OSULeaf", "load_osuleaf", [{"name": "outline", "channels": ["d"]}], 1.0, 0.591),
        Set(
            "PLAID",
            "load_plaid",
            [{"name": "current", "channels": ["i"]}],
            1.0,
            0.840,
            allow_copies=True,
        ),
        Set("keywords", "keywords", [{"name": "mic", "channels": ["mic"]}], 16000.0, fmt="wav"),
    )
}


@dataclass
class Split:
    """Recordings of one side (each ``(samples, channels)``, lengths may differ)."""

    x: list[np.ndarray]
    y: np.ndarray


def load(ds: Set, work: Path) -> tuple[Split, Split]:
    """The archive's train/test split (the keyword example: made with espeak-ng)."""
    if ds.loader == "keywords":
        return _keywords(work)
    import sktime.datasets

    fn: Callable[..., Any] = getattr(sktime.datasets, ds.loader)
    out = []
    for split in ("train", "test"):
        try:
            x, y = fn(split=split, return_X_y=True, return_type="numpy3D")
            recs = [np.asarray(r, dtype=np.float64).T for r in x]
        except ValueError:  # unequal lengths: sktime's nested frame
            x, y = fn(split=split, return_X_y=True)
            recs = [
                np.stack([np.asarray(x.iloc[i, j], dtype=np.float64) for j in range(x.shape[1])], 1)
                for i in range(len(x))
            ]
        out.append(Split(recs, np.asarray(y).astype(str)))
    return out[0], out[1]


def _keywords(work: Path) -> tuple[Split, Split]:
    import importlib.util
    import wave

    spec = importlib.util.spec_from_file_location(
        "make_data", ROOT / "examples/keywords/make_data.py"
    )
    assert spec and spec.loader
    md = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = md  # its dataclasses look their module up
    spec.loader.exec_module(md)
    folder = work / "keywords-data"
    md.make(folder)
    sides: dict[str, tuple[list[np.ndarray], list[str]]] = {"train": ([], []), "test": ([], [])}
    for p in sorted(folder.rglob("*.wav")):
        with wave.open(str(p)) as w:
            a = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        side = "test" if p.name.startswith("test_") else "train"
        sides[side][0].append(a[:, None] / 32768.0)
        sides[side][1].append(p.parent.name)
    return tuple(Split(xs, np.asarray(ys)) for xs, ys in sides.values())  # type: ignore[return-value]


def equal_length(train: Split, test: Split) -> tuple[np.ndarray, np.ndarray, int]:
    """Both sides at one length: as they are, or resampled to the median training length
    (linear interpolation per channel), what mcuforge's ``whole`` window policy does."""
    lengths = {len(r) for r in [*train.x, *test.x]}
    if len(lengths) == 1:
        n = lengths.pop()
        return np.stack(train.x), np.stack(test.x), n
    n = int(np.median([len(r) for r in train.x]))

    def fit(r: np.ndarray) -> np.ndarray:
        src = np.linspace(0, 1, len(r))
        dst = np.linspace(0, 1, n)
        return np.stack([np.interp(dst, src, r[:, c]) for c in range(r.shape[1])], 1)

    return np.stack([fit(r) for r in train.x]), np.stack([fit(r) for r in test.x]), n


# ------------------------------------------------------------------ the PC baselines

STATS = ("mean", "std", "min", "max", "rms", "ptp")


def stats(x: np.ndarray) -> np.ndarray:
    """Per-channel mean, std, min, max, rms, peak-to-peak of (n, samples, channels)."""
    parts = [
        x.mean(1),
        x.std(1),
        x.min(1),
        x.max(1),
        np.sqrt((x**2).mean(1)),
        x.max(1) - x.min(1),
    ]
    return np.concatenate(parts, axis=1)


PEERS = {
    "RF raw": "sklearn RandomForestClassifier(n_estimators=100, random_state=0) on the "
    "flattened window",
    "RF stats": "sklearn RandomForestClassifier(n_estimators=100, random_state=0) on the "
    f"per-channel {', '.join(STATS)}",
    "1-NN Eucl.": "sklearn KNeighborsClassifier(n_neighbors=1) on the flattened window",
    "1-NN DTW": "sktime KNeighborsTimeSeriesClassifier(n_neighbors=1, distance='dtw') "
    "(full window, no warping limit)",
    "MiniRocket": "sktime MiniRocketMultivariate(random_state=0) (10,000 features) + "
    "StandardScaler(with_mean=False) + RidgeClassifierCV(alphas=logspace(-3, 3, 10))",
}


def baselines(
    xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, yte: np.ndarray, dtw_limit_s: float
) -> dict[str, str]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    flat_tr, flat_te = xtr.reshape(len(xtr), -1), xte.reshape(len(xte), -1)
    out: dict[str, str] = {}

    def acc(model: Any, a: np.ndarray, b: np.ndarray) -> str:
        model.fit(a, ytr)
        return f"{float(np.mean(model.predict(b) == yte)):.3f}"

    out["RF raw"] = acc(RandomForestClassifier(n_estimators=100, random_state=0), flat_tr, flat_te)
    out["RF stats"] = acc(
        RandomForestClassifier(n_estimators=100, random_state=0), stats(xtr), stats(xte)
    )
    out["1-NN Eucl."] = acc(KNeighborsClassifier(n_neighbors=1), flat_tr, flat_te)
    from sktime.classification.distance_based import KNeighborsTimeSeriesClassifier
    from sktime.transformations.panel.rocket import MiniRocketMultivariate

    panel_tr, panel_te = np.transpose(xtr, (0, 2, 1)), np.transpose(xte, (0, 2, 1))
    cells = len(xtr) * len(xte) * xtr.shape[1] ** 2 * xtr.shape[2]
    # ~4e8 DTW cells a second here for short series; sktime fills a full length x length
    # matrix per pair, which for long series (audio) runs far slower: skip both
    if cells > dtw_limit_s * 4e8 or xtr.shape[1] ** 2 > 1e7:
        out["1-NN DTW"] = f"— ({cells:.1e} cells)"
    else:
        out["1-NN DTW"] = acc(
            KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw"), panel_tr, panel_te
        )
    rocket = MiniRocketMultivariate(random_state=0).fit(panel_tr)
    ftr, fte = rocket.transform(panel_tr), rocket.transform(panel_te)
    ridge = make_pipeline(
        StandardScaler(with_mean=False), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
    )
    out["MiniRocket"] = acc(ridge, np.asarray(ftr), np.asarray(fte))
    return out


# ------------------------------------------------------------------ mcuforge itself


def export(ds: Set, train: Split, test: Split, folder: Path) -> None:
    """One file per recording: ``data/<class>/<train|test>_<i>.csv`` (or ``.wav``)."""
    import wave

    names = [c for s in ds.sensors for c in s["channels"]]
    for side, split in (("train", train), ("test", test)):
        for i, (rec, label) in enumerate(zip(split.x, split.y, strict=True)):
            d = folder / str(label)
            d.mkdir(parents=True, exist_ok=True)
            if ds.fmt == "wav":  # the samples were read from 16-bit PCM: written back exactly
                pcm = np.round(rec[:, 0] * 32768.0).astype("<i2")
                with wave.open(str(d / f"{side}_{i:04d}.wav"), "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(int(ds.rate_hz))
                    w.writeframes(pcm.tobytes())
                continue
            np.savetxt(
                d / f"{side}_{i:04d}.csv",
                rec,
                delimiter=",",
                header=",".join(names),
                comments="",
                fmt="%.7g",
            )


def write_spec(
    ds: Set,
    budget: Budget,
    length: int,
    variable: bool,
    work: Path,
    seed: int = 7,
    task: dict[str, Any] | None = None,
    tag: str | None = None,
    trials: int | None = None,
) -> Path:
    """The spec of one ``generate`` run: classification by default (``task`` another),
    written to ``work/<tag>.yaml`` with the output ``out-<tag>`` (default tag: the
    budget and the seed)."""
    tag = tag or f"{budget.key}-s{seed}"
    window: dict[str, Any] = {"length": length, "stride": length}
    if variable:
        window["short"] = "whole"  # every recording one window, resampled to the length
    spec: dict[str, Any] = {
        "version": 1,
        "name": f"{ds.name.lower()}_{budget.key}",
        "data": {
            "format": ds.fmt,
            "path": "data/",
            "sensors": [{**s, "rate_hz": ds.rate_hz} for s in ds.sensors],
            "labels": {"from": "folder"},
            "window": window,
            "split": {"test_files": ["*/test_*"]},
            **({"checks": {"allow_copies": True}} if ds.allow_copies else {}),
        },
        "task": task or {"kind": "classification", "metric": "accuracy"},
        "target": budget.target,
        "budgets": {"sram_kb": budget.sram_kb, "flash_kb": budget.flash_kb},
        "search": {"seed": seed, **({"trials": trials} if trials else {})},
        "output": {"dir": f"out-{tag}", "test_windows": 4},
    }
    path = work / f"{tag}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def seed_spread(names: list[str], seeds: int) -> list[str]:
    """RandomForest on the raw window, the same split, ``seeds`` random states: how much
    of a difference between two accuracies is the forest's own randomness."""
    from sklearn.ensemble import RandomForestClassifier

    out = [
        "## How much a baseline moves with its seed",
        "",
        f"RF raw ({PEERS['RF raw'].replace('random_state=0', f'random_state=0..{seeds - 1}')}), "
        "test accuracy on the archive's split:",
        "",
        "| data set | mean | std | min | max | random_state=0 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-spread-") as tmp:
        for name in names:
            ds = SETS[name]
            train, test = load(ds, Path(tmp))
            xtr, xte, _ = equal_length(train, test)
            a, b = xtr.reshape(len(xtr), -1), xte.reshape(len(xte), -1)
            acc = np.array(
                [
                    np.mean(
                        RandomForestClassifier(n_estimators=100, random_state=s)
                        .fit(a, train.y)
                        .predict(b)
                        == test.y
                    )
                    for s in range(seeds)
                ]
            )
            out.append(
                f"| {name} | {acc.mean():.3f} | {acc.std():.3f} | {acc.min():.3f} | "
                f"{acc.max():.3f} | {acc[0]:.3f} |"
            )
    return out


def _prepared(ds: Set, work: Path) -> tuple[Split, Split, bool, tuple[np.ndarray, np.ndarray, int]]:
    """A set's split, whether its recordings vary in length, and its equal-length windows."""
    train, test = load(ds, work)
    variable = len({len(r) for r in [*train.x, *test.x]}) > 1
    return train, test, variable, equal_length(train, test)


def search_spread(names: list[str], budgets: list[str], seeds: int) -> tuple[list[str], bool]:
    """``generate`` with its defaults and the search seeds 7.., the same split: the test
    accuracy of each run, and its mean, spread and range per data set and budget."""
    out = [
        "## How much mcuforge moves with its search seed",
        "",
        f"`generate` with its defaults (as in the table above) and `search.seed` 7 to "
        f"{7 + seeds - 1}: the seed draws the cross-validation folds, seeds the sampler and "
        "every model's training; the split is the archive's. Test accuracy of each run "
        "(the chosen recipe), then over the seeds:",
        "",
        "| data set | budget | runs: test accuracy (recipe) | mean | std | min | max |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    failed = False
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-search-spread-") as tmp:
        for name in names:
            ds = SETS[name]
            work = Path(tmp) / name
            work.mkdir()
            train, test, variable, (_, _, length) = _prepared(ds, work)
            export(ds, train, test, work / "data")
            for key in budgets:
                scores: list[float] = []
                runs: list[str] = []
                for seed in range(7, 7 + seeds):
                    print(f"baselines: {name} {key} seed {seed}", file=sys.stderr, flush=True)
                    r = run_one(write_spec(ds, BUDGETS[key], length, variable, work, seed))
                    failed = failed or bool(r.get("failed"))
                    if "score" in r:
                        scores.append(float(r["score"]))
                        runs.append(f"{r['score']:.3f} ({r['recipe']}, {r['seconds']:.0f} s)")
                    else:
                        runs.append(str(r.get("error", "no result")).split(":")[0])
                acc = np.array(scores) if scores else np.array([np.nan])
                out.append(
                    f"| {name} | {BUDGETS[key].label} | {'; '.join(runs)} | {acc.mean():.3f} | "
                    f"{acc.std():.3f} | {acc.min():.3f} | {acc.max():.3f} |"
                )
                print(out[-1], file=sys.stderr, flush=True)
    return out, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(SETS), choices=list(SETS))
    ap.add_argument("--budgets", nargs="+", default=["m4f", "m0plus"], choices=list(BUDGETS))
    ap.add_argument("--no-generate", action="store_true", help="the PC baselines only")
    ap.add_argument("--dtw-limit-s", type=float, default=600.0)
    ap.add_argument(
        "--seed-spread",
        type=int,
        metavar="N",
        help="only RF raw over N seeds per data set (how much a baseline moves with its seed)",
    )
    ap.add_argument(
        "--search-seeds",
        type=int,
        metavar="N",
        help="only generate, with the search seeds 7..7+N-1 (how much mcuforge moves with it)",
    )
    ap.add_argument(
        "--verdict-of",
        type=Path,
        help="print only the verdict of a saved run's table (its markdown file)",
    )
    args = ap.parse_args(argv)
    if args.seed_spread:
        print("\n".join(seed_spread(args.datasets, args.seed_spread)))
        return 0
    if args.search_seeds:
        t0 = time.perf_counter()
        lines, failed = search_spread(args.datasets, args.budgets, args.search_seeds)
        command = " ".join([".venv/bin/python bench/baselines.py", *(argv or sys.argv[1:])])
        lines[1:1] = ["", f"Command: `{command}`."]
        print("\n".join([*lines, "", f"Total: {time.perf_counter() - t0:.0f} s."]))
        return 1 if failed else 0
    if args.verdict_of:
        text = args.verdict_of.read_text()
        heads = [f"mcuforge {BUDGETS[b].label}" for b in args.budgets]
        table = [ln for ln in text.splitlines() if ln.startswith("| ") and "---" not in ln]
        print("\n".join(verdict(table[1:], heads, [BUDGETS[b] for b in args.budgets])))
        return 0
    command = " ".join([".venv/bin/python bench/baselines.py", *(argv or sys.argv[1:])])
    t0 = time.perf_counter()
    cols = ["RF raw", "RF stats", "1-NN Eucl.", "1-NN DTW", "MiniRocket"]
    heads = [f"mcuforge {BUDGETS[b].label}" for b in args.budgets]
    print(
        "\n".join(
            [
                "## mcuforge with its defaults beside the plain baselines",
                "",
                f"Command: `{command}`.",
                "",
                "Test accuracy on the archive's own split (keywords: the example's split)."
                " mcuforge: `generate` with its defaults (`recipe: auto`, the default time"
                " budget, cost measured), the chosen recipe, its measured flash and SRAM and the"
                " wall time of the whole run. Baselines: on the PC, no budget, the same windows.",
                "",
                "| data set | n train/test, length x channels | "
                + " | ".join(heads)
                + " | "
                + " | ".join(cols)
                + " | published 1-NN DTW |",
                "| --- | --- | "
                + " | ".join("---" for _ in heads)
                + " | "
                + " | ".join("---:" for _ in cols)
                + " | ---: |",
            ]
        ),
        flush=True,
    )
    failed = False
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-baselines-") as tmp:
        for name in args.datasets:
            ds = SETS[name]
            work = Path(tmp) / name
            work.mkdir()
            print(f"baselines: {name}", file=sys.stderr, flush=True)
            train, test, variable, (xtr, xte, length) = _prepared(ds, work)
            base = baselines(xtr, train.y, xte, test.y, args.dtw_limit_s)
            cells = []
            if not args.no_generate:
                export(ds, train, test, work / "data")
                for key in args.budgets:
                    print(f"baselines: {name} {key}", file=sys.stderr, flush=True)
                    r = run_one(write_spec(ds, BUDGETS[key], length, variable, work))
                    failed = failed or bool(r.get("failed"))
                    cells.append(_cell(r).replace(f"{Path(tmp)}/", ""))  # no scratch paths
            resampled = " (resampled)" if variable else ""
            shape = f"{len(xtr)}/{len(xte)}, {length}{resampled} x {xtr.shape[2]}"
            pub = f"{ds.published_dtw:.3f}" if ds.published_dtw else "—"
            rows.append(
                f"| {name} | {shape} | "
                + " | ".join(cells)
                + (" | " if cells else "")
                + " | ".join(base[c] for c in cols)
                + f" | {pub} |"
            )
            print(rows[-1], flush=True)
    print()
    print("\n".join(verdict(rows, heads, [BUDGETS[b] for b in args.budgets])))
    print("\nPeers, exact configuration:\n")
    for c in cols:
        print(f"- {c}: {PEERS[c]}")
    print(f"\nTotal: {time.perf_counter() - t0:.0f} s.")
    return 1 if failed else 0


PLAIN = ("RF raw", "RF stats", "1-NN Eucl.")


def _score(cell: str) -> float | None:
    m = re.match(r"\s*(?:\*\*)?([01]\.\d+)", cell)
    return float(m.group(1)) if m else None


def _gap(big: str, small: str, budget: Budget) -> list[str]:
    """Why the smaller budget's score is lower: its budget (the larger budget's model
    would not fit it) or the search (it would)."""
    a, b = _score(big), _score(small)
    if a is None or b is None or b >= a:
        return []
    m = re.search(r"([\d.]+) kB flash.*?([\d.]+) kB SRAM", big)
    if m is None:
        return [f"{b:.3f} below"]
    flash, sram = float(m.group(1)), float(m.group(2))
    fits = flash <= budget.flash_kb and sram <= budget.sram_kb
    why = (
        "the search, not the budget (the larger budget's model, "
        f"{flash:.1f} kB flash and {sram:.1f} kB SRAM, is within {budget.flash_kb} kB / "
        f"{budget.sram_kb} kB)"
        if fits
        else f"the budget ({flash:.1f} kB flash, {sram:.1f} kB SRAM do not fit "
        f"{budget.flash_kb} kB / {budget.sram_kb} kB)"
    )
    return [f"{budget.key} {a - b:.3f} lower: {why}"]


def verdict(rows: list[str], heads: list[str], budgets: list[Budget]) -> list[str]:
    """Per data set and budget: mcuforge against the best plain baseline and 1-NN DTW,
    and the M0+ score against the M4F one (the budget's share of the gap)."""
    cols = ["set", "shape", *heads, "RF raw", "RF stats", "1-NN Eucl.", "1-NN DTW", "MiniRocket"]
    out = [
        "Against the issue's bar (mcuforge >= best of RF raw, RF stats, 1-NN Euclidean; "
        ">= 1-NN DTW):",
        "",
    ]
    wins = {h: 0 for h in heads}
    with_dtw = 0
    for row in rows:
        cells = dict(
            zip(cols, [c.strip() for c in row.strip().strip("|").split("|")], strict=False)
        )
        plain = max(_score(cells[c]) or 0.0 for c in PLAIN)
        dtw = _score(cells["1-NN DTW"])
        with_dtw += dtw is not None
        parts = []
        for h in heads:
            got = _score(cells[h])
            if got is None:
                parts.append(f"{h}: no model ({cells[h].split(':')[0]})")
                continue
            ok = "≥" if got >= plain else "<"
            vs_dtw = "" if dtw is None else (" ≥ DTW" if got >= dtw else " < DTW")
            wins[h] += dtw is not None and got >= dtw
            parts.append(f"{h} {got:.3f} {ok} best plain {plain:.3f}{vs_dtw}")
        if len(heads) == 2:
            parts += _gap(cells[heads[0]], cells[heads[1]], budgets[1])
        out.append(f"- {cells['set']}: " + "; ".join(parts))
    out.append("")
    out.append(
        "At or above 1-NN DTW: "
        + ", ".join(f"{h} {n} of {with_dtw}" for h, n in wins.items())
        + f" (the sets with a DTW figure: {with_dtw} of {len(rows)})."
    )
    return out


def _cell(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"{r['error']} ({r['seconds']:.0f} s)"
    return (
        f"**{r['score']:.3f}** {r['recipe']}, {r['flash']['value'] / 1024:.1f} kB flash "
        f"({r['flash']['source']}), {r['sram']['value'] / 1024:.1f} kB SRAM "
        f"({r['sram']['source']}), {r['seconds']:.0f} s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
