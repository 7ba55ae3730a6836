"""Render the report mapping (built by the pipeline) as Markdown."""

from __future__ import annotations

from typing import Any

REPORT_VERSION = 1


def _kb(b: float) -> str:
    return f"{b / 1024:.2f} kB"


def render_markdown(r: dict[str, Any]) -> str:
    """report.md from the report.json mapping."""
    cost, budgets = r["cost"], r["budgets"]
    lines = [
        f"# mcuforge report: {r['name']}",
        "",
        f"- **Target**: {r['target']['name']} ({r['target']['core']}, "
        f"{r['target']['clock_mhz']:g} MHz)",
        f"- **Chosen**: `{r['recipe']}`, {r['model']['family']} "
        f"({', '.join(f'{k} {v}' for k, v in r['model']['size'].items())})",
        f"- **Test {r['metric']}**: {r['score']:.4f} on {r['test_windows']} windows "
        f"(cross-validation on training data: {r['cv_score']:.4f})",
        f"- **C vs Python**: {r['parity']['agree']}/{r['parity']['total']} predictions agree; "
        f"features bit-exact: {'yes' if r['parity']['features_bit_exact'] else 'no'}",
        "",
        "## Cost of features + model",
        "",
        "| | value | budget | source |",
        "| --- | --- | --- | --- |",
        f"| flash | {_kb(cost['flash_bytes']['value'])} | {budgets['flash_kb']:g} kB | "
        f"{cost['flash_bytes']['source']} |",
        f"| SRAM | {_kb(cost['sram_bytes']['value'])} | {budgets['sram_kb']:g} kB | "
        f"{cost['sram_bytes']['source']} |",
        f"| latency | {cost['latency_ms']['value']:.4f} ms | "
        f"{budgets['latency_ms'] if budgets['latency_ms'] is not None else '-'} ms | "
        f"{cost['latency_ms']['source']} |",
        f"| instructions | {cost['instructions']['value']:.0f} | | "
        f"{cost['instructions']['source']} |",
        "",
    ]
    if r.get("measurements"):
        lines += [
            "## Estimated vs measured",
            "",
            "| figure | analytic | measured | source | error |",
            "| --- | --- | --- | --- | --- |",
        ]
        for m in r["measurements"]:
            err = f"{m['error_pct']:+.1f} %" if m["error_pct"] is not None else "-"
            lines.append(
                f"| {m['figure']} | {m['analytic']:.4g} | {m['measured']:.4g} | "
                f"{m['source']} | {err} |"
            )
        lines.append("")
    for note in r.get("notes", []):
        lines.append(f"> {note}")
    if r.get("notes"):
        lines.append("")
    lines += ["## Recipes", ""]
    for d in r["decisions"]:
        mark = "chosen" if d["chosen"] else "rejected"
        lines.append(f"- `{d['recipe']}`: {mark}: {d['reason']}")
    s = r["search"]
    lines += [
        "",
        "## Search",
        "",
        f"{s['trials']} trials ({s['feasible']} within budget), sampler {s['strategy']}, "
        f"seed {s['seed']}; best trial #{s['best_trial']}. Every trial: `trials.csv`.",
        "",
        "## Confusion matrix (test set; rows: truth, columns: prediction)",
        "",
        "| | " + " | ".join(r["classes"]) + " |",
        "| --- " * (len(r["classes"]) + 1) + "|",
    ]
    for name, row in zip(r["classes"], r["confusion"], strict=True):
        lines.append(f"| **{name}** | " + " | ".join(str(v) for v in row) + " |")
    fw = r["firmware"]
    lines += [
        "",
        "## Firmware",
        "",
        f"`firmware/` ({fw['template']}): `cmake -B build && cmake --build build`"
        + (
            f", then `cmake --build build --target run-qemu` ({fw['qemu_machine']})."
            if fw.get("qemu_machine")
            else "."
        ),
    ]
    if fw.get("qemu"):
        q = fw["qemu"]
        lines.append(
            f"In QEMU the firmware classified {q['total']} embedded test windows: "
            f"{q['agree']}/{q['total']} equal to Python."
        )
    lines.append("")
    return "\n".join(lines)
