"""What the data checks find, and what the data turned into: findings and a summary.

A :class:`Finding` is one problem (or fact) at a place: ``error`` stops ``generate``
(and makes ``data check`` and ``validate`` exit 2), ``warning`` is printed by
``validate``, ``generate`` and ``data check`` and kept in the report, ``info`` says
what a policy did (a recording padded). A :class:`DataSummary` is what the report
and ``data check`` show about the data: counts per class and split, the split itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import DataError, Located

if TYPE_CHECKING:
    from ..spec import LoadedSpec

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


def shown(path: Path | str) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return p.relative_to(Path.cwd()).as_posix() if p.is_absolute() else p.as_posix()
    except ValueError:
        return p.as_posix()


class FileProblem(DataError):
    """A data file that cannot be used, at a line when there is one."""

    def __init__(
        self,
        path: Path | str,
        line: int | None,
        detail: str,
        columns: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.file = shown(path)
        self.line = line
        self.detail = detail
        #: Columns the header lacks, each with the spec field that names it
        #: (``("gyy", "data.sensors[].channels")``): also said at that spec line.
        self.columns = tuple(columns)
        super().__init__(f"{self.file}:{line}: {detail}" if line else f"{self.file}: {detail}")


@dataclass(frozen=True)
class Finding:
    """One problem (or fact) about the data, located at a file and line when known."""

    severity: Severity
    check: str  # e.g. non_finite, too_short, leakage (the JSON key of the kind)
    message: str
    file: str | None = None
    line: int | None = None
    #: A header's missing columns and the spec fields naming them (:class:`FileProblem`).
    columns: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        if self.line:
            return f"{self.file}:{self.line}: {self.message}"
        return f"{self.where}: {self.message}"

    @property
    def where(self) -> str:
        """The file, or the folder with a trailing ``/`` for a finding about the data as
        a whole (``data/: ...``: not read as a second stage name after ``data: warning:``)."""
        if not self.file:
            return ""
        return self.file + ("/" if Path(self.file).is_dir() and not self.file.endswith("/") else "")

    def located(self) -> Located:
        """As a located problem (``file:line: data.CHECK: message``)."""
        return Located(self.where, self.line, None, f"data.{self.check}", self.message)

    def is_about_a_file(self, root: Path) -> bool:
        """Whether the finding names a data file (else it is about the data as a whole)."""
        return self.file is not None and (
            self.file not in (shown(root), str(root)) or root.is_file()
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        del out["columns"]  # said in the message, and at the spec line by validate
        return out

    @classmethod
    def of(cls, exc: DataError, check: str = "unreadable") -> Finding:
        """An error finding from a raised :class:`DataError`."""
        if isinstance(exc, FileProblem):
            return cls("error", check, exc.detail, exc.file, exc.line, exc.columns)
        return cls("error", check, str(exc))


#: The spec field a finding about the data as a whole (not one file) comes from.
SPEC_FIELDS: dict[str, tuple[str, ...]] = {
    "split": ("data", "split"),
    "no_test": ("data", "split"),
    "leakage": ("data", "split"),
    "subjects": ("data", "split", "subjects"),
    "labels": ("data", "labels"),
    "normal": ("task", "normal"),
    "too_short": ("data", "window"),
    "window": ("data", "window"),
    "data": ("data", "path"),
    "unreadable": ("data", "path"),
}


def locate_findings(
    findings: Sequence[Finding], root: Path, spec: LoadedSpec | None = None
) -> list[Located]:
    """Findings as located problems, the way ``validate`` and ``generate`` report them.

    A finding about one file stays at that file and line; the same problem in several
    files is one problem at the first, with the count and a few more names (a
    thousand files with the same missing column are one line, not a thousand). A
    finding about the data as a whole is located at the spec field it comes from
    (``spec.yaml:9:10: data.split: ...``) when the spec is given.
    """
    return [p for p, _ in _located(findings, root, spec)]


def data_error(
    findings: Sequence[Finding], root: Path, spec: LoadedSpec | None = None
) -> DataError:
    """The error ``validate`` and ``generate`` raise for the data's error findings, one
    line per problem of :func:`locate_findings`: ``file:line: message`` for a data
    file, ``spec:line:col: field: message`` for the data as a whole."""
    pairs = _located(findings, root, spec)
    lines = [str(replace(p, field="")) if in_file else str(p) for p, in_file in pairs]
    return DataError("\n".join(lines), [p for p, _ in pairs])


def _located(
    findings: Sequence[Finding], root: Path, spec: LoadedSpec | None
) -> list[tuple[Located, bool]]:
    """Each problem, and whether it lies in a data file (else in the spec)."""
    out: list[tuple[Located, bool]] = []
    alike: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.is_about_a_file(root):
            alike.setdefault((f.check, f.message), []).append(f)
        elif spec is not None:
            out.append((spec.problem(SPEC_FIELDS.get(f.check, ("data",)), f.message), False))
        else:
            out.append((f.located(), True))
    for group in alike.values():
        first = group[0].located()
        if spec is not None and group[0].columns:
            first = replace(first, message=f"{first.message} {_named_at(spec, group[0].columns)}")
        if len(group) > 1:
            more = ", ".join(str(g.file) for g in group[1:4])
            rest = "" if len(group) <= 4 else ", …"
            first = replace(
                first,
                message=f"{first.message} (and {len(group) - 1} more "
                f"file{'s' if len(group) > 2 else ''} alike: {more}{rest})",
            )
        out.append((first, True))
    return out


def _named_at(spec: LoadedSpec, columns: Sequence[tuple[str, str]]) -> str:
    """Where the spec names each missing column: ``The spec names 'gyy' at
    spec.yaml:14:35 (data.sensors.1.channels.1).``"""
    places = []
    for name, where in columns:
        at = spec.problem(_column_field(spec, name, where), "")
        line = f":{at.line}:{at.col}" if at.line is not None else ""
        places.append(f"{name!r} at {at.file}{line} ({at.field})")
    return f"The spec names {', '.join(places)}."


def _column_field(spec: LoadedSpec, name: str, where: str) -> tuple[str | int, ...]:
    """The spec field that names column ``name``: ``where`` (``data.csv.time_column``),
    with the sensor and channel index for ``data.sensors[].channels``."""
    if where == "data.sensors[].channels":
        for i, sensor in enumerate(spec.spec.data.sensors):
            if name in sensor.channels:
                return ("data", "sensors", i, "channels", sensor.channels.index(name))
        return ("data", "sensors")
    return tuple(where.split("."))


@dataclass(frozen=True)
class ClassCount:
    """Recordings and windows of one class (or of everything, for regression)."""

    name: str
    recordings: int = 0
    short: int = 0  # shorter than the window
    dropped: int = 0
    padded: int = 0
    resampled: int = 0
    truncated: int = 0
    train_recordings: int = 0
    test_recordings: int = 0
    train_windows: int = 0
    test_windows: int = 0


@dataclass(frozen=True)
class SplitInfo:
    """The train/test split as the report states it."""

    mode: str  # test_files | file | row | subject
    text: str  # one line for people
    held_out: list[str] = field(default_factory=list)  # test subjects, or test files


@dataclass(frozen=True)
class DataSummary:
    """What the data became: counts per class and split, lengths, the split."""

    files: int
    recordings: int
    window: int
    stride: int
    policy: str
    classes: list[ClassCount]
    split: SplitInfo | None
    lengths: dict[str, Any]  # min, median, max and a histogram (edges, counts)
    unit: str = "recordings"  # "rows" for a table

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def totals(self) -> ClassCount:
        keys = [k for k in ClassCount.__dataclass_fields__ if k != "name"]
        return ClassCount("total", **{k: sum(getattr(c, k) for c in self.classes) for k in keys})

    def reshaped_lines(self) -> list[str]:
        """What the window policy did to short (or whole) recordings: padded, resampled,
        truncated, with the count per class (the log's line; the report has the table)."""
        lines = [
            _lost(self.classes, key, what)
            for key, what in (
                ("padded", "padded to the window"),
                ("resampled", "resampled to the window"),
                ("truncated", "truncated to the window"),
            )
        ]
        return [line for line in lines if line]

    def dropped_text(self) -> str | None:
        """``3 recordings dropped as shorter than the window (walking 2, running 1)``."""
        return _lost(self.classes, "dropped", "dropped as shorter than the window")

    def lines(self) -> list[str]:
        """The summary as a few lines of text (``data check``, ``generate``'s log)."""
        out = [
            f"{self.files} file{'s' if self.files != 1 else ''}, {self.recordings} {self.unit}; "
            f"window {self.window} samples, "
            f"stride {self.stride}; shorter recordings: {self.policy}"
        ]
        if self.split is not None:
            out.append(f"split: {self.split.text}")
        return out

    def table(self) -> list[str]:
        """Per class: recordings, short, dropped, padded (and resampled or truncated when
        the policy did so), windows in train and test; names on one line each."""
        t = self.totals()
        extra = [k for k in ("resampled", "truncated") if getattr(t, k)]
        head = (
            "class",
            "recordings",
            "short",
            "dropped",
            "padded",
            *extra,
            "train win",
            "test win",
        )
        rows = [
            (
                c.name.replace("\n", " ").replace("\r", " "),
                c.recordings,
                c.short,
                c.dropped,
                c.padded,
                *(getattr(c, k) for k in extra),
                c.train_windows,
                c.test_windows,
            )
            for c in [*self.classes, t]
        ]
        width = max(len(head[0]), *(len(str(r[0])) for r in rows))
        fmt = f"{{:<{width}}}" + "".join(f" {{:>{len(h)}}}" for h in head[1:])
        return [fmt.format(*head), *(fmt.format(*r) for r in rows)]


def _lost(classes: list[ClassCount], key: str, what: str) -> str | None:
    n = sum(getattr(c, key) for c in classes)
    if not n:
        return None
    per = ", ".join(f"{c.name} {getattr(c, key)}" for c in classes if getattr(c, key))
    return f"{n} recording{'s' if n != 1 else ''} {what} ({per})"


def report_lines(findings: list[Finding], limit: int = 10, infos: bool = False) -> list[str]:
    """Findings as ``severity: file:line: message`` lines, at most ``limit`` per check."""
    out: list[str] = []
    shown_per: dict[tuple[str, str], int] = {}
    hidden: dict[tuple[str, str], int] = {}
    for f in sorted(findings, key=lambda f: SEVERITIES.index(f.severity)):
        if f.severity == "info" and not infos:
            continue
        key = (f.severity, f.check)
        if shown_per.get(key, 0) >= limit:
            hidden[key] = hidden.get(key, 0) + 1
            continue
        shown_per[key] = shown_per.get(key, 0) + 1
        out.append(f"{f.severity}: {f}")
    for (severity, check), n in hidden.items():
        out.append(f"{severity}: ... and {n} more {check} findings (`mcuforge data check --json`)")
    return out


def relative(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when inside it (forward slashes), else as shown."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return os.fspath(path)
