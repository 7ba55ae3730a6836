"""What ``mcuforge init`` finds in a folder of recordings (see :mod:`mcuforge.starter`).

Format (CSV, WAV, NPZ), channels (numeric CSV columns, a time column set apart), labels
(class folders, or a text column), the sample rate (a time column, the WAV header, or a
stated placeholder), the length of every recording (the shortest, named), and the
archive's own train/test split (``train/`` and ``test/`` folders, ``test_*`` files).
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import wave
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from .data import DECIMAL_COMMA, MISSING, CsvRows, comma_number, data_files, npz_keys
from .errors import DataError
from .spec import Labels

#: Time stamp columns: ``t``, ``time``, ``timestamp``, ``ts``, ``seconds``, ``elapsed``
#: (``seconds_elapsed``, ``elapsed_time``: phone loggers), with an optional unit, as a
#: suffix (``t_ms``, ``time_us``, ``timestamp_ns``) or in brackets (``Time (s)``,
#: ``time [ms]``: phyphox and spreadsheet exports); ``Zeit``, ``temps``, ``tiempo``, ``tempo``.
TIME_COLUMN = re.compile(
    r"^(timestamp|time|ts|t|seconds|sec|elapsed|seconds[_\- ]elapsed|elapsed[_\- ]time|"
    r"time[_\- ]elapsed|zeit|zeitstempel|temps|tiempo|tempo)"
    r"(?:[_\-. ]?(s|ms|us|ns)|\s*[(\[](s|ms|us|µs|ns)[)\]])?$",
    re.I,
)
#: Whole-number stamps without a stated unit: the first unit that gives a rate in this
#: range, from the finest (a logger's ``millis()``, ``micros()``, nanosecond clocks).
PLAUSIBLE_HZ = (1.0, 100_000.0)
_PER_SECOND = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}
DEFAULT_RATE_HZ = 50.0
#: Column names taken for the label even when they hold numbers.
LABEL_COLUMNS = (
    "label", "class", "target", "activity", "category", "state", "gesture", "fault",
    "anomaly", "outcome", "condition", "y",
)  # fmt: skip
#: Column names that hold the subject (person, wearer, device) of a recording: never a
#: channel; with several subjects the split is by subject.
SUBJECT_COLUMNS = ("subject", "subject_id", "user", "user_id", "participant", "person")
#: Row identifiers: never a channel (a model would learn the row number).
ID_COLUMNS = ("id", "index", "row", "row_id", "sample_id", "example_id")
#: Rows of the first file looked at to guess columns.
GUESS_ROWS = 2000
#: Folder names that hold an archive's test or training files.
TEST_DIRS = ("test", "tests", "testing")
TRAIN_DIRS = ("train", "training")
#: Folders of the archive's split: never a class.
SPLIT_DIRS = (*TEST_DIRS, *TRAIN_DIRS)
_TEST_PREFIX = re.compile(r"^(test)[_\-]", re.I)


@dataclass
class Guess:
    """What the inspection found, with a note per guess."""

    fmt: str
    files: int
    channels: list[str]
    labels: str  # "folder" or a column name
    classes: list[str]
    rate_hz: float
    samples_min: int
    notes: list[str] = field(default_factory=list)
    time_column: str | None = None
    table: bool = False  # one example per row (`csv.layout: table`)
    shortest: str = ""  # the shortest recording, relative to the data folder
    delimiter: str = ","
    decimal: str = "."  # "," for numbers written with a decimal comma (`csv.decimal`)
    long: tuple[str, str] | None = None  # (channel column, value column) of a long layout
    segments: bool = False  # the label changes in runs over time (`csv.layout: segments`)
    short_drop: bool = False  # a few short runs are dropped (`window.short: drop`)
    from_name: bool = False  # labels from the file names (`labels: {from: file_name}`)
    name_pattern: str | None = None  # its `pattern`, when not the default
    subject_column: str | None = None  # with several subjects: the split is by subject
    subject_pattern: str | None = None  # the subject from the file names, likewise
    time_unit: str = "s"
    test_files: list[str] = field(default_factory=list)  # the archive's split, as globs
    held_out: int = 0  # files the test_files patterns match


def time_unit(column: str) -> str:
    """``ns``, ``us``, ``ms`` or ``s``: the unit a time column's name states (seconds by
    default)."""
    stated = _stated_unit(column)
    return stated or "s"


def _stated_unit(column: str) -> str | None:
    m = TIME_COLUMN.match(column)
    unit = (m.group(2) or m.group(3)) if m else None
    return None if unit is None else unit.lower().replace("µs", "us")


def _decimal_comma(text: str) -> bool:
    return DECIMAL_COMMA.fullmatch(text.strip()) is not None


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Dialect:
    """How a CSV file writes its fields and numbers (``csv.delimiter``, ``csv.decimal``)."""

    delimiter: str = ","
    decimal: str = "."

    def rows(self, path: Path, as_points: bool = True) -> CsvRows:
        """``path`` read with this dialect: numbers with a decimal point (``as_points``),
        else every cell as written (text columns, as the loader reads them)."""
        return CsvRows(path, self.delimiter, self.decimal, as_points=as_points)

    def number(self, text: str) -> str:
        """A cell as written, with a decimal point if it is a number (``1,5`` as ``1.5``)."""
        return comma_number(text) if self.decimal == "," else text


PLAIN = Dialect()

#: Field separators ``init`` recognises (the first that splits the header wins ties).
DELIMITERS = (",", ";", "\t", "|")


def _delimiter(path: Path) -> str:
    """The separator that splits the first lines of a CSV file into the most columns,
    the same number on every line (``,`` when none does better; ``;`` for one column of
    numbers written with a decimal comma, a European spreadsheet's export)."""
    with path.open("r", encoding="utf-8-sig", errors="replace") as f:
        lines = [line for _, line in zip(range(20), f, strict=False) if line.strip()]
    best, most = ",", 1
    for d in DELIMITERS:
        counts = {line.count(d) for line in lines}
        if len(counts) == 1 and (n := counts.pop() + 1) > most:
            best, most = d, n
    body = [line.strip() for line in lines[1:]]
    # one column of numbers with a decimal comma (its header has no comma): the commas
    # split nothing
    one_column = bool(lines) and "," not in lines[0] and most == 1
    numbers = all(_decimal_comma(c) or is_number(c) for c in body)
    if one_column and numbers and any(map(_decimal_comma, body)):
        return ";"
    return best


def _head(path: Path, d: Dialect = PLAIN) -> tuple[list[str], list[list[str]]]:
    """The header and the first rows of a CSV file (UTF-8, BOM dropped)."""
    header, body, _ = _head_lines(path, d)
    return header, body


def _head_lines(path: Path, d: Dialect = PLAIN) -> tuple[list[str], list[list[str]], list[int]]:
    """:func:`_head` and the line of the file each row ends on (blank lines skipped)."""
    with d.rows(path) as rows:
        body: list[list[str]] = []
        lines: list[int] = []
        for ends, chunk in rows.chunks():
            body.extend(chunk)
            lines.extend(ends)
            if len(body) >= GUESS_ROWS:
                break
        return rows.header, body[:GUESS_ROWS], lines[:GUESS_ROWS]


def _count_rows(path: Path, d: Dialect = PLAIN) -> int:
    with d.rows(path) as rows:
        return sum(len(chunk) for _, chunk in rows.chunks())


def _label_column(
    header: list[str], numeric: list[str], body: list[list[str]], skip: Collection[str]
) -> str | None:
    """A column named like a label, else the first text column whose values repeat (a
    date or a free-text note has about one value per row: not a label)."""
    lower = {h.lower(): h for h in header}
    for name in LABEL_COLUMNS:  # in the list's order: `y` last, and not beside `x`
        if name in lower and not (name == "y" and "x" in lower):
            return lower[name]
    for h in header:
        if h in numeric or h in skip or (body and _is_date(body[0][header.index(h)])):
            continue
        values = {r[header.index(h)].strip() for r in body}
        if len(values) <= max(2, len(body) // 2):
            return h
    return None


def _cells(path: Path, d: Dialect, column: str, required: bool) -> Iterator[str]:
    """The cells of ``column`` down a whole file, stripped; none when the file lacks the
    column, unless ``required`` (then an error naming the file and its columns). Cells as
    written: a label ``1,0`` is the class the loader reads, not ``1.0``."""
    with d.rows(path, as_points=False) as rows:
        if column not in rows.header:
            if required:
                raise DataError(
                    f"{path}:1: no column {column!r} (the first file's label column); found "
                    f"{', '.join(rows.header)}; give every file the same columns"
                )
            return
        i = rows.column(column)
        for _, chunk in rows.chunks():
            yield from (r[i].strip() for r in chunk)


def _runs(path: Path, d: Dialect, column: str) -> list[tuple[str, int]]:
    """The runs of equal values down ``column`` of a whole file: (value, rows)."""
    return [(v, len(list(g))) for v, g in itertools.groupby(_cells(path, d, column, True))]


def _sample(path: Path, d: Dialect, block: int = 1000, every: int = 4000) -> list[list[str]]:
    """Blocks of ``block`` consecutive rows, one every ``every`` rows, from all through a
    file: a session's later activities, not only its first minute."""
    out: list[list[str]] = []
    at = 0
    with d.rows(path) as rows:
        for _, chunk in rows.chunks():
            out.extend(r for i, r in enumerate(chunk, start=at) if i % every < block)
            at += len(chunk)
    return out


def _is_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def _date_rate(
    header: list[str], body: list[list[str]], numeric: list[str]
) -> tuple[str, float] | None:
    """A text column of ISO dates and times (``2024-06-01 09:00:00.010``) and the rate
    its median step gives, or None."""
    for i, h in enumerate(header):
        if h in numeric:
            continue
        try:
            t = np.array(
                [datetime.fromisoformat(r[i].strip()).timestamp() for r in body], dtype=np.float64
            )
        except ValueError:
            continue
        steps = np.diff(np.unique(t))
        if not len(steps) or (step := float(np.median(steps))) <= 0:
            continue
        # rows per second (stamps of whole seconds repeat for each sample within one)
        rate = float(f"{len(t) / (float(t.max() - t.min()) + step):.4g}")
        if rate > 0:
            return h, rate
    return None


#: File-name label patterns init writes: Edge Impulse's `<label>.<id>.csv` (the label
#: may hold `_` or `-`), and names behind the archive's `train_`/`test_` prefix.
DOTTED_NAME_LABEL = r"^([^.]+)\."
SPLIT_NAME_LABEL = r"^(?:train|test)[_\-]([^._\-\s]+)"


#: A file name that starts with its subject: a word for a person and a number
#: (`s01_walk.csv`, `sub-3_run_2.csv`, `P07-sit.csv`, `speaker4_yes.wav`).
SUBJECT_FIRST = re.compile(
    r"(?i)^(subject|subj|sub|s|participant|part|p|person|user|u|patient|volunteer|speaker|spk)"
    r"[_\-]?\d+(?=[_\-. ])"
)
#: Its label pattern: the word after the subject.
SUBJECT_FIRST_NAME_LABEL = r"^[A-Za-z]+[_\-]?\d+[_\- ]([^._\-\s]+)"


def _name_subjects(
    files: list[Path], by_folder: bool = False, least: int = 3, spelt: bool = True
) -> tuple[str, int] | None:
    """The ``split.subject_pattern`` for file names that start with their subject
    (`s01_walk.csv`, `walk/s01_2.csv`), and how many subjects: every name starts with
    the same word (with ``spelt``, alike: `S01` and `s01` would be two subjects of the
    split) and a number,
    ``least`` subjects or more, and with labels from class folders (``by_folder``), a
    subject in two classes or more (a person who did several activities, not a take);
    else None."""
    found = [SUBJECT_FIRST.match(f.name) for f in files]
    if not all(found):
        return None
    words = {m.group(1) if spelt else m.group(1).lower() for m in found if m}
    ids = [m.group(0) for m in found if m]
    if len(words) != 1 or len(set(ids)) < least:
        return None
    if by_folder:
        classes: dict[str, set[str]] = {}
        for f, i in zip(files, ids, strict=True):
            classes.setdefault(i, set()).add(f.parent.name)
        if max(len(c) for c in classes.values()) < 2:
            return None
    return rf"(?:^|/)({re.escape(words.pop())}[_\-]?\d+)[_\-. ]", len(set(ids))


def _name_labels(files: list[Path]) -> tuple[list[str], str | None] | None:
    """The classes the file names start with (`idle_00.csv`, `walk.4f2a.csv`; after
    the subject in `s01_walk.csv`) when the files are not in class folders, and the
    `pattern` to write (None: the default): two classes or more, each of two files or
    more, none a number (a subject or a take); else None."""
    names = [f.name for f in files]
    pattern: str | None = None
    if all(n.count(".") >= 2 for n in names):
        pattern = DOTTED_NAME_LABEL
    elif all(re.match(r"(?i)(train|test)[_\-]", n) for n in names):
        pattern = SPLIT_NAME_LABEL
    elif _name_subjects(files, least=2, spelt=False):  # the classes were the subjects
        pattern = SUBJECT_FIRST_NAME_LABEL
    rule = Labels(source="file_name", pattern=pattern)
    labels = [rule.from_name(n) for n in names]
    if None in labels or any(is_number(str(v)) for v in labels):
        return None
    counts = Counter(str(v) for v in labels)
    if len(counts) < 2 or min(counts.values()) < 2:
        return None
    return sorted(counts), pattern


def _where_in_name(pattern: str | None) -> str:
    """Where the label is in the file names, for init's comment."""
    if pattern == SUBJECT_FIRST_NAME_LABEL:
        return "the file names, the word after the subject"
    return "the start of the file names"


def _subjects_from_names(guess: Guess, files: list[Path], by_folder: bool) -> None:
    """A split by subject when the file names start with one (`s01_walk.csv`)."""
    found = _name_subjects(files, by_folder)
    if found is not None:
        guess.subject_pattern, n = found
        guess.notes.append(
            f"the file names start with the subject ({n} subjects): the split is by subject "
            "(no subject in train and test)"
        )


def _values(path: Path, d: Dialect, column: str) -> set[str]:
    """The distinct values of ``column`` in a whole file (none when it lacks the column)."""
    return set(_cells(path, d, column, False))


def _smooth(
    header: list[str], body: list[list[str]], channels: list[str], label: str | None
) -> bool:
    """Rows that follow each other in time: within each run of one label (``None``: a
    target that changes from row to row, the whole sample), the correlation of each row
    with the next is above 0.5 for a third of the channels or more (the rows of a table,
    even one sorted by class, are independent examples)."""
    lab = [r[header.index(label)].strip() if label else "" for r in body]
    same = np.array([a == b for a, b in itertools.pairwise(lab)])
    corr = []
    for c in channels:
        cells = [r[header.index(c)] for r in body]
        x = np.array([float(v) if is_number(v) else np.nan for v in cells], dtype=np.float64)
        for run in set(lab):  # each run's own level out: a class's mean is not a trend
            at = np.array([v == run for v in lab])
            x[at] -= np.nanmean(x[at]) if np.isfinite(x[at]).any() else 0.0
        a, b = x[:-1][same], x[1:][same]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() > 3 and np.std(a[ok]) > 0 and np.std(b[ok]) > 0:
            corr.append(float(np.corrcoef(a[ok], b[ok])[0, 1]))
    # a third of the channels or more (a quiet axis or a noisy extra channel is no table)
    return bool(corr) and sum(c > 0.5 for c in corr) * 3 >= len(corr)


def _rate(
    time_col: str, header: list[str], body: list[list[str]], notes: list[str]
) -> tuple[float, str] | None:
    """The rate from the median step of a time column (distinct stamps: a long layout
    repeats each once per channel) and the column's unit. A name without a unit means
    seconds, unless whole-number stamps would make the rate below 1 Hz: then they are
    milliseconds (a logger's ``millis()``), and a note says so."""
    cells = [c for r in body if is_number(c := r[header.index(time_col)].strip())]
    if all(c.lstrip("-").isdigit() for c in cells):  # whole numbers: exact steps (ns epochs)
        t = np.unique(np.array([int(c) for c in cells], dtype=np.int64))
    else:
        t = np.unique(np.array([float(c) for c in cells], dtype=np.float64))
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    if dt <= 0:
        return None
    unit = time_unit(time_col)
    if _stated_unit(time_col) is None and dt >= 1 and np.all(t == np.round(t)):
        lo, hi = PLAUSIBLE_HZ
        unit = next((u for u in ("ms", "us", "ns") if lo <= _PER_SECOND[u] / dt <= hi), "ms")
        names = {"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
        # a slow reading (under 10 Hz) that a finer unit makes plausible too (a step of
        # 1000: millis() at 1 Hz, micros() at 1 kHz)
        others = [
            f"as {names[u]} {_PER_SECOND[u] / dt:g} Hz: `time_unit: {u}`"
            for u in ("us", "ns")
            if _PER_SECOND[unit] / dt < 10
            and _PER_SECOND[u] > _PER_SECOND[unit]
            and lo <= _PER_SECOND[u] / dt <= hi
        ]
        notes.append(
            f"column {time_col!r} states no unit and steps by {dt:g}: read as {names[unit]} "
            f"({_PER_SECOND[unit] / dt:g} Hz; as seconds the rate would be {1 / dt:g} Hz); "
            f"if it is seconds, drop `time_unit: {unit}`" + "".join(f"; {o}" for o in others[:1])
        )
    rate = round(_PER_SECOND[unit] / dt, 3)
    return (rate, unit) if rate > 0 else None


def _long_layout(
    header: list[str], numeric: list[str], body: list[list[str]], skip: Collection[str]
) -> tuple[str, str, list[str]] | None:
    """A long (tidy) layout: one text column naming a few channels in a repeating
    cycle, one numeric column of values. Returns (channel column, value column, the
    channels in the order they first appear)."""
    values = [h for h in numeric if h not in skip]
    if len(values) != 1:
        return None
    for col in (h for h in header if h not in numeric and h not in skip):
        names = [r[header.index(col)].strip() for r in body]
        channels = list(dict.fromkeys(names))
        n = len(channels)
        cycles = len(names) // n
        if 2 <= n <= 64 and cycles >= 2 and names[: n * cycles] == channels * cycles:
            return col, values[0], channels
    return None


def _csv_guess(files: list[Path], root: Path) -> Guess:
    notes: list[str] = []
    delimiter = _delimiter(files[0])
    header, body = _head(files[0], Dialect(delimiter))
    if len(body) < 2:
        raise DataError(f"{files[0]}: too few rows to guess anything from")
    if delimiter != ",":
        notes.append(f"fields separated by {delimiter!r}: `csv.delimiter`")
    twice = sorted({h for h in header if h.strip() and header.count(h) > 1})
    if twice:
        raise DataError(
            f"{files[0]}:1: the header names {', '.join(map(repr, twice))} twice; give "
            "every column its own name (e.g. acc_x, gyro_x)"
        )
    commas = [h for i, h in enumerate(header) if any(_decimal_comma(r[i]) for r in body[:50])]
    if commas:
        i = header.index(commas[0])
        cell = next(r[i] for r in body if _decimal_comma(r[i]))
        if delimiter == ",":  # "0,5" quoted in a comma-separated file
            raise DataError(
                f"{files[0]}: column {commas[0]!r} holds numbers with a decimal comma "
                f"({cell!r}) between fields separated by commas; export the files with `.` "
                "as the decimal separator, or with `;` between fields (then "
                "`csv.decimal: ','` reads them)"
            )
        notes.append(f"numbers with a decimal comma ({commas[0]!r}: {cell!r}): `csv.decimal`")
    dialect = Dialect(delimiter, "," if commas else ".")
    header, body, lines = _head_lines(files[0], dialect)
    # a column of numbers, empty cells and a few missing-value marks (`n/a`, `NaN`)
    # allowed: the data check names each of them (one `n/a` made the column text, and
    # it was left out of the channels without a word)
    numeric = []
    for i, h in enumerate(header):
        cells = [
            (n, r[i].strip()) for n, r in zip(lines[:50], body[:50], strict=True) if r[i].strip()
        ]
        marks = [(n, c) for n, c in cells if not is_number(c)]
        if not cells or len(marks) > len(cells) // 10:
            continue  # text (a note below), or mostly missing
        if any(c.lower() not in MISSING for _, c in marks):
            continue
        numeric.append(h)
        if marks:
            n, c = marks[0]
            notes.append(
                f"column {h!r}: {c!r} at line {n} marks a missing value: the data check "
                "reports each such cell (fill them in, or remove the rows)"
            )
    in_folders = root.is_dir() and all(
        f.parent != root and f.parent.name.lower() not in SPLIT_DIRS for f in files
    )
    times = [h for h in numeric if TIME_COLUMN.match(h)]
    time_col = times[0] if times else None
    if len(times) > 1:  # a phone logger's clock and its elapsed seconds: neither is a signal
        notes.append(
            f"{', '.join(repr(h) for h in times[1:])} also "
            f"{'looks like a time column' if len(times) == 2 else 'look like time columns'}: "
            f"left out of the channels (the rate is from {time_col!r})"
        )
    long = _long_layout(header, numeric, body, times)
    not_labels = [*numeric, long[0]] if long else numeric
    subject_col = next((h for h in header if h.lower() in SUBJECT_COLUMNS), None)
    skip = [subject_col] if subject_col else []
    label_col = None if in_folders else _label_column(header, not_labels, body, skip)
    named = _name_labels(files) if not in_folders and label_col is None else None
    if named is not None:
        guess_pattern: str | None = named[1]
    if not in_folders and label_col is None and named is None:
        raise DataError(
            f"{root}: files are not in class folders and have no text column "
            "to take labels from; put them in data/<class>/ folders, name the files after "
            "their class (walk_01.csv, two files or more a class: `labels: {from: "
            "file_name}`), or name the label column one of "
            f"{', '.join(LABEL_COLUMNS)} (numbers with decimals make a regression spec)"
        )
    ids = [
        h
        for h in numeric
        if (h.lower() in ID_COLUMNS or not h.strip() or h.lower().startswith("unnamed:"))
        and h not in (label_col, subject_col)
    ]  # `id`, and pandas' index written without a name (`""`, `Unnamed: 0`)
    channels = [
        h for h in numeric if h not in times and h not in ids and h not in (label_col, subject_col)
    ]
    if ids:
        notes.append(f"{', '.join(map(repr, ids))}: a row index, not a channel")
    unused = [
        h
        for h in header
        if h.strip()  # an unnamed last column: a separator at the end of each line
        and h not in numeric
        and not (body and _is_date(body[0][header.index(h)]))  # a note of its own below
        and h not in (label_col, subject_col)
        and not (long and h == long[0])
    ]
    if unused:
        notes.append(f"{', '.join(map(repr, unused))}: text, not a channel (channels are numbers)")
    # the runs of labels down every file (rows without a label left out)
    by_file = (
        {f: [r for r in _runs(f, dialect, label_col) if r[0]] for f in files[:200]}
        if label_col and long is None
        else {}
    )
    runs = [n for rs in by_file.values() for _, n in rs]
    changes = any(len({v for v, _ in rs}) > 1 for rs in by_file.values())
    distinct = {v for rs in by_file.values() for v, _ in rs}
    as_numbers = {dialect.number(v) for v in distinct}
    numbers = bool(distinct) and all(is_number(v) for v in as_numbers)
    # a number per sample: fractions, or more values than classes usually have
    regression = numbers and (
        any(float(v) != round(float(v)) for v in as_numbers) or len(distinct) > 20
    )
    series = time_col is not None or (
        label_col is not None
        and _smooth(header, _sample(files[0], dialect), channels, None if regression else label_col)
    )
    # a label changing in runs (of 10 rows or more, the median) down a time series: a
    # session annotated as it goes, not a table (a split by row would put neighbouring
    # samples in train and test); a number per sample down a time series is a
    # regression target (wide); independent rows are a table
    segments = changes and series and not regression and float(np.median(runs)) >= 10
    # one file whose label never changes and whose rows are no signal: a table of one
    # class (normal readings, for a detector); it was read as one recording, 1 class
    one_class_table = (
        len(files) == 1 and bool(by_file) and not changes and not series and not regression
    )
    table = (changes or one_class_table) and not segments and not (regression and series)
    if segments:
        notes.append(
            f"column {label_col!r} changes in runs over time ({len(runs)} runs in "
            f"{len(by_file)} file{'s' if len(by_file) != 1 else ''}): `csv.layout: "
            "segments`, each run is a recording"
        )
    who: set[str] = set()
    if subject_col is not None:
        for f in files[:200]:
            who.update(_values(f, dialect, subject_col))
        notes.append(
            f"column {subject_col!r} names the subject: not a channel"
            + ("; the split is by subject (no subject in train and test)" if len(who) >= 3 else "")
        )
    if long is not None:
        channels = long[2]
        notes.append(
            f"long layout: one row per sample and channel, channel names in column "
            f"{long[0]!r}, values in {long[1]!r}"
        )
    rate, unit = DEFAULT_RATE_HZ, "s"
    if table:
        notes.append(
            (
                f"one example per row (column {label_col!r} changes within a file): "
                if changes
                else f"one example per row (the rows are no signal over time; column "
                f"{label_col!r} holds one value): "
            )
            + "`csv.layout: table`, every row is one window"
            + (
                f"; the rows look like samples of a signal, but a label's median run is "
                f"{float(np.median(runs)):g} row(s): windows of the signal "
                "(`csv.layout: segments`) need runs of 10 rows or more"
                if series and not regression and runs
                else ""
            )
        )
    elif time_col and (found := _rate(time_col, header, body, notes)):
        rate, unit = found
        notes.append(f"rate_hz {rate:g} from the median step of column {time_col!r}")
    elif dated := _date_rate(header, body, numeric):
        column, rate = dated
        notes.append(
            f"rate_hz {rate:g} from the median step of column {column!r}, dates and times "
            "written as text: mcuforge reads numeric stamps only, so it is not "
            "`csv.time_column` (export seconds or milliseconds to have gaps and jitter "
            "checked)"
        )
    else:
        notes.append(f"no time column: rate_hz {DEFAULT_RATE_HZ:g} is a placeholder; set it")
    labels = "folder"
    classes: list[str] = sorted({f.parent.name for f in files}) if in_folders else []
    if named is not None:
        classes = named[0]
        notes.append(
            f"labels from {_where_in_name(named[1])} ({', '.join(classes[:4])}"
            f"{', …' if len(classes) > 4 else ''}): `labels: {{from: file_name}}`"
        )
    if label_col is not None:
        labels = label_col
        # whole files: a sorted table's or a session's later classes (the runs read them)
        values = distinct or {v for f in files[:200] for v in _values(f, dialect, label_col)}
        classes = sorted(values - {""})  # an empty cell is no class
        notes.append(f"labels from column {labels!r}")
    per_sample = len(long[2]) if long else 1
    lengths = {
        f: min((n for _, n in by_file[f]), default=0)
        if segments and f in by_file
        else _count_rows(f, dialect) // per_sample
        for f in files
    }
    guess = Guess("csv", len(files), channels, labels, classes, rate, 0, notes, time_col, table)
    guess.delimiter, guess.long, guess.time_unit = delimiter, long[:2] if long else None, unit
    guess.decimal = dialect.decimal
    guess.segments, guess.from_name = segments, named is not None
    if named is not None:
        guess.name_pattern = guess_pattern
    if subject_col is not None and len(who) >= 3:
        guess.subject_column = subject_col
    elif subject_col is None and not table:
        _subjects_from_names(guess, files, in_folders)
    _shortest(guess, lengths, root)
    if segments:  # a few short runs need not shorten every window: they are dropped
        wanted = max(round(2 * rate), 8)  # the starter's window, in rows
        short = [n for n in runs if n < wanted]
        if short and guess.samples_min < wanted and sum(short) * 10 <= sum(runs):
            guess.samples_min, guess.short_drop = wanted, True
            guess.shortest = f"{len(short)} shorter runs dropped"
            notes.append(
                f"{len(short)} of {len(runs)} runs ({sum(short)} of {sum(runs)} rows) are "
                f"shorter than the {wanted}-row window: `window.short: drop` leaves them out "
                "(counted) rather than shortening every window"
            )
    return guess


def _shortest(guess: Guess, lengths: dict[Path, int], root: Path) -> None:
    """Record the shortest recording of all (its length and which file).

    Raises:
        DataError: a file without samples (it would make a window of 0 s).
    """
    path, n = min(lengths.items(), key=lambda kv: (kv[1], str(kv[0])))
    if n == 0:
        raise DataError(f"{path}: no samples after the header; remove the file or record it again")
    guess.samples_min = n
    guess.shortest = path.relative_to(root).as_posix() if path != root else path.name


def _wav_guess(files: list[Path], root: Path) -> Guess:
    rates: set[int] = set()
    lengths: dict[Path, int] = {}
    rate_of: dict[int, Path] = {}
    for f in files:
        try:
            with wave.open(str(f), "rb") as w:
                rate_of.setdefault(w.getframerate(), f)
                rates.add(w.getframerate())
                lengths[f] = w.getnframes()
        except (wave.Error, EOFError) as exc:
            hint = "; save it as 16-bit PCM" if "unknown format" in str(exc) else ""
            raise DataError(f"{f}: not a PCM WAV file ({exc or 'cut short'}){hint}") from None
    if len(rates) != 1:
        listed = ", ".join(f"{r} Hz ({rate_of[r].relative_to(root)})" for r in sorted(rates))
        raise DataError(f"{root}: WAV files have different rates: {listed}; resample them to one")
    notes = ["rate_hz from the WAV headers"]
    flat = all(f.parent == root or f.parent.name.lower() in SPLIT_DIRS for f in files)
    named = _name_labels(files) if flat else None
    classes = named[0] if named else sorted({f.parent.name for f in files})
    if named:
        notes.append(f"labels from {_where_in_name(named[1])}: `labels: {{from: file_name}}`")
    guess = Guess(
        "wav", len(files), ["audio"], "folder", classes, float(rates.pop()), 0, notes,
    )  # fmt: skip
    guess.from_name, guess.name_pattern = named is not None, named[1] if named else None
    _subjects_from_names(guess, files, not flat)
    _shortest(guess, lengths, root)
    return guess


def _npz_guess(files: list[Path], root: Path) -> Guess:
    lengths: dict[Path, int] = {}
    n_ch = 0
    labels: set[str] = set()
    for f in files:
        try:
            with np.load(f, allow_pickle=False) as z:
                xk, yk = npz_keys(z.files)
                if xk is None:
                    raise DataError(f"{f}: no array `x` (or `X`); found {', '.join(z.files)}")
                x = z[xk]
                n_ch, lengths[f] = int(x.shape[-1]), int(x.shape[-2])
                if yk is not None:
                    labels.update(str(v) for v in np.asarray(z[yk]).reshape(-1))
        except (OSError, ValueError, EOFError) as exc:
            fix = (
                "an array holds Python objects: save labels with .astype(str)"
                if "Object arrays" in str(exc)
                else "save it with numpy.savez"
            )
            raise DataError(f"{f}: not a NumPy .npz archive of numbers; {fix}") from None
    notes = [f"rate_hz {DEFAULT_RATE_HZ:g} is a placeholder; set it"]
    if labels:  # the archives' labels win over folders (as the loader reads them)
        notes.append("labels from the archives' `y`")
    classes = sorted(labels) if labels else sorted({f.parent.name for f in files})
    guess = Guess(
        "npz", len(files), [f"ch{i}" for i in range(n_ch)], "folder", classes,
        DEFAULT_RATE_HZ, 0, notes,
    )  # fmt: skip
    _shortest(guess, lengths, root)
    return guess


def _pattern(rel: Path) -> str:
    """The glob (``data.split.test_files``) that holds ``rel`` out as a test file."""
    dirs = [p if p.lower() in TEST_DIRS else "*" for p in rel.parts[:-1]]
    if any(p != "*" for p in dirs):
        cut = max(i for i, p in enumerate(dirs) if p != "*")
        return "/".join([*dirs[: cut + 1], "*"])
    m = _TEST_PREFIX.match(rel.name)
    name = f"{m.group(0)}*{rel.suffix}" if m else f"*{rel.suffix}"
    return "/".join([*dirs, name])


def _split_guess(guess: Guess, files: list[Path], root: Path) -> None:
    """The archive's own split: files in a ``test/`` folder or named ``test_*``."""
    if guess.table or root.is_file():
        return
    rel = [f.relative_to(root) for f in files]

    def is_test(p: Path) -> bool:
        return any(d.lower() in TEST_DIRS for d in p.parts[:-1]) or bool(_TEST_PREFIX.match(p.name))

    tests = [p for p in rel if is_test(p)]
    if not tests or len(tests) == len(rel):
        return
    patterns = sorted({_pattern(p) for p in tests})
    held = [p for p in rel if any(fnmatch.fnmatch(p.as_posix(), g) for g in patterns)]
    if len(held) != len(tests):  # a pattern would take training files too: no guess
        return
    guess.test_files, guess.held_out = patterns, len(held)
    guess.notes = [
        n.replace("the split is by subject (no subject in train and test)", "the cross-"
                  "validation is by subject (the test files are the data's own)")
        for n in guess.notes
    ]  # fmt: skip
    guess.notes.append(
        f"the data's own split: {len(held)} of {len(rel)} files held out for the test set "
        f"(`split.test_files: {patterns}`)"
    )
    if guess.labels == "folder" and not guess.from_name:
        folders = {p.parent.name.lower() for p in rel}
        wrong = folders & set(SPLIT_DIRS)
        if wrong:
            raise DataError(
                f"{root}: files directly in a {'/'.join(sorted(wrong))} folder have no class "
                "folder; put them in train/<class>/ and test/<class>/"
            )


def inspect(root: Path) -> Guess:
    """Guess format, channels, labels, rate, recording lengths and split of a data folder.

    Raises:
        DataError: no data files, or nothing to take labels from.
    """
    if root.is_file() and root.suffix.lower() not in (".csv", ".wav", ".npz"):
        raise DataError(f"{root}: not a .csv, .wav or .npz file")
    if not root.is_dir() and not root.is_file():
        raise DataError(f"{root} is not a folder or a file")
    by_ext = {
        ext: data_files(root, f".{ext}") if root.is_dir() or root.suffix.lower() == f".{ext}"
        else ([], [])
        for ext in ("csv", "wav", "npz")
    }  # fmt: skip
    fmt = max(by_ext, key=lambda e: len(by_ext[e][0]) + len(by_ext[e][1]))
    files, refused = by_ext[fmt]
    if refused:
        raise refused[0]
    if not files:
        raise DataError(f"{root}: no .csv, .wav or .npz files found")
    guess = {"csv": _csv_guess, "wav": _wav_guess, "npz": _npz_guess}[fmt](files, root)
    _split_guess(guess, files, root)
    if len(guess.classes) == 1:
        guess.notes.append(
            f"one class ({guess.classes[0]}): anomaly detection with it as normal "
            "(`task.normal`); scoring a detector needs some recordings of faults too, "
            "under another label"
        )
    elif "normal" in (c.lower() for c in guess.classes) and len(guess.classes) <= 20:
        normal = next(c for c in guess.classes if c.lower() == "normal")
        guess.notes.append(
            f"a class named {normal!r}: to detect whatever is unlike it, trained on normal "
            "recordings only, use `task: {kind: anomaly"
            + ("" if normal == "normal" else f", normal: [{normal}]")
            + "}` (the other classes become the "
            "anomalies the threshold and the test score are set on); classification here"
        )
    return guess


#: A unit after a column's name: ``ax (m/s^2)``, ``gyro_x [dps]``.
_UNIT_SUFFIX = re.compile(r"\s*[(\[]([^()\[\]]+)[)\]]\s*$")


def unit_of(channels: list[str]) -> str | None:
    """The unit the columns' names state in brackets, when they all state the same one."""
    units = {m.group(1).strip() if (m := _UNIT_SUFFIX.search(c)) else None for c in channels}
    unit = units.pop() if len(units) == 1 else None
    return unit or None


def sensors(channels: list[str]) -> list[tuple[str, list[str]]]:
    """Group channels by their stem: ``acc_x, acc_y`` → ``acc``; ``mfcc0 .. mfcc12`` → ``mfcc``.

    The stem is the name without a trailing axis letter or number (with an optional
    ``_``, ``-``, ``.`` or space before it) when another channel shares it (``Humidity``
    and ``CO2`` alone keep their names); one-letter stems of the usual motion sensors
    are spelt out (``ax, ay, az`` → ``accel``). More than 8 groups become one sensor.
    """
    spelt = {"a": "accel", "g": "gyro", "m": "mag", "w": "gyro"}
    stems = {}
    for c in channels:
        bare = _UNIT_SUFFIX.sub("", c) or c  # `ax (m/s^2)`: the unit is not the name
        # a bare axis (`x`, `y`, `z`: a long layout's channel names) is one sensor's
        stems[c] = re.sub(r"[_\-.\s]?([xyz]|\d+)$", "", bare, flags=re.I).strip() or (
            "sensor" if len(bare) == 1 else bare
        )
    shared = Counter(stems.values())
    groups: dict[str, list[str]] = {}
    for c in channels:  # an axis or an index only beside its siblings (not `Humidity`, `CO2`)
        stem = stems[c] if shared[stems[c]] > 1 else (_UNIT_SUFFIX.sub("", c) or c).strip()
        groups.setdefault(stem, []).append(c)
    if len(groups) > 8:
        return [("sensor", channels)]
    names = [spelt.get(s.lower(), s) if len(ch) > 1 else s for s, ch in groups.items()]
    if len(set(names)) < len(names):  # spelling out made two sensors one name
        names = list(groups)
    return list(zip(names, groups.values(), strict=True))


__all__ = [
    "DEFAULT_RATE_HZ",
    "Guess",
    "inspect",
    "is_number",
    "sensors",
    "time_unit",
    "unit_of",
]
