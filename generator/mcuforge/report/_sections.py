"""What each section of report.html shows: rows and captions built from the report mapping.

Every number is formatted here, so the template only lays out text; every optional key
is looked up with a default, so a report of any task kind or age renders what it has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ._model import (
    AXES,
    COST_KEYS,
    Trial,
    chosen_trial,
    fmt,
    kb,
    maximize,
    pareto_front,
    regression_errors,
    score_text,
    search_pareto,
    task_kind,
)

_FIGURE_LABELS = {
    "flash_bytes": "flash (B)",
    "sram_bytes": "SRAM (B)",
    "latency_ms": "latency (ms)",
    "model_flash_bytes": "flash, features + model alone (B)",
    "model_sram_bytes": "SRAM, features + model alone (B)",
}
_PARITY_LABELS = {
    "features_bit_exact": "features bit-exact",
    "features_max_abs_err": "largest feature difference",
    "outputs_max_abs_err": "largest output difference",
    "outputs_max_rel_err": "largest relative output difference",
    "tolerance": "tolerance allowed",
}
_APP_BUDGETS = (("app_sram_kb", "SRAM"), ("app_flash_kb", "flash"))


def _budget_text(value: float | None, unit: str) -> str:
    return "none" if value is None else f"{value:g} {unit}"


def cards(r: Mapping[str, Any]) -> list[dict[str, str]]:
    cards = [
        {
            "label": f"test {r['metric']}",
            "value": f"{r['score']:.4f}",
            "note": f"cross-validation {score_text(r.get('cv_score'))}",
            "state": "ok",
        }
    ]
    for key in COST_KEYS:
        axis, fig = AXES[key], r["cost"][key]
        budget = axis.budget(r["budgets"])
        shown = axis.shown(float(fig["value"]))
        over = budget is not None and shown > budget
        cards.append(
            {
                "label": axis.label,
                "value": f"{shown:.3g} {axis.unit}" if key == "latency_ms" else kb(fig["value"]),
                "note": f"budget {_budget_text(budget, axis.unit)}, {fig['source']}",
                "state": "over" if over else "ok",
            }
        )
    energy = r["cost"].get("energy_uj")
    if energy:
        cards.append(
            {
                "label": "energy",
                "value": f"{energy['value']:.3g} uJ",
                "note": f"per inference, from datasheet current; {energy['source']} time",
                "state": "ok",
            }
        )
    return cards


def summary(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    t, b, m = r["target"], r["budgets"], r["model"]
    memory = ", ".join(
        f"{t[k]:g} kB {label}"
        for k, label in (("sram_kb", "SRAM"), ("flash_kb", "flash"))
        if k in t
    )
    budgets = ", ".join(f"{a.label} {_budget_text(a.budget(b), a.unit)}" for a in AXES.values())
    app = [f"{b[k]:g} kB {label}" for k, label in _APP_BUDGETS if b.get(k)]
    if app:
        budgets += f" (the rest of the application: {', '.join(app)})"
    direction = "higher" if maximize(r) else "lower"
    rows = [
        ("name", r["name"]),
        ("task", f"{task_kind(r)}, metric {r['metric']} ({direction} is better)"),
        (
            "target",
            f"{t['name']} ({t['core']}, {t['clock_mhz']:g} MHz"
            + (f", {memory})" if memory else ")"),
        ),
        ("budgets (features + model)", budgets),
    ]
    data = r.get("data")
    if isinstance(data, Mapping):
        rows.append(
            ("data", ", ".join(f"{k.replace('_', ' ')} {_plain(v)}" for k, v in data.items()))
        )
    if r.get("classes"):
        rows.append(("classes", ", ".join(str(c) for c in r["classes"])))
    rows += [
        ("test windows", str(r["test_windows"])),
        ("chosen recipe", r["recipe"]),
        ("model", f"{m['family']} ({', '.join(f'{k} {v}' for k, v in m['size'].items())})"),
        ("model parameters", _plain(m.get("params", {}))),
        ("features", _plain(m.get("features", {})) + f" → {m.get('n_features', '?')} values"),
        ("spec sha256", r.get("spec_sha256", "-")),
        (
            "written by",
            f"mcuforge {r.get('mcuforge_version', '?')}, report version "
            f"{r.get('report_version', '?')}",
        ),
    ]
    return rows


def _plain(value: Any) -> str:
    """A JSON-like value as compact text for a table cell."""
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        return ", ".join(_plain(v) for v in value)
    return json.dumps(value, sort_keys=True)


def augment_text(a: Mapping[str, Any], metric: str) -> str:
    """One sentence: the chosen candidate's CV score with and without its augmentation."""
    params = ", ".join(f"{k} {v:g}" for k, v in a["params"].items())
    return (
        f"Training windows augmented ({params}): cv {metric} {a['cv_with']:.3f} with, "
        f"{a['cv_without']:.3f} without (the chosen candidate, same folds)."
    )


def search_text(r: Mapping[str, Any], ts: Sequence[Trial]) -> str:
    s = r["search"]
    failed = sum(t.score is None for t in ts)
    objectives = s.get("objectives") or ["score"]
    chosen = chosen_trial(r)
    text = (
        f"{s['trials']} trials, {s['feasible']} within every budget"
        + (f", {failed} failed or pruned" if failed else "")
        + f"; sampler {s['strategy']}, seed {s['seed']}"
        + (f", storage {s['storage']}" if s.get("storage") else "")
        + (f"; objectives: {', '.join(objectives)}" if len(objectives) > 1 else "")
        + (f"; stopped by {s['stopped_by']}" if s.get("stopped_by") else "")
        + f". Chosen: trial #{chosen}"
    )
    if s.get("best_trial") is not None and s["best_trial"] != chosen:
        text += (
            f" (the best trial, #{s['best_trial']}, broke a budget once measured: see "
            "Estimated and measured cost)"
        )
    if s.get("augment"):
        text += ". " + augment_text(s["augment"], r["metric"]).rstrip(".")
    return text + ". Costs of trials are the search's analytic estimates."


def trial_row(t: Trial) -> dict[str, Any]:
    return {
        "number": t.number,
        "recipe": t.recipe,
        "state": t.state,
        "score": score_text(t.score),
        "score_sort": "" if t.score is None else repr(t.score),
        "feasible": t.feasible,
        "flash": fmt(t.cost.get("flash_bytes")),
        "sram": fmt(t.cost.get("sram_bytes")),
        "latency": fmt(t.cost.get("latency_ms")),
        "params": t.params,
    }


def pareto_rows(ts: Sequence[Trial], chosen: int | None, up: bool) -> list[dict[str, Any]]:
    fronts: dict[int, list[str]] = {}
    for key in COST_KEYS:
        for t in pareto_front(ts, key, up):
            fronts.setdefault(t.number, []).append(AXES[key].label)
    return [
        {
            **trial_row(t),
            "fronts": ", ".join(fronts.get(t.number, [])) or "-",
            "chosen": t.number == chosen,
        }
        for t in search_pareto(ts, up)
    ]


def tried(r: Mapping[str, Any]) -> list[dict[str, str]]:
    """The candidates measured in turn (``tried``), when more than the chosen one was."""
    tried = r.get("tried") or []
    if len(tried) < 2 and not any(t.get("over_budget") for t in tried):
        return []
    rows = []
    for t in tried:
        c = t.get("cost", {})
        rows.append(
            {
                "trial": str(t["trial"]),
                "flash": fmt(c.get("flash_bytes", {}).get("value")),
                "sram": fmt(c.get("sram_bytes", {}).get("value")),
                "latency": fmt(c.get("latency_ms", {}).get("value")),
                "verdict": "; ".join(t.get("over_budget") or []) or "within every budget",
            }
        )
    return rows


def quality(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One block per evaluation the report holds: plot key, title and caption."""
    blocks = []
    if "confusion" in r and "classes" in r:
        blocks.append(
            {
                "plot": "confusion",
                "title": "Confusion matrix",
                "caption": f"Test set, {r['test_windows']} windows: rows are the true "
                f"class, columns the prediction. Test {r['metric']} {r['score']:.4f}.",
            }
        )
    if "regression" in r:
        e = regression_errors(r["regression"])
        blocks.append(
            {
                "plot": "residuals",
                "title": "Residuals",
                "caption": f"Test set: MAE {fmt(e['mae'])}, RMSE {fmt(e['rmse'])}, largest "
                f"error {fmt(e['max_abs'])}; test {r['metric']} {fmt(r['score'])}.",
            }
        )
    if "roc" in r:
        auc = r["roc"].get("auc")
        blocks.append(
            {
                "plot": "roc",
                "title": "ROC curve",
                "caption": "Test set, anomaly score against the true labels"
                + (f": AUC {auc:.4f}." if auc is not None else "."),
            }
        )
    return blocks


def memory(
    r: Mapping[str, Any],
) -> tuple[
    dict[str, dict[str, float]],
    dict[str, Mapping[str, Any]],
    dict[str, float],
    list[dict[str, str]],
]:
    """Parts per memory (the breakdown, or the total alone), totals, budgets, table rows."""
    breakdown = r.get("breakdown") or {}
    parts: dict[str, dict[str, float]] = {}
    totals: dict[str, Mapping[str, Any]] = {}
    budgets: dict[str, float] = {}
    rows: list[dict[str, str]] = []
    for mem, key in (("flash", "flash_bytes"), ("sram", "sram_bytes")):
        total = r["cost"][key]
        budget = AXES[key].budget(r["budgets"])
        if budget is not None:
            budgets[mem] = budget
        entry = breakdown.get(mem)
        if entry:
            parts[mem] = {k: float(v) for k, v in entry["parts"].items()}
            totals[mem] = total
            source = entry.get("source", "analytic")
        else:
            parts[mem] = {"total": float(total["value"])}
            source = total["source"]
        label = "SRAM" if mem == "sram" else mem
        for part, nbytes in parts[mem].items():
            rows.append(
                {
                    "memory": label,
                    "part": part,
                    "bytes": f"{nbytes:.0f}",
                    "share": "-" if not budget else f"{100 * nbytes / (budget * 1024):.1f} %",
                    "source": source,
                }
            )
        if entry:
            rows.append(
                {
                    "memory": label,
                    "part": "total",
                    "bytes": f"{float(total['value']):.0f}",
                    "share": "-"
                    if not budget
                    else f"{100 * float(total['value']) / (budget * 1024):.1f} %",
                    "source": total["source"],
                }
            )
    return parts, totals, budgets, rows


def cost_rows(r: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key in (*COST_KEYS, "instructions"):
        fig = r["cost"].get(key)
        if fig is None:
            continue
        if key in AXES:
            axis = AXES[key]
            value = f"{fig['value']:.4g} ms" if key == "latency_ms" else f"{fig['value']:.0f} B"
            budget = _budget_text(axis.budget(r["budgets"]), axis.unit)
            label = axis.label
        else:
            value, budget, label = f"{fig['value']:.0f}", "", key
        rows.append({"figure": label, "value": value, "budget": budget, "source": fig["source"]})
    energy = r["cost"].get("energy_uj")
    if energy:
        rows.append(
            {
                "figure": "energy per inference (estimate: time x datasheet current x voltage)",
                "value": f"{energy['value']:.4g} uJ",
                "budget": "",
                "source": energy["source"],
            }
        )
    alone = r.get("cost_model_only") or {}
    for key, label in (("flash_bytes", "flash"), ("sram_bytes", "SRAM")):
        fig = alone.get(key)
        if fig and fig != r["cost"].get(key):
            rows.append(
                {
                    "figure": f"{label}, features + model alone",
                    "value": f"{fig['value']:.0f} B",
                    "budget": "",
                    "source": fig["source"],
                }
            )
    return rows


def measurements(r: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "figure": _FIGURE_LABELS.get(m["figure"], m["figure"].replace("_", " ")),
            "analytic": fmt(m["analytic"]),
            "measured": fmt(m["measured"]),
            "source": m["source"],
            "error": "-" if m.get("error_pct") is None else f"{m['error_pct']:+.1f} %",
        }
        for m in r.get("measurements") or []
    ]


def parity(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    p = dict(r["parity"])
    rows = []
    if "agree" in p and "total" in p:
        rows.append(("C output equal to Python", f"{p.pop('agree')}/{p.pop('total')} test windows"))
    for k, v in p.items():
        rows.append((_PARITY_LABELS.get(k, k.replace("_", " ")), fmt(v)))
    q = r["firmware"].get("qemu")
    if q:
        extra = ", ".join(
            f"{k.replace('_', ' ')} {q[k]}"
            for k in ("instructions", "stack_bytes", "stack_peak_bytes", "stack_size_bytes")
            if k in q
        )
        rows.append(
            (
                f"firmware in QEMU ({q.get('machine', '?')})",
                f"{q['agree']}/{q['total']} embedded test windows equal to Python"
                + (f"; {extra}" if extra else ""),
            )
        )
    return rows


def steps(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``firmware.steps`` when the report has them; else the cmake-baremetal commands."""
    fw = r["firmware"]
    if fw.get("steps"):
        return [dict(s) for s in fw["steps"]]
    steps: list[dict[str, Any]] = [
        {
            "what": f"Build for the target ({fw['template']})",
            "commands": [
                f"cd {fw.get('dir', 'firmware')}",
                "cmake -B build",
                "cmake --build build",
            ],
        }
    ]
    if fw.get("qemu_machine"):
        steps.append(
            {
                "what": f"Run in QEMU ({fw['qemu_machine']}): prints every prediction, "
                "cycles and stack use",
                "commands": ["cmake --build build --target run-qemu"],
            }
        )
    steps.append(
        {
            "what": f"Build for a real board, then flash build-board/{r['name']}.hex (or .elf, "
            ".bin) with the board's tool (pyOCD, OpenOCD, J-Link, nrfjprog...); "
            "firmware/README.md says how the board reports its results",
            "commands": [
                "cmake -B build-board -DMCUFORGE_PLATFORM=board",
                "cmake --build build-board",
            ],
        }
    )
    return steps


__all__ = [
    "augment_text",
    "cards",
    "cost_rows",
    "measurements",
    "memory",
    "pareto_rows",
    "parity",
    "quality",
    "search_text",
    "steps",
    "summary",
    "trial_row",
    "tried",
]
