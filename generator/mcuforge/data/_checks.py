"""Data quality checks: each takes the recordings (and what the split made of them) and
returns findings, located at the file and line where there is one.

Errors (they stop ``generate``): cells that are not finite numbers, and the same
recording in train and test. Warnings: constant channels, values outside the unit's
usual range, gaps, rate jitter or another rate in a time column, time going
backwards, duplicate recordings, too few recordings in a class, imbalance, a class
with no test window. Thresholds are ``data.checks`` in the spec.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ..spec import Data, default_range
from ._csv import POINT_IN_COMMA_FILE, Recording
from ._files import DECIMAL_COMMA, MISSING
from ._findings import ClassCount, Finding

_TIME_SCALE = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def place(r: Recording) -> tuple[str, int | None]:
    """Where a recording is: its name, or a table row's file and line."""
    if r.source and r.file.startswith(f"{r.source}:") and r.lines is not None:
        return r.source, int(r.lines[0])
    return r.file, None


def _where(r: Recording, index: int, column: int | None = None) -> int | None:
    """The CSV line of sample ``index`` of ``r`` (of its value in ``column`` when a long
    layout has a line per value), when it came from a CSV file."""
    if column is not None and r.cell_lines is not None and index < len(r.cell_lines):
        return int(r.cell_lines[index, column])
    return int(r.lines[index]) if r.lines is not None and index < len(r.lines) else None


#: Lines of bad cells a message lists (then the count).
LISTED_LINES = 10


def non_finite(recordings: Sequence[Recording], target: str | None = None) -> list[Finding]:
    """Cells that are not numbers or not finite: one error per file, at the first one
    (``target``: the regression target's column, where text means another task)."""
    by_file: dict[str, list[Recording]] = defaultdict(list)
    for r in recordings:
        if r.n_bad:
            by_file[r.path].append(r)
    out = []
    for path, recs in by_file.items():
        cells = [c for r in recs for c in r.bad]
        total = sum(r.n_bad for r in recs)
        first = cells[0]
        more = ""
        if total > 1:
            lines = sorted({c.line for c in cells if c.line is not None})
            cut = total > len(cells) or len(lines) > LISTED_LINES
            listed = ", ".join(map(str, lines[:LISTED_LINES])) + (", …" if cut else "")
            at = f", line{'s' if len(lines) > 1 else ''} {listed}" if lines else ""
            more = f" ({total} bad cells in this file{at})"
        out.append(
            Finding(
                "error",
                "non_finite",
                f"{first.describe()}{more}; "
                + (
                    "remove or interpolate NaN/inf samples"
                    if first.reason == "is not finite"
                    else "write every number in the file with a decimal comma, or remove "
                    "`data.csv.decimal` if the file's numbers are written with points (a "
                    "point between groups of three digits, `1.234,5`, is read as a "
                    "thousands separator)"
                    if first.reason == POINT_IN_COMMA_FILE
                    else "an empty cell: fill it in, or remove the row"
                    if not first.text.strip()
                    else "a missing value: fill it in (e.g. interpolate), or remove the row"
                    if first.text.strip().lower() in MISSING
                    else "a decimal comma: set `data.csv.decimal: ','` (with "
                    "`csv.delimiter`, e.g. `;`), or export the file with `.` as the decimal "
                    "separator"
                    if DECIMAL_COMMA.fullmatch(first.text.strip())
                    else f"`task.kind: regression` reads column {target!r} as a number per "
                    "sample; for classes written as words use `task.kind: classification` "
                    "(or `anomaly`)"
                    if target is not None and first.column == target
                    else "write numbers only in data columns (a header is the first line "
                    "only; remove text, units or thousands separators from the cells)"
                ),
                path,
                first.line,
            )
        )
    return out


def label_case(classes: Sequence[str], source: str, where: str) -> list[Finding]:
    """Class labels that differ only in case or surrounding spaces (``Walk``, ``walk``):
    two classes to the model, most likely one to the person who labelled the data."""
    groups: dict[str, list[str]] = defaultdict(list)
    for c in classes:
        groups[c.strip().lower()].append(c)
    what = "column" if source == "column" else "file names"
    return [
        Finding(
            "warning",
            "labels",
            f"labels {', '.join(map(repr, sorted(names)))} (from the {what}) differ only in "
            "case or spaces: they are different classes; write them one way if they are one",
            where,
        )
        for names in groups.values()
        if len(names) > 1
    ]


def constant(recordings: Sequence[Recording], channels: list[str], table: bool) -> list[Finding]:
    """Channels that never change within a recording (a dead sensor, a wrong column)."""
    if table:  # per column of each table
        groups: dict[str, list[np.ndarray]] = defaultdict(list)
        for r in recordings:
            groups[r.path].append(r.samples)
        return [
            Finding(
                "warning",
                "constant",
                f"column {channels[c]!r} has the same value in every row",
                path,
            )
            for path, parts in groups.items()
            if len(parts) > 1
            for c in np.flatnonzero(np.ptp(np.concatenate(parts), axis=0) == 0)
        ]
    flat: dict[int, list[Recording]] = defaultdict(list)
    for r in recordings:
        if len(r.samples) < 2 or r.n_bad:
            continue
        for c in np.flatnonzero(np.ptp(r.samples, axis=0) == 0):
            flat[int(c)].append(r)
    out = []
    for ch, recs in sorted(flat.items()):
        if len(recs) == len(recordings) and len(recs) > 1:
            out.append(
                Finding(
                    "warning",
                    "constant",
                    f"channel {channels[ch]!r} is constant in every recording (a dead sensor "
                    "or a wrong column?)",
                )
            )
            continue
        for r in recs:
            out.append(
                Finding(
                    "warning",
                    "constant",
                    f"channel {channels[ch]!r} is constant ({r.samples[0, ch]:g}) over all "
                    f"{len(r.samples)} samples",
                    r.file,
                )
            )
    return out


def ranges(recordings: Sequence[Recording], data: Data) -> list[Finding]:
    """Values outside the expected range of their channel (``checks.ranges`` or the unit)."""
    limits: list[tuple[int, str, float, float, str]] = []
    c = 0
    for s in data.sensors:
        for ch in s.channels:
            given = data.checks.ranges.get(ch) or data.checks.ranges.get(s.name)
            rng = given or default_range(s.unit)
            if rng is not None:
                why = "`data.checks.ranges`" if given else f"the usual range of {s.unit}"
                limits.append((c, ch, rng[0], rng[1], why))
            c += 1
    if not limits:
        return []
    idx = [c for c, *_ in limits]
    lo = np.asarray([lim[2] for lim in limits], dtype=np.float32)
    hi = np.asarray([lim[3] for lim in limits], dtype=np.float32)
    first: list[tuple[Recording, int] | None] = [None] * len(limits)
    count = np.zeros(len(limits), dtype=np.int64)
    files = np.zeros(len(limits), dtype=np.int64)
    for r in recordings:
        v = r.samples[:, idx]
        outside = (v < lo) | (v > hi)
        if not outside.any():
            continue
        n = outside.sum(axis=0)
        count += n
        files += n > 0
        for j in np.flatnonzero(n):
            if first[j] is None:
                first[j] = (r, int(np.argmax(outside[:, j])))
    out = []
    for k, (col, ch, low, high, why) in enumerate(limits):
        hit = first[k]
        if hit is None:
            continue
        r, at = hit
        out.append(
            Finding(
                "warning",
                "range",
                f"channel {ch!r}: {float(r.samples[at, col]):g} is outside [{low:g}, {high:g}] "
                f"({why}); {count[k]} such value{'s' if count[k] != 1 else ''} in "
                f"{files[k]} recording"
                f"{'s' if files[k] != 1 else ''} (another unit, or a sensor saturating?)",
                r.path,
                _where(r, at, col),
            )
        )
    return out


def timing(recordings: Sequence[Recording], data: Data) -> list[Finding]:
    """Gaps, jitter, time going backwards and another rate, from the time column."""
    checks = data.checks
    scale = _TIME_SCALE[data.csv.time_unit]
    out = []
    for r in recordings:
        if r.times is None or len(r.times) < 3 or r.n_bad:
            continue
        dt = np.diff(r.times) * scale
        back = np.flatnonzero(dt <= 0)
        if len(back):
            out.append(
                Finding(
                    "warning",
                    "time_order",
                    f"time stamp does not increase ({len(back)} times in this file)",
                    r.path,
                    _where(r, int(back[0]) + 1),
                )
            )
            continue
        median = _typical(dt)
        gaps = np.flatnonzero(dt > checks.gap * median)
        if len(gaps):
            big = int(gaps[np.argmax(dt[gaps])])
            out.append(
                Finding(
                    "warning",
                    "gap",
                    f"a gap of {dt[big]:.4g} s before this sample ({dt[big] / median:.1f} "
                    f"typical intervals); {len(gaps)} gap{'s' if len(gaps) != 1 else ''} "
                    f"longer than {checks.gap:g} intervals in this file",
                    r.path,
                    _where(r, big + 1),
                )
            )
        steady = np.delete(dt, gaps)
        mean = float(steady.mean()) if len(steady) else median
        deviation = np.abs(dt - mean) / mean
        deviation[gaps] = 0.0
        worst = int(np.argmax(deviation))
        if deviation[worst] > checks.max_jitter:
            out.append(
                Finding(
                    "warning",
                    "jitter",
                    f"the sample interval deviates by up to {deviation[worst]:.0%} from its "
                    f"mean ({mean:.4g} s; `checks.max_jitter` {checks.max_jitter:.0%}), "
                    f"here {dt[worst]:.4g} s",
                    r.path,
                    _where(r, worst + 1),
                )
            )
        rate = 1.0 / mean
        if abs(rate - data.rate_hz) > checks.rate_tolerance * data.rate_hz:
            out.append(
                Finding(
                    "warning",
                    "rate",
                    f"sampled at {rate:.4g} Hz (mean interval of column "
                    f"{data.csv.time_column!r}), but `rate_hz` is {data.rate_hz:g}",
                    r.path,
                )
            )
    return out


def _typical(dt: np.ndarray) -> float:
    """The typical sample interval: the mean of the middle half of the intervals (robust
    to gaps, and to a clock alternating between two intervals, where a median is not)."""
    lo, hi = np.percentile(dt, [25, 75])
    middle = dt[(dt >= lo) & (dt <= hi)]
    return float(middle.mean()) if len(middle) else float(np.median(dt))


def _digest(r: Recording) -> str:
    h = hashlib.sha256(str(r.samples.shape).encode())
    h.update(np.ascontiguousarray(r.samples).tobytes())
    return h.hexdigest()


def duplicates(
    recordings: Sequence[Recording], is_test: Sequence[bool], table: bool, allow: bool = False
) -> list[Finding]:
    """Recordings with the same samples; across train and test it is leakage (an error,
    unless the recording is constant: silent recordings are alike by nature). Table rows
    count only across the split (repeated rows are common in tables)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(recordings):
        groups[_digest(r)].append(i)
    out = []
    leaked_rows: list[tuple[int, int]] = []
    for idx in groups.values():
        if len(idx) < 2:
            continue
        sides = {bool(is_test[i]) for i in idx}
        recs = [recordings[i] for i in idx]
        if table:
            if len(sides) == 2:
                first_test = next(i for i in idx if is_test[i])
                first_train = next(i for i in idx if not is_test[i])
                leaked_rows.append((first_train, first_test))
            continue
        names = ", ".join(r.file for r in recs[1:4]) + (", …" if len(recs) > 4 else "")
        labels = sorted({str(r.label) for r in recs})
        differ = f" with different labels ({', '.join(labels)})" if len(labels) > 1 else ""
        flat = bool((np.ptp(recs[0].samples, axis=0) == 0).all()) if len(recs[0].samples) else True
        if len(sides) == 2 and not flat:
            train = next(r for r, i in zip(recs, idx, strict=True) if not is_test[i])
            tested = [r.file for r, i in zip(recs, idx, strict=True) if is_test[i]]
            out.append(
                Finding(
                    "warning" if allow else "error",
                    "leakage",
                    f"a training recording whose samples are also in the test set as "
                    f"{', '.join(tested[:3])}{differ}: the test score would be too good; "
                    "remove the copy" + (" (accepted: `checks.allow_copies`)" if allow else ""),
                    train.file,
                )
            )
        else:
            out.append(
                Finding(
                    "warning", "duplicate", f"the same samples as {names}{differ}", recs[0].file
                )
            )
    if leaked_rows:
        row_train, row_test = leaked_rows[0]
        out.append(
            Finding(
                "warning",
                "leakage",
                f"{len(leaked_rows)} rows of the test set repeat a training row, e.g. "
                f"{recordings[row_test].file} repeats this one",
                *place(recordings[row_train]),
            )
        )
    return out


def subject_leak(
    subjects: Sequence[str | None], is_test: Sequence[bool], by: str, by_files: bool = False
) -> list[Finding]:
    """Subjects with recordings on both sides of a split by file: a warning; an error
    when the spec asks for a split by subject but ``test_files`` chose the files."""
    if by == "subject" and not by_files:
        return []
    train = {s for s, t in zip(subjects, is_test, strict=True) if s is not None and not t}
    test = {s for s, t in zip(subjects, is_test, strict=True) if s is not None and t}
    both = sorted(train & test)
    if not both:
        return []
    if by == "subject":
        return [
            Finding(
                "error",
                "leakage",
                f"`split.test_files` chooses the test files, so `by: subject` does not hold: "
                f"{len(both)} subject{'s are' if len(both) != 1 else ' is'} in both train "
                f"and test ({', '.join(both[:5])}); drop `test_files` to split by subject, "
                "or hold out every file of a subject",
            )
        ]
    return [
        Finding(
            "warning",
            "leakage",
            f"{len(both)} subject{'s are' if len(both) != 1 else ' is'} in both train and test "
            f"({', '.join(both[:5])}); the test score may flatter a new user: "
            "`split: {by: subject}` keeps each subject on one side",
        )
    ]


def balance(
    counts: Sequence[ClassCount], data: Data, classification: bool, folders: dict[str, str]
) -> list[Finding]:
    """Classes with too few recordings, imbalance of windows, classes without a test window;
    located at the class folder (``folders``) when labels come from folders."""
    if not counts:
        return []
    checks = data.checks
    out = []
    if not data.table:
        for c in counts:
            if 0 < c.recordings < checks.min_recordings:
                out.append(
                    Finding(
                        "warning",
                        "few_recordings",
                        f"class {c.name!r} has {c.recordings} recording"
                        f"{'s' if c.recordings != 1 else ''} (`checks.min_recordings` "
                        f"{checks.min_recordings}): too few for a test and cross-validation",
                        folders.get(c.name),
                    )
                )
    windows = {c.name: c.train_windows + c.test_windows for c in counts}
    kept = {k: v for k, v in windows.items() if v}
    # anomalies are rare by nature (the metric, ROC AUC, does not count them); for classes
    # the advice is a metric that weighs each class alike
    if len(kept) >= 2 and classification:
        most, fewest = max(kept, key=lambda k: kept[k]), min(kept, key=lambda k: kept[k])
        if kept[most] > checks.max_imbalance * kept[fewest]:
            out.append(
                Finding(
                    "warning",
                    "imbalance",
                    f"class {most!r} has {kept[most]} windows, {kept[most] / kept[fewest]:.1f} "
                    f"times the {kept[fewest]} of {fewest!r} (`checks.max_imbalance` "
                    f"{checks.max_imbalance:g}); consider `task.metric: balanced_accuracy`",
                )
            )
    if classification:
        for c in counts:
            if c.train_windows and not c.test_windows:
                out.append(
                    Finding(
                        "warning",
                        "no_test",
                        f"class {c.name!r} has no test window: its test score is unknown",
                        folders.get(c.name),
                    )
                )
    return out
