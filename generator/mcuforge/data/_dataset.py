"""From the spec's data section to windows, targets and a leak-free split.

:func:`survey` reads every file, applies the window policy, splits and runs the data
checks, collecting every problem it finds (``mcuforge data check``, ``validate``);
:func:`load_dataset` refuses the data when one of them is an error, and otherwise
writes each side's windows into one preallocated array.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..spec import FILE_NAME_LABEL, Data, LoadedSpec, Spec, Task
from ._csv import Recording, read_csv, read_segments, read_table
from ._files import data_files, data_path, file_sha256, hidden_files
from ._findings import (
    DataSummary,
    FileProblem,
    Finding,
    SplitInfo,
    data_error,
    relative,
    report_lines,
    shown,
)
from ._formats import read_npz, read_wav
from ._split import subjects_of, test_mask
from ._survey import policy_text, run_checks, short_findings, summarize
from ._windows import Cut, fill, plan_cut, window_targets

_SUFFIX = {"csv": ".csv", "npz": ".npz", "wav": ".wav"}


@dataclass(frozen=True)
class Split:
    """Windows of one side of the split."""

    x: np.ndarray  # float32 (n, length, channels)
    y: np.ndarray  # int64 class index (classification), 0/1 (anomaly), float32 (regression)
    groups: np.ndarray  # int64 (n,) recording index: windows of a file share it
    files: list[str]  # recording names, indexed by groups
    #: int64 (n,) what cross-validation keeps together: the subject's index with
    #: ``split: {by: subject}`` (so the search is judged on unseen subjects, as the test
    #: is), else the recording's (``groups``)
    folds: np.ndarray | None = None

    @property
    def fold_groups(self) -> np.ndarray:
        return self.groups if self.folds is None else self.folds


@dataclass(frozen=True)
class Dataset:
    """Windows + targets + a split in which no recording is on both sides.

    ``classes`` are the class names (classification), ``["normal", "anomaly"]``
    (anomaly detection) or empty (regression). ``summary`` says what was dropped,
    padded or resampled and how the data was split; ``findings`` are the data check's
    warnings (and notes) about it.
    """

    train: Split
    test: Split
    classes: list[str]
    channels: list[str]
    rate_hz: float
    window: int
    stride: int
    sha256: str
    file_hashes: dict[str, str]
    task: str = "classification"
    summary: DataSummary | None = None
    findings: tuple[Finding, ...] = ()

    def log_lines(self) -> list[str]:
        """What ``generate`` logs about the data beyond its shape: the split, and the data
        check's warnings (among them what was dropped, with the count per class)."""
        lines = [f"data: {line}" for line in (self.summary.lines()[1:] if self.summary else [])]
        lines += [
            f"data: {line}" for line in (self.summary.reshaped_lines() if self.summary else [])
        ]
        return lines + [f"data: {line}" for line in report_lines(list(self.findings), limit=5)]

    def check_json(self) -> dict[str, Any]:
        """The data check as the report keeps it (the shape of ``data check --json``)."""
        return check_json(self.summary, list(self.findings))


def check_json(summary: DataSummary | None, findings: list[Finding]) -> dict[str, Any]:
    errors = sum(f.severity == "error" for f in findings)
    return {
        "ok": errors == 0,
        "errors": errors,
        "warnings": sum(f.severity == "warning" for f in findings),
        "summary": summary.to_json() if summary else None,
        "findings": [f.to_json() for f in findings],
    }


@dataclass
class Survey:
    """Everything read and decided about the data, with every problem found."""

    root: Path
    length: int
    stride: int
    recordings: list[Recording] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    cls: list[int] = field(default_factory=list)
    cuts: list[Cut] = field(default_factory=list)
    is_test: list[bool] = field(default_factory=list)
    subjects: list[str | None] = field(default_factory=list)  # per recording, when known
    findings: list[Finding] = field(default_factory=list)
    summary: DataSummary | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def json(self) -> dict[str, Any]:
        return check_json(self.summary, self.findings)


def _place_label(p: Path, base: Path, data: Data) -> str | None:
    """The label the file's place gives: its folder, or its name (``from: file_name``)."""
    if data.labels.source == "file_name":
        label = data.labels.from_name(p.name)
        if label is None:
            raise FileProblem(
                p,
                None,
                "labels come from file names (`labels: {from: file_name}`), but this name "
                f"has none (`pattern` {data.labels.pattern or FILE_NAME_LABEL!r}); rename "
                "the file (e.g. walk_01.csv) or fix `labels.pattern`",
            )
        return label
    if data.labels.source != "folder" or (data.format == "npz" and p.parent == base):
        return None  # an .npz at the top level carries its labels in `y`
    if p.parent == base:
        raise FileProblem(
            p,
            None,
            "labels come from folders (`labels: {from: folder}`), but this file is not in a "
            "class folder; move it into data/<class>/, or name the files after their class "
            "(`labels: {from: file_name}`), or use `labels: {from: column, column: NAME}`",
        )
    return p.parent.name


def _read(
    p: Path, rel: str, data: Data, task: Task, base: Path
) -> tuple[list[Recording], str, list[Finding]]:
    folder = _place_label(p, base, data)
    numeric = task.kind == "regression"
    subject_column = data.split.subject_column
    if data.format == "csv" and data.table:
        assert data.labels.column is not None
        return (
            *read_table(
                p, rel, data.channels, data.csv, data.labels.column, numeric, subject_column
            ),
            [],
        )
    if data.format == "csv" and data.csv.layout == "segments":
        assert data.labels.column is not None
        if numeric:
            raise FileProblem(
                p,
                None,
                "regression reads a number per sample from the label column: use the wide "
                "layout (`csv.layout: wide`), not `segments`",
            )
        recs, sha, unlabelled = read_segments(
            p, rel, data.channels, data.csv, data.labels.column, subject_column
        )
        if not unlabelled:
            return recs, sha, []
        rows = sum(b - a + 1 for a, b in unlabelled)
        listed = ", ".join(f"{a}-{b}" for a, b in unlabelled[:5])
        more = ", …" if len(unlabelled) > 5 else ""
        note = f"{rows} rows without a label (lines {listed}{more}) are not used"
        return recs, sha, [Finding("info", "labels", note, shown(p), unlabelled[0][0])]
    if data.format == "csv":
        rec, sha = read_csv(
            p, rel, data.channels, data.csv, data.labels.column, folder, numeric, subject_column
        )
        return [rec], sha, []
    if data.format == "npz":
        recs = read_npz(p, rel, data.channels, folder)
        if data.labels.source == "file_name":  # the name the spec chose, not the archive's y
            recs = [replace(r, label=folder) for r in recs]
        return recs, file_sha256(p), []
    assert folder is not None
    return [read_wav(p, rel, data.rate_hz, folder, data.channels[0])], file_sha256(p), []


def _read_all(s: Survey, data: Data, task: Task, base_dir: Path) -> None:
    root = s.root
    paths, problems = data_files(root, _SUFFIX[data.format])
    every = paths + [data_path(Path.cwd(), p.file) for p in problems]  # not empty folders
    s.findings += [Finding.of(p) for p in problems]
    if data.split.subjects:  # the subjects file is not a recording, even inside the folder
        mapping = data_path(base_dir, data.split.subjects)
        paths = [p for p in paths if p.resolve() != mapping.resolve()]
    if not paths and not problems:
        raise DataError(
            f"{shown(root)}: no {_SUFFIX[data.format]} files found (looked in all subfolders)"
        )
    base = root if root.is_dir() else root.parent
    hidden = hidden_files(root, _SUFFIX[data.format])
    if hidden:  # said, not silent: a tool's copies (`._run1.csv`, `.ipynb_checkpoints/`)
        s.findings.append(
            Finding(
                "info",
                "files",
                f"{len(hidden)} hidden {_SUFFIX[data.format]} file"
                f"{'s are' if len(hidden) != 1 else ' is'} not data (a name or folder "
                f"starting with `.`: {relative(hidden[0], root)}"
                f"{', …' if len(hidden) > 1 else ''})",
                shown(root),
            )
        )
    if data.labels.source == "folder" and root.is_dir():
        s.findings += _empty_class_folders(root, every, _SUFFIX[data.format])
        s.findings += _class_folder_mixups(root, paths)
    for p in paths:
        rel = relative(p, base)
        try:
            recs, sha, notes = _read(p, rel, data, task, base)
        except FileProblem as exc:
            s.findings.append(Finding.of(exc))
            continue
        s.findings += notes
        s.recordings.extend(recs)
        s.hashes[rel] = sha
    if data.split.subjects:
        mapping = data_path(base_dir, data.split.subjects)
        if mapping.is_file():
            s.hashes[f"split.subjects: {relative(mapping, base)}"] = file_sha256(mapping)
    if task.kind == "regression" and any(r.targets is None for r in s.recordings):
        raise DataError(
            "regression needs a numeric target per sample: "
            "`labels: {from: column, column: NAME}` with CSV data"
        )


def _empty_class_folders(root: Path, paths: list[Path], suffix: str) -> list[Finding]:
    """A warning per folder under ``root`` without subfolders or ``suffix`` files: with
    labels from folders it looks like a class whose recordings were not copied."""
    holding = {d for p in paths for d in p.parents}
    out = []
    for d in sorted(root.rglob("*")):
        hidden = any(part.startswith(".") for part in d.relative_to(root).parts)
        if hidden or d.is_symlink() or not d.is_dir() or d in holding:
            continue  # .git/, links (data_files reports those that leave), folders of data
        if any(c.is_dir() for c in d.iterdir()):
            continue
        out.append(
            Finding(
                "warning",
                "labels",
                f"a folder without {suffix} files: no class {d.name!r} is read from it; "
                "copy its recordings in, or remove the folder",
                f"{shown(d)}/",
            )
        )
    return out


def _class_folder_mixups(root: Path, paths: list[Path]) -> list[Finding]:
    """Class folders that are likely one class read as two: a folder of data files
    inside another one (``jumping/session2/``: its files are class ``session2``, not
    ``jumping``), and names that differ only in case (``Walking/``, ``walking/``)."""
    folders = sorted({p.parent for p in paths if p.parent != root})
    out = []
    for d in folders:
        outer = next((f for f in folders if f in d.parents), None)
        if outer is not None:
            out.append(
                Finding(
                    "warning",
                    "labels",
                    f"data files in a folder inside the class folder {outer.name!r}: they are "
                    f"class {d.name!r} (the folder holding each file); move them up into "
                    f"{outer.name}/ if they are {outer.name!r}",
                    f"{shown(d)}/",
                )
            )
    by_case: dict[str, list[str]] = {}
    for d in folders:
        by_case.setdefault(d.name.lower(), []).append(d.name)
    for names in by_case.values():
        if len(set(names)) > 1:
            out.append(
                Finding(
                    "warning",
                    "labels",
                    f"class folders {', '.join(sorted(set(names)))} differ only in case: "
                    "they are different classes; rename them to one name if they are one",
                    f"{shown(root)}/",
                )
            )
    return out


class _UnknownNormal(DataError):
    """``task.normal`` names a label the data does not have (located at that field)."""


def _classes(recordings: list[Recording], task: Task, root: Path) -> tuple[list[str], list[int]]:
    """Class names and each recording's class index (-1 for regression)."""
    if task.kind == "regression":
        return [], [-1] * len(recordings)
    labels = sorted({str(r.label) for r in recordings})
    if task.kind == "anomaly":
        normal = set(task.normal or ["normal"])
        unknown = sorted(normal - set(labels))
        if unknown:
            raise _UnknownNormal(
                f"`task.normal` names {', '.join(unknown)}, but the data's labels are "
                f"{', '.join(labels)}"
            )
        return ["normal", "anomaly"], [0 if r.label in normal else 1 for r in recordings]
    if len(labels) < 2:
        raise DataError(
            f"found {len(labels)} class ({', '.join(labels)}) in {shown(root)}; classification "
            "needs at least two classes (for a detector of what differs from this one, "
            "`task: {kind: anomaly}`; with a test set, give it some anomalous recordings)"
        )
    index = {label: i for i, label in enumerate(labels)}
    return labels, [index[str(r.label)] for r in recordings]


def survey(data: Data, base_dir: Path, task: Task | None = None) -> Survey:
    """Read, cut, split and check the data, collecting every problem as a finding.

    Raises:
        DataError: only when nothing can be looked at: the folder is missing or holds no
            data file, or a regression spec has no targets.
    """
    task = task or Task()
    root = data_path(base_dir, data.path)
    if not root.exists():
        raise DataError(
            f"data folder {shown(root)} does not exist; fix `data.path` (relative to the spec)"
        )
    length, stride = data.window.samples(data.rate_hz)
    s = Survey(root, length, stride)
    if length < 2 and not data.table:
        s.findings.append(
            Finding(
                "warning",
                "window",
                f"the window is {length} sample: no model sees how the signal changes; "
                "lengthen `data.window`, or for one example per row use "
                "`csv: {layout: table}`",
            )
        )
    _read_all(s, data, task, base_dir)
    if not s.recordings:
        return s
    try:
        s.classes, s.cls = _classes(s.recordings, task, root)
    except DataError as exc:
        s.findings.append(
            Finding.of(exc, "normal" if isinstance(exc, _UnknownNormal) else "labels")
        )
        return s
    s.cuts = [plan_cut(len(r.samples), length, stride, data.window) for r in s.recordings]
    folder = root if root.is_dir() else root.parent
    s.findings += _rebased(short_findings(s, data, task), folder)
    subjects, problems = subjects_of(s.recordings, data, base_dir, folder)
    s.subjects = subjects
    s.findings += problems
    kept = [i for i, c in enumerate(s.cuts) if c.n]
    split: SplitInfo | None = None
    s.is_test = [False] * len(s.recordings)
    if kept and not any(f.check == "subjects" and f.severity == "error" for f in problems):
        strata = _strata(s, task)
        try:
            mask, split = test_mask(
                [s.recordings[i] for i in kept],
                data,
                [strata[i] for i in kept],
                [subjects[i] for i in kept],
                root,
            )
            for i, m in zip(kept, mask, strict=True):
                s.is_test[i] = m
        except DataError as exc:
            s.findings.append(Finding.of(exc, "split"))
    s.summary = summarize(s, data, task, split, policy_text(data, length))
    s.findings += _rebased(run_checks(s, data, task, subjects, kept, split is not None), folder)
    return s


def _strata(s: Survey, task: Task) -> list[int]:
    """What a split by file stratifies on: the class, and for anomaly detection each
    label (normal and every kind of fault: `bearing` and `cavitation` are both the
    anomaly class, and a stratification on that alone could hold out neither of one).
    Labels of one recording share a stratum per class (alone, none would be held out:
    three faults seen once each still put one in the test set)."""
    if task.kind != "anomaly":
        return s.cls
    pairs = [(c, r.label or "") for c, r in zip(s.cls, s.recordings, strict=True)]
    counts = Counter(pairs)
    pooled = [(c, label if counts[(c, label)] > 1 else "") for c, label in pairs]
    keys = sorted(set(pooled))
    return [keys.index(k) for k in pooled]


def _rebased(findings: list[Finding], folder: Path) -> list[Finding]:
    """Findings about recordings (named relative to the data folder) as paths are shown."""
    return [f if f.file is None else replace(f, file=shown(folder / f.file)) for f in findings]


def load_dataset(
    data: Data, base_dir: Path, task: Task | None = None, spec: LoadedSpec | None = None
) -> Dataset:
    """Load every recording, window it and split it.

    Raises:
        DataError: every error the data check finds (missing folder, no files, bad cells,
            too few classes, too many recordings shorter than the window, the same
            recording in train and test, an empty side of the split), one a line; those
            about the data as a whole located at their field of ``spec`` when given.
    """
    task = task or Task()
    s = survey(data, base_dir, task)
    if s.errors:
        raise data_error(s.errors, s.root, spec)
    total = data_sha256(s.hashes)
    return Dataset(
        _side(s, data, task, test=False),
        _side(s, data, task, test=True),
        s.classes,
        data.channels,
        data.rate_hz,
        s.length,
        s.stride,
        total,
        s.hashes,
        task.kind,
        s.summary,
        tuple(f for f in s.findings if f.severity != "error"),
    )


def _side(s: Survey, data: Data, task: Task, test: bool) -> Split:
    """One side's windows, written into one array (no concatenation of copies)."""
    chosen = [
        i for i, (c, t) in enumerate(zip(s.cuts, s.is_test, strict=True)) if c.n and t == test
    ]
    total = sum(s.cuts[i].n for i in chosen)
    x = np.empty((total, s.length, len(data.channels)), dtype=np.float32)
    regression = task.kind == "regression"
    y = np.empty(total, dtype=np.float32 if regression else np.int64)
    groups = np.empty(total, dtype=np.int64)
    # by subject: the folds keep each subject together, also when `test_files` chose the
    # test files (a subject on both sides is then an error of the data check)
    subject_of = s.subjects if data.split.by == "subject" else []
    known = [subject_of[i] for i in chosen] if subject_of else []
    by_subject = bool(known) and None not in known and len(set(known)) >= 2
    index = {name: k for k, name in enumerate(sorted({str(n) for n in known}))}
    folds = np.empty(total, dtype=np.int64) if by_subject else None
    files: list[str] = []
    at = 0
    for g, i in enumerate(chosen):
        rec, cut = s.recordings[i], s.cuts[i]
        end = at + cut.n
        fill(x[at:end], rec.samples, cut, s.length, s.stride, data.window)
        if regression:
            assert rec.targets is not None
            y[at:end] = window_targets(rec.targets, cut, s.length, s.stride, data.window)
        else:
            y[at:end] = s.cls[i]
        groups[at:end] = g
        if folds is not None:
            folds[at:end] = index[str(subject_of[i])]
        files.append(rec.file)
        at = end
    return Split(x, y, groups, files, folds)


def data_sha256(hashes: dict[str, str]) -> str:
    """The data's digest in the lock: of every file's name and sha256."""
    text = "".join(f"{k}\0{v}\n" for k, v in sorted(hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def preflight(spec: Spec, base_dir: Path) -> list[Finding]:
    """What ``generate`` would find in the data before its search: every error (unreadable
    files, undeclared channels, a label layout that does not fit, too many recordings
    shorter than the window, leakage) and every warning of the data check.

    For ``mcuforge validate``; it never raises for a problem of the data.
    """
    return preflight_hashes(spec, base_dir)[0]


def preflight_hashes(spec: Spec, base_dir: Path) -> tuple[list[Finding], dict[str, str]]:
    """:func:`preflight`, and the data files' sha256 as the lock records them."""
    try:
        s = survey(spec.data, base_dir, spec.task)
    except DataError as exc:
        return [Finding.of(exc, "data")], {}
    return s.findings, s.hashes


def data_root(spec: Spec, base_dir: Path) -> Path:
    """The data folder (or file) the spec names (see :func:`data_path`)."""
    return data_path(base_dir, spec.data.path)
