"""A corpus of malformed data folders: each is refused by `load_dataset` with one located
line (file and line where there is one) and by `mcuforge validate` with exit 2."""

from __future__ import annotations

import json
import re
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mcuforge.cli import cli
from mcuforge.data import load_dataset
from mcuforge.errors import DataError
from mcuforge.spec import load_spec

from ._datafolders import SPEC, folder, rows, spec, write_csv

Case = Callable[[Path], tuple[Path, str]]
SECRET = "root:x:0:0:do-not-print-me"


def _edit(path: Path, line: int, text: str) -> None:
    """Replace line ``line`` (1-based) of a CSV file."""
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")


def symlink_out(root: Path) -> tuple[Path, str]:
    data = folder(root)
    (root / "secret.csv").write_text(f"ax,ay\n{SECRET}\n")
    (data / "a" / "evil.csv").symlink_to(root / "secret.csv")
    return spec(root), r"data/a/evil\.csv: a symbolic link to a file outside the data folder"


def symlink_broken(root: Path) -> tuple[Path, str]:
    data = folder(root)
    (data / "a" / "gone.csv").symlink_to(root / "nowhere.csv")
    return spec(root), r"data/a/gone\.csv: a broken symbolic link"


def folder_link_out(root: Path) -> tuple[Path, str]:
    data = folder(root)
    write_csv(root / "elsewhere" / "x.csv", rows(20))
    (data / "a" / "more").symlink_to(root / "elsewhere", target_is_directory=True)
    return spec(root), r"data/a/more/: a symbolic link to a folder outside the data folder"


def not_utf8(root: Path) -> tuple[Path, str]:
    data = folder(root, n=120)
    bad = data / "a" / "r1.csv"
    raw = bad.read_bytes().split(b"\n")
    raw[101] = b"0.5,\xff0.25"
    bad.write_bytes(b"\n".join(raw))
    return spec(root), r"data/a/r1\.csv:102: byte 5 of the line \(0xff\) is not UTF-8"


def utf16(root: Path) -> tuple[Path, str]:
    data = folder(root)
    (data / "b" / "r0.csv").write_bytes("ax,ay\n1,2\n".encode("utf-16"))
    return spec(root), r"data/b/r0\.csv:1: UTF-16 text"


def column_count(root: Path) -> tuple[Path, str]:
    data = folder(root)
    _edit(data / "a" / "r2.csv", 6, "0.1,0.2,0.3")
    return spec(root), r"data/a/r2\.csv:6: expected 2 columns \(ax, ay\), found 3"


def comment_above_header(root: Path) -> tuple[Path, str]:
    data = folder(root)
    path = data / "a" / "r1.csv"
    path.write_text("# device: Pixel 7\n" + path.read_text())
    return spec(root), (
        r"data/a/r1\.csv:1: header has no column 'ax' \(data\.sensors\[\]\.channels\), 'ay' "
        r"\(data\.sensors\[\]\.channels\); found # device: Pixel 7\. Fix .* "
        r"The first line is read as the header: remove the lines above the header"
    )


def not_a_number(root: Path) -> tuple[Path, str]:
    data = folder(root)
    _edit(data / "b" / "r3.csv", 5, "0.1,high")
    return spec(root), r"data/b/r3\.csv:5: column 'ay': 'high' is not a number; write numbers only"


def missing_mark(root: Path) -> tuple[Path, str]:
    data = folder(root)
    _edit(data / "b" / "r3.csv", 5, "0.1,n/a")
    return spec(root), (
        r"data/b/r3\.csv:5: column 'ay': 'n/a' is not a number; a missing value: fill it in"
    )


def nan_cell(root: Path) -> tuple[Path, str]:
    data = folder(root)
    _edit(data / "a" / "r0.csv", 4, "nan,0.2")
    return spec(root), r"data/a/r0\.csv:4: column 'ax': 'nan' is not finite"


def inf_cell(root: Path) -> tuple[Path, str]:
    data = folder(root)
    _edit(data / "a" / "r0.csv", 9, "0.1,-inf")
    return spec(root), r"data/a/r0\.csv:9: column 'ay': '-inf' is not finite"


def empty_file(root: Path) -> tuple[Path, str]:
    data = folder(root)
    (data / "a" / "r1.csv").write_text("")
    return spec(root), r"data/a/r1\.csv:1: empty file; expected a header row"


def header_only(root: Path) -> tuple[Path, str]:
    data = folder(root)
    (data / "a" / "r1.csv").write_text("ax,ay\n\n")
    return spec(root), r"data/a/r1\.csv: no samples after the header"


def missing_column(root: Path) -> tuple[Path, str]:
    data = folder(root)
    write_csv(data / "b" / "r0.csv", rows(9), header="ax,a_y")
    # the spec field it comes from, and the header's closest spelling
    return spec(root), (
        r"data/b/r0\.csv:1: header has no column 'ay' \(data\.sensors\[\]\.channels; did you "
        r"mean 'a_y'\?\); found ax, a_y"
    )


def column_twice(root: Path) -> tuple[Path, str]:
    data = folder(root)
    write_csv(data / "b" / "r0.csv", [f"{r},1" for r in rows(9)], header="ax,ay,ay")
    return spec(root), r"data/b/r0\.csv:1: column 'ay' appears twice in the header"


def bad_quote(root: Path) -> tuple[Path, str]:
    data = folder(root)
    _edit(data / "b" / "r1.csv", 7, '0.1,"0.2"x')
    return spec(root), r"data/b/r1\.csv:7: malformed CSV: ',' expected after '\"'"


def label_changes(root: Path) -> tuple[Path, str]:
    data = root / "data"
    for i, label in enumerate(["walk", "walk", "run", "run"]):
        body = [f"{r},{label}" for r in rows(i)]
        if i == 1:
            body[6] = body[6].replace("walk", "run")
        write_csv(data / f"r{i}.csv", body, header="ax,ay,activity")
    extra = "labels: {from: column, column: activity}\n"
    return spec(root, extra=extra), r"data/r1\.csv:8: column 'activity' changes from 'walk'"


def not_in_class_folder(root: Path) -> tuple[Path, str]:
    data = folder(root)
    write_csv(data / "loose.csv", rows(7))
    return spec(root), r"data/loose\.csv: labels come from folders"


def one_class(root: Path) -> tuple[Path, str]:
    folder(root, {"a": 4})
    expected = r"\.yaml:\d+:\d+: data\.labels: found 1 class \(a\) in data; classification"
    return spec(root), expected


def all_too_short(root: Path) -> tuple[Path, str]:
    folder(root)
    expected = r"\.yaml:\d+:\d+: data\.window: every recording is shorter than the window"
    return spec(root, length=50), expected


def too_many_short(root: Path) -> tuple[Path, str]:
    data = folder(root, {"a": 5, "b": 5}, n=20)
    for i in range(2):
        write_csv(data / "a" / f"r{i}.csv", rows(40 + i, n=5))
    return spec(root, length=10), r"2 of 10 recordings \(20%\) .* choose `data.window.short`"


def leakage(root: Path) -> tuple[Path, str]:
    data = folder(root, {"a": 4, "b": 4}, test_prefix=True)
    (data / "b" / "test_copy.csv").write_bytes((data / "b" / "r0.csv").read_bytes())
    split = '{test_files: ["*/test_*.csv"]}'
    return spec(root, split=split), r"data/b/r0\.csv: a training recording whose samples are"


def unmatched_test_files(root: Path) -> tuple[Path, str]:
    folder(root)
    return spec(root, split='{test_files: ["*/holdout_*.csv"]}'), r"matches no file"


def no_training_window(root: Path) -> tuple[Path, str]:
    data = folder(root, {"a": 3, "b": 3}, test_prefix=True)
    for i in range(2):
        (data / "b" / f"r{i}.csv").rename(data / "b" / f"test_x{i}.csv")
    split = '{test_files: ["*/test_*.csv"]}'
    return spec(root, split=split), r"\.yaml:\d+:\d+: data\.split: class b has no training window"


def subjects_missing(root: Path) -> tuple[Path, str]:
    folder(root)
    (root / "subjects.csv").write_text("file,subject\na/r0.csv,s1\nb/r0.csv,s2\n")
    split = "{by: subject, subjects: subjects.csv}"
    return spec(root, split=split), r"subjects\.csv: 6 data files without a subject here"


def subject_cell_empty(root: Path) -> tuple[Path, str]:
    # an empty subject cell was a subject named "": a dozen files lumped together
    data = root / "data"
    for c in ("a", "b"):
        for i in range(4):
            subject = "" if (c, i) == ("b", 2) else f"s{i}"
            write_csv(data / c / f"r{i}.csv", [f"{r},{subject}" for r in rows(i)], "ax,ay,who")
    split = "{by: subject, subject_column: who}"
    return spec(root, split=split), r"data/b/r2\.csv: column 'who' is empty in this file"


def subjects_conflict(root: Path) -> tuple[Path, str]:
    folder(root)
    (root / "subjects.csv").write_text("file,subject\na/r0.csv,s1\na/r0.csv,s2\n")
    split = "{by: subject, subjects: subjects.csv}"
    return spec(root, split=split), r"subjects\.csv:3: 'a/r0.csv' has subject 's2' here and 's1'"


def subjects_file_missing(root: Path) -> tuple[Path, str]:
    folder(root)
    split = "{by: subject, subjects: nobody.csv}"
    return spec(root, split=split), r"nobody\.csv: `data.split.subjects`: no such file"


def subject_pattern(root: Path) -> tuple[Path, str]:
    folder(root)
    split = "{by: subject, subject_pattern: 'subj(\\d+)'}"
    return spec(root, split=split), r"data/a/r0\.csv: `subject_pattern` subj\(\\d\+\) does not"


def subject_split_by_files(root: Path) -> tuple[Path, str]:
    # test_files chose the files and overrode `by: subject`: subjects on both sides, silently
    folder(root)  # r0..r3 per class: subject r(\d) puts r1 in both train and test
    split = "{by: subject, subject_pattern: 'r(\\d)', test_files: ['a/r1.csv']}"
    expected = r"data\.split: `split\.test_files` chooses the test files, so `by: subject`"
    return spec(root, split=split), expected


def npz_shape(root: Path) -> tuple[Path, str]:
    np.savez(root / "x.npz", x=np.zeros((4, 10, 3)), y=np.array(["a", "b", "a", "b"]))
    text = spec(root, data="x.npz").read_text().replace("  path:", "  format: npz\n  path:", 1)
    return spec(root, text=text), r"x\.npz: `x` has shape \(4, 10, 3\); expected"


def npz_corrupt(root: Path) -> tuple[Path, str]:
    (root / "x.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    text = spec(root, data="x.npz").read_text().replace("  path:", "  format: npz\n  path:", 1)
    return spec(root, text=text), r"x\.npz: not a NumPy \.npz archive of numbers"


def npz_text(root: Path) -> tuple[Path, str]:
    np.savez(root / "x.npz", x=np.array([["a", "b"]] * 8), y=np.array(["a"] * 8))
    text = spec(root, data="x.npz").read_text().replace("  path:", "  format: npz\n  path:", 1)
    return spec(root, text=text), r"x\.npz: not a NumPy \.npz archive of numbers"


def npz_not_numpy(root: Path) -> tuple[Path, str]:
    # numpy's own advice for a file it cannot read is to load it with allow_pickle
    (root / "x.npz").write_text("x,y\n1,2\n")
    text = spec(root, data="x.npz").read_text().replace("  path:", "  format: npz\n  path:", 1)
    expected = r"x\.npz: not a NumPy \.npz archive of numbers \(not an archive: .*\); save it with"
    return spec(root, text=text), expected


def npz_objects(root: Path) -> tuple[Path, str]:
    # labels from a pandas column are objects: numpy's advice is to load them unsafely
    y = np.array(["a", "b"] * 4, dtype=object)
    np.savez(root / "x.npz", x=np.zeros((8, 10, 2)), y=y)
    text = spec(root, data="x.npz").read_text().replace("  path:", "  format: npz\n  path:", 1)
    expected = r"x\.npz: .*\(an array holds Python objects\); save labels with \.astype\(str\)"
    return spec(root, text=text), expected


def wav_not_audio(root: Path) -> tuple[Path, str]:
    path, _ = wav_rate(root)
    (root / "wav" / "no" / "2.wav").write_text("not audio at all\n")
    return path, r"wav/no/2\.wav: not a PCM WAV file \(\S.*\)"


def wav_rate(root: Path) -> tuple[Path, str]:
    for c in ("yes", "no"):
        for i in range(3):
            (root / "wav" / c).mkdir(parents=True, exist_ok=True)
            with wave.open(str(root / "wav" / c / f"{i}.wav"), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(16000 if (c, i) == ("no", 2) else 8000)
                period = 50 + 7 * i + (13 if c == "no" else 0)
                w.writeframes((np.arange(4000) % period * 100).astype("<i2").tobytes())
    text = """\
version: 1
name: kw
data:
  format: wav
  path: wav
  sensors: [{name: mic, channels: [audio], rate_hz: 8000}]
  window: {length: 2000, stride: 2000}
target: nrf52840
budgets: {sram_kb: 64, flash_kb: 256}
"""
    return spec(root, text=text), r"wav/no/2\.wav: sample rate 16000 Hz, but the spec says 8000"


def long_unequal(root: Path) -> tuple[Path, str]:
    data = root / "data"
    for c in ("a", "b"):
        for i in range(3):
            body = [f"{t},ax,{t * i}" for t in range(8)] + [f"{t},ay,{t}" for t in range(8)]
            if (c, i) == ("b", 1):
                body = body[:-1]
            write_csv(data / c / f"r{i}.csv", body, header="t,channel,value")
    extra = "csv: {layout: long, time_column: t}\n"
    return spec(root, extra=extra), r"data/b/r1\.csv: long layout needs the same number"


def long_misspelt_channel(root: Path) -> tuple[Path, str]:
    # a channel name the spec does not list is skipped (a file may hold more channels):
    # when a misspelling leaves a channel short, the message names it and its line
    data = root / "data"
    for c in ("a", "b"):
        for i in range(3):
            body = [f"{t},ax,{t * i}" for t in range(8)] + [f"{t},ay,{t}" for t in range(8)]
            if (c, i) == ("b", 1):
                body[9] = "1,az,1"
            write_csv(data / c / f"r{i}.csv", body, header="t,channel,value")
    extra = "csv: {layout: long, time_column: t}\n"
    expected = r"data/b/r1\.csv: long layout .* ax: 8, ay: 7; the file also names 'az' \(first "
    expected += r"at line 11\)"
    return spec(root, extra=extra), expected


def long_other_stamps(root: Path) -> tuple[Path, str]:
    # the channels were zipped by position: ay's samples shifted against ax's, silently
    data = root / "data"
    for c in ("a", "b"):
        for i in range(3):
            shift = 1 if (c, i) == ("a", 2) else 0
            body = [f"{t},ax,{t * i}" for t in range(8)]
            body += [f"{t + shift * (t >= 3)},ay,{t}" for t in range(8)]
            write_csv(data / c / f"r{i}.csv", body, header="t,channel,value")
    extra = "csv: {layout: long, time_column: t}\n"
    expected = r"data/a/r2\.csv:13: channel 'ay' is at t 4 where 'ax' is at 3"
    return spec(root, extra=extra), expected


def wav_truncated(root: Path) -> tuple[Path, str]:
    # an odd number of bytes crashed the reader (a traceback); an even one read short
    path, _ = wav_rate(root)
    (root / "wav" / "no" / "2.wav").unlink()  # (the one at another rate)
    wav = root / "wav" / "no" / "1.wav"
    wav.write_bytes(wav.read_bytes()[:-1001])
    return path, r"wav/no/1\.wav: truncated: the header says 4000 samples"


def table_bad_row(root: Path) -> tuple[Path, str]:
    body = [f"{r},{'x' if i % 2 else 'y'}" for i, r in enumerate(rows(0, n=40))]
    body[30] = "0.5,oops,y"
    write_csv(root / "table.csv", body, header="ax,ay,label")
    text = spec(root).read_text()
    text = re.sub(r"  window: .*\n", "", text).replace("path: data", "path: table.csv")
    text = text.replace(
        "  sensors:", "  csv: {layout: table}\n  labels: {from: column, column: label}\n  sensors:"
    )
    return spec(root, text=text), r"table\.csv:32: column 'ay': 'oops' is not a number"


def unknown_normal(root: Path) -> tuple[Path, str]:
    folder(root)
    text = spec(root).read_text().replace("{kind: classification}", "{kind: anomaly, normal: [c]}")
    return spec(
        root, text=text
    ), r"\.yaml:\d+:\d+: task\.normal: `task.normal` names c, but the data.s labels are a, b"


def anomaly_all_normal(root: Path) -> tuple[Path, str]:
    # no fault to tell apart: roc_auc is undefined (the search used to fall back quietly)
    folder(root, {"normal": 6})
    expected = r"\.yaml:\d+:\d+: data\.labels: every recording is normal \(label normal\)"
    return spec(root, kind="anomaly"), expected


def anomaly_none_in_test(root: Path) -> tuple[Path, str]:
    folder(root, {"normal": 6, "faulty": 2})
    split = '{test_files: ["normal/r5.csv"]}'
    expected = r"data\.split: no anomalous recording in the test split \(roc_auc needs"
    return spec(root, kind="anomaly", split=split), expected


def no_files(root: Path) -> tuple[Path, str]:
    (root / "data" / "a").mkdir(parents=True)
    (root / "data" / "a" / "notes.txt").write_text("no csv here")
    return spec(root), r"data: no \.csv files found"


def missing_folder(root: Path) -> tuple[Path, str]:
    # load_dataset: "data folder nowhere does not exist"; validate locates it in the spec
    return spec(root, data="nowhere"), r"(data folder |data.path: \S*)nowhere does not exist"


CASES: list[Case] = [
    symlink_out,
    symlink_broken,
    folder_link_out,
    not_utf8,
    utf16,
    column_count,
    comment_above_header,
    not_a_number,
    missing_mark,
    nan_cell,
    inf_cell,
    empty_file,
    header_only,
    missing_column,
    column_twice,
    bad_quote,
    label_changes,
    not_in_class_folder,
    one_class,
    all_too_short,
    too_many_short,
    leakage,
    unmatched_test_files,
    no_training_window,
    subjects_missing,
    subject_cell_empty,
    subjects_conflict,
    subjects_file_missing,
    subject_pattern,
    subject_split_by_files,
    npz_shape,
    npz_corrupt,
    npz_text,
    npz_not_numpy,
    npz_objects,
    wav_rate,
    wav_not_audio,
    long_unequal,
    long_misspelt_channel,
    long_other_stamps,
    wav_truncated,
    table_bad_row,
    unknown_normal,
    anomaly_all_normal,
    anomaly_none_in_test,
    no_files,
    missing_folder,
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_malformed_data_is_one_located_line(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # messages show paths relative to the working directory
    path, expected = case(tmp_path)
    loaded = load_spec(path)
    with pytest.raises(DataError) as err:
        load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task, loaded)
    message = str(err.value)
    assert "\n" not in message, message
    assert re.search(expected, message), message
    assert SECRET not in message
    res = CliRunner().invoke(cli, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert re.search(expected, res.output), res.output
    assert SECRET not in res.output


def test_the_same_problem_in_many_files_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder(tmp_path, {"a": 5, "b": 5})
    path = spec(tmp_path, extra="labels: {from: column, column: lbl}\n")
    loaded = load_spec(path)
    with pytest.raises(DataError) as err:
        load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task, loaded)
    message = str(err.value)
    assert message.count("\n") == 0, message
    assert message.startswith(
        "data/a/r0.csv:1: header has no column 'lbl' (data.labels.column); found"
    ), message
    # where the spec names the column (its line and column), then the other files
    assert re.search(
        r"The spec names 'lbl' at \S*spec\.yaml:6:34 \(data\.labels\.column\)\. "
        r"\(and 9 more files alike: data/a/r1\.csv, data/a/r2\.csv, data/a/r3\.csv, …\)$",
        message,
    ), message
    res = CliRunner().invoke(cli, ["validate", str(path), "--json"])
    assert res.exit_code == 2
    assert json.loads(res.stdout)["errors"][0]["file"] == "data/a/r0.csv"  # nothing but JSON


def test_a_missing_channel_is_said_at_its_place_in_the_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = folder(tmp_path, {"a": 3, "b": 3})
    for f in sorted(data.rglob("*.csv"))[:2]:  # two of six files name the column otherwise
        write_csv(f, rows(9), header="ax,a_y")
    text = SPEC.format(
        data="data", extra="", length=4, split="{test: 0.25, seed: 1}", kind="classification"
    ).replace(
        "sensors: [{name: imu, channels: [ax, ay], unit: g, rate_hz: 10}]",
        "sensors:\n    - {name: acc, channels: [ax], rate_hz: 10}\n"
        "    - {name: acc2, channels: [ay], rate_hz: 10}",
    )
    spec(tmp_path, text=text)
    res = CliRunner().invoke(cli, ["validate", "spec.yaml"])
    assert res.exit_code == 2, res.output
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "acc2" in t)
    col = text.splitlines()[line - 1].index("[ay]") + 2  # 1-based, inside the list
    assert (
        "error: data/a/r0.csv:1: header has no column 'ay' (data.sensors[].channels; did you "
        "mean 'a_y'?); found ax, a_y. Fix `data.sensors[].channels` (or the label/subject/time "
        f"column) or the file. The spec names 'ay' at spec.yaml:{line}:{col} "
        "(data.sensors.1.channels.0). (and 1 more file alike: data/a/r1.csv)"
    ) in res.output, res.output


def test_data_files_are_found_whatever_the_case_of_their_extension(tmp_path: Path) -> None:
    # recorders write .CSV and .WAV: such files were left out without a word
    data = folder(tmp_path)
    (data / "a" / "r0.csv").rename(data / "a" / "R0.CSV")
    (data / "b" / "r1.csv").rename(data / "b" / "r1.Csv")
    loaded = load_spec(spec(tmp_path))
    ds = load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task, loaded)
    assert len(ds.train.files) + len(ds.test.files) == 8
    assert {"a/R0.CSV", "b/r1.Csv"} <= {*ds.train.files, *ds.test.files}


def test_corpus_has_twenty_folders() -> None:
    assert len(CASES) >= 20
