"""The pipeline: the one module that knows every stage, as named steps on typed objects.

``generate`` runs them in order:

1. :func:`prepare` — spec, lock, catalog, plan, profiler chain, data (:mod:`._prepare`);
2. :func:`search` — the Optuna study, resumable (:mod:`._search`);
3. materialize — a trial rebuilt on all training data, its C (:mod:`._materialize`);
4. verify — that C on the host against Python, every test window (:mod:`._verify`);
5. :func:`measure` — the closed loop over the best candidates (the whole firmware
   linked for the part against the budgets), then the chosen one's stack reserve, its
   embedded test windows and its self-test in QEMU (:mod:`._measure`; steps 3 and 4 run
   inside it, per candidate);
6. scaffold and 7. report — the firmware project, built once with its template's
   commands (:mod:`._build`), report and lock, written to a temporary folder and renamed
   into place (:mod:`._write`).

Each step takes and returns typed objects (:class:`Prepared`, ``SearchResult``,
``Materialized``, :class:`Measurement`); the stages below know nothing of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .._output import OutputLock, clean_stale
from ..catalog import load_catalog
from ..data import load_dataset
from ..errors import BudgetError
from ..lock import differences, dump_lock, lock_data, read_lock, write_atomic
from ..report import close_text, worse_than_mean
from ..resolver import resolve
from ..search import (
    CandidateConfig,
    FeatureCache,
    SearchResult,
    SearchSettings,
    augmentation,
    cross_validate,
    run_search,
)
from ..spec import LoadedSpec, load_spec
from ..summary import build_report, linked_breakdown, stack_figures
from ._materialize import Materialized, materialize
from ._measure import MEASURE_TEMPLATE, Measurement, measure
from ._prepare import Log, Prepared, prepare
from ._search import continue_local_study, search, search_settings
from ._verify import verify
from ._write import check_output, write_output


@dataclass(frozen=True)
class GenerateResult:
    out_dir: Path
    report: dict[str, Any]


def _check_min_score(p: Prepared, m: Measurement) -> None:
    task = p.loaded.spec.task
    if task.min_score is None:
        return
    score = m.chosen.test_score
    if score < task.min_score if task.maximize else score > task.min_score:
        raise BudgetError.at(
            p.loaded.problem(
                ("task", "min_score"),
                f"test {task.resolved_metric} {score:.4f} does not reach task.min_score "
                f"{task.min_score}",
            )
        )


def _report(p: Prepared, m: Measurement, result: SearchResult) -> dict[str, Any]:
    chosen, measured = m.chosen, m.measured
    report = build_report(
        p.plan,
        p.dataset,
        chosen.cand,
        result,
        chosen.trial,
        chosen.test_score,
        chosen.test_pred,
        chosen.parity,
        measured.cost,
        measured.rows,
        [*p.notes, *measured.notes],
        measured.qemu,
        m.tried,
    )
    report["hardware"] = measured.details
    report["test_vectors"] = chosen.vectors
    if measured.model_only is not None:
        report["cost_model_only"] = measured.model_only.to_json()
    linked = measured.details.get("linked")
    if linked:
        report["breakdown"] = linked_breakdown(linked)
    report["firmware"]["test_windows"] = m.test_windows
    report["stack"] = stack_figures(report)
    effect = augmentation_effect(p, chosen.cand.config, result, chosen.trial)
    if effect is not None:
        report["search"]["augment"] = effect
    return report


def augmentation_effect(
    p: Prepared, config: CandidateConfig, result: SearchResult, trial: int
) -> dict[str, Any] | None:
    """The chosen candidate's CV score with its augmentation and without (same folds)."""
    aug = augmentation(config)
    if not aug.active:
        return None
    blocks = {**config.block_params, "augment": {**config.block_params["augment"], "copies": 0}}
    plain = replace(config, block_params=blocks)
    rec = next(r for r in result.trials if r.number == trial)
    # the search's own folds (a raced score is a mean over other fold draws too)
    with_ = rec.search_score if rec.search_score is not None else rec.score
    return {
        "params": dict(vars(aug)),
        "cv_with": with_,
        "cv_without": cross_validate(plain, FeatureCache(p.dataset), p.plan).score,
    }


def generate(
    spec_path: Path | LoadedSpec,
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
    """Run the whole pipeline for one spec; see the module docstring.

    One run per output folder: a second one stops at once (:class:`OutputLock`).
    """
    p = prepare(spec_path, catalogs, locked, log, out)
    assert p.out_dir is not None
    check_output(p.out_dir, force)
    with OutputLock(p.out_dir):  # one run per output (and per local study)
        for note in clean_stale(p.out_dir):
            log(note)
        check_output(p.out_dir, force)
        settings = search_settings(
            p.loaded.spec.search,
            p.out_dir,
            trials=0 if from_study else trials,
            time_budget_s=time_budget_s,
            storage=storage,
            jobs=jobs,
            force=force,
            verbose=verbose,
            exclusive=storage is None and p.loaded.spec.search.storage is None,
        )
        return _generate(p, p.out_dir, settings, log, measure_cost, catalogs)


def _generate(
    p: Prepared,
    out_dir: Path,
    settings: SearchSettings,
    log: Log,
    measure_cost: bool,
    catalogs: list[Path] | None,
) -> GenerateResult:
    ds = p.dataset
    log(
        f"data: {len(ds.train.x)} train / {len(ds.test.x)} test windows of {ds.window} samples "
        f"x {len(ds.channels)} channels" + (f", {len(ds.classes)} classes" if ds.classes else "")
    )
    for line in ds.log_lines():
        log(line)
    log("recipes: " + ", ".join(r.ref for r in p.plan.recipes) + f"; target {p.plan.target.name}")
    result = search(p, out_dir, settings, log, catalogs)
    use_tools = measure_cost and bool(p.profilers)
    m = measure(p, result, use_tools, log)
    _check_min_score(p, m)
    report = _report(p, m, result)
    weak = worse_than_mean(report)
    if weak:
        log(f"warning: {weak}")
    close = close_text(report["search"]["close_calls"], len(ds.train.x))
    if close:
        log(f"search: {close}")
    lock_text = dump_lock(lock_data(p.plan, p.catalog, ds) if not p.lock_existed else p.lock)
    write_output(p, out_dir, m, result, report, lock_text, use_tools, log)
    if not p.lock_existed:
        write_atomic(p.loaded.lock_path, lock_text)
        log(f"wrote {p.loaded.lock_path}; commit it with the spec")
    return GenerateResult(out_dir, report)


def search_only(
    spec_path: Path | LoadedSpec,
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
    assert p.out_dir is not None
    shared = bool(storage or spec.search.storage)
    settings = search_settings(
        spec.search,
        p.out_dir,
        trials=trials,
        time_budget_s=time_budget_s,
        storage=storage,
        jobs=jobs,
        force=force,
        verbose=verbose,
        exclusive=not shared,
    )
    spec_file = p.loaded.path if p.loaded.path.is_file() else None  # workers reread it
    if shared:  # a shared study: workers join it at will
        return run_search(p.plan, p.dataset, settings, log, spec_file, catalogs)
    with OutputLock(p.out_dir):  # the local SQLite study beside the output: one run at once
        # the last output's study, as generate continues it (else generate would later
        # overwrite it with this run's new one)
        continue_local_study(p.out_dir, settings)
        return run_search(p.plan, p.dataset, settings, log, spec_file, catalogs)


def update_lock(spec_path: Path, catalogs: list[Path] | None = None) -> tuple[Path, list[str]]:
    """``mcuforge lock --update``: record the current catalog and data; return the changes."""
    loaded = load_spec(spec_path)
    folders = [*(catalogs or []), *(loaded.resolve_path(c) for c in loaded.spec.catalogs)]
    catalog = load_catalog(folders)
    plan = resolve(loaded, catalog)
    dataset = load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task, loaded)
    now = lock_data(plan, catalog, dataset)
    old = read_lock(loaded.lock_path, loaded.path)
    diff = differences(old, now, plan) if old else ["new lock"]
    write_atomic(loaded.lock_path, dump_lock(now))
    return loaded.lock_path, diff


__all__ = [
    "MEASURE_TEMPLATE",
    "GenerateResult",
    "Materialized",
    "Measurement",
    "Prepared",
    "generate",
    "materialize",
    "measure",
    "prepare",
    "search",
    "search_only",
    "search_settings",
    "update_lock",
    "verify",
]
