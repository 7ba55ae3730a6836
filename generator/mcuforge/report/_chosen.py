"""The sections of report.html about the chosen model: its quality on the test set, its
memory and cost against the budgets, C against Python, and how to build its firmware.

Like :mod:`._sections`: every number is formatted here, every optional key is looked up
with a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._model import (
    AXES,
    COST_KEYS,
    budget_text,
    fmt,
    mean_baseline,
    regression_errors,
    worse_than_mean,
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
                f"error {fmt(e['max_abs'])}; test {r['metric']} {fmt(r['score'])}."
                + (
                    f" Predicting the training mean instead: MAE {fmt(base['mae'])}, "
                    f"RMSE {fmt(base['rmse'])}."
                    if (base := mean_baseline(r["regression"]))
                    else ""
                )
                + (f" {warning}" if (warning := worse_than_mean(r)) else ""),
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
            budget = budget_text(axis.budget(r["budgets"]), axis.unit)
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


__all__ = ["cost_rows", "measurements", "memory", "parity", "quality", "steps"]
