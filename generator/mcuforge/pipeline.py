"""``generate``: the one-shot pipeline wiring every stage.

spec → plan → dataset → search → best candidate → C → parity (host) → firmware
(cookiecutter) → measured cost (cross-compiled, emulated) → report + lock.

Everything is written into a temporary directory beside the output and renamed into
place at the end, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix

from . import __version__
from .catalog import load_catalog
from .codegen import Provenance, emit_model, emit_test_vectors
from .data import load_dataset
from .errors import BudgetError, OutputError, ParityError
from .hardware import measure
from .hardware.cost import Cost
from .hardware.host import run_host
from .lock import dump_lock, lock_data
from .report import REPORT_VERSION, render_markdown
from .resolver import Plan, resolve
from .scaffold import context, render
from .search import Candidate, build, run_search, score, trial_rows
from .spec import load_spec


@dataclass(frozen=True)
class GenerateResult:
    out_dir: Path
    report: dict[str, Any]


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


def _parity(
    cand: Candidate, sources: dict[str, str], prefix: str, x_test: np.ndarray, expected: np.ndarray
) -> dict[str, Any]:
    host = run_host(sources, prefix, x_test, cand.features.n_outputs, cand.model.n_outputs)
    ref_features = cand.features.transform(x_test)
    agree = int((host.predictions == expected).sum())
    diff = np.abs(host.features.astype(np.float64) - ref_features.astype(np.float64))
    bit_exact = bool(np.array_equal(host.features.view(np.uint32), ref_features.view(np.uint32)))
    result = {
        "agree": agree,
        "total": len(expected),
        "features_bit_exact": bit_exact,
        "features_max_abs_err": float(diff.max()) if diff.size else 0.0,
    }
    if agree != len(expected):
        bad = np.flatnonzero(host.predictions != expected)[:5].tolist()
        raise ParityError(
            f"generated C disagrees with Python on {len(expected) - agree} of {len(expected)} "
            f"test windows (first: {bad}); features bit-exact: {bit_exact}, max abs error "
            f"{result['features_max_abs_err']:.3g}. This is a bug in mcuforge: please report it."
        )
    return result


def generate(
    spec_path: Path,
    out: Path | None = None,
    trials: int | None = None,
    force: bool = False,
    log: Callable[[str], None] = lambda s: None,
    measure_cost: bool = True,
    catalogs: list[Path] | None = None,
) -> GenerateResult:
    """Run the whole pipeline for one spec; see the module docstring."""
    loaded = load_spec(spec_path)
    spec = loaded.spec
    catalog = load_catalog(catalogs)
    plan = resolve(loaded, catalog)
    out_dir = (out if out is not None else loaded.resolve_path(spec.output.dir)).resolve()
    _check_output(out_dir, force)
    dataset = load_dataset(spec.data, loaded.base_dir)
    log(
        f"data: {len(dataset.train.x)} train / {len(dataset.test.x)} test windows of "
        f"{dataset.window} samples x {len(dataset.channels)} channels, "
        f"{len(dataset.classes)} classes"
    )
    log(f"recipes: {', '.join(r.ref for r in plan.recipes)}; target {plan.target.name}")

    result = run_search(plan, dataset, trials, progress=log)
    cache_cand = _final(plan, dataset, result.best)
    cand = cache_cand
    prefix = spec.prefix
    test_pred = cand.model.predict(cand.features.transform(dataset.test.x))
    test_score = score(spec.task.metric, dataset.test.y, test_pred)
    log(
        f"best: trial #{result.best_trial}, {cand.config.recipe.ref}, "
        f"cv {result.cv_score:.4f}, test {spec.task.metric} {test_score:.4f}"
    )

    prov = Provenance(
        __version__, loaded.sha256, cand.config.recipe.ref, plan.seed, plan.target.name
    )
    sources = emit_model(
        prefix,
        cand.features,
        cand.model,
        dataset.classes,
        dataset.channels,
        dataset.window,
        dataset.rate_hz,
        prov,
    )
    parity = _parity(cand, sources, prefix, dataset.test.x, test_pred)
    log(f"parity: C == Python on {parity['agree']}/{parity['total']} test windows")

    pick = _spread(dataset.test.y, spec.output.test_windows)
    vectors = emit_test_vectors(prefix, dataset.test.x[pick], test_pred[pick], prov)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        variables = context(
            prefix,
            plan.target,
            plan.core,
            plan.qemu,
            loaded.sha256,
            cand.config.recipe.ref,
            plan.seed,
        )
        files = {**sources, **vectors}
        render(spec.output.firmware, variables, files, tmp / "firmware")
        cost = cand.cost
        measurements: list[dict[str, Any]] = []
        notes: list[str] = []
        qemu: dict[str, Any] | None = None
        if measure_cost:
            m = measure.measure(spec.output.firmware, variables, files, sources, plan, cand.cost)
            cost, measurements, notes, qemu = m.cost, m.rows, m.notes, m.qemu
            for note in notes:
                log(f"measure: {note}")
        report = _report(
            plan,
            dataset,
            cand,
            result,
            test_score,
            test_pred,
            parity,
            cost,
            measurements,
            notes,
            qemu,
            spec.output.firmware,
        )
        violations = cost.violations(
            spec.budgets.sram_kb, spec.budgets.flash_kb, spec.budgets.latency_ms
        )
        if any(v > 0 for v in violations):
            raise BudgetError(
                _over_budget(
                    cost, spec.budgets.sram_kb, spec.budgets.flash_kb, spec.budgets.latency_ms
                )
            )
        if spec.task.min_score is not None and test_score < spec.task.min_score:
            raise BudgetError(
                f"test {spec.task.metric} {test_score:.4f} is below "
                f"task.min_score {spec.task.min_score}"
            )
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (tmp / "report.md").write_text(render_markdown(report))
        (tmp / "mcuforge.lock").write_text(
            dump_lock(lock_data(plan, catalog, dataset, cand.config.recipe.ref))
        )
        (tmp / "trials.csv").write_text(_csv(trial_rows(result)))
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return GenerateResult(out_dir, report)


def _spread(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of up to ``n`` test windows taking the classes in turn (deterministic)."""
    queues = [list(np.flatnonzero(y == c)) for c in np.unique(y)]
    out: list[int] = []
    while len(out) < min(n, len(y)):
        for q in queues:
            if q and len(out) < n:
                out.append(int(q.pop(0)))
    return np.asarray(out, dtype=np.int64)


def _final(plan: Plan, dataset: Any, config: Any) -> Candidate:
    from .search import FeatureCache

    return build(config, FeatureCache(dataset), plan)


def _over_budget(cost: Cost, sram_kb: float, flash_kb: float, latency_ms: float | None) -> str:
    parts = []
    for label, fig, budget, scale in (
        ("flash", cost.flash_bytes, flash_kb, 1024),
        ("SRAM", cost.sram_bytes, sram_kb, 1024),
        ("latency", cost.latency_ms, latency_ms, 1),
    ):
        if budget is not None and fig.value > budget * scale:
            unit = "kB" if scale == 1024 else "ms"
            parts.append(
                f"{label} {fig.value / scale:.3f} {unit} ({fig.source}) > budget {budget:g} {unit}"
            )
    return (
        "the chosen candidate breaks its budget when measured: "
        + "; ".join(parts)
        + ". Raise the budget, or lower the search space's maximum sizes."
    )


def _csv(rows: list[dict[str, Any]]) -> str:
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _report(
    plan: Plan,
    dataset: Any,
    cand: Candidate,
    result: Any,
    test_score: float,
    test_pred: np.ndarray,
    parity: dict[str, Any],
    cost: Cost,
    measurements: list[dict[str, Any]],
    notes: list[str],
    qemu: dict[str, Any] | None,
    template: str,
) -> dict[str, Any]:
    spec = plan.spec.spec
    cm = confusion_matrix(dataset.test.y, test_pred, labels=list(range(len(dataset.classes))))
    return {
        "report_version": REPORT_VERSION,
        "mcuforge_version": __version__,
        "name": spec.name,
        "spec_sha256": plan.spec.sha256,
        "metric": spec.task.metric,
        "score": test_score,
        "cv_score": result.cv_score,
        "test_windows": len(dataset.test.x),
        "classes": dataset.classes,
        "confusion": cm.tolist(),
        "parity": parity,
        "cost": cost.to_json(),
        "analytic_cost": cand.cost.to_json(),
        "measurements": measurements,
        "notes": notes,
        "budgets": spec.budgets.model_dump(),
        "recipe": cand.config.recipe.ref,
        "model": {
            "family": cand.config.recipe.pipeline.model,
            "params": cand.config.model_params,
            "features": {b.name: b.params for b in cand.features.blocks},
            "n_features": cand.features.n_outputs,
            "size": cand.model.describe(),
        },
        "target": {
            "name": plan.target.name,
            "core": plan.target.core,
            "clock_mhz": plan.target.clock_mhz,
        },
        "decisions": [
            {"recipe": d.recipe, "chosen": d.chosen, "reason": d.reason} for d in plan.decisions
        ],
        "search": {
            "trials": len(result.trials),
            "feasible": sum(r.feasible for r in result.trials),
            "strategy": spec.search.strategy,
            "seed": spec.search.seed,
            "best_trial": result.best_trial,
        },
        "firmware": {"template": template, "qemu_machine": plan.core.qemu_machine, "qemu": qemu},
    }


__all__ = ["GenerateResult", "generate"]
