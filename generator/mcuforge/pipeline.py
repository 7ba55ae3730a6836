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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .catalog import Catalog, load_catalog
from .data import Dataset, load_dataset
from .errors import BudgetError, OutputError
from .hardware import measure
from .hardware.calibrate import Calibration
from .hardware.closed_loop import Budgets as LoopBudgets
from .hardware.closed_loop import pick_measured
from .hardware.cost import Cost
from .lock import LockError, differences, dump_lock, lock_data, pins, read_lock, write_atomic
from .realize import Materialized, materialize
from .report import write_reports
from .resolver import Plan, resolve
from .scaffold import render
from .search import (
    SearchResult,
    SearchSettings,
    default_storage,
    run_search,
    storage_url,
    trial_rows,
)
from .spec import LoadedSpec, Search, load_spec
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
    calibration: Calibration | None = None


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
    calibration = None
    if spec.hardware.calibration:
        calibration = Calibration.load(loaded.resolve_path(spec.hardware.calibration))
        plan = replace(plan, calibration=calibration)
    from .scaffold import check_template

    check_template(spec.output.firmware, plan.target, plan.core)
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
    return Prepared(loaded, catalog, plan, dataset, old or now, old is not None, notes, calibration)


def search_settings(
    search: Search,
    out_dir: Path,
    *,
    trials: int | None,
    time_budget_s: float | None,
    storage: str | None,
    jobs: int | None,
    force: bool,
    verbose: bool,
) -> SearchSettings:
    """The spec's ``search`` section with the command line's overrides applied.

    A trial total and a time budget may both be given (the first reached ends the
    search); with neither, the default time budget applies.
    """
    effective = search.model_copy(
        update={
            "trials": trials if trials is not None else search.trials,
            "time_budget": time_budget_s if time_budget_s is not None else search.time_budget,
        }
    )
    return SearchSettings(
        trials=effective.trials,
        storage=storage_url(storage or search.storage, out_dir),
        jobs=jobs or search.jobs,
        force=force,
        time_budget_s=effective.budget_s,
        trial_timeout_s=effective.trial_timeout_s,
        verbose=verbose,
    )


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


#: Measurement always builds the bare-metal project: the other templates need their
#: own toolchains (PlatformIO, west, arduino-cli), which measurement must not depend on.
MEASURE_TEMPLATE = "cmake-baremetal"


def _analytic_of(result: SearchResult, trial: int) -> Cost:
    rec = next(r for r in result.trials if r.number == trial)
    assert rec.cost is not None
    return Cost.from_json(rec.cost)


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
    verbose: bool = False,
    time_budget_s: float | None = None,
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
    settings = search_settings(
        spec.search,
        out_dir,
        trials=0 if from_study else trials,
        time_budget_s=time_budget_s,
        storage=storage,
        jobs=jobs,
        force=force,
        verbose=verbose,
    )
    working = default_storage(out_dir)
    local = storage is None and spec.search.storage is None
    if local and not working.exists() and (out_dir / "study.db").is_file():
        shutil.copy2(out_dir / "study.db", working)  # resume the study of the last output
    result = run_search(plan, ds, settings, log, p.loaded.path, catalogs)
    hw = spec.hardware
    use_tools = measure_cost and hw.profiler != "analytic"
    device = None
    if use_tools and hw.profiler == "device":
        from .hardware.device import DeviceProfiler

        assert hw.port is not None and hw.flash_command is not None
        device = DeviceProfiler(hw.port, hw.flash_command, hw.baudrate)
    cache: dict[int, Materialized] = {}

    def materialized(trial: int) -> Materialized:
        if trial not in cache:
            cache[trial] = materialize(p, trial, result, log)
        return cache[trial]

    def measure_one(trial: int) -> measure.Measured:
        mat = materialized(trial)
        if not use_tools:
            return measure.Measured(mat.cand.cost)
        return measure.measure(
            MEASURE_TEMPLATE,
            mat.variables,
            mat.files,
            mat.sources,
            plan,
            mat.cand.cost,
            firmware_run=False,
            device=device,
            calibration=p.calibration,
        )

    ranked = [(t, _analytic_of(result, t)) for t in result.ranked]
    loop = pick_measured(
        ranked,
        measure_one,
        LoopBudgets(spec.budgets.sram_kb, spec.budgets.flash_kb, spec.budgets.latency_ms),
        top_k=hw.top_k if use_tools else 1,
        log=log if use_tools else (lambda s: None),
    )
    chosen = materialized(loop.chosen.candidate)
    m = loop.chosen.measured
    if use_tools:  # the chosen one also runs as firmware in QEMU (the firmware check)
        m = measure.measure(
            MEASURE_TEMPLATE,
            chosen.variables,
            chosen.files,
            chosen.sources,
            plan,
            chosen.cand.cost,
            firmware_run=True,
            device=device,
            calibration=p.calibration,
        )
    cost = m.cost
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
    notes = [*p.notes, *m.notes]
    for note in m.notes:
        log(f"note: {note}")
    tried = [
        {
            "trial": t.candidate,
            "rank": t.rank,
            "cost": t.measured.cost.to_json(),
            "over_budget": t.broken,
        }
        for t in loop.tried
    ]
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
        m.rows,
        notes,
        m.qemu,
        tried,
    )
    report["hardware"] = m.details
    report["test_vectors"] = chosen.vectors
    calibration = loop.calibration(plan.target.name, plan.target.core)
    if p.calibration is not None:
        calibration = p.calibration.merge(calibration)
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
        if use_tools:
            calibration.save(tmp / "calibration.json")
        if local and working.is_file():
            shutil.copy2(working, tmp / "study.db")
        _replace_dir(tmp, out_dir)
        # the study now lives in the output (an interrupted run keeps the working copy)
        working.unlink(missing_ok=True)
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
    time_budget_s: float | None = None,
    verbose: bool = False,
) -> SearchResult:
    """``mcuforge search``: run trials into a (shared) study, generate nothing."""
    p = prepare(spec_path, catalogs, False, log)
    spec = p.loaded.spec
    out_dir = p.loaded.resolve_path(spec.output.dir)
    settings = search_settings(
        spec.search,
        out_dir,
        trials=trials,
        time_budget_s=time_budget_s,
        storage=storage,
        jobs=jobs,
        force=force,
        verbose=verbose,
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


__all__ = [
    "GenerateResult",
    "Prepared",
    "generate",
    "prepare",
    "search_only",
    "search_settings",
    "update_lock",
]
