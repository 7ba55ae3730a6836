"""``mcuforge init``: inspect a folder of recordings and write a commented starter spec.

It guesses the format (CSV, NPZ, WAV), the channels (numeric CSV columns), the labels
(class folders, or a text column), the sample rate (from a time column, the WAV
header, or a stated default) and a window; every guess is marked in a comment.
"""

from __future__ import annotations

import json
import os
import re
import wave
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import CsvRows, data_files
from .errors import DataError

TIME_COLUMNS = ("t", "time", "timestamp", "time_s", "time_ms", "ts", "seconds")
DEFAULT_RATE_HZ = 50.0


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


#: Column names taken for the label even when they hold numbers.
LABEL_COLUMNS = ("label", "class", "target", "y", "activity", "category", "state")
#: Rows of the first file looked at to guess columns.
GUESS_ROWS = 2000


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _head(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the first rows of a CSV file (UTF-8, BOM dropped)."""
    with CsvRows(path) as rows:
        body: list[list[str]] = []
        for _, chunk in rows.chunks():
            body.extend(chunk)
            if len(body) >= GUESS_ROWS:
                break
        return rows.header, body[:GUESS_ROWS]


def _count_rows(path: Path) -> int:
    with CsvRows(path) as rows:
        return sum(len(chunk) for _, chunk in rows.chunks())


def _label_column(header: list[str], numeric: list[str]) -> str | None:
    named = next((h for h in header if h.lower() in LABEL_COLUMNS), None)
    text = [h for h in header if h not in numeric]
    return named or (text[0] if text else None)


def _csv_guess(files: list[Path], root: Path) -> Guess:
    notes: list[str] = []
    header, body = _head(files[0])
    if len(body) < 2:
        raise DataError(f"{files[0]}: too few rows to guess anything from")
    numeric = [h for i, h in enumerate(header) if all(_is_number(r[i]) for r in body[:50])]
    in_folders = all(f.parent != root for f in files)
    label_col = None if in_folders else _label_column(header, numeric)
    if not in_folders and label_col is None:
        raise DataError(
            f"{root}: files are not in class folders and have no text column "
            "to take labels from; put them in data/<class>/ folders"
        )
    li = header.index(label_col) if label_col else -1
    table = label_col is not None and len({r[li].strip() for r in body}) > 1
    time_col = next((h for h in numeric if h.lower() in TIME_COLUMNS), None)
    channels = [h for h in numeric if h not in (time_col, label_col)]
    rate = DEFAULT_RATE_HZ
    if table:
        notes.append(
            f"one example per row (column {label_col!r} changes within a file): "
            "`csv.layout: table`, every row is one window"
        )
    elif time_col:
        t = np.array([float(r[header.index(time_col)]) for r in body], dtype=np.float64)
        dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
        if dt > 0:
            scale = 1000.0 if time_col.lower().endswith("ms") else 1.0
            rate = round(scale / dt, 3)
            notes.append(f"rate_hz {rate:g} from the median step of column {time_col!r}")
    else:
        notes.append(f"no time column: rate_hz {DEFAULT_RATE_HZ:g} is a placeholder; set it")
    labels = "folder"
    classes: list[str] = sorted({f.parent.name for f in files}) if in_folders else []
    if label_col is not None:
        labels = label_col
        values: Counter[str] = Counter()
        for f in files[:200]:
            head, rows = _head(f) if f != files[0] else (header, body)
            if label_col in head:
                values.update(r[head.index(label_col)].strip() for r in rows)
        classes = sorted(values)
        notes.append(f"labels from column {labels!r}")
    lengths = [_count_rows(f) for f in files[:200]]
    guess = Guess("csv", len(files), channels, labels, classes, rate, min(lengths), notes, time_col)
    guess.table = table
    return guess


def _wav_guess(files: list[Path], root: Path) -> Guess:
    rates, lengths = set(), []
    for f in files[:200]:
        with wave.open(str(f), "rb") as w:
            rates.add(w.getframerate())
            lengths.append(w.getnframes())
    if len(rates) != 1:
        raise DataError(f"{root}: WAV files have different rates {sorted(rates)}; resample them")
    classes = sorted({f.parent.name for f in files})
    return Guess(
        "wav",
        len(files),
        ["audio"],
        "folder",
        classes,
        float(rates.pop()),
        min(lengths),
        ["rate_hz from the WAV headers"],
    )


def inspect(root: Path) -> Guess:
    """Guess format, channels, labels, rate and recording length of a data folder.

    Raises:
        DataError: no data files, or nothing to take labels from.
    """
    if not root.is_dir():
        raise DataError(f"{root} is not a folder")
    by_ext = {ext: data_files(root, f".{ext}") for ext in ("csv", "wav", "npz")}
    fmt = max(by_ext, key=lambda e: len(by_ext[e][0]) + len(by_ext[e][1]))
    files, refused = by_ext[fmt]
    if refused:
        raise refused[0]
    if not files:
        raise DataError(f"{root}: no .csv, .wav or .npz files found")
    if fmt == "csv":
        return _csv_guess(files, root)
    if fmt == "wav":
        return _wav_guess(files, root)
    with np.load(files[0]) as z:
        x = z.get("x")
    if x is None:
        raise DataError(f"{files[0]}: no array `x`")
    n_ch = x.shape[-1]
    return Guess(
        "npz",
        len(files),
        [f"ch{i}" for i in range(n_ch)],
        "folder",
        sorted({f.parent.name for f in files}),
        DEFAULT_RATE_HZ,
        int(x.shape[-2]),
        [f"rate_hz {DEFAULT_RATE_HZ:g} is a placeholder; set it"],
    )


def _sensors(channels: list[str]) -> list[tuple[str, list[str]]]:
    """Group channels by their alphabetic stem: acc_x, acc_y → acc."""
    groups: dict[str, list[str]] = {}
    for c in channels:
        stem = re.sub(r"[_\-.]?[xyz0-9]$", "", c, flags=re.I) or c
        groups.setdefault(stem, []).append(c)
    if len(groups) > 8:
        return [("sensor", channels)]
    return list(groups.items())


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./\-]*$")
_KEYWORDS = ("true", "false", "null", "yes", "no", "on", "off")


def _scalar(text: str) -> str:
    """``text`` as a YAML flow scalar: plain when safe, else a double-quoted string."""
    if _PLAIN.match(text) and text.lower() not in _KEYWORDS:
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _comment(line: str) -> str:
    """A line (or a comment) with no line break from the data in it."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line)


def _data_lines(g: Guess, rel: str) -> list[str]:
    """The ``data:`` section of the starter spec (names from the data quoted as needed)."""
    labels = (
        "{from: folder}"
        if g.labels == "folder"
        else f"{{from: column, column: {_scalar(g.labels)}}}"
    )
    if g.table:
        return [
            "data:",
            "  format: csv",
            f"  path: {_scalar(rel)}",
            "  csv: {layout: table}          # one example per row, its label in a column",
            "  sensors:",
            f"    - {{name: features, channels: [{', '.join(map(_scalar, g.channels))}]}}",
            f"  labels: {labels}",
            "  split: {by: file, test: 0.25, seed: 0}   # by row, stratified per class",
        ]
    length_s = min(2.0, g.samples_min / g.rate_hz)
    unit = "  # unit: set it (g, dps, …)"
    sensors = [
        f"    - {{name: {_scalar(s)}, channels: [{', '.join(map(_scalar, ch))}], "
        f"rate_hz: {g.rate_hz:g}}}" + (unit if g.fmt != "wav" else "")
        for s, ch in _sensors(g.channels)
    ]
    time = []
    if g.time_column:
        ms = ", time_unit: ms" if g.time_column.lower().endswith("ms") else ""
        time = [
            _comment(
                f"  csv: {{time_column: {_scalar(g.time_column)}{ms}}}   # not a channel; "
                "`mcuforge data check` looks for gaps and jitter in it"
            )
        ]
    return [
        "data:",
        f"  format: {g.fmt}",
        f"  path: {_scalar(rel)}",
        "  sensors:",
        *sensors,
        f"  labels: {labels}",
        *time,
        f"  window: {{length_s: {length_s:g}, stride_s: {length_s / 2:g}}}"
        f"   # shortest recording: {g.samples_min} samples",
        "  split: {by: file, test: 0.25, seed: 0}",
    ]


def _task(g: Guess) -> str:
    numeric = all(_is_number(c) for c in g.classes)
    if g.table and numeric and len(g.classes) > 20:
        return "task: {kind: regression, metric: rmse}"
    if len(g.classes) == 1:
        return "task: {kind: anomaly, metric: roc_auc}"
    return "task: {kind: classification, metric: accuracy}"


def starter_spec(root: Path, spec_dir: Path) -> str:
    """A commented spec for the data in ``root``, with paths relative to ``spec_dir``."""
    g = inspect(root)
    try:
        rel = root.resolve().relative_to(spec_dir.resolve()).as_posix()
    except ValueError:
        rel = root.resolve().as_posix()
    name = re.sub(r"[^A-Za-z0-9_]", "_", root.resolve().name or "model").strip("_") or "model"
    if not re.match(r"[A-Za-z_]", name):
        name = f"m_{name}"
    notes = "".join(f"#   - {_comment(n)}\n" for n in g.notes)
    from ._resources import data_dir

    schema = os.path.relpath(data_dir("schema") / "spec.schema.json", spec_dir.resolve())
    task = _task(g)
    classes = (
        "" if "regression" in task else f", {len(g.classes)} classes ({', '.join(g.classes[:8])})"
    )
    lines = [
        f"# yaml-language-server: $schema={schema}",
        _comment(
            f"# Starter spec written by `mcuforge init {root}`: {g.files} {g.fmt.upper()} "
            f"files{classes}."
        ),
        "# Guesses to check:",
        notes.rstrip("\n") if notes else "#   - none",
        "version: 1",
        f"name: {name}                  # also the C prefix: {name}_predict()",
        *_data_lines(g, rel),
        task,
        "target: nrf52840               # `mcuforge targets list`",
        "budgets: {sram_kb: 16, flash_kb: 64, latency_ms: 20}",
        "search: {trials: 30, seed: 0}",
        "recipe: auto                   # `mcuforge explain spec.yaml` shows the choice",
        "output: {dir: out, firmware: cmake-baremetal}",
    ]
    return "\n".join(lines) + "\n"
