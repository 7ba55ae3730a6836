"""The train/test split: which recordings are held out, and the split as the report says it.

Subjects come from a column of the files, a pattern on their paths, or a mapping file
(``split.subjects``: a CSV with columns ``file`` and ``subject``). With ``by: subject``
every recording of a subject is on one side; with ``by: file`` whole recordings (table
rows) are held out per class; ``test_files`` holds out the files its patterns match.
"""

from __future__ import annotations

import fnmatch
import math
import re
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..spec import Data
from ._csv import Recording
from ._files import CsvRows, data_path
from ._findings import FileProblem, Finding, Severity, SplitInfo, shown

#: Held-out names the summary lists (the count is always given).
LIST_HELD_OUT = 200


def read_subjects(path: Path) -> dict[str, tuple[str, int]]:
    """A mapping file: file name (relative to the data folder) → (subject, line).

    Raises:
        FileProblem: missing file or columns, or a file given two subjects (at the line).
    """
    if not path.is_file():
        raise FileProblem(path, None, "`data.split.subjects`: no such file (relative to the spec)")
    out: dict[str, tuple[str, int]] = {}
    with CsvRows(path) as rows:
        rows.need(["file", "subject"], "A subjects file has the columns `file` and `subject`.")
        fi, si = rows.column("file"), rows.column("subject")
        for lines, chunk in rows.chunks():
            for ln, row in zip(lines, chunk, strict=True):
                name = row[fi].strip().replace("\\", "/").removeprefix("./")
                subject = row[si].strip()
                if not name or not subject:
                    raise FileProblem(path, ln, "empty `file` or `subject`")
                if name in out and out[name][0] != subject:
                    raise FileProblem(
                        path,
                        ln,
                        f"{name!r} has subject {subject!r} here and {out[name][0]!r} on line "
                        f"{out[name][1]}",
                    )
                out[name] = (subject, ln)
    return out


def subjects_of(
    recordings: list[Recording], data: Data, base_dir: Path, folder: Path
) -> tuple[list[str | None], list[Finding]]:
    """Each recording's subject (None when unknown), and what is wrong with them.

    A missing subject is an error with ``by: subject`` and not worth a word otherwise.
    """
    split = data.split
    needed = split.by == "subject"
    severity: Severity = "error" if needed else "warning"
    findings: list[Finding] = []
    out: list[str | None] = []
    if split.subjects:
        mapping_path = data_path(base_dir, split.subjects)
        try:
            mapping = read_subjects(mapping_path)
        except FileProblem as exc:
            return [None] * len(recordings), [Finding.of(exc, "subjects")]
        used: set[str] = set()
        missing: list[str] = []
        for r in recordings:
            key = r.file if r.file in mapping else r.path
            hit = mapping.get(key)
            if hit is None:
                missing.append(r.path)
            else:
                used.add(key)
            out.append(hit[0] if hit else None)
        if missing and needed:
            names = sorted(set(missing))
            findings.append(
                Finding(
                    "error",
                    "subjects",
                    f"{len(names)} data file{'s' if len(names) != 1 else ''} without a subject "
                    f"here: {', '.join(names[:3])}{', …' if len(names) > 3 else ''}; add them",
                    shown(mapping_path),
                )
            )
        for name in sorted(set(mapping) - used):
            findings.append(
                Finding(
                    "warning",
                    "subjects",
                    f"{name!r} is not a data file (relative to `data.path`)",
                    shown(mapping_path),
                    mapping[name][1],
                )
            )
        return out, findings
    unmatched: list[str] = []
    for r in recordings:
        if split.subject_pattern:
            m = re.search(split.subject_pattern, r.path)
            if not m:
                unmatched.append(r.path)
            out.append(m.group(1) if m else None)
        else:
            out.append(r.subject or None)  # an empty cell is no subject, not one named ""
            if needed and not r.subject and split.subject_column:
                unmatched.append(r.path)
    if unmatched and needed and split.subject_column and not split.subject_pattern:
        more = f" (and {len(unmatched) - 1} more files)" if len(unmatched) > 1 else ""
        findings.append(
            Finding(
                "error",
                "subjects",
                f"column {split.subject_column!r} is empty in this file{more}: every "
                "recording needs its subject for `split: {by: subject}`",
                shown(folder / unmatched[0]),
            )
        )
        return out, findings
    if unmatched and needed:
        more = f" (nor {len(unmatched) - 1} more files)" if len(unmatched) > 1 else ""
        findings.append(
            Finding(
                severity,
                "subjects",
                f"`subject_pattern` {split.subject_pattern} does not match this path{more}",
                shown(folder / unmatched[0]),
            )
        )
    return out, findings


def share(n: int, fraction: float) -> int:
    """``fraction`` of ``n`` to the nearest whole number, a half rounding up (10 files at
    0.25: 3; Python's ``round`` rounds a half to even, so 10 gave 2 and 14 gave 4)."""
    return math.floor(n * fraction + 0.5 + 1e-9)


def _described(names: list[str]) -> list[str]:
    return names[:LIST_HELD_OUT]


def test_mask(
    recordings: list[Recording],
    data: Data,
    cls: list[int],
    subjects: list[str | None],
    root: Path,
) -> tuple[list[bool], SplitInfo]:
    """Which recordings are held out for the test set, and the split described.

    Raises:
        DataError: patterns that match nothing, fewer than two subjects.
    """
    split = data.split
    if split.test_files is not None:
        mask = [
            any(fnmatch.fnmatch(r.file, p) or fnmatch.fnmatch(r.path, p) for p in split.test_files)
            for r in recordings
        ]
        if not any(mask):
            raise DataError(
                f"`data.split.test_files` {split.test_files} matches no file; patterns are "
                "relative to `data.path`, e.g. '*/test_*.csv'"
            )
        held = sorted({r.path for r, m in zip(recordings, mask, strict=True) if m})
        text = (
            f"test files matching {', '.join(split.test_files)}: {len(held)} files held out, "
            f"{sum(mask)} of {len(mask)} recordings"
        )
        if split.by == "subject":
            n = len({s for s, m in zip(subjects, mask, strict=True) if s is not None and not m})
            text += f"; cross-validation by subject ({n} subjects in train)"
        return mask, SplitInfo("test_files", text, _described(held))
    rng = np.random.default_rng(split.seed)
    if split.by == "subject":
        known = [s for s in subjects if s is not None]
        names = sorted(set(known))
        if len(names) < 2:
            raise DataError(
                f"{shown(root)}: `by: subject` needs two or more subjects; found {names}"
            )
        n_test = min(max(share(len(names), split.test), 1), len(names) - 1)
        held_subjects = sorted(names[int(i)] for i in rng.permutation(len(names))[:n_test])
        source = (
            f"column {split.subject_column!r}"
            if split.subject_column
            else f"pattern `{split.subject_pattern}`"
            if split.subject_pattern
            else f"file {split.subjects}"
        )
        held_set = set(held_subjects)
        text = (
            f"by subject (from {source}), seed {split.seed}: {n_test} of {len(names)} subjects "
            f"held out for test: {', '.join(held_subjects[:20])}" + (", …" if n_test > 20 else "")
        )
        return [s in held_set for s in subjects], SplitInfo("subject", text, held_subjects)
    mask = [False] * len(recordings)
    for c in sorted(set(cls)):
        idx = [i for i, k in enumerate(cls) if k == c]
        # at least one file of a class on each side, when it has two or more
        wanted = share(len(idx), split.test)
        n_test = min(max(wanted, 1), len(idx) - 1) if len(idx) >= 2 else 0
        for i in rng.permutation(idx)[:n_test]:
            mask[int(i)] = True
    unit = "rows" if data.table else "recordings"
    per = " of each class" if any(k >= 0 for k in cls) else ""
    text = (
        f"by {unit[:-1]}, seed {split.seed}: {split.test:.0%} of the {unit}{per} held out "
        f"for test ({sum(mask)} of {len(mask)})"
    )
    runs = data.csv.layout == "segments"  # a file's runs may be on both sides: name the runs
    held = (
        []
        if data.table
        else sorted(
            (r.file if runs else r.path) for r, m in zip(recordings, mask, strict=True) if m
        )
    )
    return mask, SplitInfo("row" if data.table else "file", text, _described(held))
