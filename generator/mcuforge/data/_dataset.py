"""From the spec's data section to windows, targets and a leak-free split."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..spec import Data, Task
from ._csv import Recording, read_csv
from ._formats import read_npz, read_wav

_SUFFIX = {"csv": ".csv", "npz": ".npz", "wav": ".wav"}


@dataclass(frozen=True)
class Split:
    """Windows of one side of the split."""

    x: np.ndarray  # float32 (n, length, channels)
    y: np.ndarray  # int64 class index (classification), 0/1 (anomaly), float32 (regression)
    groups: np.ndarray  # int64 (n,) recording index: windows of a file share it
    files: list[str]  # recording names, indexed by groups


@dataclass(frozen=True)
class Dataset:
    """Windows + targets + a split in which no recording is on both sides.

    ``classes`` are the class names (classification), ``["normal", "anomaly"]``
    (anomaly detection) or empty (regression).
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


def _paths(root: Path, fmt: str) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob(f"*{_SUFFIX[fmt]}") if p.is_file())


def _windows(samples: np.ndarray, length: int, stride: int) -> np.ndarray:
    n = samples.shape[0]
    if n < length:
        return np.empty((0, length, *samples.shape[1:]), dtype=samples.dtype)
    return np.stack([samples[s : s + length] for s in range(0, n - length + 1, stride)])


def _read_all(data: Data, task: Task, root: Path) -> tuple[list[Recording], dict[str, str]]:
    paths = _paths(root, data.format)
    if not paths:
        raise DataError(f"{root}: no {_SUFFIX[data.format]} files found (looked in all subfolders)")
    recordings: list[Recording] = []
    hashes: dict[str, str] = {}
    base = root if root.is_dir() else root.parent
    for p in paths:
        rel = p.relative_to(base).as_posix()
        folder = None
        if data.labels.source == "folder" and not (data.format == "npz" and p.parent == base):
            # an .npz at the top level carries its labels in `y`
            if p.parent == base:
                raise DataError(
                    f"{p}: labels come from folders (`labels: {{from: folder}}`), but this "
                    "file is not in a class folder; move it into data/<class>/ or use "
                    "`labels: {from: column, column: NAME}`"
                )
            folder = p.parent.name
        if data.format == "csv":
            recordings.append(
                read_csv(
                    p,
                    rel,
                    data.channels,
                    data.csv,
                    data.labels.column,
                    folder,
                    numeric_label=task.kind == "regression",
                    subject_column=data.split.subject_column,
                )
            )
        elif data.format == "npz":
            recordings.extend(read_npz(p, rel, data.channels, folder))
        else:
            assert folder is not None
            recordings.append(read_wav(p, rel, data.rate_hz, folder))
        hashes[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    if task.kind == "regression" and any(r.targets is None for r in recordings):
        raise DataError(
            "regression needs a numeric target per sample: "
            "`labels: {from: column, column: NAME}` with CSV data"
        )
    return recordings, hashes


def _classes(recordings: list[Recording], task: Task, root: Path) -> tuple[list[str], list[int]]:
    """Class names and each recording's class index (-1 for regression)."""
    if task.kind == "regression":
        return [], [-1] * len(recordings)
    labels = sorted({str(r.label) for r in recordings})
    if task.kind == "anomaly":
        normal = set(task.normal or ["normal"])
        unknown = sorted(normal - set(labels))
        if unknown:
            raise DataError(
                f"{root}: `task.normal` names {', '.join(unknown)}, but the data's labels are "
                f"{', '.join(labels)}"
            )
        return ["normal", "anomaly"], [0 if r.label in normal else 1 for r in recordings]
    if len(labels) < 2:
        raise DataError(
            f"{root}: found {len(labels)} class ({', '.join(labels)}); classification "
            "needs at least two classes"
        )
    return labels, [labels.index(str(r.label)) for r in recordings]


def load_dataset(data: Data, base_dir: Path, task: Task | None = None) -> Dataset:
    """Load every recording, window it and split it.

    Raises:
        DataError: missing folder, no files, bad cells, too few classes, recordings
            shorter than the window, an empty side of the split.
    """
    task = task or Task()
    root = (base_dir / data.path).resolve()
    if not root.exists():
        raise DataError(
            f"data folder {root} does not exist; fix `data.path` (relative to the spec)"
        )
    length, stride = data.window.samples(data.rate_hz)
    recordings, hashes = _read_all(data, task, root)
    classes, cls = _classes(recordings, task, root)
    windows = [_windows(r.samples, length, stride).astype(np.float32) for r in recordings]
    if all(len(w) == 0 for w in windows):
        raise DataError(
            f"{root}: every recording is shorter than the window ({length} samples at "
            f"{data.rate_hz:g} Hz); shorten `data.window`"
        )
    is_test = _test_mask(recordings, data, cls, root)
    total = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in sorted(hashes.items())).encode())

    def side(mask: list[bool], name: str) -> Split:
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        gs: list[np.ndarray] = []
        files: list[str] = []
        for rec, w, c, m in zip(recordings, windows, cls, mask, strict=True):
            if not m or len(w) == 0:
                continue
            g = len(files)
            files.append(rec.file)
            xs.append(w)
            if task.kind == "regression":
                assert rec.targets is not None
                ys.append(_windows(rec.targets, length, stride).mean(axis=1).astype(np.float32))
            else:
                ys.append(np.full(len(w), c, dtype=np.int64))
            gs.append(np.full(len(w), g, dtype=np.int64))
        if not xs:
            raise DataError(f"{root}: the {name} split is empty; adjust `data.split`")
        return Split(np.concatenate(xs), np.concatenate(ys), np.concatenate(gs), files)

    train = side([not t for t in is_test], "train")
    test = side(is_test, "test")
    if task.kind == "classification":
        missing = sorted(set(range(len(classes))) - set(train.y.tolist()))
        if missing:
            raise DataError(
                f"{root}: class {', '.join(classes[i] for i in missing)} has no training "
                "window; give it more recordings or change the split"
            )
    if task.kind == "anomaly" and not (train.y == 0).any():
        raise DataError(f"{root}: no normal recording in the training split")
    return Dataset(
        train,
        test,
        classes,
        data.channels,
        data.rate_hz,
        length,
        stride,
        total.hexdigest(),
        hashes,
        task.kind,
    )


def _subjects(recordings: list[Recording], data: Data) -> list[str]:
    split = data.split
    out = []
    for r in recordings:
        if split.subject_pattern:
            m = re.search(split.subject_pattern, r.file)
            if not m:
                raise DataError(
                    f"{r.file}: `subject_pattern` {split.subject_pattern!r} does not "
                    "match this path"
                )
            out.append(m.group(1))
        else:
            if r.subject is None:
                raise DataError(f"{r.file}: no subject (column {split.subject_column!r})")
            out.append(r.subject)
    return out


def _test_mask(recordings: list[Recording], data: Data, cls: list[int], root: Path) -> list[bool]:
    split = data.split
    if split.test_files is not None:
        mask = [any(fnmatch.fnmatch(r.file, pat) for pat in split.test_files) for r in recordings]
        if not any(mask):
            raise DataError(
                f"`data.split.test_files` {split.test_files} matches no file; patterns are "
                "relative to `data.path`, e.g. '*/test_*.csv'"
            )
        return mask
    rng = np.random.default_rng(split.seed)
    if split.by == "subject":
        subjects = _subjects(recordings, data)
        names = sorted(set(subjects))
        if len(names) < 2:
            raise DataError(f"{root}: `by: subject` needs two or more subjects; found {names}")
        n_test = min(max(round(len(names) * split.test), 1), len(names) - 1)
        held = {names[int(i)] for i in rng.permutation(len(names))[:n_test]}
        return [s in held for s in subjects]
    mask = [False] * len(recordings)
    for c in sorted(set(cls)):
        idx = [i for i, k in enumerate(cls) if k == c]
        # at least one file of a class on each side, when it has two or more
        wanted = round(len(idx) * split.test)
        n_test = min(max(wanted, 1), len(idx) - 1) if len(idx) >= 2 else 0
        for i in rng.permutation(idx)[:n_test]:
            mask[int(i)] = True
    return mask
