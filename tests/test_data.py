"""CSV loading, windowing and the leak-free split, with bad input."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mcuforge.data import load_dataset
from mcuforge.errors import DataError
from mcuforge.spec import load_spec

from .conftest import EXAMPLE


def _copy_data(
    tmp_path: Path, classes: tuple[str, ...] = ("running", "standing"), per_class: int = 4
) -> Path:
    data = tmp_path / "data"
    for c in classes:
        (data / c).mkdir(parents=True)
        for f in sorted((EXAMPLE / "data" / c).glob("train_*.csv"))[:per_class]:
            shutil.copy(f, data / c / f.name)
    return data


def test_basicmotions_windows_and_archive_split() -> None:
    loaded = load_spec(EXAMPLE / "spec.yaml")
    ds = load_dataset(loaded.spec.data, loaded.base_dir)
    assert ds.classes == ["badminton", "running", "standing", "walking"]
    assert ds.train.x.shape == (40, 100, 6) and ds.test.x.shape == (40, 100, 6)
    assert ds.train.x.dtype == np.float32
    assert all(f.split("/")[1].startswith("train_") for f in ds.train.files)
    assert all(f.split("/")[1].startswith("test_") for f in ds.test.files)
    assert np.bincount(ds.test.y).tolist() == [10, 10, 10, 10]
    # first sample of a known file, channel order as in the spec
    first = (EXAMPLE / "data/badminton/train_000.csv").read_text().splitlines()[1]
    assert ds.train.x[0, 0].tolist() == pytest.approx([float(v) for v in first.split(",")])


def test_sliding_windows_never_cross_the_split(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_spec()
    text = path.read_text().replace("{length_s: 10, stride_s: 10}", "{length: 40, stride: 20}")
    text = text.replace('split: {test_files: ["*/test_*.csv"]}', "split: {test: 0.5, seed: 1}")
    path.write_text(text)
    loaded = load_spec(path)
    ds = load_dataset(loaded.spec.data, loaded.base_dir)
    assert ds.window == 40 and ds.stride == 20
    assert len(ds.train.x) == 4 * len(ds.train.files)  # (100-40)/20+1 windows a file
    assert not set(ds.train.files) & set(ds.test.files)
    # stratified: each class has files on both sides
    assert sorted(set(ds.test.y.tolist())) == [0, 1, 2, 3]


def _spec_for(write_spec: Callable[..., Path], data: Path) -> Path:
    path = write_spec(data=str(data))
    path.write_text(
        path.read_text().replace('split: {test_files: ["*/test_*.csv"]}', "split: {test: 0.5}")
    )
    return path


def _load(path: Path) -> None:
    loaded = load_spec(path)
    load_dataset(loaded.spec.data, loaded.base_dir)


def test_wrong_number_of_columns_names_file_and_line(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    data = _copy_data(tmp_path)
    bad = data / "running" / "train_000.csv"
    lines = bad.read_text().splitlines()
    lines[5] += ",1.0"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"running/train_000.csv:6: expected 6 columns .* found 7"):
        _load(_spec_for(write_spec, data))


def test_non_numeric_cell_names_file_line_column(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    data = _copy_data(tmp_path)
    bad = data / "standing" / "train_001.csv"
    lines = bad.read_text().splitlines()
    cells = lines[10].split(",")
    cells[2] = "n/a"
    lines[10] = ",".join(cells)
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        DataError, match=r"standing/train_001.csv:11: column 'az': 'n/a' is not a number"
    ):
        _load(_spec_for(write_spec, data))


def test_nan_cell_is_refused(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    bad = data / "standing" / "train_001.csv"
    lines = bad.read_text().splitlines()
    lines[3] = "nan," + lines[3].split(",", 1)[1]
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"train_001.csv:4: column 'ax': 'nan' is not finite"):
        _load(_spec_for(write_spec, data))


def test_missing_channel_column(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    bad = data / "running" / "train_002.csv"
    bad.write_text(bad.read_text().replace("gz", "g_z", 1))
    with pytest.raises(DataError, match=r"train_002.csv:1: header has no column 'gz'"):
        _load(_spec_for(write_spec, data))


def test_fewer_than_two_classes(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    data = _copy_data(tmp_path, classes=("running",))
    with pytest.raises(DataError, match=r"needs at least two classes \(for a detector .*anomaly"):
        _load(_spec_for(write_spec, data))


def test_missing_data_folder(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        _load(_spec_for(write_spec, tmp_path / "nope"))


def test_window_longer_than_every_recording(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    path = _spec_for(write_spec, _copy_data(tmp_path))
    path.write_text(path.read_text().replace("{length_s: 10, stride_s: 10}", "{length_s: 20}"))
    with pytest.raises(DataError, match="shorter than the window"):
        _load(path)


def test_label_column(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    data = tmp_path / "flat"
    data.mkdir()
    for c in ("running", "walking"):
        for f in sorted((EXAMPLE / "data" / c).glob("train_*.csv"))[:3]:
            lines = f.read_text().splitlines()
            out = [lines[0] + ",activity"] + [ln + f",{c}" for ln in lines[1:]]
            (data / f"{c}_{f.name}").write_text("\n".join(out) + "\n")
    path = _spec_for(write_spec, data)
    path.write_text(
        path.read_text().replace(
            "  window:", "  labels: {from: column, column: activity}\n  window:"
        )
    )
    loaded = load_spec(path)
    ds = load_dataset(loaded.spec.data, loaded.base_dir)
    assert ds.classes == ["running", "walking"]
