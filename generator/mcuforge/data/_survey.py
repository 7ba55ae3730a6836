"""The parts of a survey after reading: what the window policy did, the counts per class
and split, and the checks that need the split."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from ..spec import Data, Task
from . import _checks
from ._findings import ClassCount, DataSummary, Finding, SplitInfo

if TYPE_CHECKING:
    from ._dataset import Survey

_DONE = {
    "dropped": "dropped",
    "padded": "padded to one window",
    "resampled": "resampled to one window",
    "truncated": "cut to one window",
}
#: The same, said of many recordings at once.
_DONE_ALL = {
    "dropped": "dropped as shorter than the window",
    "padded": "padded to the window",
    "resampled": "resampled to the window length",
    "truncated": "cut to the window length",
}


def policy_text(data: Data, length: int) -> str:
    """What happens to recordings shorter than the window, in words."""
    w = data.window
    if data.table:
        return "none (a table: every row is one window)"
    pad = "their last sample" if w.pad_with == "edge" else f"{w.pad_with:g}"
    if w.short == "pad":
        return f"padded at the end with {pad} (`short: pad`)"
    if w.short == "whole":
        how = "resampled" if w.fit == "resample" else f"padded with {pad} or cut"
        return f"every recording is one window, {how} to {length} samples (`short: whole`)"
    if w.short == "drop":
        return "dropped (`short: drop`)"
    return (
        f"dropped (`short: auto`: an error above {data.checks.max_dropped:.0%} of the recordings)"
    )


def short_findings(s: Survey, data: Data, task: Task) -> list[Finding]:
    """A note per recording shorter than the window (what the policy did to it), one
    warning with the count per class of those dropped, and the error when ``auto`` would
    drop more than ``checks.max_dropped`` of them (saying which policy to choose)."""
    out: list[Finding] = []
    lost: dict[str, Counter[str]] = {k: Counter() for k in _DONE}
    for r, cut in zip(s.recordings, s.cuts, strict=True):
        if cut.status != "ok":
            lost[cut.status]["all" if task.kind == "regression" else str(r.label)] += 1
        if len(r.samples) >= s.length or data.window.short == "whole":
            continue
        file, line = _checks.place(r)
        last = ""
        if line is None and r.lines is not None:
            line, last = int(r.lines[-1]), " (the last on this line)"
        out.append(
            Finding(
                "info",
                "too_short",
                f"{len(r.samples)} samples{last}, shorter than the window ({s.length}): "
                f"{_DONE[cut.status]}",
                file,
                line,
            )
        )
    for status, per in lost.items():
        if per:
            n = sum(per.values())
            classes = ", ".join(f"{k} {v}" for k, v in sorted(per.items()))
            out.append(
                Finding(
                    "warning" if status == "dropped" else "info",
                    status,
                    f"{n} recording{'s' if n != 1 else ''} {_DONE_ALL[status]} ({classes}); "
                    f"`data.window.short: {data.window.short}`",
                    str(s.root),
                )
            )
    out += _too_many_dropped(s, data, sum(lost["dropped"].values()))
    return out


def _too_many_dropped(s: Survey, data: Data, dropped: int) -> list[Finding]:
    lengths = np.asarray([len(r.samples) for r in s.recordings])
    shape = (
        f"the window is {s.length} samples; the shortest recording has {lengths.min()}, "
        f"the median {np.median(lengths):g}"
    )
    if dropped == len(s.recordings):
        return [
            Finding(
                "error",
                "too_short",
                f"every recording is shorter than the window ({shape}); shorten `data.window` "
                "or set `data.window.short: pad` or `whole`",
                str(s.root),
            )
        ]
    if data.window.short == "auto" and dropped > data.checks.max_dropped * len(s.recordings):
        return [
            Finding(
                "error",
                "too_short",
                f"{dropped} of {len(s.recordings)} recordings ({dropped / len(s.recordings):.0%}) "
                f"are shorter than the window and would be dropped ({shape}); choose "
                "`data.window.short`: `pad` (pad each to one window), `whole` (every recording "
                "one window, resampled to the window length) or `drop` (drop them knowingly), "
                "or shorten the window",
                str(s.root),
            )
        ]
    return []


def summarize(
    s: Survey, data: Data, task: Task, split: SplitInfo | None, policy: str
) -> DataSummary:
    """Counts per class (the recordings' own labels) and split, lengths, the split."""
    names = sorted({"all" if task.kind == "regression" else str(r.label) for r in s.recordings})
    keys = [k for k in ClassCount.__dataclass_fields__ if k != "name"]
    counts: dict[str, dict[str, int]] = {n: dict.fromkeys(keys, 0) for n in names}
    for r, cut, test in zip(s.recordings, s.cuts, s.is_test or [False] * len(s.cuts), strict=True):
        c = counts["all" if task.kind == "regression" else str(r.label)]
        c["recordings"] += 1
        c["short"] += len(r.samples) < s.length
        if cut.status != "ok":
            c[cut.status] += 1
        if cut.n and split is not None:
            side = "test" if test else "train"
            c[f"{side}_recordings"] += 1
            c[f"{side}_windows"] += cut.n
    classes = [ClassCount(n, **counts[n]) for n in names]
    lengths = np.asarray([len(r.samples) for r in s.recordings])
    edges = np.histogram_bin_edges(lengths, bins=min(20, max(1, len(np.unique(lengths)))))
    hist, edges = np.histogram(lengths, bins=edges)
    return DataSummary(
        files=len(s.hashes),
        recordings=len(s.recordings),
        window=s.length,
        stride=s.stride,
        policy=policy,
        classes=classes,
        split=split,
        lengths={
            "min": int(lengths.min()),
            "median": float(np.median(lengths)),
            "max": int(lengths.max()),
            "edges": [float(e) for e in edges],
            "counts": [int(c) for c in hist],
        },
        unit="rows" if data.table else "recordings",
    )


def run_checks(
    s: Survey,
    data: Data,
    task: Task,
    subjects: list[str | None],
    kept: list[int],
    split_done: bool,
) -> list[Finding]:
    """The quality checks, and the structural errors a split can have."""
    recs = s.recordings
    target = data.labels.column if task.kind == "regression" else None
    out = _checks.non_finite(recs, target) + _checks.constant(recs, data.channels, data.table)
    out += _checks.ranges(recs, data) + _checks.timing(recs, data)
    if not split_done or s.summary is None:
        return out
    kept_recs = [recs[i] for i in kept]
    kept_test = [s.is_test[i] for i in kept]
    out += _checks.duplicates(kept_recs, kept_test, data.table, data.checks.allow_copies)
    out += _checks.subject_leak(
        [subjects[i] for i in kept], kept_test, data.split.by, data.split.test_files is not None
    )
    classification = task.kind == "classification"
    folders = {}
    if data.labels.source == "folder":
        folders = {str(r.label): r.path.rsplit("/", 1)[0] for r in recs if "/" in r.path}
    if task.kind != "regression":
        out += _checks.balance(s.summary.classes, data, classification, folders)
    if classification and data.labels.source != "folder":  # folders: a check of their own
        out += _checks.label_case(s.classes, data.labels.source, str(s.root))
    t = s.summary.totals()
    where = str(s.root)
    for side, n in (("train", t.train_windows), ("test", t.test_windows)):
        if not n:
            out.append(
                Finding("error", "split", f"the {side} split is empty; adjust `data.split`", where)
            )
    if classification and t.train_windows:
        train_cls = {s.cls[i] for i in kept if not s.is_test[i]}
        missing = [c for i, c in enumerate(s.classes) if i not in train_cls]
        if missing:
            out.append(
                Finding(
                    "error",
                    "split",
                    f"class {', '.join(missing)} has no training window; give it more "
                    "recordings or change the split",
                    where,
                )
            )
    if task.kind == "anomaly":
        out += _anomaly_sides(s, task, kept, where)
    return out


def _anomaly_sides(s: Survey, task: Task, kept: list[int], where: str) -> list[Finding]:
    """An anomaly task needs normal windows to train on and anomalous ones on both sides
    of the split: cross-validation ranks detectors by how they separate the two, and
    the test score is that separation on held-out recordings (with normal windows only,
    roc_auc is undefined and every other metric is the detector's own threshold)."""
    out: list[Finding] = []
    if not any(s.cls[i] == 0 and not s.is_test[i] for i in kept):
        out.append(Finding("error", "split", "no normal recording in the training split", where))
    normal = ", ".join(task.normal or ["normal"])
    if not any(s.cls[i] == 1 for i in kept):
        out.append(
            Finding(
                "error",
                "labels",
                f"every recording is normal (label {normal}): the search ranks detectors by "
                f"how they tell normal from anomalous windows ({task.resolved_metric}), so it "
                "needs some of both; add recordings of faults under another label (e.g. a "
                "folder `faulty/`), or list fewer labels in `task.normal`",
                where,
            )
        )
        return out
    for side, test in (("training", False), ("test", True)):
        if not any(s.cls[i] == 1 and s.is_test[i] == test for i in kept):
            out.append(
                Finding(
                    "error",
                    "split",
                    f"no anomalous recording in the {side} split ({task.resolved_metric} "
                    "needs normal and anomalous windows on both sides); give it more "
                    "recordings of faults or change `data.split`",
                    where,
                )
            )
    return out
