"""From the spec's data section to windows, labels and a leak-free split."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..spec import Data
from ._csv import Recording, read_csv


@dataclass(frozen=True)
class Split:
    """Windows of one side of the split."""

    x: np.ndarray  # float32 (n, length, channels)
    y: np.ndarray  # int64 (n,) class indices
    groups: np.ndarray  # int64 (n,) recording index: windows of a file share it
    files: list[str]  # recording names, indexed by groups


@dataclass(frozen=True)
class Dataset:
    """Windows + labels + a split in which no recording is on both sides."""

    train: Split
    test: Split
    classes: list[str]
    channels: list[str]
    rate_hz: float
    window: int
    stride: int
    sha256: str
    file_hashes: dict[str, str]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.csv") if p.is_file())


def _windows(rec: Recording, length: int, stride: int) -> np.ndarray:
    n = rec.samples.shape[0]
    if n < length:
        return np.empty((0, length, rec.samples.shape[1]), dtype=np.float32)
    starts = range(0, n - length + 1, stride)
    return np.stack([rec.samples[s : s + length] for s in starts]).astype(np.float32)


def load_dataset(data: Data, base_dir: Path) -> Dataset:
    """Load every recording, window it and split it.

    Raises:
        DataError: missing folder, no files, bad cells, too few classes, recordings
            shorter than the window, an empty side of the split.
    """
    root = (base_dir / data.path).resolve()
    if not root.is_dir():
        raise DataError(
            f"data folder {root} does not exist; fix `data.path` (relative to the spec)"
        )
    paths = _files(root)
    if not paths:
        raise DataError(f"{root}: no .csv files found (looked in all subfolders)")
    length, stride = data.window.samples(data.rate_hz)
    recordings: list[Recording] = []
    hashes: dict[str, str] = {}
    for p in paths:
        rel = p.relative_to(root).as_posix()
        folder = None
        if data.labels.source == "folder":
            if p.parent == root:
                raise DataError(
                    f"{p}: labels come from folders (`labels: {{from: folder}}`), but this "
                    "file is not in a class folder; move it into data/<class>/ or use "
                    "`labels: {from: column, column: NAME}`"
                )
            folder = p.parent.name
        recordings.append(read_csv(p, rel, data.channels, data.labels.column, folder))
        hashes[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    classes = sorted({r.label for r in recordings})
    if len(classes) < 2:
        raise DataError(
            f"{root}: found {len(classes)} class ({', '.join(classes)}); classification "
            "needs at least two classes"
        )
    windows = [_windows(r, length, stride) for r in recordings]
    short = [r.file for r, w in zip(recordings, windows, strict=True) if len(w) == 0]
    if len(short) == len(recordings):
        raise DataError(
            f"{root}: every recording is shorter than the window ({length} samples at "
            f"{data.rate_hz:g} Hz); shorten `data.window`"
        )
    is_test = _test_mask(recordings, data, classes)
    total = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in sorted(hashes.items())).encode())

    def side(mask: list[bool], name: str) -> Split:
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        gs: list[np.ndarray] = []
        files: list[str] = []
        for rec, w, m in zip(recordings, windows, mask, strict=True):
            if not m or len(w) == 0:
                continue
            g = len(files)
            files.append(rec.file)
            xs.append(w)
            ys.append(np.full(len(w), classes.index(rec.label), dtype=np.int64))
            gs.append(np.full(len(w), g, dtype=np.int64))
        if not xs:
            raise DataError(f"{root}: the {name} split is empty; adjust `data.split`")
        return Split(np.concatenate(xs), np.concatenate(ys), np.concatenate(gs), files)

    train = side([not t for t in is_test], "train")
    test = side(is_test, "test")
    missing = sorted(set(range(len(classes))) - set(train.y.tolist()))
    if missing:
        raise DataError(
            f"{root}: class {', '.join(classes[i] for i in missing)} has no training window; "
            "give it more recordings or change the split"
        )
    return Dataset(
        train, test, classes, data.channels, data.rate_hz, length, stride, total.hexdigest(), hashes
    )


def _test_mask(recordings: list[Recording], data: Data, classes: list[str]) -> list[bool]:
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
    mask = [False] * len(recordings)
    for label in classes:
        idx = [i for i, r in enumerate(recordings) if r.label == label]
        # at least one file of a class on each side, when it has two or more
        wanted = round(len(idx) * split.test)
        n_test = min(max(wanted, 1), len(idx) - 1) if len(idx) >= 2 else 0
        for i in rng.permutation(idx)[:n_test]:
            mask[int(i)] = True
    return mask
