"""Accuracy under microcontroller budgets vs published baselines (UCR/UEA archives).

Each data set is loaded from sktime (which ships it offline; ``pip install
mcuforge[bench]``) with the archive's own train/test split and exported once into a
temporary folder as two NumPy archives, ``train.npz`` and ``test.npz`` (``x``:
recordings x samples x channels, ``y``: the labels). A spec per data set and budget
reads them (``format: npz``, one window = the whole series, ``split.test_files:
["test.npz*"]`` keeps the archive's split) with ``recipe: auto`` and runs
:func:`mcuforge.pipeline.generate` with cost measurement on: the chosen model's flash
is compiled, its SRAM and latency emulated, on the budget's target core.

Budgets: Cortex-M0+ class (``atsamd21g18``: 8 kB SRAM, 32 kB flash for features +
model) and Cortex-M4F class (``nrf52840``: 64 kB SRAM, 256 kB flash). JapaneseVowels
has series of 7 to 29 frames: every series is padded to 29 by repeating its last
frame. Published baselines: the archives' 1-NN DTW (BasicMotions, JapaneseVowels:
UEA dependent DTW; GunPoint, ItalyPowerDemand: UCR DTW with the learned window) and
ROCKET (Dempster et al., 2020), test accuracy.

    .venv/bin/python bench/accuracy.py [--datasets ...] [--budgets m0plus m4f]
        [--trials 10] [--timeout-min M] [--recipe auto]
    .venv/bin/python bench/accuracy.py --example     # generate on the bundled example
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "basicmotions"


@dataclass(frozen=True)
class Archive:
    """One archive data set: its sktime loader, channels and published accuracies."""

    name: str
    archive: str
    loader: str
    sensors: list[dict[str, Any]]
    rate_hz: float
    baselines: dict[str, float]
    note: str = ""


def _channels(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


ZNORM = (
    "every series is z-normalised in the archive (mean 0, std 1), so its mean, std and rms"
    " are constant and only its shape separates the classes"
)
DATASETS = {
    a.name: a
    for a in (
        Archive(
            "BasicMotions",
            "UEA",
            "load_basic_motions",
            [
                {"name": "accel", "channels": ["ax", "ay", "az"], "unit": "g"},
                {"name": "gyro", "channels": ["gx", "gy", "gz"], "unit": "dps"},
            ],
            10.0,
            {"1-NN DTW": 0.975, "ROCKET": 1.0},
        ),
        Archive(
            "GunPoint",
            "UCR",
            "load_gunpoint",
            [{"name": "hand", "channels": ["x"]}],
            30.0,
            {"1-NN DTW": 0.907, "ROCKET": 1.0},
            ZNORM,
        ),
        Archive(
            "ItalyPowerDemand",
            "UCR",
            "load_italy_power_demand",
            [{"name": "load", "channels": ["kw"]}],
            1.0,  # hourly; the spec needs a positive rate, windows are in samples
            {"1-NN DTW": 0.950, "ROCKET": 0.970},
            ZNORM,
        ),
        Archive(
            "JapaneseVowels",
            "UEA",
            "load_japanese_vowels",
            [{"name": "lpc", "channels": _channels("c", 12)}],
            1.0,
            {"1-NN DTW": 0.949},
            "series padded to 29 frames (last frame repeated)",
        ),
    )
}


@dataclass(frozen=True)
class Budget:
    key: str
    label: str
    target: str
    sram_kb: float
    flash_kb: float


BUDGETS = {
    b.key: b
    for b in (
        Budget("m0plus", "Cortex-M0+ (atsamd21g18)", "atsamd21g18", 8, 32),
        Budget("m4f", "Cortex-M4F (nrf52840)", "nrf52840", 64, 256),
    )
}


def _series(x: Any) -> np.ndarray:
    """(recordings, samples, channels) float64 from sktime's numpy3D or nested frame."""
    if isinstance(x, np.ndarray):
        return np.transpose(np.asarray(x, dtype=np.float64), (0, 2, 1))
    rows = [
        [np.asarray(x.iloc[i, j], dtype=np.float64) for j in range(x.shape[1])]
        for i in range(len(x))
    ]
    length = max(len(s) for r in rows for s in r)
    out = np.empty((len(rows), length, x.shape[1]))
    for i, r in enumerate(rows):
        for j, s in enumerate(r):
            out[i, :, j] = np.pad(s, (0, length - len(s)), mode="edge")
    return out


def export(ds: Archive, folder: Path) -> int:
    """Write ``train.npz`` and ``test.npz``; returns the series length."""
    import sktime.datasets

    load: Callable[..., Any] = getattr(sktime.datasets, ds.loader)
    parts = {}
    for split in ("train", "test"):
        try:
            x, y = load(split=split, return_X_y=True, return_type="numpy3D")
        except ValueError:  # unequal lengths: sktime's nested frame
            x, y = load(split=split, return_X_y=True)
        parts[split] = (_series(x), np.asarray(y).astype(str))
    length = int(max(p[0].shape[1] for p in parts.values()))
    folder.mkdir(parents=True, exist_ok=True)
    for split, (x, y) in parts.items():
        if x.shape[1] < length:  # pad to the longest series of either split
            x = np.pad(x, ((0, 0), (0, length - x.shape[1]), (0, 0)), mode="edge")
        np.savez(folder / f"{split}.npz", x=x, y=y)
    return length


def write_spec(
    ds: Archive,
    budget: Budget,
    length: int,
    work: Path,
    trials: int | None,
    time_budget: str | None,
    recipe: str = "auto",
) -> Path:
    spec: dict[str, Any] = {
        "version": 1,
        "name": f"{ds.name.lower()}_{budget.key}",
        "data": {
            "format": "npz",
            "path": "data/",
            "sensors": [{**s, "rate_hz": ds.rate_hz} for s in ds.sensors],
            "window": {"length": length, "stride": length},
            "split": {"test_files": ["test.npz*"]},
        },
        "task": {"kind": "classification", "metric": "accuracy"},
        "target": budget.target,
        "budgets": {"sram_kb": budget.sram_kb, "flash_kb": budget.flash_kb},
        "search": {"strategy": "tpe", "seed": 7},
        "recipe": recipe,
        "output": {"dir": f"out-{budget.key}", "test_windows": 8},
    }
    if trials is not None:
        spec["search"]["trials"] = trials
    if time_budget is not None:  # a time cap makes the result depend on the machine's load
        spec["search"]["time_budget"] = time_budget
    path = work / f"{budget.key}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence library chatter on stdout (this script's stdout is the markdown)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _log(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


def run_one(spec: Path) -> dict[str, Any]:
    """generate() with measured cost; the report's figures, or the error."""
    from mcuforge.errors import BudgetError, McuforgeError
    from mcuforge.pipeline import generate

    t0 = time.perf_counter()
    try:
        with _quiet():
            res = generate(spec, None, None, True, _log, measure_cost=True)
    except BudgetError as exc:
        first = str(exc).splitlines()[0]
        head, cut, _ = first.partition(" would fit")  # the smallest budget, not the advice
        why = f"{head} would fit" if cut else first
        return {"error": f"nothing fits: {why}", "seconds": _since(t0)}
    except McuforgeError as exc:
        return {
            "error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}",
            "failed": True,
            "seconds": _since(t0),
        }
    r = res.report
    cost = r["cost"]
    return {
        "score": r["score"],
        "cv": r.get("cv_score"),
        "recipe": r["recipe"],
        "model": _model_text(r.get("model", {})),
        "flash": cost["flash_bytes"],
        "sram": cost["sram_bytes"],
        "latency": cost["latency_ms"],
        "trials": r.get("search", {}).get("trials"),
        "parity": r.get("parity", {}),
        "seconds": _since(t0),
    }


def _since(t0: float) -> float:
    return time.perf_counter() - t0


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, list):
        return "/".join(_value(i) for i in v)
    return str(v)


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in params.items() if k != "runtime")


def _model_text(model: dict[str, Any]) -> str:
    """``family (params); features block(params) + …`` from the report's ``model``."""
    feats = " + ".join(
        f"{name}({_params(p)})" if p else name for name, p in model.get("features", {}).items()
    )
    return f"{model.get('family', '?')} ({_params(model.get('params', {}))}); {feats}"


def _fig(f: dict[str, Any], scale: float, unit: str, digits: int) -> str:
    return f"{f['value'] / scale:.{digits}f} {unit} ({f['source']})"


BASELINES = sorted({b for ds in DATASETS.values() for b in ds.baselines})


def table_head(command: str, trials: int | None, time_budget: str | None, recipe: str) -> str:
    """The section's heading, method and table header (rows follow as runs finish)."""
    return "\n".join(
        [
            "## Accuracy under microcontroller budgets vs published baselines",
            "",
            f"Command: `{command}`.",
            "",
            f"`mcuforge.pipeline.generate` with `recipe: {recipe}`"
            + (f", {trials} trials" if trials is not None else "")
            + (f", search time budget {time_budget}" if time_budget is not None else "")
            + (" (the default time budget)" if trials is None and time_budget is None else "")
            + ", TPE seed 7, on the archive's train/test split;"
            " accuracy on the archive's test set. Flash compiled, SRAM (static + stack) and"
            " latency emulated for the chosen features + model on the budget's target."
            " Baselines: published test accuracy (1-NN DTW from the UCR/UEA archives, ROCKET"
            " from Dempster et al. 2020); they run on a PC, not within these budgets.",
            "",
            "| data set | budget | test acc | " + " | ".join(BASELINES) + " | flash | SRAM"
            " | latency | C == Python | chosen model | recipe | time |",
            "| --- | --- | ---: | " + " | ".join("---:" for _ in BASELINES) + " | ---: | ---:"
            " | ---: | ---: | --- | --- | ---: |",
        ]
    )


def table_row(ds: Archive, budget: Budget, r: dict[str, Any]) -> str:
    base = " | ".join(f"{ds.baselines[n]:.3f}" if n in ds.baselines else "—" for n in BASELINES)
    label = f"{ds.name} ({ds.archive})" + (" *" if ds.note else "")
    if "error" in r:
        return (
            f"| {label} | {budget.label} | — | {base} | — | — | — | — | {r['error']} | — "
            f"| {r['seconds']:.0f} s |"
        )
    par = r["parity"]
    return (
        f"| {label} | {budget.label} | {r['score']:.3f} | {base} | "
        f"{_fig(r['flash'], 1024, 'kB', 2)} | {_fig(r['sram'], 1024, 'kB', 2)} | "
        f"{_fig(r['latency'], 1, 'ms', 3)} | {par.get('agree')}/{par.get('total')} | "
        f"{r['model']} | {r['recipe']} | {r['seconds']:.0f} s |"
    )


def example_section(trials: int | None, command: str) -> tuple[str, bool]:
    """generate() on the bundled example's spec (data path made absolute), timed."""
    spec = yaml.safe_load((EXAMPLE / "spec.yaml").read_text())
    spec["data"]["path"] = str(EXAMPLE / spec["data"]["path"])
    if trials is not None:
        spec["search"]["trials"] = trials
    n = int(spec["search"].get("trials") or 0)
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-example-") as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        r = run_one(path)
    lines = [
        "## Pipeline: generate on the bundled example",
        "",
        f"Command: `{command}`.",
        "",
        "`mcuforge.pipeline.generate(examples/basicmotions/spec.yaml)` (its default spec,"
        " data path made absolute), cost measured (cross build, unicorn, firmware in QEMU).",
        "",
        "| trials | wall time | trials/min (whole pipeline) | test acc | flash | SRAM | latency"
        " | chosen model |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    if "error" in r:
        lines.append(f"| {n} | {r['seconds']:.1f} s | — | {r['error']} | — | — | — | — |")
        return "\n".join([*lines, ""]), False
    lines.append(
        f"| {n} | {r['seconds']:.1f} s | {60 * n / r['seconds']:.0f} | {r['score']:.3f} | "
        f"{_fig(r['flash'], 1024, 'kB', 2)} | {_fig(r['sram'], 1024, 'kB', 2)} | "
        f"{_fig(r['latency'], 1, 'ms', 3)} | {r['model']} ({r['recipe']}) |"
    )
    return "\n".join([*lines, ""]), True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    ap.add_argument("--budgets", nargs="+", default=list(BUDGETS), choices=list(BUDGETS))
    ap.add_argument("--trials", type=int, default=None, help="default: the time budget")
    ap.add_argument(
        "--time-budget", default=None, help="search wall time, e.g. 3m (load-dependent)"
    )
    ap.add_argument("--recipe", default="auto", help="recipe name, or auto (all that apply)")
    ap.add_argument("--example", action="store_true", help="time generate on the example")
    ap.add_argument("--example-trials", type=int, default=None)
    args = ap.parse_args(argv)
    argv_s = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python bench/accuracy.py", *argv_s])
    if args.example:
        text, ok = example_section(args.example_trials, command)
        print(text)
        return 0 if ok else 1
    t0 = time.perf_counter()
    # rows are printed as they finish: a run cut short still leaves a partial table
    print(table_head(command, args.trials, args.time_budget, args.recipe), flush=True)
    failed = False
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-accuracy-") as tmp:
        for name in args.datasets:
            ds = DATASETS[name]
            work = Path(tmp) / name
            length = export(ds, work / "data")
            for key in args.budgets:
                budget = BUDGETS[key]
                print(f"accuracy: {name} {key}", file=sys.stderr, flush=True)
                spec = write_spec(
                    ds, budget, length, work, args.trials, args.time_budget, args.recipe
                )
                r = run_one(spec)
                failed = failed or bool(r.get("failed"))
                print(table_row(ds, budget, r), flush=True)
    notes = [
        f"\\* {DATASETS[n].name}: {DATASETS[n].note}." for n in args.datasets if DATASETS[n].note
    ]
    print("\n".join(["", *notes, "", f"Total: {_since(t0):.0f} s."]))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
