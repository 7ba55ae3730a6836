"""report.md: the report as Markdown, readable in a git diff and a pull request.

One fact a line or a table row, in a fixed order, no dates: two runs that differ in
one figure differ in one line. Plots are in report.html; here are their tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import _data
from ._facts import firmware_facts
from ._model import (
    AXES,
    COST_KEYS,
    Trial,
    chosen_trial,
    fmt,
    kb,
    maximize,
    md,
    mean_baseline,
    pareto_front,
    read_trials,
    recipe_summary,
    regression_errors,
    score_text,
    search_pareto,
    task_kind,
    worse_than_mean,
)
from ._sections import augment_text, race_text


def render_markdown(r: Mapping[str, Any], trials: Sequence[Mapping[str, Any]] | None = None) -> str:
    """report.md from the report mapping and, when given, the trial rows.

    Args:
        r: The mapping written as report.json (see :func:`mcuforge.report.render_html`
            for the keys).
        trials: Rows of :func:`mcuforge.search.trial_rows` or of trials.csv; they add the
            per-recipe search summary and the Pareto table.

    Returns:
        The Markdown text, ending with a newline.
    """
    ts = read_trials(trials) if trials is not None else None
    lines = _head(r) + _cost(r) + _measurements(r)
    for note in r.get("notes") or []:
        lines.append(f"> {md(note)}")
    if r.get("notes"):
        lines.append("")
    lines += ["## Recipes", ""]
    for d in r["decisions"]:
        mark = "chosen" if d["chosen"] else "rejected"
        lines.append(f"- `{d['recipe']}`: {mark}: {d['reason']}")
    lines += _search(r, ts) + _tradeoff(r) + _quality(r) + _data.markdown(r)
    lines += _breakdown(r) + _stack(r) + _firmware(r)
    return "\n".join(lines)


def _tradeoff(r: Mapping[str, Any]) -> list[str]:
    rows = r.get("tradeoff") or []
    if not rows:
        return []
    lines = [
        "",
        "## Raw window or features",
        "",
        f"| input | trial | recipe | cv {r['metric']} | flash B | SRAM B | latency ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in rows:
        lines.append(
            f"| {t['kind']} | {t['trial']} | `{t['recipe']}` | {t['cv_score']:.4f} | "
            f"{t['flash_bytes']:.0f} | {t['sram_bytes']:.0f} | {t['latency_ms']:.4f} |"
        )
    return [*lines, ""]


def _head(r: Mapping[str, Any]) -> list[str]:
    p = r["parity"]
    lines = [
        f"# mcuforge report: {r['name']}",
        "",
        f"- **Target**: {r['target']['name']} ({r['target']['core']}, "
        f"{r['target']['clock_mhz']:g} MHz)",
        f"- **Task**: {task_kind(r)}",
        f"- **Chosen**: `{r['recipe']}`, {r['model']['family']} "
        f"({', '.join(f'{k} {v}' for k, v in r['model']['size'].items())})",
        f"- **Test {r['metric']}**: {r['score']:.4f} on {r['test_windows']} windows "
        f"(cross-validation on training data: {score_text(r.get('cv_score'))})",
    ]
    if "agree" in p and "total" in p:
        exact = p.get("features_bit_exact")
        lines.append(
            f"- **C vs Python**: {p['agree']}/{p['total']} predictions agree"
            + ("" if exact is None else f"; features bit-exact: {'yes' if exact else 'no'}")
        )
    return [*lines, ""]


def _cost(r: Mapping[str, Any]) -> list[str]:
    cost, budgets = r["cost"], r["budgets"]
    lines = [
        "## Cost of the firmware",
        "",
        "| | value | budget | source |",
        "| --- | --- | --- | --- |",
    ]
    for key in COST_KEYS:
        axis, fig = AXES[key], cost[key]
        b = axis.budget(budgets)
        value = f"{fig['value']:.4f} ms" if key == "latency_ms" else kb(fig["value"])
        budget = "-" if b is None else f"{b:g} {axis.unit}"
        lines.append(f"| {axis.label} | {value} | {budget} | {fig['source']} |")
    if "instructions" in cost:
        fig = cost["instructions"]
        lines.append(f"| instructions | {fig['value']:.0f} | | {fig['source']} |")
    if "energy_uj" in cost:
        fig = cost["energy_uj"]
        lines.append(f"| energy (datasheet estimate) | {fig['value']:.4g} uJ | | {fig['source']} |")
    alone = r.get("cost_model_only") or {}
    for key, label in (("flash_bytes", "flash"), ("sram_bytes", "SRAM")):
        fig = alone.get(key)
        if fig and fig != cost.get(key):
            lines.append(
                f"| {label}, features + model alone | {kb(fig['value'])} | | {fig['source']} |"
            )
    return [*lines, ""]


def _measurements(r: Mapping[str, Any]) -> list[str]:
    if not r.get("measurements"):
        return []
    lines = [
        "## Estimated vs measured",
        "",
        "| figure | analytic | measured | source | error |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m in r["measurements"]:
        err = f"{m['error_pct']:+.1f} %" if m.get("error_pct") is not None else "-"
        lines.append(
            f"| {m['figure']} | {m['analytic']:.4g} | {m['measured']:.4g} | {m['source']} | {err} |"
        )
    return [*lines, ""]


def _search(r: Mapping[str, Any], ts: list[Trial] | None) -> list[str]:
    s = r["search"]
    chosen, up = chosen_trial(r), maximize(r)
    lines = [
        "",
        "## Search",
        "",
        f"{s['trials']} trials ({s['feasible']} within budget"
        + "".join(f", {s[k]} {k}" for k in ("pruned", "failed") if s.get(k))
        + f"), sampler {s['strategy']}, "
        f"seed {s['seed']}"
        + (f", stopped by {s['stopped_by']}" if s.get("stopped_by") else "")
        + f"; best trial #{s['best_trial']}"
        + ("" if chosen == s["best_trial"] else f", chosen trial #{chosen}")
        + ". Every trial: `trials.csv`.",
    ]
    if s.get("raced"):
        lines += ["", race_text(s, r["data"]["train_windows"])]
    if s.get("augment"):
        lines += ["", augment_text(s["augment"], r["metric"])]
    tried = r.get("tried") or []
    if any(t.get("over_budget") for t in tried):
        lines += ["", "Measured in turn until one fitted:", ""]
        for t in tried:
            verdict = "; ".join(t.get("over_budget") or []) or "within every budget"
            lines.append(f"- trial #{t['trial']}: {verdict}")
    if ts is None:
        return lines
    lines += [
        "",
        f"| recipe | trials | within budget | best cv {r['metric']} |",
        "| --- | --- | --- | --- |",
    ]
    for rs in recipe_summary(ts, up):
        lines.append(f"| `{rs.recipe}` | {rs.trials} | {rs.feasible} | {score_text(rs.best)} |")
    fronts: dict[int, list[str]] = {}
    for key in COST_KEYS:
        for t in pareto_front(ts, key, up):
            fronts.setdefault(t.number, []).append(AXES[key].label)
    lines += [
        "",
        "### Pareto set (trials within budget that no other beats on score and every cost; "
        "analytic cost)",
        "",
        f"| trial | recipe | cv {r['metric']} | flash B | SRAM B | latency ms | front of |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in search_pareto(ts, up):
        mark = " (chosen)" if t.number == chosen else ""
        lines.append(
            f"| {t.number}{mark} | `{t.recipe}` | {score_text(t.score)} | "
            f"{fmt(t.cost.get('flash_bytes'))} | {fmt(t.cost.get('sram_bytes'))} | "
            f"{fmt(t.cost.get('latency_ms'))} | {', '.join(fronts.get(t.number, [])) or '-'} |"
        )
    return lines


def _quality(r: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    if "confusion" in r and "classes" in r:
        classes = r["classes"]
        lines += [
            "",
            "## Confusion matrix (test set; rows: truth, columns: prediction)",
            "",
            "| | " + " | ".join(md(c) for c in classes) + " |",
            "| --- " * (len(classes) + 1) + "|",
        ]
        for name, row in zip(classes, r["confusion"], strict=True):
            lines.append(f"| **{md(name)}** | " + " | ".join(str(v) for v in row) + " |")
    if "regression" in r:
        e = regression_errors(r["regression"])
        lines += [
            "",
            "## Regression (test set)",
            "",
            f"MAE {fmt(e['mae'])}, RMSE {fmt(e['rmse'])}, largest error {fmt(e['max_abs'])} "
            f"on {len(r['regression']['y_true'])} windows.",
        ]
        base = mean_baseline(r["regression"])
        if base is not None:
            lines.append(
                f"Predicting the training mean instead: MAE {fmt(base['mae'])}, "
                f"RMSE {fmt(base['rmse'])}."
            )
        warning = worse_than_mean(r)
        if warning:
            lines.append(f"**{warning}**")
    if "roc" in r:
        auc = r["roc"].get("auc")
        lines += ["", "## Anomaly detection (test set)", ""]
        lines.append(f"ROC AUC {auc:.4f}." if auc is not None else "ROC curve in report.html.")
        point = r["roc"].get("operating_point")
        if point:
            lines.append(
                f"Operating point: false-positive rate {fmt(point['fpr'])}, true-positive "
                f"rate {fmt(point['tpr'])}, threshold {fmt(point.get('threshold'))}."
            )
    return lines


def _breakdown(r: Mapping[str, Any]) -> list[str]:
    breakdown = r.get("breakdown")
    if not breakdown:
        return []
    lines = ["", "## Memory breakdown", "", "| memory | part | bytes | source |"]
    lines.append("| --- | --- | --- | --- |")
    for mem, entry in breakdown.items():
        label = "SRAM" if mem == "sram" else mem
        for part, nbytes in entry["parts"].items():
            lines.append(
                f"| {label} | {part} | {float(nbytes):.0f} | {entry.get('source', 'analytic')} |"
            )
    return lines


def _stack(r: Mapping[str, Any]) -> list[str]:
    rows = r.get("stack") or []
    if not rows:
        return []
    lines = ["", "## Stack", "", "| figure | bytes | source | what it covers |"]
    lines.append("| --- | --- | --- | --- |")
    for s in rows:
        lines.append(f"| {s['figure']} | {fmt(s.get('bytes'))} | {s['source']} | {s['covers']} |")
    return lines


def _firmware(r: Mapping[str, Any]) -> list[str]:
    fw = r["firmware"]
    lines = ["", "## Firmware", ""]
    if fw.get("steps"):
        for step in fw["steps"]:
            lines += [f"- {step['what']}:", "", "  ```sh"]
            lines += [f"  {c}" for c in step["commands"]]
            lines += ["  ```", ""]
    else:
        lines.append(
            f"`firmware/` ({fw['template']}): `cmake -B build && cmake --build build`"
            + (
                f", then `cmake --build build --target run-qemu` ({fw['qemu_machine']})."
                if fw.get("qemu_machine")
                else "."
            )
        )
    if fw.get("qemu"):
        q = fw["qemu"]
        lines.append(
            f"In QEMU the firmware ran the model on {q['total']} embedded test windows: "
            f"{q['agree']}/{q['total']} equal to Python."
        )
    lines += [f"{f}" for f in firmware_facts(r)]
    lines.append("")
    return lines


__all__ = ["render_markdown"]
