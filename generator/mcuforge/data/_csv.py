"""CSV recordings: one file per recording (wide or long layout), one run of rows with
one label per recording (segments layout), or one row per example (table layout); a
header row in every file.

Cells are converted to numbers a chunk of rows at a time (float64, as Python parses
them, stored as float32 like the windows; with ``csv.decimal: ','`` as the file writes
them: ``-0,5``, ``1.234,5``). A cell that is not a number, or not finite,
does not stop the reading: it becomes NaN and a :class:`BadCell` with its line, so the
data check can report every bad cell of every file; loading refuses the data after the
check. Structural problems (missing columns, another number of columns, two labels in
one recording) raise :class:`FileProblem` at their line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from ..spec import CsvOptions
from ._files import CsvRows, comma_number
from ._findings import FileProblem

#: What to fix when a wide or segments file lacks a column the spec names.
_WIDE_FIX = "Fix `data.sensors[].channels` (or the label/subject/time column) or the file."


def _fields(
    channels: list[str], options: CsvOptions, label: str | None, subject: str | None
) -> dict[str, str]:
    """The spec field each column a file must have comes from (said when it is missing)."""
    named = {c: "data.sensors[].channels" for c in channels}
    if options.layout == "long":
        named[options.channel_column] = "data.csv.channel_column"
        named[options.value_column] = "data.csv.value_column"
    if options.time_column:
        named[options.time_column] = "data.csv.time_column"
    if subject:
        named[subject] = "data.split.subject_column"
    if label:
        named[label] = "data.labels.column"
    return named


#: Bad cells a recording keeps (the count goes on).
KEEP_BAD = 5


@dataclass(frozen=True)
class BadCell:
    """A cell (or sample) that is not a number or not finite."""

    line: int | None
    column: str
    text: str
    reason: str  # "is not a number" | "is not finite" | POINT_IN_COMMA_FILE
    sample: int | None = None  # NPZ/WAV: the sample index (no line)

    def describe(self) -> str:
        where = f"sample {self.sample}, " if self.sample is not None else ""
        return f"{where}column {self.column!r}: {self.text!r} {self.reason}"


@dataclass(frozen=True)
class Recording:
    """One recording in spec channel order, with what is known about it."""

    file: str  # name: path relative to the data folder (+ `#i` in an NPZ, `:LINE` a table row)
    label: str | None  # class label (classification, anomaly)
    samples: np.ndarray  # float32 (time, channels); NaN where a cell was bad
    targets: np.ndarray | None = None  # float64 (time,): regression target per sample
    subject: str | None = None
    source: str = ""  # the file it is read from, relative to the data folder ("" = file)
    lines: np.ndarray | None = None  # int32 (time,): CSV line of each sample
    #: int64 (time, channels): the line of each value, where a sample spans lines (long)
    cell_lines: np.ndarray | None = None
    times: np.ndarray | None = None  # float64 (time,): the time column
    bad: tuple[BadCell, ...] = ()  # the first bad cells
    n_bad: int = 0  # how many bad cells in all

    @property
    def path(self) -> str:
        """The file this recording is read from, relative to the data folder."""
        return self.source or self.file


def _parses(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Growing:
    """Rows appended chunk by chunk into one array, grown by half when full: no list of
    parts to concatenate (which would hold the data twice)."""

    def __init__(self, width: int, dtype: type[np.generic]) -> None:
        self.buf = np.empty((0, width), dtype=dtype)
        self.n = 0

    def add(self, block: np.ndarray, expected_more: int) -> None:
        need = self.n + len(block)
        if need > len(self.buf):
            grown = np.empty(
                (max(need + expected_more, len(self.buf) * 3 // 2), self.buf.shape[1]),
                self.buf.dtype,
            )
            grown[: self.n] = self.buf[: self.n]
            self.buf = grown
        self.buf[self.n : need] = block.reshape(len(block), -1)
        self.n = need

    def array(self) -> np.ndarray:
        """The rows (a copy when the buffer is much larger, else a view)."""
        part = self.buf[: self.n]
        return part.copy() if len(self.buf) > self.n * 1.1 + 16 else part


@dataclass
class _Bad:
    cells: list[BadCell] = field(default_factory=list)
    count: int = 0


#: Why a number written with a decimal point is a bad cell in a file read with a comma.
POINT_IN_COMMA_FILE = "has a decimal point (the spec reads numbers with a decimal comma)"


def _reason(text: str, comma: bool) -> str:
    """Why a cell as written is bad."""
    if comma and "." in text and _parses(text):
        return POINT_IN_COMMA_FILE
    return "is not finite" if _parses(comma_number(text) if comma else text) else "is not a number"


def _comma_cell(cell: str) -> str:
    """A cell of a file with decimal commas as Python reads a number: a number written with
    a decimal point (not a thousands separator) becomes text that is not one."""
    number = comma_number(cell)  # converting always changes the text
    return "." if number == cell and "." in cell else number


def _floats(
    lines: list[int],
    rows: list[list[str]],
    index: list[int],
    names: list[str],
    bad: _Bad,
    comma: bool = False,
) -> np.ndarray:
    """Columns ``index`` of ``rows`` as float64; bad cells become NaN and are counted.
    With ``comma`` (``csv.decimal: ','``) the cells are read as written with a decimal
    comma (:func:`_comma_cell`): a number written with a decimal point is a bad cell,
    ``1.5`` in a file of ``1,5`` is not read as one and a half without a word."""
    cells: Sequence[Sequence[str]]
    if index == list(range(len(index))) and rows and len(rows[0]) == len(index):
        cells = rows
    elif len(index) == 1:
        cells = [[row[index[0]]] for row in rows]
    else:
        pick = itemgetter(*index)
        cells = [pick(row) for row in rows]
    written = cells
    if comma:
        cells = [[_comma_cell(c) for c in row_cells] for row_cells in cells]
    try:
        arr = np.array(cells, dtype=np.float64).reshape(len(rows), len(index))
    except ValueError:
        arr = np.empty((len(rows), len(index)), dtype=np.float64)
        for r, row_cells in enumerate(cells):
            for c, cell in enumerate(row_cells):
                arr[r, c] = float(cell) if _parses(cell) else np.nan
    where = np.argwhere(~np.isfinite(arr))
    bad.count += len(where)
    for r, c in where[: max(KEEP_BAD - len(bad.cells), 0)]:
        text = written[r][c].strip()
        bad.cells.append(BadCell(lines[r], names[c], text, _reason(text, comma)))
    return arr


def _first_change(path: Path, column: str, values: list[str], lines: list[int], what: str) -> str:
    first = values[0]
    for v, ln in zip(values, lines, strict=True):
        if v != first:
            raise FileProblem(
                path,
                ln,
                f"column {column!r} changes from {first!r} to {v!r}; one recording (file) "
                f"has one {what}: `csv.layout: segments` (labels from a column) makes each "
                f"run of rows with one label and subject a recording, `csv.layout: table` "
                "each row an example",
            )
    return first


def read_csv(
    path: Path,
    rel: str,
    channels: list[str],
    options: CsvOptions,
    label_column: str | None,
    folder_label: str | None,
    numeric_label: bool = False,
    subject_column: str | None = None,
) -> tuple[Recording, str]:
    """Read one recording (wide or long layout) and the file's SHA-256.

    With ``numeric_label`` the label column holds a number per sample (regression).

    Raises:
        FileProblem: naming the file and the line of the first structural problem.
    """
    with CsvRows(path, options.delimiter, options.decimal) as rows:
        extra = [c for c in (label_column, subject_column, options.time_column) if c]
        if options.layout == "long":
            cols = [options.channel_column, options.value_column, *extra]
            rows.need(
                cols,
                "Fix `data.csv` column names or the file.",
                _fields(channels, options, label_column, subject_column),
            )
            rec = _long(rows, channels, options, label_column, subject_column)
        else:
            rows.need(
                [*channels, *extra],
                _WIDE_FIX,
                _fields(channels, options, label_column, subject_column),
            )
            rec = _wide(
                rows, channels, options.time_column, label_column, numeric_label, subject_column
            )
        if numeric_label and options.layout == "long":
            raise FileProblem(path, None, "regression targets need the wide CSV layout")
        label: str | None = folder_label
        targets = None
        if label_column:
            if numeric_label:
                targets, label = rec.pop("label_num"), None
            else:
                label = rec.pop("label")
        return Recording(
            rel,
            label,
            rec["samples"],
            targets,
            rec.get("subject"),
            lines=rec["lines"],
            cell_lines=rec.get("cell_lines"),
            times=rec.get("times"),
            bad=tuple(rec["bad"].cells),
            n_bad=rec["bad"].count,
        ), rows.sha256()


def _wide(
    rows: CsvRows,
    channels: list[str],
    time_column: str | None,
    label_column: str | None,
    numeric_label: bool,
    subject_column: str | None,
    runs: bool = False,
) -> dict[str, Any]:
    """A wide file's columns; the label and subject are one per file, or with ``runs``
    (``csv.layout: segments``) each run of rows with one value: ``{key}_runs`` lists
    ``(first row, value)`` at every change."""
    bad = _Bad()
    index = [rows.column(c) for c in channels]
    samples = _Growing(len(channels), np.float32)
    line_no = _Growing(1, np.int32)
    times = _Growing(1, np.float64)
    targets = _Growing(1, np.float64)
    text_label = None if numeric_label else label_column
    text_cols = {k: c for k, c in (("label", text_label), ("subject", subject_column)) if c}
    firsts: dict[str, str] = {}
    found_runs: dict[str, list[tuple[int, str]]] = {}
    for lines, chunk in rows.chunks():
        more = rows.rows_left(samples.n + len(chunk))
        samples.add(
            _floats(lines, chunk, index, channels, bad, rows.comma).astype(np.float32), more
        )
        line_no.add(np.asarray(lines, dtype=np.int32), more)
        if time_column:
            t = _floats(lines, chunk, [rows.column(time_column)], [time_column], bad, rows.comma)
            times.add(t, more)
        if label_column and numeric_label:
            li = rows.column(label_column)
            targets.add(_floats(lines, chunk, [li], [label_column], bad, rows.comma), more)
        for key, col in text_cols.items():
            ci = rows.column(col)
            values = [r[ci].strip() for r in chunk]
            if runs:
                at = samples.n - len(chunk)
                changes = found_runs.setdefault(key, [])
                for i, v in enumerate(values):
                    if not changes or changes[-1][1] != v:
                        changes.append((at + i, v))
                continue
            if key in firsts:
                values.insert(0, firsts[key])
                lines = [lines[0], *lines]
            what = "label" if key == "label" else "subject"
            firsts[key] = _first_change(rows.path, col, values, lines, what)
    if not samples.n:
        raise FileProblem(rows.path, None, "no samples after the header")
    out: dict[str, Any] = {
        "samples": samples.array(),
        "lines": line_no.array()[:, 0],
        "bad": bad,
        **firsts,
        **{f"{key}_runs": changes for key, changes in found_runs.items()},
    }
    if time_column:
        out["times"] = times.array()[:, 0]
    if label_column and numeric_label:
        out["label_num"] = targets.array()[:, 0]
    return out


def _long(
    rows: CsvRows,
    channels: list[str],
    options: CsvOptions,
    label_column: str | None,
    subject_column: str | None,
) -> dict[str, Any]:
    bad = _Bad()
    ci, vi = rows.column(options.channel_column), rows.column(options.value_column)
    wanted = set(channels)
    names: list[str] = []
    values: list[np.ndarray] = []
    times: list[np.ndarray] = []
    line_parts: list[int] = []
    firsts: dict[str, str] = {}
    text_cols = {k: c for k, c in (("label", label_column), ("subject", subject_column)) if c}
    others: dict[str, int] = {}  # channels the spec does not list: the first line of each
    for lines, chunk in rows.chunks():
        keep = [i for i, r in enumerate(chunk) if r[ci].strip() in wanted]
        if len(keep) < len(chunk):
            for i, r in enumerate(chunk):
                if r[ci].strip() not in wanted:
                    others.setdefault(r[ci].strip(), lines[i])
        sub = [chunk[i] for i in keep]
        sub_lines = [lines[i] for i in keep]
        names.extend(r[ci].strip() for r in sub)
        line_parts.extend(sub_lines)
        values.append(_floats(sub_lines, sub, [vi], [options.value_column], bad, rows.comma)[:, 0])
        if options.time_column:
            ti = rows.column(options.time_column)
            times.append(
                _floats(sub_lines, sub, [ti], [options.time_column], bad, rows.comma)[:, 0]
            )
        for key, col in text_cols.items():
            if not sub:
                continue
            col_i = rows.column(col)
            vals = [r[col_i].strip() for r in sub]
            if key in firsts:
                vals.insert(0, firsts[key])
                sub_lines = [sub_lines[0], *sub_lines]
            firsts[key] = _first_change(rows.path, col, vals, sub_lines, key)
    name_arr = np.asarray(names, dtype=object)
    value_arr = np.concatenate(values) if values else np.empty(0)
    line_arr = np.asarray(line_parts, dtype=np.int64)
    order = np.arange(len(name_arr), dtype=np.float64)
    time_arr = np.concatenate(times) if times else order
    per = {c: np.flatnonzero(name_arr == c) for c in channels}
    lengths = {c: len(v) for c, v in per.items()}
    if len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise FileProblem(
            rows.path,
            None,
            "long layout needs the same number of samples for every channel; found "
            + ", ".join(f"{c}: {n}" for c, n in lengths.items())
            + (
                "; the file also names "
                + ", ".join(f"{c!r} (first at line {n})" for c, n in list(others.items())[:3])
                + ", not a channel of the spec: a misspelt channel?"
                if others
                else ""
            ),
        )
    sorted_idx = {c: idx[np.lexsort((order[idx], time_arr[idx]))] for c, idx in per.items()}
    first = sorted_idx[channels[0]]
    if times:  # a sample is the channels' values at one time stamp: they must line up
        _same_stamps(rows.path, channels, sorted_idx, time_arr, line_arr, options.time_column)
    return {
        "samples": np.stack([value_arr[sorted_idx[c]] for c in channels], axis=1).astype(
            np.float32
        ),
        "lines": line_arr[first],
        "cell_lines": np.stack([line_arr[sorted_idx[c]] for c in channels], axis=1),
        "times": time_arr[first] if times else None,
        "bad": bad,
        **firsts,
    }


def _same_stamps(
    path: Path,
    channels: list[str],
    sorted_idx: dict[str, np.ndarray],
    time_arr: np.ndarray,
    line_arr: np.ndarray,
    column: str | None,
) -> None:
    """Every channel of a long file at the same time stamps, each once.

    Raises:
        FileProblem: at the line of the first stamp that differs or repeats.
    """
    ref = time_arr[sorted_idx[channels[0]]]
    for c in channels:
        idx = sorted_idx[c]
        t = time_arr[idx]
        repeat = np.flatnonzero(np.diff(t) == 0)
        if len(repeat):
            at = idx[repeat[0] + 1]
            raise FileProblem(
                path,
                int(line_arr[at]),
                f"channel {c!r} has a second value at {column} {t[repeat[0]]:g}; one "
                "value per channel and time stamp",
            )
        differs = np.flatnonzero(t != ref)
        if len(differs):
            k = differs[0]
            raise FileProblem(
                path,
                int(line_arr[idx[k]]),
                f"channel {c!r} is at {column} {t[k]:g} where {channels[0]!r} is at "
                f"{ref[k]:g}: in a long layout every channel needs a value at every time "
                "stamp (resample the channels onto one clock)",
            )


def read_segments(
    path: Path,
    rel: str,
    channels: list[str],
    options: CsvOptions,
    label_column: str,
    subject_column: str | None = None,
) -> tuple[list[Recording], str, list[tuple[int, int]]]:
    """Read a wide file whose label (and subject) changes over time (``csv.layout:
    segments``): each run of rows with one label and one subject is a recording, named
    ``FILE:FIRST-LAST`` (its lines), so no window spans two labels and a split keeps
    each run on one side. Runs without a label (an empty cell: the rows between
    annotated activities) are left out; their first and last lines are returned.

    Raises:
        FileProblem: missing columns, another number of columns in a row, no rows.
    """
    with CsvRows(path, options.delimiter, options.decimal) as rows:
        extra = [c for c in (label_column, subject_column, options.time_column) if c]
        rows.need(
            [*channels, *extra], _WIDE_FIX, _fields(channels, options, label_column, subject_column)
        )
        rec = _wide(
            rows, channels, options.time_column, label_column, False, subject_column, runs=True
        )
        sha = rows.sha256()
    samples, lines, times = rec["samples"], rec["lines"], rec.get("times")
    labels: list[tuple[int, str]] = rec["label_runs"]
    subjects: list[tuple[int, str]] = rec.get("subject_runs", [])
    label_at, subject_at = dict(labels), dict(subjects)
    starts = sorted(label_at.keys() | subject_at.keys())
    out = []
    unlabelled: list[tuple[int, int]] = []
    label, subject = labels[0][1], subjects[0][1] if subjects else None
    for a, b in zip(starts, [*starts[1:], len(samples)], strict=True):
        label, subject = label_at.get(a, label), subject_at.get(a, subject)
        first, last = int(lines[a]), int(lines[b - 1])
        if not label:
            if unlabelled and unlabelled[-1][1] == int(lines[a - 1]):  # another subject
                unlabelled[-1] = (unlabelled[-1][0], last)
            else:
                unlabelled.append((first, last))
            continue
        cells = tuple(c for c in rec["bad"].cells if c.line is not None and first <= c.line <= last)
        n_bad = int(np.count_nonzero(~np.isfinite(samples[a:b])))
        if times is not None:
            n_bad += int(np.count_nonzero(~np.isfinite(times[a:b])))
        out.append(
            Recording(
                f"{rel}:{first}-{last}",
                label,
                samples[a:b],
                None,
                subject,
                source=rel,
                lines=lines[a:b],
                times=None if times is None else times[a:b],
                bad=cells,
                n_bad=n_bad,
            )
        )
    return out, sha, unlabelled


def read_table(
    path: Path,
    rel: str,
    channels: list[str],
    options: CsvOptions,
    label_column: str,
    numeric_label: bool = False,
    subject_column: str | None = None,
) -> tuple[list[Recording], str]:
    """Read a table (``csv.layout: table``): one recording of one sample per row.

    Each row's recording is named ``FILE:LINE``; bad cells are kept on their row.

    Raises:
        FileProblem: missing columns, another number of columns in a row, no rows.
    """
    out: list[Recording] = []
    with CsvRows(path, options.delimiter, options.decimal) as rows:
        rows.need(
            [*channels, label_column, *([subject_column] if subject_column else [])],
            "Fix `data.sensors[].channels` (the table's feature columns) or the label column.",
            _fields(channels, options, label_column, subject_column),
        )
        index = [rows.column(c) for c in channels]
        li = rows.column(label_column)
        si = rows.column(subject_column) if subject_column else None
        checked = [*index, li] if numeric_label else index
        names = [*channels, label_column] if numeric_label else channels
        for lines, chunk in rows.chunks():
            x = _floats(lines, chunk, index, channels, _Bad(), rows.comma).astype(np.float32)
            y = (
                _floats(lines, chunk, [li], [label_column], _Bad(), rows.comma)
                if numeric_label
                else None
            )
            ok = np.asarray(np.isfinite(x).all(axis=1))
            if y is not None:
                ok &= np.isfinite(y[:, 0])
            for r, (ln, row) in enumerate(zip(lines, chunk, strict=True)):
                cells = () if ok[r] else _row_bad(row, ln, checked, names, rows.comma)
                out.append(
                    Recording(
                        f"{rel}:{ln}",
                        None if numeric_label else row[li].strip(),
                        x[r : r + 1],
                        None if y is None else y[r],
                        None if si is None else row[si].strip(),
                        source=rel,
                        lines=np.asarray([ln], dtype=np.int64),
                        bad=cells,
                        n_bad=len(cells),
                    )
                )
        if not out:
            raise FileProblem(path, None, "no rows after the header")
        return out, rows.sha256()


def _row_bad(
    row: list[str], line: int, index: list[int], names: list[str], comma: bool
) -> tuple[BadCell, ...]:
    """The bad cells of one table row."""
    cells = []
    for i, name in zip(index, names, strict=True):
        text = row[i].strip()
        value = _comma_cell(text) if comma else text
        if not _parses(value) or not np.isfinite(float(value)):
            cells.append(BadCell(line, name, text, _reason(text, comma)))
    return tuple(cells)
