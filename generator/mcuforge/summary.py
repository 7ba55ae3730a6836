"""The report mapping (report.json) and trials.csv, built from the pipeline's results.

report.json keys (``report_version`` 1): name, spec_sha256, metric, score, cv_score,
test_windows, classes, confusion (classification/anomaly), regression (y_true, y_pred),
roc (fpr, tpr, auc; anomaly), parity, cost (each figure ``{value, source}``: the whole
firmware, what the budgets check; ``energy_uj`` when the target has power figures),
cost_model_only (features + model alone), analytic_cost, measurements (analytic vs
measured with error %), notes, budgets, recipe, model, target, decisions, search, tried
(candidates measured, in order), breakdown (flash and SRAM by part), stack (every stack
figure and what it covers), firmware (incl. test_windows and build_check), data_check
(the data check: per-class and per-split counts, what was dropped or padded, the split,
the warnings; as ``mcuforge data check --json``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve

from ._version import __version__
from .cost import Cost
from .data import Dataset
from .report import REPORT_VERSION
from .resolver import Plan
from .search import Candidate, SearchResult
from .spec import Search


def _quality(ds: Dataset, cand: Candidate, test_pred: np.ndarray) -> dict[str, Any]:
    if ds.task == "regression":
        return {
            "regression": {
                "y_true": ds.test.y.astype(float).tolist(),
                "y_pred": np.asarray(test_pred, float).tolist(),
                # the plainest model: every window gets the training mean
                "train_mean": float(np.mean(ds.train.y)),
            }
        }
    out: dict[str, Any] = {
        "confusion": confusion_matrix(
            ds.test.y, test_pred, labels=list(range(len(ds.classes)))
        ).tolist()
    }
    if ds.task == "anomaly" and len(np.unique(ds.test.y)) == 2:
        scores = cand.model.outputs(cand.features.transform(ds.test.x))[:, 0]
        fpr, tpr, _ = roc_curve(ds.test.y, scores)
        out["roc"] = {
            "fpr": fpr.tolist(),
            "tpr": tpr.tolist(),
            "auc": float(roc_auc_score(ds.test.y, scores)),
        }
        threshold = cand.model.anomaly_threshold
        if threshold is not None:
            flagged = test_pred.astype(bool)
            normal, anomal = ds.test.y == 0, ds.test.y == 1
            out["roc"]["operating_point"] = {
                "fpr": float(flagged[normal].mean()) if normal.any() else 0.0,
                "tpr": float(flagged[anomal].mean()) if anomal.any() else 0.0,
                "threshold": float(threshold),
            }
    return out


def _breakdown(cand: Candidate, plan: Plan, cost: Cost) -> dict[str, Any]:
    """Flash and SRAM by part, from the analytic model (the measured totals are in
    ``cost``; the report draws the difference). A linked firmware replaces it with the
    parts its linker map gives (:func:`linked_breakdown`), which add up to the totals."""
    from .cost import firmware_overhead
    from .hardware.analytic import WRAPPER_FLASH, WRAPPER_STACK, core_costs, input_floats

    cc = core_costs(plan.core)
    f, m = cand.features.cost(cc), cand.model.cost(cc)
    model_sram = int(cand.model.describe().get("arena_bytes", 0) or 0)
    extra = firmware_overhead(plan.core, input_floats(cand.features), cand.model.n_outputs)
    return {
        "flash": {
            "source": "analytic",
            "parts": {
                "features": f.flash_bytes,
                "model": m.flash_bytes,
                "code": WRAPPER_FLASH + plan.core.float_lib_flash_bytes,
                "runtime": extra.runtime_flash_bytes,
            },
        },
        "sram": {
            "source": "analytic",
            "parts": {
                "input buffer": extra.input_bytes,
                "features": f.sram_bytes + 4 * cand.features.n_outputs,
                "arena": model_sram,
                "runtime": extra.runtime_sram_bytes,
                "stack": WRAPPER_STACK
                + max(m.sram_bytes - model_sram, 0)
                + 4 * cand.model.n_outputs
                + extra.runtime_stack_bytes
                + extra.margin_bytes,
            },
        },
    }


def linked_breakdown(linked: dict[str, Any]) -> dict[str, Any]:
    """The report's ``breakdown`` from the ``linked`` profiler's details: flash and SRAM
    of the firmware by part (its linker map), adding up to the linked totals."""
    return {
        mem: {"source": "linked", "parts": dict(linked["breakdown"].get(mem, {}))}
        for mem in ("flash", "sram")
    }


def stack_figures(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stack figure the report holds, each with what it covers (they differ
    because they cover different code, not because one is wrong)."""
    hw = report.get("hardware") or {}
    rows: list[dict[str, Any]] = []
    alone = (report.get("cost_model_only") or report.get("analytic_cost") or {}).get("sram_bytes")
    if alone:
        rows.append(
            {
                "figure": "features + model SRAM",
                "bytes": alone["value"],
                "source": alone["source"],
                "covers": "static data of features + model and the stack of one "
                "PREFIX_predict call",
            }
        )
    if "emulated" in hw:
        rows.append(
            {
                "figure": "PREFIX_predict stack",
                "bytes": hw["emulated"].get("stack_bytes"),
                "source": "emulated",
                "covers": "unicorn: one PREFIX_predict call on each test window, the stack "
                "below the call",
            }
        )
    q = hw.get("qemu") or {}
    if "stack_bytes" in q:
        rows.append(
            {
                "figure": "self-test stack_bytes",
                "bytes": q["stack_bytes"],
                "source": "emulated",
                "covers": "the self-test firmware's own count: one PREFIX_predict call below "
                "its caller (the runtime's frame not included)",
            }
        )
    if "stack_peak_bytes" in q:
        rows.append(
            {
                "figure": "self-test stack peak",
                "bytes": q["stack_peak_bytes"],
                "source": "emulated",
                "covers": "the whole self-test run: main, runtime, model and interrupts",
            }
        )
    st = (hw.get("linked") or {}).get("stack") or {}
    if st:
        rows.append(
            {
                "figure": "sensor firmware stack peak",
                "bytes": st["peak_bytes"],
                "source": st["source"],
                "covers": st["how"],
            }
        )
        rows.append(
            {
                "figure": "stack reserved",
                "bytes": st["reserved_bytes"],
                "source": "linked",
                "covers": f"linker.ld: the peak + {st['margin_bytes']} B for an exception frame "
                "and the other modes; part of the linked SRAM",
            }
        )
    return rows


def _tradeoff(result: SearchResult, plan: Plan) -> list[dict[str, Any]]:
    """The best feasible raw-window candidate and the best feature candidate, side by side."""
    kinds = {
        r.ref: ("raw" if r.pipeline.features[:1] == ["raw"] else "features") for r in plan.recipes
    }
    best: dict[str, Any] = {}
    order = {n: i for i, n in enumerate(result.ranked)}
    for rec in sorted(
        (r for r in result.trials if r.number in order), key=lambda r: order[r.number]
    ):
        kind = kinds.get(rec.recipe)
        if kind and kind not in best and rec.cost:
            best[kind] = {
                "kind": kind,
                "trial": rec.number,
                "recipe": rec.recipe,
                "cv_score": rec.score,
                **{k: rec.cost[k]["value"] for k in ("flash_bytes", "sram_bytes", "latency_ms")},
            }
    return [best[k] for k in ("raw", "features") if k in best]


def close_calls(
    result: SearchResult,
    trial: int,
    train_windows: int,
    metric: str,
    rejected: Collection[int] = (),
) -> list[dict[str, Any]]:
    """The best raced trial of each other recipe, when its mean accuracy over the race's
    draws is within one training window (``1 / train_windows``) of the chosen trial's:
    models the training data cannot tell apart from the chosen one. Only when the
    chosen trial was raced itself (means compare with means); ``rejected`` trials (over
    a budget once measured) are not named."""
    by = {r.number: r for r in result.trials}
    chosen = by.get(trial)
    if metric != "accuracy" or chosen is None or not chosen.rescores or not train_windows:
        return []
    assert chosen.score is not None
    close: list[dict[str, Any]] = []
    seen = {chosen.recipe}
    for n in result.ranked:  # the race's order: each recipe's best raced trial first
        r = by[n]
        if not r.rescores or r.score is None or n in rejected or r.recipe in seen:
            continue
        seen.add(r.recipe)
        if abs(r.score - chosen.score) < 1.0 / train_windows:
            close.append({"trial": n, "recipe": r.recipe, "cv_score": r.score})
    return close


def _search_facts(
    result: SearchResult,
    search: Search,
    trial: int,
    train_windows: int,
    metric: str,
    rejected: Collection[int],
) -> dict[str, Any]:
    """The report's ``search`` section: trials, what stopped the search, the choice."""
    return {
        "trials": len(result.trials),
        "feasible": sum(r.feasible for r in result.trials),
        "strategy": search.strategy,
        "objectives": search.objectives,
        "seed": search.seed,
        "best_trial": result.best_trial,
        "chosen_trial": trial,
        "pareto": result.pareto,
        "storage": result.storage.split("://", 1)[0],
        "stopped_by": result.stopped_by,
        "raced": result.raced,
        "race_rounds": result.race_rounds,
        "close_calls": close_calls(result, trial, train_windows, metric, rejected),
        "pruned": sum(r.state == "PRUNED" for r in result.trials),
        "failed": sum(r.state == "FAIL" for r in result.trials),
    }


def build_report(
    plan: Plan,
    ds: Dataset,
    cand: Candidate,
    result: SearchResult,
    trial: int,
    test_score: float,
    test_pred: np.ndarray,
    parity: dict[str, Any],
    cost: Cost,
    measurements: list[dict[str, Any]],
    notes: list[str],
    qemu: dict[str, Any] | None,
    tried: list[dict[str, Any]],
) -> dict[str, Any]:
    """The mapping written as report.json (see the module docstring)."""
    spec = plan.spec.spec
    return {
        "data": {
            "train_windows": len(ds.train.x),
            "test_windows": len(ds.test.x),
            "window_samples": ds.window,
            "stride_samples": ds.stride,
            "rate_hz": ds.rate_hz,
            "channels": ds.channels,
        },
        "data_check": ds.check_json(),
        "breakdown": _breakdown(cand, plan, cost),
        "tradeoff": _tradeoff(result, plan),
        "report_version": REPORT_VERSION,
        "mcuforge_version": __version__,
        "name": spec.name,
        "task": ds.task,
        "spec_sha256": plan.spec.sha256,
        "metric": spec.task.resolved_metric,
        "maximize": spec.task.maximize,
        "score": test_score,
        "cv_score": next((r.score for r in result.trials if r.number == trial), None),
        "test_windows": len(ds.test.x),
        "classes": ds.classes,
        **_quality(ds, cand, test_pred),
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
            "sram_kb": plan.target.sram_kb,
            "flash_kb": plan.target.flash_kb,
            "power": None if plan.target.power is None else plan.target.power.model_dump(),
        },
        "decisions": [
            {"recipe": d.recipe, "chosen": d.chosen, "reason": d.reason} for d in plan.decisions
        ],
        "search": _search_facts(
            result,
            spec.search,
            trial,
            len(ds.train.x),
            spec.task.resolved_metric,
            {int(t["trial"]) for t in tried if t.get("over_budget")},
        ),
        "tried": tried,
        "firmware": _firmware_facts(plan, qemu),
    }


def _firmware_facts(plan: Plan, qemu: dict[str, Any] | None) -> dict[str, Any]:
    """The report's ``firmware``: its template, how to build it, the QEMU run."""
    from .scaffold import build_steps, fits_qemu

    spec = plan.spec.spec
    template = spec.output.firmware
    facts: dict[str, Any] = {"template": template, "qemu": qemu, "dir": "firmware"}
    # the only template with a run-qemu target, and only where the project is linked for
    # the emulated machine by default (a part whose memory map QEMU's does not hold gets
    # the board platform: no run-qemu)
    if template == "cmake-baremetal" and fits_qemu(plan.target, plan.qemu):
        facts["qemu_machine"] = plan.core.qemu_machine
    steps = build_steps(template, plan.target, spec.prefix)
    if steps is not None:
        facts["steps"] = steps
    return facts


def trials_csv(rows: list[dict[str, Any]]) -> str:
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
