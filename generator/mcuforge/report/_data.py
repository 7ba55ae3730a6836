"""The report's data section: the split, what each class holds, what the data check found.

Built from the report's ``data_check`` mapping (the shape of ``mcuforge data check
--json``); a report without it (written before it existed) has no such section text
beyond a sentence, and its plots say there is nothing to draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._model import md

#: Held-out names and findings shown in the page (report.json keeps them all).
SHOWN = 30

_HEAD = (
    ("name", "class"),
    ("recordings", "recordings"),
    ("short", "shorter than the window"),
    ("dropped", "dropped"),
    ("padded", "padded"),
    ("resampled", "resampled"),
    ("truncated", "cut"),
    ("train_recordings", "train recordings"),
    ("test_recordings", "test recordings"),
    ("train_windows", "train windows"),
    ("test_windows", "test windows"),
)


def _check(r: Mapping[str, Any]) -> Mapping[str, Any] | None:
    c = r.get("data_check")
    return c if isinstance(c, Mapping) and isinstance(c.get("summary"), Mapping) else None


def classes(r: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The per-class counts (empty for an older report)."""
    c = _check(r)
    return list(c["summary"].get("classes") or []) if c else []


def section(r: Mapping[str, Any]) -> dict[str, Any]:
    """Context of the page's data section: facts, table, findings."""
    c = _check(r)
    if c is None:
        return {"facts": [], "head": [], "rows": [], "findings": [], "more": 0}
    s = c["summary"]
    rows = [dict(x) for x in s.get("classes") or []]
    shown_cols = [
        (k, label)
        for k, label in _HEAD
        if k in ("name", "recordings", "train_windows", "test_windows")
        or any(row.get(k) for row in rows)
    ]
    total = {k: sum(int(row.get(k, 0)) for row in rows) for k, _ in shown_cols[1:]}
    lengths = s.get("lengths") or {}
    facts = [
        (
            "files and recordings",
            f"{s['files']} files, {s['recordings']} {s.get('unit', 'recordings')}",
        ),
        ("window", f"{s['window']} samples, stride {s['stride']}"),
        ("recording lengths", _lengths_text(lengths)),
        ("shorter than the window", s.get("policy", "-")),
    ]
    split = s.get("split")
    if isinstance(split, Mapping):
        facts.append(("split", split["text"]))
        held = list(split.get("held_out") or [])
        if held and split.get("mode") != "subject":
            more = f" and {len(held) - SHOWN} more" if len(held) > SHOWN else ""
            facts.append(("held out for test", ", ".join(held[:SHOWN]) + more))
    found = [f for f in c.get("findings") or [] if f.get("severity") != "info"]
    return {
        "facts": facts,
        "head": [label for _, label in shown_cols],
        "rows": [
            [str(row.get(k, "")) for k, _ in shown_cols]
            for row in [*rows, {"name": "total", **total}]
        ],
        "findings": [_finding(f) for f in found[:SHOWN]],
        "more": max(len(found) - SHOWN, 0),
    }


def _lengths_text(h: Mapping[str, Any]) -> str:
    if not isinstance(h.get("median"), (int, float)):
        return "-"
    if h.get("min") == h.get("max"):
        return f"all {h['min']} samples"
    return f"{h.get('min')} to {h.get('max')} samples (median {h['median']:g})"


def _finding(f: Mapping[str, Any]) -> dict[str, str]:
    where = f.get("file") or ""
    if where and f.get("line"):
        where += f":{f['line']}"
    return {"severity": f["severity"], "check": f["check"], "where": where, "message": f["message"]}


def markdown(r: Mapping[str, Any]) -> list[str]:
    """The data section of report.md."""
    ctx = section(r)
    if not ctx["facts"]:
        return []
    lines = ["", "## Data", ""]
    lines += [f"- **{label}**: {md(value)}" for label, value in ctx["facts"]]
    lines += ["", "| " + " | ".join(ctx["head"]) + " |", "| --- " * len(ctx["head"]) + "|"]
    lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in ctx["rows"]]
    if ctx["findings"]:
        lines += ["", "Data check:", ""]
        lines += [
            f"- {f['severity']}: {md(f['where']) + ': ' if f['where'] else ''}{md(f['message'])}"
            for f in ctx["findings"]
        ]
        if ctx["more"]:
            lines.append(f"- … and {ctx['more']} more in report.json (`data_check`)")
    return lines


def lengths_of(r: Mapping[str, Any]) -> tuple[Sequence[float], Sequence[int], int] | None:
    """Histogram edges and counts of the recording lengths, and the window length."""
    c = _check(r)
    if c is None:
        return None
    s = c["summary"]
    h = s.get("lengths") or {}
    if not h.get("counts") or h.get("min") == h.get("max"):
        return None  # nothing to see: every recording has the same length
    return h["edges"], h["counts"], int(s["window"])
