"""CSV recordings: one file per recording, a header row, one row per sample."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError


@dataclass(frozen=True)
class Recording:
    """One recording: samples (time, channels) in spec channel order and its label."""

    file: str  # path relative to the data folder, with forward slashes
    label: str
    samples: np.ndarray  # float64, (time, channels)


def read_csv(
    path: Path, rel: str, channels: list[str], label_column: str | None, folder_label: str | None
) -> Recording:
    """Read one recording, checking shape and numbers cell by cell.

    Raises:
        DataError: naming the file, the line and the column of the first bad cell.
    """
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError(
                f"{path}:1: empty file; expected a header row "
                f"with the columns {', '.join(channels)}"
            ) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(f"{path}:1: not a CSV file ({exc})") from exc
        missing = [c for c in channels if c not in header]
        if label_column and label_column not in header:
            missing.append(label_column)
        if missing:
            raise DataError(
                f"{path}:1: header has no column {', '.join(map(repr, missing))}; "
                f"found {', '.join(header)}. Fix `data.sensors[].channels` or the file."
            )
        index = [header.index(c) for c in channels]
        label_index = header.index(label_column) if label_column else None
        rows: list[list[float]] = []
        labels: set[str] = set()
        try:
            for line_no, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{path}:{line_no}: expected {len(header)} columns "
                        f"({', '.join(header)}), found {len(row)}"
                    )
                values = []
                for i, name in zip(index, channels, strict=True):
                    cell = row[i].strip()
                    try:
                        v = float(cell)
                    except ValueError:
                        raise DataError(
                            f"{path}:{line_no}: column {name!r}: {cell!r} is not a number"
                        ) from None
                    if not math.isfinite(v):
                        raise DataError(
                            f"{path}:{line_no}: column {name!r}: {cell!r} is not finite; "
                            "remove or interpolate NaN/inf samples"
                        )
                    values.append(v)
                rows.append(values)
                if label_index is not None:
                    labels.add(row[label_index].strip())
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if not rows:
        raise DataError(f"{path}: no samples after the header")
    if label_column:
        if len(labels) != 1:
            raise DataError(
                f"{path}: column {label_column!r} holds {len(labels)} labels "
                f"({', '.join(sorted(labels)[:5])}); one recording per file has one label"
            )
        label = labels.pop()
    else:
        assert folder_label is not None
        label = folder_label
    return Recording(rel, label, np.asarray(rows, dtype=np.float64))
