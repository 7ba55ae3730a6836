"""Recordings written in a spec's own data layout, for the next ``generate`` to read.

``mcuforge capture`` writes each recording as one CSV file in the spec's data folder:
``<data.path>/<label>/<UTC time stamp>.csv`` (``20250314T101502Z.csv``; ``-2``, ``-3``…
when the name is taken: a file is never overwritten), in the spec's CSV layout:

* ``wide``: a header row, then one row per sample; the spec's channel names as columns
  (``segments`` too: a capture is one run of one label);
* ``long``: one row per sample and channel, with ``csv.channel_column`` and
  ``csv.value_column``;
* plus, where the spec has them, ``csv.time_column`` (seconds, ms or µs from the first
  sample, at the spec's ``rate_hz``), the label column (``labels: {from: column}``) and
  ``split.subject_column``; the spec's delimiter and decimal separator.

Values are the firmware's float32 samples in the shortest decimal text that reads back
as the same float32 (the CSV reader parses to float64 and stores float32, so every value
the board sent is the value ``generate`` trains on, bit for bit); NaN and infinities are
written as ``nan`` / ``inf`` for the data check to point at.

Safety: the label is one plain folder name (no separator, no ``..``, no leading dot, no
control character); the label folder must resolve inside the data folder (a symbolic link
out of it is refused). A file is written to a hidden temporary file in the label folder,
then hard-linked to a free name (atomic, never replacing a file) and the temporary file
removed; where the file system has no hard links, the name is reserved with ``O_EXCL`` and
the file renamed onto it.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..errors import DataError, OutputError
from ..spec import Data, Task

#: Longest label (a folder name; most file systems allow 255 bytes).
MAX_LABEL_BYTES = 100
_TIME_FACTOR = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}
_UNSAFE = re.compile(r"[/\\\x00-\x1f\x7f]")


def check_layout(data: Data, task: Task) -> None:
    """The spec's data is a layout capture can write.

    Raises:
        DataError: not CSV, a table, or ``data.path`` is a file.
    """
    if data.format != "csv":
        raise DataError(
            f"capture writes CSV recordings, but `data.format` is {data.format}: use a CSV "
            "data folder (one file per recording)"
        )
    if data.table:
        raise DataError("capture records time series; `csv.layout: table` has one example per row")
    if data.labels.source == "file_name":
        raise DataError(
            "capture writes each recording into its class folder (<data.path>/<label>/); "
            "with `labels: {from: file_name}` move the files into class folders and use "
            "`labels: {from: folder}`"
        )
    if task.kind == "regression" and data.labels.source != "column":
        raise DataError("regression targets come from a label column; capture cannot write one")


def check_label(label: str, task: Task) -> str:
    """``label`` as a folder name, or an error saying why it cannot be one.

    Raises:
        OutputError: empty, a path, a dot name, control characters, too long, or (for
            regression) not a number.
    """
    name = label.strip()
    if not name:
        raise OutputError("--label is empty: give the class name, e.g. --label walking")
    if _UNSAFE.search(name) or name in (".", "..") or name.startswith("."):
        raise OutputError(
            f"--label {label!r} is not a plain folder name: no '/', '\\', control characters "
            "or leading '.'; recordings go into <data.path>/<label>/"
        )
    if len(name.encode()) > MAX_LABEL_BYTES:
        raise OutputError(f"--label is longer than {MAX_LABEL_BYTES} bytes")
    if task.kind == "regression":
        try:
            value = float(name)
        except ValueError:
            raise OutputError(
                f"--label {label!r}: a regression target is a number (the value of the label "
                "column in every row)"
            ) from None
        if not np.isfinite(value):
            raise OutputError(f"--label {label!r}: a regression target must be finite")
    return name


def label_folder(data: Data, base_dir: Path, label: str) -> Path:
    """``<data.path>/<label>``, checked to lie inside the data folder (not created).

    Raises:
        DataError: the data path is a file.
        OutputError: the label folder resolves outside the data folder, or is a file.
    """
    root = (base_dir / data.path).resolve()
    if root.is_file():
        raise DataError(
            f"`data.path` is one file ({root}); capture writes one file per recording into "
            "a data folder: point `data.path` at a folder"
        )
    folder = root / label
    if folder.exists() or folder.is_symlink():
        real = folder.resolve()
        if not real.is_relative_to(root):
            raise OutputError(
                f"{folder} leads outside the data folder ({real}); capture writes only inside "
                f"{root}"
            )
        if not real.is_dir():
            raise OutputError(f"{folder} exists and is not a folder")
    return folder


def existing_labels(data: Data, base_dir: Path) -> list[str]:
    """The class folders of the data folder that hold CSV files."""
    root = (base_dir / data.path).resolve()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and next(p.rglob("*.csv"), None))


def _value_texts(column: np.ndarray) -> list[str]:
    """Shortest text of each float32 that reads back (via float64) as the same float32."""
    texts = [str(v) for v in column.astype(np.float32)]
    # subnormals underflow and NaN texts are expected here, whatever numpy's global
    # error state (a library may have set it to raise)
    with np.errstate(all="ignore"):
        back = np.array(texts, dtype=np.float64).astype(np.float32)
    same = (back == column) | (np.isnan(back) & np.isnan(column))
    for i in np.flatnonzero(~same):  # decimal -> float64 -> float32 rounded twice
        texts[i] = repr(float(column[i]))
    return texts


def _time_texts(n: int, rate_hz: float, unit: str) -> list[str]:
    factor = _TIME_FACTOR[unit] / rate_hz
    return [f"{i * factor:.12g}" for i in range(n)]


def csv_text(samples: np.ndarray, data: Data, label: str, subject: str | None = None) -> str:
    """One recording as the spec's CSV layout (see the module docstring).

    Args:
        samples: float32 (time, channels) in the spec's channel order.
        label: written in the label column with ``labels: {from: column}``.
        subject: written in ``split.subject_column`` when the spec has one.
    """
    opts = data.csv
    x = np.asarray(samples, dtype=np.float32)
    n, channels = len(x), data.channels
    times = _time_texts(n, data.rate_hz, opts.time_unit) if opts.time_column else None
    tail_names = [c for c in (data.labels.column, data.split.subject_column) if c]
    tail = [label] if data.labels.source == "column" else []
    if data.split.subject_column:
        tail.append(subject or "")
    values = [_value_texts(x[:, c]) for c in range(len(channels))]
    if opts.decimal == ",":  # as the user's own files are written (`csv.decimal`)
        values = [[v.replace(".", ",") for v in col] for col in values]
        times = [t.replace(".", ",") for t in times] if times else None
    out = io.StringIO()
    writer = csv.writer(out, delimiter=opts.delimiter, lineterminator="\n")
    head = [opts.time_column] if opts.time_column else []
    if opts.layout == "long":
        writer.writerow([*head, opts.channel_column, opts.value_column, *tail_names])
        rows: Iterable[list[str]] = (
            [*([times[i]] if times else []), name, values[c][i], *tail]
            for i in range(n)
            for c, name in enumerate(channels)
        )
    else:
        writer.writerow([*head, *channels, *tail_names])
        rows = ([*([times[i]] if times else []), *(v[i] for v in values), *tail] for i in range(n))
    writer.writerows(rows)
    return out.getvalue()


def _free_names(stamp: str) -> Iterable[str]:
    yield f"{stamp}.csv"
    k = 2
    while True:
        yield f"{stamp}-{k}.csv"
        k += 1


def write_new(folder: Path, stamp: str, text: str) -> Path:
    """Write ``text`` as ``folder/<stamp>.csv`` (or the first free ``<stamp>-K.csv``),
    through a temporary file; never replaces a file. Creates ``folder``.

    Raises:
        OutputError: the folder or the file cannot be written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{stamp}.csv.{os.getpid()}.part"
        with tmp.open("x", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise OutputError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    try:
        for name in _free_names(stamp):
            final = folder / name
            try:
                os.link(tmp, final)
                return final
            except FileExistsError:
                continue
            except OSError:  # no hard links here: reserve the name, then rename onto it
                try:
                    os.close(os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
                except FileExistsError:
                    continue
                os.replace(tmp, final)
                return final
        raise AssertionError("unreachable: the names never run out")
    except OSError as exc:
        raise OutputError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


__all__ = [
    "MAX_LABEL_BYTES",
    "check_label",
    "check_layout",
    "csv_text",
    "existing_labels",
    "label_folder",
    "write_new",
]
