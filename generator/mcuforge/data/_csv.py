"""CSV recordings: one file per recording with a header row (wide or long layout)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..spec import CsvOptions


@dataclass(frozen=True)
class Recording:
    """One recording in spec channel order, with what is known about it."""

    file: str  # path relative to the data folder, with forward slashes
    label: str | None  # class label (classification, anomaly)
    samples: np.ndarray  # float64 (time, channels)
    targets: np.ndarray | None = None  # float64 (time,): regression target per sample
    subject: str | None = None


def _number(path: Path, line_no: int, name: str, cell: str) -> float:
    cell = cell.strip()
    try:
        v = float(cell)
    except ValueError:
        raise DataError(f"{path}:{line_no}: column {name!r}: {cell!r} is not a number") from None
    if not math.isfinite(v):
        raise DataError(
            f"{path}:{line_no}: column {name!r}: {cell!r} is not finite; "
            "remove or interpolate NaN/inf samples"
        )
    return v


def _rows(path: Path, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from exc
    with handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError(f"{path}:1: empty file; expected a header row") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"{path}:1: not a CSV file ({exc})") from exc
        rows: list[tuple[int, list[str]]] = []
        try:
            for line_no, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{path}:{line_no}: expected {len(header)} columns "
                        f"({', '.join(header)}), found {len(row)}"
                    )
                rows.append((line_no, row))
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if not rows:
        raise DataError(f"{path}: no samples after the header")
    return header, rows


def _need(path: Path, header: list[str], names: list[str], fix: str) -> None:
    missing = [c for c in names if c not in header]
    if missing:
        raise DataError(
            f"{path}:1: header has no column {', '.join(map(repr, missing))}; "
            f"found {', '.join(header)}. {fix}"
        )


def _one_value(path: Path, values: list[str], column: str, what: str) -> str:
    distinct = sorted(set(values))
    if len(distinct) != 1:
        raise DataError(
            f"{path}: column {column!r} holds {len(distinct)} different {what}s "
            f"({', '.join(distinct[:5])}); one recording per file has one {what}"
        )
    return distinct[0]


def read_csv(
    path: Path,
    rel: str,
    channels: list[str],
    options: CsvOptions,
    label_column: str | None,
    folder_label: str | None,
    numeric_label: bool = False,
    subject_column: str | None = None,
) -> Recording:
    """Read one recording, checking shape and numbers cell by cell.

    With ``numeric_label`` the label column holds a number per sample (regression).

    Raises:
        DataError: naming the file, the line and the column of the first bad cell.
    """
    header, rows = _rows(path, options.delimiter)
    extra = [c for c in (label_column, subject_column) if c]
    if options.layout == "wide":
        _need(
            path,
            header,
            [*channels, *extra],
            "Fix `data.sensors[].channels` (or the label/subject column) or the file.",
        )
        index = [header.index(c) for c in channels]
        samples = np.asarray(
            [
                [_number(path, ln, name, row[i]) for i, name in zip(index, channels, strict=True)]
                for ln, row in rows
            ],
            dtype=np.float64,
        )
        meta_rows = rows
    else:
        cols = [options.channel_column, options.value_column]
        if options.time_column:
            cols.append(options.time_column)
        _need(path, header, [*cols, *extra], "Fix `data.csv` column names or the file.")
        ci, vi = header.index(options.channel_column), header.index(options.value_column)
        per: dict[str, list[tuple[float, int, float]]] = {c: [] for c in channels}
        ti = header.index(options.time_column) if options.time_column else None
        for order, (ln, row) in enumerate(rows):
            name = row[ci].strip()
            if name not in per:
                continue  # a channel the spec does not use
            t = _number(path, ln, options.time_column or "", row[ti]) if ti is not None else order
            per[name].append((t, order, _number(path, ln, options.value_column, row[vi])))
        lengths = {c: len(v) for c, v in per.items()}
        if len(set(lengths.values())) != 1 or 0 in lengths.values():
            raise DataError(
                f"{path}: long layout needs the same number of samples for every channel; "
                f"found {', '.join(f'{c}: {n}' for c, n in lengths.items())}"
            )
        samples = np.asarray(
            [[v for _, _, v in sorted(per[c])] for c in channels], dtype=np.float64
        ).T
        meta_rows = rows
    label: str | None = folder_label
    targets = None
    if label_column:
        li = header.index(label_column)
        if numeric_label:
            if options.layout == "long":
                raise DataError(f"{path}: regression targets need the wide CSV layout")
            targets = np.asarray([_number(path, ln, label_column, row[li]) for ln, row in rows])
            label = None
        else:
            label = _one_value(
                path, [row[li].strip() for _, row in meta_rows], label_column, "label"
            )
    subject = None
    if subject_column:
        si = header.index(subject_column)
        subject = _one_value(
            path, [row[si].strip() for _, row in meta_rows], subject_column, "subject"
        )
    return Recording(rel, label, samples, targets, subject)
