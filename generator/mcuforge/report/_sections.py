"""What each section of report.html shows: rows and captions built from the report mapping.

This module has the summary and the search; :mod:`._chosen` the chosen model's quality,
memory, cost, C parity and firmware steps. Every number is formatted here, so the
template only lays out text; every optional key is looked up with a default, so a report
of any task kind or age renders what it has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ._model import (
    AXES,
    COST_KEYS,
    Trial,
    budget_text,
    chosen_trial,
    fmt,
    kb,
    maximize,
    pareto_front,
    score_text,
    search_pareto,
    task_kind,
)

_APP_BUDGETS = (("app_sram_kb", "SRAM"), ("app_flash_kb", "flash"))


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
                "note": f"budget {budget_text(budget, axis.unit)}, {fig['source']}",
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
    budgets = ", ".join(f"{a.label} {budget_text(a.budget(b), a.unit)}" for a in AXES.values())
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
        ("budgets (the whole firmware)", budgets),
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


def race_text(s: Mapping[str, Any], train_windows: int = 0) -> str:
    """The sentences on the re-scoring of the best configurations (search.rescore_top)
    and on the models it could not tell apart from the chosen one."""
    text = (
        f"The best {s['raced']} configurations were cross-validated again on "
        f"{s['race_rounds']} other fold draw(s), the worse half dropped each round; the "
        "choice and their cross-validation scores are the means over every draw."
    )
    close = close_text(s.get("close_calls") or [], train_windows)
    return f"{text} {close}" if close else text


def close_text(close: Sequence[Mapping[str, Any]], train_windows: int) -> str:
    """The sentences on the raced models within one training window of the chosen one
    (``search.close_calls``); empty when there are none."""
    if not close or not train_windows:
        return ""
    others = ", ".join(f"{c['recipe']} (#{c['trial']}, {c['cv_score']:.3f})" for c in close)
    return (
        f"Within one training window (1/{train_windows} = {1 / train_windows:.3f}) of "
        f"the chosen model's mean: {others}. The training data cannot tell these "
        "models apart, and new data may rank them otherwise; more recordings would decide."
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
    if s.get("raced"):
        text += ". " + race_text(s, r["data"]["train_windows"]).rstrip(".")
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


__all__ = [
    "augment_text",
    "cards",
    "close_text",
    "pareto_rows",
    "race_text",
    "search_text",
    "summary",
    "trial_row",
    "tried",
]
