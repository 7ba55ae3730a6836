"""``generate``: the one-shot pipeline wiring every stage.

spec → lock → plan → dataset → search (resumable) → the best candidates, in order:
C → parity (host) → firmware (cookiecutter) → measured cost (cross-compiled, emulated)
→ the first whose measured cost meets every budget → report + lock.

Everything is written into a temporary directory beside the output and renamed into
place at the end, so a failed run leaves nothing behind (the search's SQLite study is
kept beside the output, so an interrupted run resumes).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .catalog import Catalog, load_catalog
from .codegen import Provenance, emit_model, emit_test_vectors
from .data import Dataset, load_dataset
from .errors import BudgetError, OutputError, ParityError
from .hardware import measure
from .hardware.cost import Cost
from .hardware.host import run_host
from .lock import LockError, differences, dump_lock, lock_data, pins, read_lock, write_atomic
from .report import write_reports
from .resolver import Plan, resolve
from .scaffold import context, render
from .search import (
    Candidate,
    FeatureCache,
    SearchResult,
    SearchSettings,
    build,
    config_from_params,
    evaluate,
    run_search,
    storage_url,
    trial_rows,
)
from .spec import LoadedSpec, load_spec
from .summary import build_report, trials_csv

Log = Callable[[str], None]


@dataclass(frozen=True)
class GenerateResult:
    out_dir: Path
    report: dict[str, Any]


@dataclass
class Prepared:
    """Everything known before the search: spec, catalog, plan, data, lock."""

    loaded: LoadedSpec
    catalog: Catalog
    plan: Plan
    dataset: Dataset
    lock: dict[str, Any]
    lock_existed: bool
    notes: list[str] = field(default_factory=list)


def prepare(
    spec_path: Path,
    catalogs: list[Path] | None = None,
    locked: bool = False,
    log: Log = lambda s: None,
) -> Prepared:
    """Load and check everything the search needs; follow the lock beside the spec.

    Raises:
        LockError: with ``locked``, the lock is missing or differs (listing what).
    """
    loaded = load_spec(spec_path)
    spec = loaded.spec
    folders = [*(catalogs or []), *(loaded.resolve_path(c) for c in spec.catalogs)]
    catalog = load_catalog(folders)
    old = read_lock(loaded.lock_path)
    if locked and old is None:
        raise LockError(
            f"--locked: no lock at {loaded.lock_path}; run `mcuforge lock "
            f"{spec_path}` (or generate once without --locked) and commit it"
        )
    plan = resolve(loaded, catalog, pins(old))
    dataset = load_dataset(spec.data, loaded.base_dir, spec.task)
    now = lock_data(plan, catalog, dataset)
    notes: list[str] = []
    if old is not None:
        diff = differences(old, now)
        if diff and locked:
            raise LockError(
                f"--locked: {loaded.lock_path} differs from the catalog and data:\n"
                + "\n".join(f"  - {d}" for d in diff)
                + "\nrun `mcuforge lock --update` to accept the changes"
            )
        for d in diff:
            notes.append(f"lock: {d} (run `mcuforge lock --update` to record it)")
            log(notes[-1])
    return Prepared(loaded, catalog, plan, dataset, old or now, old is not None, notes)


def _check_output(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"output {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(f"output directory {out} is not empty; pass --force to replace it")


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``, replacing ``out`` only once ``tmp`` is complete."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


def _spread(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of up to ``n`` test windows taking the classes in turn (deterministic)."""
    if y.dtype.kind == "f":
        return np.arange(min(n, len(y)), dtype=np.int64)
    queues = [list(np.flatnonzero(y == c)) for c in np.unique(y)]
    out: list[int] = []
    while len(out) < min(n, len(y)):
        for q in queues:
            if q and len(out) < n:
                out.append(int(q.pop(0)))
    return np.asarray(out, dtype=np.int64)


def _parity(
    cand: Candidate, sources: dict[str, str], prefix: str, x_test: np.ndarray
) -> dict[str, Any]:
    """Compile the C on the host, run every test window, compare with Python."""
    host = run_host(sources, prefix, x_test, cand.features.n_outputs, cand.model.n_outputs)
    ref_features = cand.features.transform(x_test)
    ref_out = cand.model.outputs(ref_features)
    task = cand.model.task
    expected = (
        np.zeros(len(x_test), np.int32)
        if task == "regression"
        else cand.model.predict(ref_features).astype(np.int32)
    )
    agree_ret = host.predictions == expected
    rel = np.abs(host.outputs.astype(np.float64) - ref_out) / (1.0 + np.abs(ref_out))
    tol = max(cand.model.tolerance, cand.features.tolerance)
    agree_out = (rel <= tol).all(axis=1) if rel.size else np.ones(len(x_test), bool)
    agree = int((agree_ret & agree_out).sum())
    fdiff = np.abs(host.features.astype(np.float64) - ref_features.astype(np.float64))
    result = {
        "agree": agree,
        "total": len(x_test),
        "features_bit_exact": bool(
            np.array_equal(host.features.view(np.uint32), ref_features.view(np.uint32))
        ),
        "features_max_abs_err": float(fdiff.max()) if fdiff.size else 0.0,
        "outputs_max_rel_err": float(rel.max()) if rel.size else 0.0,
        "tolerance": tol,
    }
    if agree != len(x_test):
        bad = np.flatnonzero(~(agree_ret & agree_out))[:5].tolist()
        raise ParityError(
            f"generated C disagrees with Python on {len(x_test) - agree} of {len(x_test)} "
            f"test windows (first: {bad}); features bit-exact: {result['features_bit_exact']}, "
            f"max output error {result['outputs_max_rel_err']:.3g} (tolerance {tol:g}). "
            "This is a bug in mcuforge: please report it."
        )
    return result


@dataclass
class Materialized:
    """A candidate turned into C, checked against Python and rendered as firmware."""

    cand: Candidate
    trial: int
    test_score: float
    test_pred: np.ndarray
    sources: dict[str, str]
    files: dict[str, str]
    variables: dict[str, str]
    parity: dict[str, Any]


def _materialize(p: Prepared, trial: int, result: SearchResult, log: Log) -> Materialized:
    plan, ds = p.plan, p.dataset
    spec = plan.spec.spec
    frozen = next(r for r in result.trials if r.number == trial)
    config = config_from_params(frozen.params, plan.recipes, trial)
    cand = build(config, FeatureCache(ds), plan)
    xt = cand.features.transform(ds.test.x)
    test_pred = cand.model.predict(xt)
    test_score = evaluate(spec.task.resolved_metric, cand.model, xt, ds.test.y)
    prov = Provenance(__version__, plan.spec.sha256, config.recipe.ref, plan.seed, plan.target.name)
    sources = emit_model(
        spec.prefix, cand.features, cand.model, ds.classes, ds.channels, ds.window, ds.rate_hz, prov
    )
    parity = _parity(cand, sources, spec.prefix, ds.test.x)
    log(
        f"trial #{trial}: {config.recipe.ref}, test {spec.task.resolved_metric} "
        f"{test_score:.4f}; C == Python on {parity['agree']}/{parity['total']} test windows"
    )
    pick = _spread(ds.test.y, spec.output.test_windows)
    expected = np.zeros(len(pick), np.int64) if cand.model.task == "regression" else test_pred[pick]
    vectors = emit_test_vectors(spec.prefix, ds.test.x[pick], expected, prov)
    variables = context(
        spec.prefix,
        plan.target,
        plan.core,
        plan.qemu,
        plan.spec.sha256,
        config.recipe.ref,
        plan.seed,
    )
    return Materialized(
        cand, trial, test_score, test_pred, sources, {**sources, **vectors}, variables, parity
    )


def _violations(cost: Cost, p: Prepared) -> list[str]:
    b = p.plan.spec.spec.budgets
    out = []
    for label, fig, budget, scale, unit in (
        ("flash", cost.flash_bytes, b.flash_kb, 1024, "kB"),
        ("SRAM", cost.sram_bytes, b.sram_kb, 1024, "kB"),
        ("latency", cost.latency_ms, b.latency_ms, 1, "ms"),
    ):
        if budget is not None and fig.value > budget * scale:
            out.append(
                f"{label} {fig.value / scale:.3f} {unit} ({fig.source}) > budget {budget:g} {unit}"
            )
    return out


def generate(
    spec_path: Path,
    out: Path | None = None,
    trials: int | None = None,
    force: bool = False,
    log: Log = lambda s: None,
    measure_cost: bool = True,
    catalogs: list[Path] | None = None,
    locked: bool = False,
    storage: str | None = None,
    jobs: int | None = None,
    from_study: bool = False,
) -> GenerateResult:
    """Run the whole pipeline for one spec; see the module docstring."""
    p = prepare(spec_path, catalogs, locked, log)
    plan, ds, spec = p.plan, p.dataset, p.loaded.spec
    out_dir = (out if out is not None else p.loaded.resolve_path(spec.output.dir)).resolve()
    _check_output(out_dir, force)
    log(
        f"data: {len(ds.train.x)} train / {len(ds.test.x)} test windows of {ds.window} samples "
        f"x {len(ds.channels)} channels" + (f", {len(ds.classes)} classes" if ds.classes else "")
    )
    log("recipes: " + ", ".join(r.ref for r in plan.recipes) + f"; target {plan.target.name}")
    settings = SearchSettings(
        trials=0 if from_study else (trials if trials is not None else spec.search.trials),
        storage=storage_url(storage or spec.search.storage, out_dir),
        jobs=jobs or spec.search.jobs,
        force=force,
        timeout_s=spec.search.timeout_min * 60 if spec.search.timeout_min else None,
    )
    result = run_search(plan, ds, settings, log, p.loaded.path, catalogs)
    tried: list[dict[str, Any]] = []
    chosen: Materialized | None = None
    cost: Cost | None = None
    m_rows: list[dict[str, Any]] = []
    m_notes: list[str] = list(p.notes)
    qemu: dict[str, Any] | None = None
    for trial in result.ranked[: spec.search.measure_top if measure_cost else 1]:
        mat = _materialize(p, trial, result, log)
        cost, m_rows, notes, qemu = mat.cand.cost, [], [], None
        if measure_cost:
            m = measure.measure(
                spec.output.firmware, mat.variables, mat.files, mat.sources, plan, mat.cand.cost
            )
            cost, m_rows, notes, qemu = m.cost, m.rows, m.notes, m.qemu
        over = _violations(cost, p)
        tried.append({"trial": trial, "cost": cost.to_json(), "over_budget": over})
        if not over:
            chosen = mat
            m_notes += notes
            break
        log(f"trial #{trial}: measured over budget ({'; '.join(over)}); trying the next")
    if chosen is None or cost is None:
        raise BudgetError(
            "every candidate measured breaks a budget: "
            + " | ".join(f"trial #{t['trial']}: {'; '.join(t['over_budget'])}" for t in tried)
            + ". Raise the budget, or narrow the recipes' search spaces."
        )
    if spec.task.min_score is not None:
        worse = (
            chosen.test_score < spec.task.min_score
            if spec.task.maximize
            else chosen.test_score > spec.task.min_score
        )
        if worse:
            raise BudgetError(
                f"test {spec.task.resolved_metric} {chosen.test_score:.4f} does "
                f"not reach task.min_score {spec.task.min_score}"
            )
    for note in m_notes:
        log(f"note: {note}")
    report = build_report(
        plan,
        ds,
        chosen.cand,
        result,
        chosen.trial,
        chosen.test_score,
        chosen.test_pred,
        chosen.parity,
        cost,
        m_rows,
        m_notes,
        qemu,
        tried,
    )
    lock_text = dump_lock(lock_data(plan, p.catalog, ds) if not p.lock_existed else p.lock)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        render(spec.output.firmware, chosen.variables, chosen.files, tmp / "firmware")
        rows = trial_rows(result)
        write_reports(tmp, report, rows)
        (tmp / "trials.csv").write_text(trials_csv(rows))
        (tmp / "pareto.json").write_text(
            json.dumps([r for r in rows if r["pareto"]], indent=2) + "\n"
        )
        (tmp / "mcuforge.lock").write_text(lock_text)
        if settings.storage.startswith("sqlite:///"):
            db = Path(settings.storage[len("sqlite:///") :])
            if db.is_file():
                shutil.copy2(db, tmp / "study.db")
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not p.lock_existed:
        write_atomic(p.loaded.lock_path, lock_text)
        log(f"wrote {p.loaded.lock_path}; commit it with the spec")
    return GenerateResult(out_dir, report)


def search_only(
    spec_path: Path,
    storage: str | None,
    trials: int | None,
    jobs: int | None,
    force: bool,
    catalogs: list[Path] | None,
    log: Log,
) -> SearchResult:
    """``mcuforge search``: run trials into a (shared) study, generate nothing."""
    p = prepare(spec_path, catalogs, False, log)
    spec = p.loaded.spec
    out_dir = p.loaded.resolve_path(spec.output.dir)
    settings = SearchSettings(
        trials if trials is not None else spec.search.trials,
        storage_url(storage or spec.search.storage, out_dir),
        jobs or spec.search.jobs,
        force,
    )
    return run_search(p.plan, p.dataset, settings, log, p.loaded.path, catalogs)


def update_lock(spec_path: Path, catalogs: list[Path] | None = None) -> tuple[Path, list[str]]:
    """``mcuforge lock --update``: record the current catalog and data; return the changes."""
    loaded = load_spec(spec_path)
    folders = [*(catalogs or []), *(loaded.resolve_path(c) for c in loaded.spec.catalogs)]
    catalog = load_catalog(folders)
    plan = resolve(loaded, catalog)
    dataset = load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task)
    now = lock_data(plan, catalog, dataset)
    old = read_lock(loaded.lock_path)
    diff = differences(old, now) if old else ["new lock"]
    write_atomic(loaded.lock_path, dump_lock(now))
    return loaded.lock_path, diff


__all__ = ["GenerateResult", "Prepared", "generate", "prepare", "search_only", "update_lock"]
