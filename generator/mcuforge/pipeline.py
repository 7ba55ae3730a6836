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
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from ._output import OutputLock, clean_stale, commit, discard, replace_problem, stage
from .catalog import Catalog, load_catalog
from .data import Dataset, load_dataset
from .errors import BudgetError, OutputError
from .hardware import measure
from .hardware.calibrate import Calibration
from .hardware.closed_loop import Budgets as LoopBudgets
from .hardware.closed_loop import pick_measured
from .hardware.cost import Cost
from .lock import LockError, differences, dump_lock, lock_data, read_lock, write_atomic
from .preflight import preflight
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
    calibration: Calibration | None = None
    out_dir: Path | None = None  # where the output goes (checked: not an input)


def prepare(
    spec_path: Path,
    catalogs: list[Path] | None = None,
    locked: bool = False,
    log: Log = lambda s: None,
    out: Path | None = None,
) -> Prepared:
    """Check everything (see ``preflight``), load the data; follow the lock beside the spec.

    Raises:
        LockError: with ``locked``, the lock is missing or differs (listing what).
    """
    checked = preflight(spec_path, catalogs, locked, out)
    loaded, catalog, plan, old = checked.loaded, checked.catalog, checked.plan, checked.lock
    calibration = checked.calibration
    spec = loaded.spec
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
    return Prepared(
        loaded,
        catalog,
        plan,
        dataset,
        old or now,
        old is not None,
        notes,
        calibration,
        checked.out_dir,
    )


def _check_output(out: Path, force: bool) -> None:
    why = replace_problem(out, force)
    if why:
        raise OutputError(why)


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
) -> GenerateResult:
    """Run the whole pipeline for one spec; see the module docstring."""
    p = prepare(spec_path, catalogs, locked, log, out)
    assert p.out_dir is not None
    _check_output(p.out_dir, force)
    with OutputLock(p.out_dir):  # one run per output (and per local study)
        for note in clean_stale(p.out_dir):
            log(note)
        _check_output(p.out_dir, force)
        return _generate(
            p,
            p.out_dir,
            trials,
            force,
            log,
            measure_cost,
            catalogs,
            storage,
            jobs,
            from_study,
            verbose,
        )


def _generate(
    p: Prepared,
    out_dir: Path,
    trials: int | None,
    force: bool,
    log: Log,
    measure_cost: bool,
    catalogs: list[Path] | None,
    storage: str | None,
    jobs: int | None,
    from_study: bool,
    verbose: bool,
) -> GenerateResult:
    plan, ds, spec = p.plan, p.dataset, p.loaded.spec
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
        verbose=verbose,
        exclusive=storage is None and spec.search.storage is None,  # locked by generate()
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
            raise BudgetError.at(
                p.loaded.problem(
                    ("task", "min_score"),
                    f"test {spec.task.resolved_metric} {chosen.test_score:.4f} does "
                    f"not reach task.min_score {spec.task.min_score}",
                )
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
    tmp = stage(out_dir, {"mcuforge": __version__, "spec": str(p.loaded.path)})
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
        commit(tmp, out_dir)
        # the study now lives in the output (an interrupted run keeps the working copy)
        working.unlink(missing_ok=True)
    except BaseException:
        discard(tmp)
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
    assert p.out_dir is not None
    settings = SearchSettings(
        trials if trials is not None else spec.search.trials,
        storage_url(storage or spec.search.storage, p.out_dir),
        jobs or spec.search.jobs,
        force,
        exclusive=not (storage or spec.search.storage),
    )
    if storage or spec.search.storage:  # a shared study: workers join it at will
        return run_search(p.plan, p.dataset, settings, log, p.loaded.path, catalogs)
    with OutputLock(p.out_dir):  # the local SQLite study beside the output: one run at once
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
