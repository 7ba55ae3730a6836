"""The command-line experience: init, help, JSON output, exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from mcuforge.cli import cli

from .conftest import EXAMPLE


def run(*args: str, stdout: bool = False) -> tuple[int, str]:
    """Exit code and output (stderr included, unless ``stdout``)."""
    res = CliRunner().invoke(cli, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout if stdout else res.output


def test_init_on_class_folders_gives_a_valid_spec(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(EXAMPLE / "data"), "-o", str(spec))
    assert code == 0, out
    text = spec.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    schema = text.splitlines()[0].split("$schema=", 1)[1]
    assert (tmp_path / schema).resolve().is_file()
    data = yaml.safe_load(text)
    assert data["data"]["labels"] == {"from": "folder"}
    assert [s["channels"] for s in data["data"]["sensors"]] == [
        ["ax", "ay", "az"],
        ["gx", "gy", "gz"],
    ]
    assert "rate_hz 50 is a placeholder" in text
    assert run("validate", str(spec))[0] == 0
    assert run("init", str(EXAMPLE / "data"), "-o", str(spec))[0] == 2  # exists, no --force
    code, out = run("init", str(EXAMPLE / "data"), "-o", str(spec), "--force")
    assert code == 0 and f"wrote {spec} (kept the existing {tmp_path / schema}); check" in out, out


def test_init_dash_prints_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`-o -` wrote a file named '-' (and its schema) instead of printing."""
    monkeypatch.chdir(tmp_path)
    code, out = run("init", str(EXAMPLE / "data"), "-o", "-", stdout=True)
    assert code == 0 and yaml.safe_load(out)["data"]["labels"] == {"from": "folder"}
    assert list(tmp_path.iterdir()) == []


def test_init_guesses_rate_from_time_column_and_labels_from_text(tmp_path: Path) -> None:
    data = tmp_path / "flat"
    data.mkdir()
    for i, label in enumerate(["idle", "shake", "idle", "shake"]):
        rows = ["time_ms,acc_x,acc_y,state"] + [
            f"{t * 20},{np.sin(t + i):.3f},{t % 3},{label}" for t in range(200)
        ]
        (data / f"rec{i}.csv").write_text("\n".join(rows) + "\n")
    code, out = run("init", str(data), stdout=True)
    assert code == 0, out
    spec = yaml.safe_load(out)
    assert spec["data"]["sensors"] == [
        {"name": "acc", "channels": ["acc_x", "acc_y"], "rate_hz": 50}
    ]
    assert spec["data"]["labels"] == {"from": "column", "column": "state"}
    assert "rate_hz 50 from the median step of column 'time_ms'" in out


def test_init_recognises_a_long_layout_its_separator_and_millisecond_stamps(
    tmp_path: Path,
) -> None:
    # one row per sample and channel, `;`-separated, stamps in ms without a unit in the
    # name, in a folder named like a C keyword: init used to read one interleaved channel
    data = tmp_path / "long"
    for label in ("idle", "shake"):
        for i in range(3):
            rows = ["ts;sensor;val"] + [
                f"{t * 10};{axis};{np.sin(t + i + k):.4f}"
                for t in range(150)
                for k, axis in enumerate("xyz")
            ]
            (data / label).mkdir(parents=True, exist_ok=True)
            (data / label / f"r{i}.csv").write_text("\n".join(rows) + "\n")
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(data), "-o", str(spec))
    assert code == 0, out
    text = spec.read_text()
    loaded = yaml.safe_load(text)
    assert loaded["name"] == "my_long"  # `long` is reserved in C
    assert loaded["data"]["csv"] == {
        "layout": "long",
        "channel_column": "sensor",
        "value_column": "val",
        "time_column": "ts",
        "time_unit": "ms",
        "delimiter": ";",
    }
    assert loaded["data"]["sensors"] == [
        {"name": "sensor", "channels": ["x", "y", "z"], "rate_hz": 100}
    ]
    assert "read as milliseconds" in text
    assert run("validate", str(spec))[0] == 0
    code, out = run("data", "check", str(spec), "--json", stdout=True)
    assert code == 0 and json.loads(out)["summary"]["classes"][0]["recordings"] == 3


@pytest.mark.parametrize(
    ("header", "stamp", "csv", "rate", "note"),
    [
        # phyphox: the unit in brackets; it was taken for a channel
        ("Time (s),ax,ay", lambda i: f"{i * 0.01:.3f}", {"time_column": "Time (s)"}, 100, ""),
        # Sensor Logger: epoch nanoseconds and elapsed seconds (init divided by zero)
        (
            "time,seconds_elapsed,ax,ay",
            lambda i: f"{1717000000000000000 + i * 20_000_000},{i * 0.02:.2f}",
            {"time_column": "time", "time_unit": "ns"},
            50,
            "'seconds_elapsed' also looks like a time column: left out of the channels",
        ),
        # micros(): read as milliseconds, the rate came out 0.05 Hz
        (
            "timestamp,ax,ay",
            lambda i: f"{5_000_000 + i * 4000}",
            {"time_column": "timestamp", "time_unit": "us"},
            250,
            "read as microseconds",
        ),
        # millis() at 50 Hz: read as milliseconds, no other reading offered
        (
            "timestamp,ax,ay",
            lambda i: f"{5_000 + i * 20}",
            {"time_column": "timestamp", "time_unit": "ms"},
            50,
            "read as milliseconds (50 Hz; as seconds the rate would be 0.05 Hz)",
        ),
        # a step of 1000 whole numbers: millis() at 1 Hz or micros() at 1 kHz; the note
        # names the other reading with its option
        (
            "timestamp,ax,ay",
            lambda i: f"{5_000_000 + i * 1000}",
            {"time_column": "timestamp", "time_unit": "ms"},
            1,
            "read as milliseconds (1 Hz; as seconds the rate would be 0.001 Hz); if it is "
            "seconds, drop `time_unit: ms`; as microseconds 1000 Hz: `time_unit: us`",
        ),
    ],
)
def test_init_finds_time_columns_and_their_unit(
    tmp_path: Path, header: str, stamp: Callable[[int], str], csv: dict[str, str], rate: int,
    note: str,
) -> None:  # fmt: skip
    data = tmp_path / "data"
    for label in ("idle", "shake"):
        (data / label).mkdir(parents=True)
        for k in range(3):
            rows = [header] + [
                f"{stamp(i)},{np.sin(i + k + 10 * len(label)):.3f},{i % 7}" for i in range(300)
            ]
            (data / label / f"r{k}.csv").write_text("\n".join(rows) + "\n")
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(data), "-o", str(spec))
    assert code == 0, out
    text = spec.read_text()
    loaded = yaml.safe_load(text)
    assert loaded["data"]["csv"] == csv
    assert loaded["data"]["sensors"] == [
        {"name": "accel", "channels": ["ax", "ay"], "rate_hz": rate}
    ]
    assert note in text
    assert rate < 10 or "; as microseconds" not in text  # a millis() logger at 50 Hz: no aside
    code, out = run("data", "check", str(spec))
    assert code == 0 and "0 errors, 0 warnings" in out, out


def test_init_on_one_class_writes_an_anomaly_spec_naming_it_normal(tmp_path: Path) -> None:
    """The spec said `kind: anomaly` without `normal`, and `validate` then complained
    that the label `normal` does not exist, not what is missing: faults to score on."""
    for k in range(4):
        rows = ["ax,ay"] + [f"{np.sin(i + k):.3f},{np.cos(i * k):.3f}" for i in range(300)]
        (tmp_path / "data" / "healthy").mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / "healthy" / f"r{k}.csv").write_text("\n".join(rows) + "\n")
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(tmp_path / "data"), "-o", str(spec))
    assert code == 0, out
    text = spec.read_text()
    assert yaml.safe_load(text)["task"] == {
        "kind": "anomaly",
        "metric": "roc_auc",
        "normal": ["healthy"],
    }
    assert "one class (healthy): anomaly detection with it as normal" in text
    code, out = run("validate", str(spec))
    assert code == 2 and "every recording is normal (label healthy)" in out, out


def test_init_and_the_loader_take_an_archive_of_x_and_y_in_either_case(tmp_path: Path) -> None:
    """scikit-learn's spelling `X` was refused ("no array 'x'"), and `init` took the
    classes from the folder (one class, so an anomaly spec) instead of the archive's `y`."""
    rng = np.random.default_rng(0)
    labels = np.array(["idle", "shake", "walk"] * 8)
    x = rng.normal(size=(24, 60, 2)).astype(np.float32) + (labels == "shake")[:, None, None]
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "set.npz", X=x, y=labels)
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(tmp_path / "data"), "-o", str(spec))
    assert code == 0, out
    text = spec.read_text()
    assert "3 classes (idle, shake, walk)" in text and "labels from the archives' `y`" in text
    assert yaml.safe_load(text)["task"]["kind"] == "classification"
    code, out = run("data", "check", str(spec), "--json", stdout=True)
    assert code == 0, out
    counts = {c["name"]: c["recordings"] for c in json.loads(out)["summary"]["classes"]}
    assert counts == {"idle": 8, "shake": 8, "walk": 8}


def test_init_takes_the_rate_from_dates_and_times_written_as_text(tmp_path: Path) -> None:
    """ISO stamps: init said "no time column: rate_hz 50 is a placeholder"."""
    for label in ("idle", "walk"):
        (tmp_path / "data" / label).mkdir(parents=True)
        rows = ["time,ax,ay"] + [
            f"2024-06-01 09:00:{i // 100:02d}.{i % 100 * 10:03d},{np.sin(i):.3f},{len(label)}"
            for i in range(300)
        ]
        (tmp_path / "data" / label / "r.csv").write_text("\n".join(rows) + "\n")
    code, out = run("init", str(tmp_path / "data"), stdout=True)
    assert code == 0, out
    assert yaml.safe_load(out)["data"]["sensors"][0]["rate_hz"] == 100
    assert "rate_hz 100 from the median step of column 'time', dates and times written" in out
    assert "csv:" not in out and "'time': text" not in out


def test_init_groups_columns_whose_names_state_a_unit(tmp_path: Path) -> None:
    """`ax (m/s^2)`, `ay (m/s^2)` became two one-channel sensors named after the columns,
    with `unit: set it`, so the data was not taken for an IMU's."""
    for label in ("idle", "walk"):
        (tmp_path / "data" / label).mkdir(parents=True)
        rows = ["Time (s),ax (m/s^2),ay (m/s^2),gx [dps]"] + [
            f"{i / 50:.2f},{np.sin(i):.3f},{len(label)},{i % 3}" for i in range(200)
        ]
        (tmp_path / "data" / label / "r.csv").write_text("\n".join(rows) + "\n")
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(tmp_path / "data"), "-o", str(spec))
    assert code == 0, out
    assert yaml.safe_load(spec.read_text())["data"]["sensors"] == [
        {"name": "accel", "channels": ["ax (m/s^2)", "ay (m/s^2)"], "rate_hz": 50, "unit": "m/s^2"},
        {"name": "gx", "channels": ["gx [dps]"], "rate_hz": 50, "unit": "dps"},
    ]
    code, out = run("explain", str(spec))
    assert code == 0 and "handles classification on imu data" in out, out


def _one(header: str, rows: list[str]) -> Callable[[Path], None]:
    def write(data: Path) -> None:
        data.mkdir(parents=True, exist_ok=True)
        (data / "s.csv").write_text("\n".join([header, *rows]) + "\n")

    return write


_RNG = np.random.default_rng(0)
_SORTED = [  # a table sorted by class: rows of one class follow each other
    f"{k + _RNG.normal():.3f},{k + _RNG.normal():.3f},{c}"
    for k, c in enumerate(("a", "b", "c"))
    for _ in range(50)
]
_SESSION = [  # a first activity longer than the rows init looks at
    f"{i / 100:.2f},{np.sin(i / 10):.3f},{np.cos(i / 7):.3f},{'idle' if i < 3000 else 'walk'}"
    for i in range(4000)
]


@pytest.mark.parametrize(
    ("make", "layout", "expected"),
    [
        # a class-sorted table (iris as a CSV) was taken for an annotated session
        (_one("f1,f2,label", _SORTED), "table", "3 classes (a, b, c)"),
        # a time column and a label per row: segments of one sample
        (
            _one("t,f1,f2,label", [f"{i},{_RNG.normal():.3f},1,{'ab'[i % 2]}" for i in range(200)]),
            "table",
            "a label's median run is 1 row(s): windows of the signal (`csv.layout: segments`)",
        ),
        # a number per sample down a time series: a regression target (wide), not segments
        (
            _one("t,ax,target", [f"{i / 50:.2f},{np.sin(i / 9):.3f},{i / 7:.3f}"
                                 for i in range(400)]),
            None,
            "task: {kind: regression",
        ),
        # the classes of a whole session, not of its first 2000 rows
        (_one("t,ax,ay,label", _SESSION), "segments", "2 classes (idle, walk)"),
        # `y` beside `x` and `z` is an axis, not the label
        (
            _one(
                "t,x,y,z,activity",
                [f"{i / 50:.2f},{np.sin(i / 5):.3f},{np.cos(i / 5):.3f},1,{'ab'[i // 100]}"
                 for i in range(200)],
            ),
            "segments",
            "labels: {from: column, column: activity}",
        ),
        # two unnamed trailing columns (a spreadsheet's export) are not one column twice
        (_one("f1,f2,label,,", [f"{r},," for r in _SORTED]), "table", "3 classes (a, b, c)"),
        # an empty time cell: a traceback
        (
            _one("t,ax,label", [f"{'' if i == 5 else i / 50},{np.sin(i / 9):.3f},a"
                                for i in range(200)]),
            None,
            "rate_hz 50 from the median step of column 't'",
        ),
    ],
)  # fmt: skip
def test_init_tells_sessions_tables_and_targets_apart(
    tmp_path: Path, make: Callable[[Path], None], layout: str | None, expected: str
) -> None:
    make(tmp_path / "data")
    code, out = run("init", str(tmp_path / "data"), stdout=True)
    assert code == 0, out
    assert yaml.safe_load(out)["data"].get("csv", {}).get("layout") == layout
    assert expected in out, out


_REST = [  # a session without a time column that starts with a minute of rest
    ",".join(
        [f"{(np.sin(i / 8) if i >= 3000 else 0.01 * _RNG.normal()):.4f}" for _ in range(2)]
        + [("sit", "walk", "run")[min(i // 3000, 2)]]
    )
    for i in range(7000)
]
_STEPS = ("walk", "stand", "walk", "run")  # the stand run: rows 1000-1005
_SHORT = [
    f"{i / 50:.2f},{np.sin(i / 8):.3f},{_STEPS[(i >= 1000) + (i >= 1006) + (i >= 2000)]}"
    for i in range(3000)
]
_COUNTS = [f"{np.sin(i / 9):.3f},{60 + (i // 7) % 40}" for i in range(600)]  # bpm per sample


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        # only the first rows (rest: noise) were looked at: a table split by row
        (_one("ax,ay,activity", _REST), ["layout: segments", "3 classes (run, sit, walk)"]),
        # one 6-row run made every window 0.12 s
        (
            _one("t,ax,activity", _SHORT),
            ["window: {length_s: 2, stride_s: 1, short: drop}", "1 of 4 runs (6 of 3000 rows)"],
        ),
        # a whole number per sample with many values is a target, not 40 classes
        (_one("ppg,target", _COUNTS), ["task: {kind: regression", "window: {length_s: 2"]),
        # a table sorted by class: the classes past the first 2000 rows
        (
            _one("f1,f2,label", [f"{_RNG.normal():.3f},{k},{c}" for k, c in enumerate("abc")
                                 for _ in range(1500)]),
            ["layout: table", "3 classes (a, b, c)"],
        ),
        # names that end in an axis letter or a digit, alone: not an axis
        (
            _one("t,Humidity,CO2,label",
                 [f"{i},{40 + i % 3},{400 + i},{'ab'[i // 30]}" for i in range(60)]),
            ["{name: Humidity, channels: [Humidity]", "{name: CO2, channels: [CO2]"],
        ),
    ],
)  # fmt: skip
def test_init_on_sessions_targets_and_names(
    tmp_path: Path, make: Callable[[Path], None], expected: list[str]
) -> None:
    make(tmp_path / "data")
    code, out = run("init", str(tmp_path / "data"), stdout=True)
    assert code == 0, out
    for text in expected:
        assert text in out, out


def test_init_on_dates_sessions_and_subjects_in_awkward_shapes(tmp_path: Path) -> None:
    # dates to the second (50 rows each): the rate is rows per second, not 1 Hz, and the
    # date column is not the label
    rows = [
        f"2024-06-01 09:00:{i // 50:02d},{np.sin(i):.3f},{'ab'[i // 1000]}" for i in range(2000)
    ]
    _one("datetime,ax,gesture", rows)(tmp_path / "d1")
    code, out = run("init", str(tmp_path / "d1"), stdout=True)
    assert code == 0 and "column: gesture" in out and "rate_hz: 50" in out, out
    # hourly dates: a rate below a mHz, not a division by zero
    rows = [
        f"2024-06-{1 + i // 24:02d} {i % 24:02d}:00:00,{i % 5},{'ab'[i % 2]}" for i in range(48)
    ]
    _one("time,ax,label", rows)(tmp_path / "d2")
    assert run("init", str(tmp_path / "d2"))[0] in (0, 2)
    # a second file of a session without the label column, or without samples: named
    session = [f"{i / 50:.2f},{np.sin(i / 5):.3f},{'ab'[i // 60]}" for i in range(120)]
    for name, other in (("d3", "t,ax,Label\n1,2,a\n"), ("d4", "t,ax,label\n")):
        _one("t,ax,label", session)(tmp_path / name)
        (tmp_path / name / "z.csv").write_text(other)
        code, out = run("init", str(tmp_path / name))
        assert code == 2 and "z.csv" in out and "Traceback" not in out, out
    # the archive's own test files and a subject column: cross-validation by subject
    for side in ("train", "test"):
        for k in range(3):
            rows = [f"{np.sin(i + k):.3f},{side}{k},{'ab'[k % 2]}" for i in range(60)]
            (tmp_path / "d5" / side).mkdir(parents=True, exist_ok=True)
            (tmp_path / "d5" / side / f"r{k}.csv").write_text(
                "\n".join(["ax,subject,label", *rows]) + "\n"
            )
    code, out = run("init", str(tmp_path / "d5"), stdout=True)
    assert code == 0, out
    split = yaml.safe_load(out)["data"]["split"]
    assert split == {"test_files": ["test/*"], "by": "subject", "subject_column": "subject"}
    assert "the cross-validation is by subject" in out


def test_init_names_an_archive_of_python_objects(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    x = np.zeros((4, 20, 2), dtype=np.float32)
    np.savez(tmp_path / "data" / "set.npz", x=x, y=np.array(["a", "b", "a", "b"], dtype=object))
    code, out = run("init", str(tmp_path / "data"))
    assert code == 2 and "an array holds Python objects: save labels with .astype(str)" in out


def _named(names: list[str]) -> Callable[[Path], None]:
    def write(data: Path) -> None:
        for k, name in enumerate(names):
            (data / name).parent.mkdir(parents=True, exist_ok=True)
            rows = [f"{np.sin(i + k):.3f},{(i * k) % 5}" for i in range(60)]
            (data / name).write_text("\n".join(["ax,ay", *rows]) + "\n")

    return write


@pytest.mark.parametrize(
    ("make", "labels", "classes"),
    [
        # Edge Impulse's own layout: training/ and testing/ folders (init refused it)
        (
            _named([f"{d}/{c}.{k}a2f.csv" for d in ("training", "testing") for c in ("idle", "walk")
                    for k in range(2)]),
            {"from": "file_name", "pattern": "^([^.]+)\\."},
            "2 classes (idle, walk)",
        ),
        # Edge Impulse's labels may hold `_`: wave_hand and wave_fist were both `wave`
        (
            _named([f"{c}.{k}f3c.csv" for c in ("wave_hand", "wave_fist") for k in range(2)]),
            {"from": "file_name", "pattern": "^([^.]+)\\."},
            "2 classes (wave_fist, wave_hand)",
        ),
        # behind the archive's prefix: the classes were `test` and `train`
        (
            _named([f"{s}_{c}_{k}.csv" for s in ("train", "test") for c in ("idle", "walk")
                    for k in range(2)]),
            {"from": "file_name", "pattern": "^(?:train|test)[_\\-]([^._\\-\\s]+)"},
            "2 classes (idle, walk)",
        ),
    ],
)  # fmt: skip
def test_init_reads_labels_from_file_names(
    tmp_path: Path, make: Callable[[Path], None], labels: dict[str, str], classes: str
) -> None:
    make(tmp_path / "data")
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(tmp_path / "data"), "-o", str(spec))
    assert code == 0, out
    text = spec.read_text()
    assert yaml.safe_load(text)["data"]["labels"] == labels and classes in text
    code, out = run("data", "check", str(spec))
    assert code == 0 and "0 errors" in out, out


def test_init_does_not_take_numbers_in_file_names_for_classes(tmp_path: Path) -> None:
    """`1_walk.csv` .. `22_walk.csv` made a regression spec that failed validate."""
    _named([f"{k}_{c}.csv" for k in range(1, 23) for c in ("walk", "idle")])(tmp_path / "data")
    code, out = run("init", str(tmp_path / "data"))
    assert code == 2 and "name the files after their class" in out, out


@pytest.mark.parametrize(
    ("names", "labels", "subject"),
    [
        # subject first: the classes were the subjects (s01, s02, ...), the split by file
        (
            [f"s{s:02d}_{c}_{k}.csv" for s in range(1, 5) for c in ("walk", "idle")
             for k in range(2)],
            {"from": "file_name", "pattern": "^[A-Za-z]+[_\\-]?\\d+[_\\- ]([^._\\-\\s]+)"},
            "(?:^|/)(s[_\\-]?\\d+)[_\\-. ]",
        ),
        # class folders, the subject in the names: the split was by file (a subject's
        # recordings in train and test)
        (
            [f"{c}/Subject-{s}_{k}.csv" for s in range(1, 5) for c in ("walk", "idle")
             for k in range(2)],
            {"from": "folder"},
            "(?:^|/)(Subject[_\\-]?\\d+)[_\\-. ]",
        ),
        # two subjects: too few to split by, but still not the classes
        (
            [f"s{s:02d}_{c}_{k}.csv" for s in range(1, 3) for c in ("walk", "idle")
             for k in range(2)],
            {"from": "file_name", "pattern": "^[A-Za-z]+[_\\-]?\\d+[_\\- ]([^._\\-\\s]+)"},
            None,
        ),
        # `S01` and `s01` spelt differently: no subject split (the pattern would have
        # matched both and kept them apart, one in train and one in test)
        (
            [f"{w}{s:02d}_{c}_{k}.csv" for w in ("s", "S") for s in range(1, 4)
             for c in ("walk", "idle") for k in range(2)],
            {"from": "file_name", "pattern": "^[A-Za-z]+[_\\-]?\\d+[_\\- ]([^._\\-\\s]+)"},
            None,
        ),
        # takes numbered per class, not people: `walk/take1_0.csv` in one class only
        (
            [f"{c}/take{s + 4 * (c == 'idle')}_{k}.csv" for s in range(1, 5)
             for c in ("walk", "idle") for k in range(2)],
            {"from": "folder"},
            None,
        ),
    ],
)  # fmt: skip
def test_init_splits_by_the_subject_a_file_name_starts_with(
    tmp_path: Path, names: list[str], labels: dict[str, str], subject: str | None
) -> None:
    _named(names)(tmp_path / "data")
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(tmp_path / "data"), "-o", str(spec))
    assert code == 0, out
    data = yaml.safe_load(spec.read_text())["data"]
    assert data["labels"] == labels
    if subject is None:
        assert data["split"] == {"by": "file", "test": 0.25, "seed": 0}
        assert "2 classes (idle, walk)" in spec.read_text()
        return
    assert data["split"] == {"by": "subject", "subject_pattern": subject, "test": 0.25, "seed": 0}
    assert "the file names start with the subject (4 subjects)" in spec.read_text()
    code, out = run("data", "check", str(spec))
    assert code == 0 and "0 errors" in out, out
    assert re.search(r"split: by subject \(from pattern .*\), seed 0: 1 of 4 subjects held", out)
    assert "2 classes (idle, walk)" in spec.read_text()


def _wav(path: Path, rate: int = 8000, fmt: int = 1) -> None:
    """A short mono clip; ``fmt`` 3 rewrites the header as IEEE float (not PCM)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros(800, dtype=np.int16).tobytes())
    if fmt != 1:
        raw = bytearray(path.read_bytes())
        raw[20:22] = fmt.to_bytes(2, "little")
        path.write_bytes(bytes(raw))


def _csvs(text: str) -> Callable[[Path], None]:
    def write(data: Path) -> None:
        for c in ("a", "b"):
            (data / c).mkdir(parents=True, exist_ok=True)
            (data / c / "r.csv").write_text(text)

    return write


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (  # decimal commas quoted between commas (`;` between fields reads them)
            _csvs('t,ax,ay\n"0,00","-0,1304","0,5"\n"0,01","0,2","0,1"\n"0,02","0,3","0,2"\n'),
            r"r\.csv: column 't' holds numbers with a decimal comma \('0,00'\) between fields "
            r"separated by commas; export the files with `\.` as the decimal separator, or with "
            r"`;` between fields \(then `csv\.decimal: ','` reads them\)",
        ),
        (  # the spec failed its own validate ("channel names appear twice")
            _csvs("x,y,x,y\n1,2,3,4\n5,6,7,8\n"),
            r"a/r\.csv:1: the header names 'x', 'y' twice; give every column its own name",
        ),
        (  # a window of 0 s, rejected by validate without naming the file
            lambda d: (
                _csvs("ax,ay\n" + "1,2\n" * 50)(d),
                (d / "b" / "empty.csv").write_text("ax,ay\n"),
            ),
            r"b/empty\.csv: no samples after the header; remove the file",
        ),
        (  # a traceback (wave.Error: unknown format: 3)
            lambda d: (_wav(d / "a" / "ok.wav"), _wav(d / "b" / "float.wav", fmt=3)),
            r"b/float\.wav: not a PCM WAV file \(unknown format: 3\); save it as 16-bit PCM",
        ),
        (  # the files were not named
            lambda d: (_wav(d / "a" / "x.wav"), _wav(d / "b" / "y.wav", rate=16000)),
            r"WAV files have different rates: 8000 Hz \(a/x\.wav\), 16000 Hz \(b/y\.wav\)",
        ),
    ],
)
def test_init_names_the_file_and_the_fix(
    tmp_path: Path, make: Callable[[Path], object], expected: str
) -> None:
    make(tmp_path / "data")
    code, out = run("init", str(tmp_path / "data"))
    assert code == 2 and re.search(r"error: .*" + expected, out), out
    assert "Traceback" not in out


def test_init_keeps_a_column_with_empty_cells_and_reads_one_file(tmp_path: Path) -> None:
    """A column with an empty cell in the first rows was dropped without a word; `init`
    refused a single data file ("is a file") though `data.path` may be one."""
    rows = ["temp,humidity,co2,label,"] + [
        f"{20 + i % 5},{'' if i == 3 else 40 + i % 7},{400 + i},{'ok' if i % 2 else 'bad'},"
        for i in range(40)
    ]
    (tmp_path / "sensors.csv").write_text("\n".join(rows) + "\n")
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(tmp_path / "sensors.csv"), "-o", str(spec))
    assert code == 0, out
    text = spec.read_text()
    loaded = yaml.safe_load(text)
    assert loaded["name"] == "sensors" and loaded["data"]["path"] == "sensors.csv"
    assert loaded["data"]["sensors"][0]["channels"] == ["temp", "humidity", "co2"]
    assert "1 CSV file, 2 classes" in text and "''" not in text  # the trailing separator
    code, out = run("data", "check", str(spec))
    assert (
        code == 2 and "sensors.csv:5: column 'humidity': '' is not a number; an empty cell" in out
    )


def test_init_in_the_data_folder_writes_the_output_beside_it(tmp_path: Path) -> None:
    data = tmp_path / "table"
    data.mkdir()
    rng = np.random.default_rng(0)
    rows = ["f1,f2,label"] + [
        f"{rng.normal():.3f},{rng.normal():.3f},{'ab'[i % 2]}" for i in range(80)
    ]
    (data / "t.csv").write_text("\n".join(rows) + "\n")
    spec = data / "spec.yaml"
    code, out = run("init", str(data), "-o", str(spec))
    assert code == 0, out
    assert yaml.safe_load(spec.read_text())["output"]["dir"] == "../table-out"
    assert run("validate", str(spec))[0] == 0


def test_init_on_wav_folders(tmp_path: Path) -> None:
    for c in ("yes", "no"):
        (tmp_path / "kw" / c).mkdir(parents=True)
        with wave.open(str(tmp_path / "kw" / c / "a.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(np.zeros(16000, "<i2").tobytes())
    code, out = run("init", str(tmp_path / "kw"), stdout=True)
    assert code == 0, out
    spec = yaml.safe_load(out)
    assert spec["data"]["format"] == "wav"
    assert spec["data"]["sensors"][0]["rate_hz"] == 16000


def test_init_without_labels_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    shutil.copy(EXAMPLE / "data/walking/train_000.csv", tmp_path / "d" / "a.csv")
    code, out = run("init", str(tmp_path / "d"))
    assert code == 2 and "no text column to take labels from" in out


def test_help_has_examples_and_exit_codes() -> None:
    code, out = run("--help")
    assert code == 0
    assert "Exit codes: 0 ok" in out and "mcuforge generate spec.yaml" in out
    for cmd in (
        "init",
        "validate",
        "explain",
        "generate",
        "search",
        "profile",
        "report",
        "recipes",
        "targets",
        "catalog",
        "schema",
        "lock",
    ):
        assert f"  {cmd}" in out, cmd


def test_json_output_of_read_only_commands() -> None:
    code, out = run("targets", "list", "--json")
    assert code == 0 and {t["name"] for t in json.loads(out)} >= {"nrf52840", "rp2040"}
    code, out = run("recipes", "show", "imu-stats-forest", "--json")
    assert code == 0 and json.loads(out)["name"] == "imu-stats-forest"
    code, out = run("explain", str(EXAMPLE / "spec.yaml"), "--json")
    assert code == 0 and json.loads(out)["target"] == "nrf52840"
    code, out = run("validate", str(EXAMPLE / "spec.yaml"), "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_no_color_when_not_a_terminal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\n")
    code, out = run("validate", str(bad))
    assert code == 2 and "\x1b[" not in out


def _recordings(root: Path, header: list[str], lengths: dict[str, int]) -> None:
    """CSV recordings of random numbers (``t_ms``: every 10 ms): path → number of rows."""
    rng = np.random.default_rng(0)
    for rel, n in lengths.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [",".join(header)] + [
            ",".join(str(10 * t) if h == "t_ms" else f"{rng.random():.4f}" for h in header)
            for t in range(n)
        ]
        path.write_text("\n".join(rows) + "\n")


def test_init_guesses_split_sensors_name_and_shortest_recording(tmp_path: Path) -> None:
    """train/ and test/ folders give test_files; mfcc0..mfcc12 is one sensor; the spec is
    named after the project (not `data`), its paths are relative, the shortest recording
    of all files is named; the files follow the umask."""
    data = tmp_path / "wristband" / "data"
    lengths = {
        f"{split}/{c}/r{i}.csv": 70 + i
        for split in ("train", "test")
        for c in ("yes", "no")
        for i in range(3)
    }
    lengths["test/no/r9.csv"] = 61  # the shortest, last in file order
    _recordings(data, [f"mfcc{k}" for k in range(13)] + ["t_ms"], lengths)
    spec = tmp_path / "wristband" / "specs" / "spec.yaml"  # a folder that does not exist yet
    old = os.umask(0o027)
    try:
        code, out = run("init", str(data), "-o", str(spec))
    finally:
        os.umask(old)
    assert code == 0, out
    text = spec.read_text()
    got = yaml.safe_load(text)
    assert got["name"] == "wristband"
    assert got["data"]["path"] == "../data"
    assert got["data"]["sensors"] == [
        {"name": "mfcc", "channels": [f"mfcc{k}" for k in range(13)], "rate_hz": 100}
    ]
    assert got["data"]["csv"] == {"time_column": "t_ms", "time_unit": "ms"}
    assert got["data"]["split"] == {"test_files": ["test/*"]}
    assert "shortest recording: 61 samples (test/no/r9.csv)" in text
    assert text.startswith("# yaml-language-server: $schema=spec.schema.json\n")
    assert json.loads((spec.parent / "spec.schema.json").read_text())["title"] == "mcuforge spec"
    for f in (spec, spec.parent / "spec.schema.json"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o640, f
    assert run("validate", str(spec))[0] == 0


def test_init_finds_test_files_by_name(tmp_path: Path) -> None:
    _recordings(
        tmp_path / "d",
        ["acc_x", "acc_y", "acc_z"],
        {f"{c}/{s}_{i}.csv": 50 for c in ("a", "b") for s in ("train", "test") for i in range(2)},
    )
    code, out = run("init", str(tmp_path / "d"), stdout=True)
    assert code == 0, out
    assert yaml.safe_load(out)["data"]["split"] == {"test_files": ["*/test_*.csv"]}
    assert yaml.safe_load(out)["data"]["sensors"][0]["name"] == "acc"


def test_every_located_problem_is_an_error_line(tmp_path: Path) -> None:
    """Several problems: each line starts with `error:` (the README's form), not only a
    single problem's."""
    spec = tmp_path / "two.yaml"
    spec.write_text("version: 1\nname: x\nbudgets: {sram_kb: -1, flash_kb: -2}\n")
    code, out = run("validate", str(spec))
    lines = out.strip().splitlines()
    assert code == 2 and len(lines) == 4
    assert all(ln.startswith(f"error: {spec}:") for ln in lines), lines
    assert lines[2].endswith("budgets.sram_kb: Input should be greater than 0 (got -1)")


def test_init_keeps_a_column_with_a_missing_value_mark(tmp_path: Path) -> None:
    """One `n/a` among the first 50 rows made `humidity` text: it was left out of the
    channels without a word. It stays a channel, with a note; the data check names the
    cell and says it is a missing value."""
    rng = np.random.default_rng(0)
    humidity = [f"{v:.3f}" for v in rng.normal(size=100)]
    humidity[40] = "n/a"
    rows = [f"{rng.normal():.3f},{humidity[i]},{'ok' if i % 3 else 'warn'}" for i in range(100)]
    rows[10:10] = ["", ""]  # blank lines: the note's line is the file's (it said 42)
    _one("temp,humidity,status", rows)(tmp_path / "d")
    spec = tmp_path / "spec.yaml"
    code, out = run("init", str(tmp_path / "d" / "s.csv"), "-o", str(spec))
    assert code == 0, out
    assert yaml.safe_load(spec.read_text())["data"]["sensors"][0]["channels"] == [
        "temp",
        "humidity",
    ]
    assert "column 'humidity': 'n/a' at line 44 marks a missing value" in spec.read_text()
    code, out = run("validate", str(spec))
    assert (
        code == 2 and "s.csv:44: column 'humidity': 'n/a' is not a number; a missing value" in out
    )


def test_init_names_anomaly_detection_beside_a_class_named_normal(tmp_path: Path) -> None:
    """Folders `normal/` and `faulty/` gave a classification spec without a word about
    the detector a user with such folders may want."""
    for label in ("normal", "faulty"):
        (tmp_path / "d" / label).mkdir(parents=True)
        rows = ["ax,ay"] + [f"{np.sin(i / 5):.3f},{len(label)}" for i in range(200)]
        (tmp_path / "d" / label / "r.csv").write_text("\n".join(rows) + "\n")
    code, out = run("init", str(tmp_path / "d"), stdout=True)
    assert code == 0 and "task: {kind: classification" in out, out
    assert (
        "a class named 'normal': to detect whatever is unlike it, trained on normal "
        "recordings only, use `task: {kind: anomaly}`"
    ) in " ".join(out.replace("#", " ").split()), out


def test_init_reads_a_one_class_table_as_a_table_of_normal_rows(tmp_path: Path) -> None:
    """A table whose label column holds one value was written as a wide time series
    (4 sensors at a placeholder rate, "1 classes"); validate then failed on the split."""
    rng = np.random.default_rng(1)
    rows = [
        f"{20 + rng.normal():.2f},{40 + rng.normal():.2f},{rng.random():.3f},ok" for _ in range(120)
    ]
    _one("temperature,humidity,current,status", rows)(tmp_path / "d")
    code, out = run("init", str(tmp_path / "d" / "s.csv"), stdout=True)
    assert code == 0, out
    spec = yaml.safe_load(out)
    assert spec["data"]["csv"] == {"layout": "table"}
    assert spec["task"] == {"kind": "anomaly", "metric": "roc_auc", "normal": ["ok"]}
    assert "1 CSV file, 1 class (ok)" in out and "column 'status' holds one value" in out
