"""The data check (`mcuforge data check`, in validate, generate and the report), the window
policy for short recordings, tabular data and subjects from a mapping file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from mcuforge.cli import cli
from mcuforge.data import Dataset, Survey, _files, load_dataset, survey
from mcuforge.errors import DataError, SpecError
from mcuforge.spec import load_spec

from ._datafolders import folder, rows, spec, write_csv
from .conftest import ROOT


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.output


def _survey(path: Path) -> Survey:
    loaded = load_spec(path)
    return survey(loaded.spec.data, loaded.base_dir, loaded.spec.task)


def _load(path: Path) -> Dataset:
    loaded = load_spec(path)
    return load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task)


# --- the injected flaws of issue 20 ------------------------------------------------


def _flawed(root: Path) -> Path:
    """Four classes; a NaN row, a 40 %-jitter file, a short recording, a class of two
    recordings, and a training file copied into the test set."""
    data = root / "data"
    seed = 0
    for c, n in (("idle", 5), ("walk", 5), ("run", 5), ("jump", 2)):
        for i in range(n):
            name = "test_r0.csv" if i == 0 and c != "jump" else f"r{i}.csv"
            write_csv(data / c / name, rows(seed, n=40, time=True), header="t,ax,ay")
            seed += 1
    nan = data / "idle" / "r2.csv"
    lines = nan.read_text().splitlines()
    lines[17] = lines[17].split(",")[0] + ",nan,nan"
    nan.write_text("\n".join(lines) + "\n")
    jitter = data / "walk" / "r3.csv"
    t = np.cumsum(0.1 * (1 + 0.4 * np.where(np.arange(40) % 2, 1, -1)))
    noisy = zip(t, rows(77, n=40, time=True), strict=True)
    body = [f"{ts:.4f},{r.split(',', 1)[1]}" for ts, r in noisy]
    write_csv(jitter, body, header="t,ax,ay")
    write_csv(data / "run" / "r4.csv", rows(88, n=6, time=True), header="t,ax,ay")
    (data / "run" / "test_copy.csv").write_bytes((data / "run" / "r1.csv").read_bytes())
    return spec(
        root,
        extra="csv: {time_column: t}\n",
        length=10,
        split='{test_files: ["*/test_*.csv"]}',
    )


def test_data_check_reports_each_injected_flaw_with_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _flawed(tmp_path)
    code, out = run("data", "check", str(path), "--json")
    assert code == 2
    report = json.loads(out)
    found = {(f["check"], f["file"], f["line"], f["severity"]) for f in report["findings"]}
    assert ("non_finite", "data/idle/r2.csv", 18, "error") in found
    assert ("leakage", "data/run/r1.csv", None, "error") in found
    jitter = next(f for f in report["findings"] if f["check"] == "jitter")
    assert jitter["file"] == "data/walk/r3.csv" and jitter["line"] is not None
    assert re.search(r"deviates by up to 4\d% from its mean \(0.10?\d* s", jitter["message"])
    short = next(f for f in report["findings"] if f["check"] == "too_short")
    assert (short["file"], short["line"]) == ("data/run/r4.csv", 7)
    assert (
        "6 samples (the last on this line), shorter than the window (10): dropped"
        in (short["message"])
    )
    few = next(f for f in report["findings"] if f["check"] == "few_recordings")
    assert few["file"] == "data/jump" and "'jump' has 2 recordings" in few["message"]
    assert report["errors"] == 2 and not report["ok"]
    counts = {c["name"]: c for c in report["summary"]["classes"]}
    assert counts["run"]["dropped"] == 1 and counts["run"]["short"] == 1
    assert counts["jump"]["test_windows"] == 0
    # the same as a table on the terminal
    code, out = run("data", "check", str(path))
    assert code == 2
    assert re.search(r"^run\s+6\s+1\s+1\s+0\s+\d+\s+\d+$", out, re.M), out
    assert "error: data/idle/r2.csv:18: column 'ax': 'nan' is not finite" in out
    assert "2 errors," in out
    # validate stops on the errors, generate's loader too
    code, out = run("validate", str(path))
    assert code == 2 and "data/idle/r2.csv:18" in out and "data/run/r1.csv" in out
    errors = [ln for ln in out.splitlines() if "data/idle/r2.csv:18" in ln or "run/r1.csv" in ln]
    assert len(errors) == 2 and all(ln.startswith("error: ") for ln in errors), out
    with pytest.raises(DataError, match=r"r2\.csv:18"):
        _load(path)
    # copies across the split can be accepted knowingly (a published archive split)
    path.write_text(
        path.read_text().replace("  window:", "  checks: {allow_copies: true}\n  window:")
    )
    leak = next(f for f in _survey(path).findings if f.check == "leakage")
    assert leak.severity == "warning" and "accepted: `checks.allow_copies`" in leak.message


def test_every_bad_cell_of_every_file_is_reported(tmp_path: Path) -> None:
    data = folder(tmp_path)
    for name, line in (("a/r1.csv", 3), ("b/r2.csv", 11)):
        p = data / name
        text = p.read_text().splitlines()
        text[line - 1] = "nan,inf"
        text[line] = "x,0"
        p.write_text("\n".join(text) + "\n")
    s = _survey(spec(tmp_path))
    bad = sorted(str(f) for f in s.errors if f.check == "non_finite")
    assert len(bad) == 2
    assert re.search(r"a/r1.csv:3: column 'ax': 'nan' is not finite \(3 bad cells in this", bad[0])
    assert "file, lines 3, 4)" in bad[0]


def test_warnings_ranges_constant_duplicates_imbalance(tmp_path: Path) -> None:
    data = folder(tmp_path, {"a": 12, "b": 2}, test_prefix=True)
    write_csv(data / "a" / "r3.csv", [f"{r.split(',')[0]},0.5" for r in rows(3)])
    write_csv(data / "a" / "r4.csv", [f"20.5,{r.split(',')[1]}" for r in rows(4)])
    (data / "a" / "r5.csv").write_bytes((data / "a" / "r6.csv").read_bytes())
    s = _survey(spec(tmp_path, split='{test_files: ["*/test_*.csv"]}'))
    by = {f.check: f for f in s.findings}
    assert "channel 'ay' is constant (0.5) over all 12 samples" in str(by["constant"])
    assert re.search(r"r4.csv:2: channel 'ax': 20.5 is outside \[-16, 16\]", str(by["range"]))
    assert str(by["duplicate"]).endswith("a/r5.csv: the same samples as a/r6.csv")
    assert "class 'a' has 36 windows, 6.0 times the 6 of 'b'" in by["imbalance"].message
    assert "class 'b' has 2 recordings" in by["few_recordings"].message
    assert not s.errors


def test_a_subject_on_both_sides_of_a_split_by_file_is_a_warning(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for c in ("a", "b"):
        for i in range(4):
            write_csv(
                data / c / f"r{i}.csv",
                [f"{r},s{i % 2}" for r in rows(i + (10 if c == "b" else 0))],
                header="ax,ay,who",
            )
    s = _survey(spec(tmp_path, split="{test: 0.5, seed: 0, subject_column: who}"))
    leak = [f for f in s.findings if f.check == "leakage"]
    assert leak and "subjects are in both train and test (s0, s1)" in leak[0].message


# --- the window policy --------------------------------------------------------------


def _short_folder(root: Path) -> Path:
    """Class a: 4 recordings of 20 samples and one of 7; class b: 5 of 20."""
    data = folder(root, {"a": 4, "b": 5}, n=20)
    write_csv(data / "a" / "short.csv", rows(50, n=7))
    return data


@pytest.mark.parametrize(
    ("policy", "windows", "counts"),
    [
        ("{length: 10, short: drop}", 18, {"dropped": 1}),
        ("{length: 10, short: pad}", 19, {"padded": 1}),
        ("{length: 10, short: pad, pad_with: 0}", 19, {"padded": 1}),
        ("{length: 16, short: whole}", 10, {"resampled": 5}),
        ("{length: 16, short: whole, fit: pad, pad_with: -1}", 10, {"padded": 1, "truncated": 4}),
    ],
)
def test_window_policies(tmp_path: Path, policy: str, windows: int, counts: dict[str, int]) -> None:
    _short_folder(tmp_path)
    path = spec(tmp_path, split="{test: 0.2, seed: 3}")
    text = re.sub(r"window: \{[^}]*\}", f"window: {policy}", path.read_text())
    path.write_text(text)
    ds = _load(path)
    assert len(ds.train.x) + len(ds.test.x) == windows
    a = next(c for c in ds.summary.classes if c.name == "a")
    for key in ("dropped", "padded", "resampled", "truncated"):
        assert getattr(a, key) == counts.get(key, 0), key
    # the table's columns keep padded, resampled and truncated apart (padded held all 3)
    head, *table = ds.summary.table()
    row_a = dict(
        zip(head.split(), next(r for r in table if r.startswith("a ")).split(), strict=False)
    )
    for key in ("padded", "resampled", "truncated"):
        assert (key in head) == (key == "padded" or key in counts)
        if key in head:
            assert row_a[key] == str(counts.get(key, 0)), (key, head, table)
    log = "\n".join(ds.log_lines())  # generate logs what the policy did, not only the report
    for key, n in counts.items():
        if key != "dropped":
            assert re.search(rf"^data: \d+ recordings? {key} to the window \(a {n}\b", log, re.M)
    if "drop" in policy:
        assert "a/short.csv" not in ds.train.files + ds.test.files
        return
    short_rows = np.array([[float(v) for v in r.split(",")] for r in rows(50, n=7)], np.float32)
    side = ds.train if "a/short.csv" in ds.train.files else ds.test
    w = side.x[side.groups == side.files.index("a/short.csv")][0]
    if "resample" in str(counts):
        # the ends are kept, the inside is interpolated linearly
        assert np.array_equal(w[[0, -1]], short_rows[[0, -1]])
        assert np.allclose(w[1], short_rows[0] + (short_rows[1] - short_rows[0]) * 6 / 15)
        return
    assert np.array_equal(w[:7], short_rows)
    if "pad_with" not in policy:
        assert np.array_equal(w[7:], np.tile(short_rows[-1], (3, 1)))  # edge
    else:
        assert (w[7:] == float(policy.split("pad_with: ")[1].rstrip("}"))).all()


def test_auto_policy_drops_a_few_with_a_warning_and_counts(tmp_path: Path) -> None:
    data = folder(tmp_path, {"a": 10, "b": 10}, n=20)
    write_csv(data / "a" / "r9.csv", rows(60, n=6))
    ds = _load(spec(tmp_path, length=10))
    assert ds.summary.dropped_text() == "1 recording dropped as shorter than the window (a 1)"
    assert any(f.check == "too_short" and f.severity == "info" for f in ds.findings)
    (warning,) = [f for f in ds.findings if f.severity == "warning"]
    assert warning.message.startswith("1 recording dropped as shorter than the window (a 1)")
    log = "\n".join(ds.log_lines())
    dropped = r"1 recording dropped as shorter than the window \(a 1\); `data.window.short: auto`"
    # the data folder as a whole is named as a folder, not read as a second stage name
    assert re.search(rf"^data: warning: .*data/: {dropped}$", log, re.M), log
    assert "data: split: by recording, seed 1" in log
    # the same number of drops above checks.max_dropped is an error naming the policies
    path = spec(tmp_path, length=10, extra="checks: {max_dropped: 0.02}\n")
    with pytest.raises(DataError, match=r"choose `data.window.short`: `pad`.*`whole`.*`drop`"):
        _load(path)


def test_regression_targets_follow_their_samples(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for i in range(4):
        n = 5 if i == 0 else 10
        body = [f"{r},{i + t}" for t, r in enumerate(rows(i, n=n))]
        write_csv(data / f"r{i}.csv", body, header="ax,ay,speed")
    path = spec(
        tmp_path,
        extra="labels: {from: column, column: speed}\n",
        length=10,
        kind="regression",
        split="{test: 0.25, seed: 0}",
    )
    path.write_text(path.read_text().replace("stride: 10}", "stride: 10, short: pad}"))
    ds = _load(path)
    side = ds.train if "r0.csv" in ds.train.files else ds.test
    y = side.y[side.groups == side.files.index("r0.csv")]
    assert y.tolist() == [pytest.approx((0 + 1 + 2 + 3 + 4 + 4 * 5) / 10)]  # edge-padded targets


# --- reading ------------------------------------------------------------------------


def test_bom_is_stripped_and_chunks_keep_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_files, "CHUNK_ROWS", 5)
    data = folder(tmp_path, n=23)
    p = data / "a" / "r0.csv"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    q = data / "b" / "r1.csv"
    text = q.read_text().splitlines()
    text[18] = "0.25,nan"
    q.write_text("\n".join(text) + "\n")
    s = _survey(spec(tmp_path))
    assert [str(f) for f in s.errors] == [
        f"{data / 'b' / 'r1.csv'}: ".replace(f"{data}/", f"{data}/")[:0]
        + f"{data / 'b' / 'r1.csv'}:19: column 'ay': 'nan' is not finite; remove or "
        "interpolate NaN/inf samples"
    ]
    rec = next(r for r in s.recordings if r.file == "a/r0.csv")
    assert rec.samples.shape == (23, 2) and rec.lines is not None
    assert rec.lines.tolist() == list(range(2, 25))


def test_a_symlink_inside_the_folder_is_read(tmp_path: Path) -> None:
    data = folder(tmp_path)
    write_csv(tmp_path / "data" / "extra" / "x.csv", rows(30))
    (data / "a" / "linked.csv").symlink_to(data / "extra" / "x.csv")
    (data / "extra" / "x.csv").rename(data / "extra" / "x.txt")
    (data / "a" / "linked.csv").unlink()
    (data / "a" / "linked.csv").symlink_to(data / "extra" / "x.txt")
    s = _survey(spec(tmp_path))
    assert not s.errors and any(r.file == "a/linked.csv" for r in s.recordings)


def test_a_data_folder_that_is_a_link_is_named_as_the_spec_names_it(tmp_path: Path) -> None:
    """Messages name files under the spec's `data.path`, not under the link's target."""
    real = folder(tmp_path / "elsewhere")
    (tmp_path / "data").symlink_to(real, target_is_directory=True)
    bad = real / "b" / "r1.csv"
    text = bad.read_text().splitlines()
    text[3] = "0.25,nan"
    bad.write_text("\n".join(text) + "\n")
    s = _survey(spec(tmp_path))
    assert [str(f) for f in s.errors] == [
        f"{tmp_path / 'data' / 'b' / 'r1.csv'}:4: column 'ay': 'nan' is not finite; remove or "
        "interpolate NaN/inf samples"
    ]
    assert sorted(r.file for r in s.recordings) == [f"{c}/r{i}.csv" for c in "ab" for i in range(4)]


def test_an_empty_class_folder_is_a_warning(tmp_path: Path) -> None:
    """With labels from folders, a folder without data files is a class whose
    recordings were not copied: said, not ignored (a folder of folders is not one)."""
    data = folder(tmp_path)
    (data / "c").mkdir()
    (data / "c" / "notes.txt").write_text("to do\n")
    (data / "d" / "inner").mkdir(parents=True)
    (data / ".git" / "objects" / "ab").mkdir(parents=True)  # hidden: not a class
    (data / "e").symlink_to(data / "a", target_is_directory=True)  # a link: data_files' say
    s = _survey(spec(tmp_path))
    warned = [f for f in s.findings if f.severity == "warning"]
    assert [(f.file, f.check) for f in warned] == [
        (f"{data / 'c'}/", "labels"),
        (f"{data / 'd' / 'inner'}/", "labels"),
    ]
    assert "no class 'c' is read from it" in warned[0].message
    assert s.classes == ["a", "b"] and not s.errors


def test_a_class_folder_inside_another_and_names_differing_in_case_are_warned(
    tmp_path: Path,
) -> None:
    """`a/session2/` made a class `session2` and `B/` beside `b/` a class `B`, silently."""
    data = folder(tmp_path)
    for name, seed in (("a/session2/r9.csv", 50), ("B/r9.csv", 51)):
        write_csv(data / name, rows(seed))
    s = _survey(spec(tmp_path))
    warned = [(f.file, f.message) for f in s.findings if f.check == "labels"]
    assert warned == [
        (
            f"{data / 'a' / 'session2'}/",
            "data files in a folder inside the class folder 'a': they are class 'session2' "
            "(the folder holding each file); move them up into a/ if they are 'a'",
        ),
        (
            f"{data}/",
            "class folders B, b differ only in case: they are different classes; rename "
            "them to one name if they are one",
        ),
    ]
    assert s.classes == ["B", "a", "b", "session2"]


def test_validate_prints_the_data_warnings_beside_the_errors(tmp_path: Path) -> None:
    """The warnings were dropped whenever a data error stopped validate."""
    data = folder(tmp_path)
    write_csv(data / "a" / "r0.csv", ["0.5,1"] * 12)  # constant channels: warnings
    bad = data / "b" / "r1.csv"
    bad.write_text(bad.read_text().replace("\n", "\nx,1\n", 1))  # line 2: an error
    code, out = run("validate", str(spec(tmp_path)))
    assert code == 2
    lines = out.splitlines()
    assert lines[0].startswith("warning: ") and "r0.csv: channel 'ax' is constant" in lines[0]
    assert lines[-1].startswith("error: ") and "r1.csv:2: column 'ax': 'x'" in lines[-1]


def test_labels_from_file_names(tmp_path: Path) -> None:
    """One folder of `walk_01.csv`, `idle.4f2a.csv` (Edge Impulse's export): init
    refused it ("put them in class folders") and the spec had no way to say it."""
    data = tmp_path / "data"
    names = ["walk_01.csv", "walk_02.csv", "idle.4f2a.csv", "idle.9c1e.csv", "idle-3.csv"]
    for seed, name in enumerate([*names, "walk 4.csv"]):
        write_csv(data / name, rows(seed))
    labels = "  labels: {from: file_name}\n"
    s = _survey(spec(tmp_path, extra=labels))
    assert not s.errors and s.classes == ["idle", "walk"]
    assert sorted((r.file, r.label) for r in s.recordings)[:2] == [
        ("idle-3.csv", "idle"),
        ("idle.4f2a.csv", "idle"),
    ]
    # a pattern of one's own; a name it does not match is named
    write_csv(data / "notes.csv", rows(9))
    s = _survey(spec(tmp_path, extra="  labels: {from: file_name, pattern: '^(walk|idle)'}\n"))
    assert [str(f) for f in s.errors] == [
        f"{data / 'notes.csv'}: labels come from file names (`labels: {{from: file_name}}`), "
        "but this name has none (`pattern` '^(walk|idle)'); rename the file (e.g. "
        "walk_01.csv) or fix `labels.pattern`"
    ]
    (data / "notes.csv").unlink()
    code, out = run("init", str(data), "-o", str(tmp_path / "init.yaml"))
    assert code == 0, out
    assert yaml.safe_load((tmp_path / "init.yaml").read_text())["data"]["labels"] == {
        "from": "file_name"
    }
    # labels differing only in case: two classes, said
    write_csv(data / "Walk_05.csv", rows(5))
    s = _survey(spec(tmp_path, extra=labels))
    assert [f.message for f in s.findings if f.check == "labels"] == [
        "labels 'Walk', 'walk' (from the file names) differ only in case or spaces: they are "
        "different classes; write them one way if they are one"
    ]
    (data / "Walk_05.csv").unlink()
    # archives: the name the spec chose wins over the archive's own `y`
    npz = tmp_path / "npz"
    npz.mkdir()
    for name in ("walk_1.npz", "walk_2.npz", "idle_1.npz", "idle_2.npz"):
        np.savez(npz / name, x=np.zeros((12, 2), dtype=np.float32), y=np.array("other"))
    s = _survey(spec(tmp_path, data="npz", extra="  format: npz\n" + labels))
    assert s.classes == ["idle", "walk"], s.errors
    # a header whose first column starts with `#` is a header (`#time`), not a comment
    write_csv(data / "walk_03.csv", rows(3), header="#time,ay")
    s = _survey(spec(tmp_path, extra=labels))
    assert "remove the lines above" not in str(s.errors[0]) and "'ax'" in str(s.errors[0])
    (data / "walk_03.csv").unlink()
    for bad, message in (
        ("{from: folder, pattern: '(x)'}", "`pattern` applies to `from: file_name` only"),
        ("{from: file_name, pattern: 'x'}", "`pattern` needs one \\(group\\)"),
    ):
        with pytest.raises(SpecError, match=message):
            load_spec(spec(tmp_path, extra=f"  labels: {bad}\n"))


def test_hidden_files_and_folders_are_not_data(tmp_path: Path) -> None:
    """macOS's `._name.csv` (binary, not UTF-8) stopped the load; a notebook's
    `.ipynb_checkpoints/` became a class."""
    data = folder(tmp_path)
    (data / "a" / "._r0.csv").write_bytes(b"\x00\x05\x16\x07\xff\xfe Mac OS X")
    (data / ".ipynb_checkpoints").mkdir()
    (data / ".ipynb_checkpoints" / "r0-checkpoint.csv").write_text(
        (data / "a" / "r0.csv").read_text()
    )
    s = _survey(spec(tmp_path))
    assert not s.errors and s.classes == ["a", "b"]
    assert sorted(r.file for r in s.recordings) == [f"{c}/r{i}.csv" for c in "ab" for i in range(4)]
    assert [f.message for f in s.findings if f.check == "files"] == [
        "2 hidden .csv files are not data (a name or folder starting with `.`: "
        ".ipynb_checkpoints/r0-checkpoint.csv, …)"
    ]
    code, out = run("init", str(data))  # `init` looks at the same files
    assert code == 0 and "8 CSV files, 2 classes (a, b)" in out, out


def test_an_anomaly_split_holds_out_every_kind_of_fault(tmp_path: Path) -> None:
    """The split was stratified on normal vs anomaly only: of two faults with four
    recordings each, one could have none in the test set, and the split line said
    "of each class"."""
    data = folder(tmp_path, {"normal": 14, "bearing": 4, "cavitation": 4})
    s = _survey(spec(tmp_path, data, kind="anomaly"))
    assert not s.errors
    held = {c: 0 for c in ("normal", "bearing", "cavitation")}
    for r, test in zip(s.recordings, s.is_test, strict=True):
        held[str(r.label)] += test
    assert held == {"normal": 4, "bearing": 1, "cavitation": 1}
    # faults seen once each share a stratum: one of them is held out (alone, none was,
    # and the test set had no anomaly for roc_auc)
    root = tmp_path / "rare"
    data = folder(root, {"normal": 8, "bearing": 1, "cavitation": 1, "imbalance": 1})
    s = _survey(spec(root, data, kind="anomaly"))
    assert not s.errors, s.errors
    faults = [r.label for r, t in zip(s.recordings, s.is_test, strict=True) if t]
    assert len([f for f in faults if f != "normal"]) == 1
    # anomalies are rare by nature (8 normal recordings to 1 of each fault): no advice to
    # weigh the classes (it said `task.metric: balanced_accuracy`, not an anomaly metric)
    assert "imbalance" not in {f.check for f in s.findings}


def _european(data: Path) -> None:
    """The folder's files as a European spreadsheet exports them: `;` between fields, a
    decimal comma, a time column named in German."""
    for f in sorted(data.rglob("*.csv")):
        body = f.read_text().splitlines()[1:]
        lines = [f"{k / 10:.2f},{row}" for k, row in enumerate(body)]
        f.write_text(
            "Zeit [s];ax;ay\n"
            + "\n".join(ln.replace(",", ";").replace(".", ",") for ln in lines)
            + "\n"
        )


def test_numbers_with_a_decimal_comma_read_as_with_a_point(tmp_path: Path) -> None:
    """A European export was refused (`init`) or every cell a bad cell (the loader):
    `csv.decimal: ','` reads it, the same numbers as the file written with points."""
    plain = _survey(spec(tmp_path / "p", folder(tmp_path / "p")))
    data = folder(tmp_path / "e")
    _european(data)
    assert (data / "a" / "r0.csv").read_text().splitlines()[1] == "0,00;0;1"
    csv = 'csv: {delimiter: ";", decimal: ",", time_column: "Zeit [s]"}\n'
    eu = _survey(spec(tmp_path / "e", data, extra=csv))
    assert not eu.errors and eu.classes == ["a", "b"]
    assert [r.file for r in eu.recordings] == [r.file for r in plain.recordings]
    for a, b in zip(eu.recordings, plain.recordings, strict=True):
        np.testing.assert_array_equal(a.samples, b.samples)
        assert a.times is not None and a.times[1] == pytest.approx(0.1)
    # without the option every number is a bad cell, and the message says which option
    s = _survey(
        spec(tmp_path / "e", data, extra='csv: {delimiter: ";", time_column: "Zeit [s]"}\n')
    )
    assert s.errors[0].message.startswith(
        "column 'ax': '0,2955' is not a number (34 bad cells in this file, lines 3, 4, 5, …)"
    )
    assert "a decimal comma: set `data.csv.decimal: ','`" in s.errors[0].message
    # a decimal comma needs another field separator: a spec error at the field
    with pytest.raises(SpecError, match=r"data\.csv.*`decimal: ','` needs another field separator"):
        load_spec(spec(tmp_path / "e", data, extra='csv: {decimal: ","}\n'))
    # init writes the options (and takes `Zeit [s]` for the time column), data check agrees
    code, out = run("init", str(data), "-o", str(tmp_path / "e" / "init.yaml"))
    assert code == 0, out
    text = (tmp_path / "e" / "init.yaml").read_text()
    assert 'csv: {time_column: "Zeit [s]", delimiter: ";", decimal: ","}' in text, text
    assert "rate_hz 10 from the median step of column 'Zeit [s]'" in text, text
    code, out = run("data", "check", str(tmp_path / "e" / "init.yaml"))
    assert code == 0 and "0 errors, 0 warnings" in out, out


def test_a_decimal_comma_file_reads_thousands_and_refuses_points(tmp_path: Path) -> None:
    """With `decimal: ','` a point between groups of three digits is a thousands separator
    (`1.234,5`), and a number written with a point is a bad cell: `1.5` was read as one and
    a half without a word, in a file where a point means thousands."""
    data = folder(tmp_path / "e")
    _european(data)
    f = data / "a" / "r0.csv"
    lines = f.read_text().splitlines()
    assert lines[2] == "0,10;0,2955;0,9801"
    lines[2] = "0,10;1.234,5;-12.000"
    f.write_text("\n".join(lines) + "\n")
    csv = 'csv: {delimiter: ";", decimal: ",", time_column: "Zeit [s]"}\n'
    eu = _survey(spec(tmp_path / "e", data, extra=csv))
    assert not eu.errors, eu.errors
    r0 = next(r for r in eu.recordings if r.file == "a/r0.csv")
    np.testing.assert_array_equal(r0.samples[1], np.float32([1234.5, -12000.0]))
    lines[3] = lines[3].split(";")[0] + ";1.5;0,25"
    lines[4] = lines[4].split(";")[0] + ";0.123;1.234e3"  # no thousands with an exponent
    f.write_text("\n".join(lines) + "\n")
    bad = _survey(spec(tmp_path / "e", data, extra=csv))
    assert len(bad.errors) == 1 and bad.errors[0].line == 4, bad.errors
    assert bad.errors[0].message.startswith(
        "column 'ax': '1.5' has a decimal point (the spec reads numbers with a decimal comma) "
        "(3 bad cells in this file, lines 4, 5); write every number in the file with a "
        "decimal comma, or remove `data.csv.decimal`"
    ), bad.errors[0].message


def test_init_reads_a_one_column_european_export(tmp_path: Path) -> None:
    """One column of numbers with a decimal comma (`Wert`, `-1,373`): no separator splits
    its lines alike, and the commas were taken for one (`expected 1 columns, found 2`)."""
    rng = np.random.default_rng(0)
    for label in ("ok", "fault"):
        for k in range(4):
            x = rng.normal(size=120)
            text = "\n".join(f"{v:.3f}".replace(".", ",") for v in x)
            write_csv(tmp_path / "d" / label / f"r{k}.csv", [text], header="Wert")
    code, out = run("init", str(tmp_path / "d"), "-o", str(tmp_path / "s.yaml"))
    assert code == 0, out
    text = (tmp_path / "s.yaml").read_text()
    assert 'csv: {delimiter: ";", decimal: ","}' in text and "channels: [Wert]" in text, text
    code, out = run("data", "check", str(tmp_path / "s.yaml"))
    assert code == 0 and "0 errors" in out, out
    # a comma-separated file with a short row is not one column of decimal commas: its
    # header has a comma (init read `0,12` as 0.12 in a column named "t_ms,ax")
    write_csv(tmp_path / "r" / "a" / "r0.csv", ["0,12", "10,7", "50", "60,3"], header="t_ms,ax")
    write_csv(tmp_path / "r" / "b" / "r0.csv", ["0,1", "10,2", "20,3"], header="t_ms,ax")
    code, out = run("init", str(tmp_path / "r"), "-o", str(tmp_path / "r.yaml"))
    assert code != 0 and "expected 2 columns (t_ms, ax), found 1" in out, out


# --- tabular data -------------------------------------------------------------------


def _table(root: Path, n: int = 60, label: str = "kind") -> Path:
    rng = np.random.default_rng(0)
    body = []
    for i in range(n):
        k = i % 3
        x = rng.normal(k, 0.3, 3)
        body.append(f"{x[0]:.4f},{x[1]:.4f},{x[2]:.4f},{['x', 'y', 'z'][k]},s{i % 4}")
    return write_csv(root / "table" / "rows.csv", body, header=f"f1,f2,f3,{label},who")


TABLE_SPEC = """\
version: 1
name: tab
data:
  path: table
  csv: {{layout: table}}
  sensors: [{{name: features, channels: [f1, f2, f3]}}]
  labels: {{from: column, column: kind}}
  split: {split}
target: nrf52840
budgets: {{sram_kb: 16, flash_kb: 64}}
search: {{trials: 3, seed: 0}}
output: {{dir: out, test_windows: 4}}
"""


def test_a_table_is_one_window_per_row(tmp_path: Path) -> None:
    _table(tmp_path)
    path = spec(tmp_path, text=TABLE_SPEC.format(split="{test: 0.25, seed: 0}"))
    loaded = load_spec(path)
    assert loaded.spec.data.modality == "tabular" and loaded.spec.data.rate_hz == 1.0
    ds = _load(path)
    assert ds.window == 1 and ds.train.x.shape[1:] == (1, 3)
    assert len(ds.train.x) + len(ds.test.x) == 60 and len(ds.test.x) == 15
    assert ds.train.files[0].startswith("rows.csv:")
    first = (tmp_path / "table" / "rows.csv").read_text().splitlines()[1].split(",")[:3]
    i = ds.train.files.index("rows.csv:2") if "rows.csv:2" in ds.train.files else None
    if i is not None:
        assert ds.train.x[ds.train.groups == i][0, 0].tolist() == pytest.approx(
            [float(v) for v in first]
        )
    assert ds.summary.unit == "rows" and ds.summary.split.mode == "row"
    # subjects per row
    path.write_text(TABLE_SPEC.format(split="{by: subject, subject_column: who, test: 0.25}"))
    ds = _load(path)
    (held,) = ds.summary.split.held_out
    assert _subjects(ds.test.files, tmp_path) == {held}
    assert held not in _subjects(ds.train.files, tmp_path)


def _session(root: Path, runs: list[tuple[str, str, int]], who: str = "who") -> Path:
    """One annotated session: ``t,ax,ay,label,who`` with runs of (label, subject, rows);
    each run's samples are distinct (their first value is the run's index)."""
    body, t = [], 0
    for k, (label, person, n) in enumerate(runs):
        for i in range(n):
            body.append(f"{t / 10:.1f},{k}.{i:03d},{np.sin(0.3 * t):.4f},{label},{person}")
            t += 1
    return write_csv(root / "data" / "s0.csv", body, header=f"t,ax,ay,label,{who}")


SEGMENTS = """  csv: {layout: segments, time_column: t}
  labels: {from: column, column: label}
"""


def test_segments_make_each_run_of_one_label_a_recording(tmp_path: Path) -> None:
    """A session annotated as it goes (the label column changes over time) was an error
    in the wide layout, and `init` made it a table split by row: neighbouring samples
    in train and test. Each run is now a recording of its own."""
    runs = [("walk", "p1", 12), ("run", "p1", 9), ("walk", "p1", 8), ("walk", "p2", 10)]
    runs += [("run", "p2", 12), ("walk", "p3", 8), ("run", "p3", 8)]
    _session(tmp_path, runs)
    by_who = "{by: subject, subject_column: who, test: 0.25}"
    s = _survey(spec(tmp_path, extra=SEGMENTS, split=by_who))
    assert not s.errors
    # a change of label or of subject starts a recording; named by their lines
    assert [(r.file, r.label, r.subject, len(r.samples)) for r in s.recordings] == [
        ("s0.csv:2-13", "walk", "p1", 12),
        ("s0.csv:14-22", "run", "p1", 9),
        ("s0.csv:23-30", "walk", "p1", 8),
        ("s0.csv:31-40", "walk", "p2", 10),
        ("s0.csv:41-52", "run", "p2", 12),
        ("s0.csv:53-60", "walk", "p3", 8),
        ("s0.csv:61-68", "run", "p3", 8),
    ]
    ds = _load(spec(tmp_path, extra=SEGMENTS, split=by_who))
    for side in (ds.train, ds.test):
        for w, g in zip(side.x, side.groups, strict=True):  # no window spans two runs
            assert len({int(v) for v in w[:, 0]}) == 1, side.files[g]
    # split by recording: the runs held out are named (a file's runs are on both sides)
    held = _load(spec(tmp_path, extra=SEGMENTS)).summary.split.held_out
    assert held and all(h.startswith("s0.csv:") for h in held)
    # a bad cell is named at its line in the file; the wide layout's error points here
    text = (tmp_path / "data" / "s0.csv").read_text().replace("2.003,", "oops,")
    (tmp_path / "data" / "s0.csv").write_text(text)
    s = _survey(spec(tmp_path, extra=SEGMENTS))
    assert [str(f) for f in s.errors] == [
        f"{tmp_path / 'data' / 's0.csv'}:26: column 'ax': 'oops' is not a number; write "
        "numbers only in data columns (a header is the first line only; remove text, units "
        "or thousands separators from the cells)"
    ]
    wide = _survey(spec(tmp_path, extra="  labels: {from: column, column: label}\n"))
    assert "`csv.layout: segments` (labels from a column) makes each run of rows" in str(
        wide.errors[0]
    )
    # rows without a label between activities: left out, counted
    text = (tmp_path / "data" / "s0.csv").read_text().replace("oops,", "2.003,")
    text = text.replace(",run,p2", ",,p2")
    (tmp_path / "data" / "s0.csv").write_text(text)
    s = _survey(spec(tmp_path, extra=SEGMENTS, split=by_who))
    assert "s0.csv:41-52" not in [r.file for r in s.recordings] and len(s.recordings) == 6
    assert [str(f) for f in s.findings if f.check == "labels"] == [
        f"{tmp_path / 'data' / 's0.csv'}:41: 12 rows without a label (lines 41-52) are not used"
    ]
    with pytest.raises(SpecError, match=r"`csv\.layout: segments` cuts CSV files where"):
        load_spec(spec(tmp_path, extra="  csv: {layout: segments}\n"))


def test_init_takes_an_annotated_session_for_segments_split_by_subject(tmp_path: Path) -> None:
    runs = [(("walk", "run")[k % 2], f"p{k // 2}", 40 + k) for k in range(8)]
    _session(tmp_path, runs, who="participant")
    code, out = run("init", str(tmp_path / "data"), "-o", str(tmp_path / "spec.yaml"))
    assert code == 0, out
    out = (tmp_path / "spec.yaml").read_text()
    loaded = yaml.safe_load(out)
    assert loaded["data"]["csv"] == {"layout": "segments", "time_column": "t"}
    assert loaded["data"]["sensors"][0]["channels"] == ["ax", "ay"]  # not the subject, not `t`
    assert loaded["data"]["split"] == {
        "by": "subject",
        "subject_column": "participant",
        "test": 0.25,
        "seed": 0,
    }
    assert "shortest recording: 40 samples" in out
    assert "column 'label' changes in runs over time (8 runs in 1 file)" in out


def _subjects(files: list[str], root: Path) -> set[str]:
    lines = (root / "table" / "rows.csv").read_text().splitlines()
    return {lines[int(f.split(":")[1]) - 1].rsplit(",", 1)[1] for f in files}


def test_table_spec_rules(tmp_path: Path) -> None:
    _table(tmp_path)
    text = TABLE_SPEC.format(split="{test: 0.25}")
    with pytest.raises(SpecError, match="every row is one window of length 1"):
        load_spec(spec(tmp_path, text=text.replace("  split:", "  window: {length: 4}\n  split:")))
    with pytest.raises(SpecError, match=r"`labels: \{from: column"):
        load_spec(spec(tmp_path, text=text.replace("  labels: {from: column, column: kind}\n", "")))
    wide = text.replace("  csv: {layout: table}\n", "")
    with pytest.raises(SpecError, match="`window` is required"):
        load_spec(spec(tmp_path, text=wide))
    with pytest.raises(SpecError, match="sensor features: `rate_hz` is required"):
        load_spec(spec(tmp_path, text=wide.replace("  split:", "  window: {length: 4}\n  split:")))
    text = spec(tmp_path).read_text()
    padded = re.sub(r"window: \{[^}]*\}", "window: {length: 4, pad_with: 0}", text)
    with pytest.raises(SpecError, match="`pad_with` needs `short: pad`"):
        load_spec(spec(tmp_path, text=padded))


def test_text_in_a_regression_target_names_the_task_and_a_few_lines(tmp_path: Path) -> None:
    """A table of classes under `task.kind: regression` listed all 60 lines and said
    "write numbers only in data columns"."""
    _table(tmp_path)
    text = TABLE_SPEC.format(split="{test: 0.25}") + "task: {kind: regression}\n"
    code, out = run("validate", str(spec(tmp_path, text=text)))
    assert code == 2, out
    assert (
        "rows.csv:2: column 'kind': 'x' is not a number (60 bad cells in this file, lines 2, "
        "3, 4, 5, 6, 7, 8, 9, 10, 11, …); `task.kind: regression` reads column 'kind' as a "
        "number per sample; for classes written as words use `task.kind: classification`"
    ) in " ".join(out.split()), out


def test_init_recognises_a_table(tmp_path: Path) -> None:
    _table(tmp_path)
    res = CliRunner().invoke(cli, ["init", str(tmp_path / "table")])
    assert res.exit_code == 0, res.output
    out = res.stdout  # the spec; the hint for editors is on stderr
    data = yaml.safe_load(out)["data"]
    assert data["csv"] == {"layout": "table"} and "window" not in data
    assert data["labels"] == {"from": "column", "column": "kind"}
    assert data["sensors"] == [{"name": "features", "channels": ["f1", "f2", "f3"]}]
    # the spec went to stdout: its path is relative to the working directory (quoted
    # when it starts with `..`, as under a checkout in /tmp), and the spec moves
    moved = re.sub(r"^  path: .*$", "  path: table", out, count=1, flags=re.M)
    assert yaml.safe_load(moved)["data"]["path"] == "table"
    (tmp_path / "spec.yaml").write_text(moved)
    assert run("validate", str(tmp_path / "spec.yaml"))[0] == 0


@pytest.mark.slow
def test_generate_on_a_table_gives_c_equal_to_python(tmp_path: Path) -> None:
    _table(tmp_path, n=90)
    path = spec(tmp_path, text=TABLE_SPEC.format(split="{test: 0.3, seed: 1}"))
    code, out = run("generate", str(path), "--no-measure", "--force", "-q")
    assert code == 0, out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["recipe"].startswith("tabular-")
    assert report["parity"]["agree"] == report["parity"]["total"] == 27
    assert report["data_check"]["summary"]["unit"] == "rows"


def test_tabular_logistic_takes_the_columns_as_they_are(tmp_path: Path) -> None:
    """A table's linear recipe computed std, min, max, ... of each column over a window of
    one row (std 0, the rest the value): `tabular-logistic` takes the columns."""
    _table(tmp_path, n=90)
    text = TABLE_SPEC.format(split="{test: 0.3, seed: 1}") + "recipe: tabular-logistic\n"
    path = spec(tmp_path, text=text)
    code, out = run("generate", str(path), "--no-measure", "--force", "-q")
    assert code == 0, out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["recipe"] == "tabular-logistic@1"
    assert report["parity"]["agree"] == report["parity"]["total"] == 27
    assert report["score"] >= 0.9  # three classes a normal spread apart
    code_c = "\n".join(p.read_text() for p in (tmp_path / "out").rglob("tab_model.c"))
    assert code_c and "sqrt" not in code_c  # no statistics


# --- subjects from a mapping file ---------------------------------------------------


def test_split_by_subject_from_a_mapping_file(tmp_path: Path) -> None:
    data = folder(tmp_path, {"a": 6, "b": 6})
    mapping = ["file,subject"] + [
        f"{c}/r{i}.csv,{['ann', 'bob', 'cy'][i % 3]}" for c in ("a", "b") for i in range(6)
    ]
    (data / "subjects.csv").write_text("\n".join(mapping) + "\n")  # inside the data folder
    path = spec(tmp_path, split="{by: subject, subjects: data/subjects.csv, test: 0.34, seed: 2}")
    ds = _load(path)
    who = {ln.split(",")[0]: ln.split(",")[1] for ln in mapping[1:]}
    train = {who[f] for f in ds.train.files}
    test = {who[f] for f in ds.test.files}
    assert train.isdisjoint(test) and len(test) == 1
    assert ds.summary.split.mode == "subject" and ds.summary.split.held_out == sorted(test)
    assert f"1 of 3 subjects held out for test: {sorted(test)[0]}" in ds.summary.split.text
    assert any(k.startswith("split.subjects: ") for k in ds.file_hashes)
    assert "subjects.csv" not in " ".join(ds.train.files + ds.test.files)


@pytest.mark.parametrize(("files", "held"), [(4, 2), (5, 3), (7, 4), (9, 5)])
def test_a_split_holds_out_the_nearest_share_a_half_rounding_up(
    tmp_path: Path, files: int, held: int
) -> None:
    # half of 5, 7 or 9 files: 2.5, 3.5, 4.5 all round up (Python's round gave 2, 4, 4)
    path = spec(tmp_path, split="{test: 0.5, seed: 1}")
    folder(tmp_path, {"a": files, "b": files})
    ds = _load(path)
    per_class = {c: sum(f.startswith(f"{c}/") for f in ds.test.files) for c in ("a", "b")}
    assert per_class == {"a": held, "b": held}
    assert f"({2 * held} of {2 * files})" in ds.summary.split.text


def test_a_quarter_of_ten_files_is_three(tmp_path: Path) -> None:
    path = spec(tmp_path, split="{test: 0.25, seed: 0}")
    folder(tmp_path, {"a": 10, "b": 10})
    assert len(_load(path).test.files) == 6  # 2.5 per class rounds up (was 2 + 2)


# --- validate and the report --------------------------------------------------------


def test_validate_prints_data_warnings(tmp_path: Path) -> None:
    data = folder(tmp_path, n=20)
    write_csv(data / "a" / "r0.csv", [f"30,{r.split(',')[1]}" for r in rows(0, n=20)])
    path = spec(tmp_path)
    code, out = run("validate", str(path))
    assert code == 0 and "warning: " in out and "is outside [-16, 16]" in out
    code, out = run("validate", str(path), "--json")
    assert code == 0 and any("outside" in w for w in json.loads(out)["warnings"])
    # one problem in every file: a few of them and the count (each of 8 was printed)
    for k, f in enumerate(sorted(data.rglob("*.csv"))):  # sampled at 20 Hz, not 10
        write_csv(f, [f"{i / 20:.3f},{r}" for i, r in enumerate(rows(k, n=20))], "t,ax,ay")
    path = spec(tmp_path, extra="csv: {time_column: t}\n")
    code, out = run("validate", str(path))
    assert code == 0 and out.count("but `rate_hz` is 10") == 5, out
    assert "warning: ... and 3 more rate findings (`mcuforge data check --json`)" in out, out
    code, out = run("validate", str(path), "--json")
    assert sum("but `rate_hz` is 10" in w for w in json.loads(out)["warnings"]) == 8


def test_report_renders_the_data_section() -> None:
    from mcuforge.report import _data

    check = {
        "summary": {
            "files": 3,
            "recordings": 3,
            "window": 10,
            "stride": 5,
            "policy": "dropped",
            "unit": "recordings",
            "classes": [
                {"name": "a", "recordings": 2, "dropped": 1, "train_windows": 4, "test_windows": 0},
                {"name": "b", "recordings": 1, "train_windows": 2, "test_windows": 3},
            ],
            "split": {"mode": "subject", "text": "by subject: 1 of 2 held out", "held_out": ["x"]},
            "lengths": {"min": 4, "median": 20, "max": 30, "edges": [4, 17, 30], "counts": [1, 2]},
        },
        "findings": [
            {"severity": "warning", "check": "gap", "message": "a gap", "file": "f.csv", "line": 3}
        ],
    }
    md = "\n".join(_data.markdown({"data_check": check}))
    assert "- **split**: by subject: 1 of 2 held out" in md
    assert "| class | recordings | dropped | train windows | test windows |" in md
    assert "| total | 3 | 1 | 6 | 3 |" in md
    assert "- warning: f.csv:3: a gap" in md
    assert _data.markdown({}) == []


# --- the flawed example ------------------------------------------------------------


def test_flawed_example_readme_shows_the_real_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out = run("data", "check", "examples/flawed/spec.yaml")
    assert code == 2
    readme = (ROOT / "examples" / "flawed" / "README.md").read_text()
    shown = readme.split("$ mcuforge data check examples/flawed/spec.yaml\n", 1)[1]
    assert shown.split("\n```", 1)[0] == out.rstrip("\n")


def test_flawed_example_data_is_what_make_data_writes(tmp_path: Path) -> None:
    import importlib.util

    script = ROOT / "examples" / "flawed" / "make_data.py"
    loader = importlib.util.spec_from_file_location("make_flawed", script)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    module.make(tmp_path / "data")
    committed = ROOT / "examples" / "flawed" / "data"
    names = sorted(p.relative_to(committed) for p in committed.rglob("*.csv"))
    assert names == sorted(p.relative_to(tmp_path / "data") for p in tmp_path.rglob("*.csv"))
    for name in names:
        assert (committed / name).read_bytes() == (tmp_path / "data" / name).read_bytes(), name


def test_data_plots_draw_windows_per_class_and_lengths() -> None:
    from mcuforge.report import _dataplots

    svg = _dataplots.class_windows(
        [{"name": "a", "train_windows": 4, "test_windows": 1}, {"name": "b", "train_windows": 2}]
    )
    for gid in ("train-0", "train-1", "test-0", "test-1"):
        assert f'id="data-windows-{gid}"' in svg
    svg = _dataplots.lengths([4.0, 17.0, 30.0], [1, 2], 10)
    assert 'id="data-lengths-window"' in svg and 'data-plot="data-lengths"' in svg


def test_a_split_by_subject_cross_validates_by_subject(tmp_path: Path) -> None:
    """With `split: {by: subject}` the test holds out subjects; the search's folds did not
    (they kept recordings together), so one subject's recordings were on both sides of a
    fold and the search was judged on seen subjects."""
    from mcuforge.search._evaluate import _splitter

    folder(tmp_path, {"a": 8, "b": 8})  # r0..r7 per class; subject = r's digit mod 4
    for c in ("a", "b"):
        for i in range(8):
            (tmp_path / "data" / c / f"r{i}.csv").rename(
                tmp_path / "data" / c / f"s{i % 4}_{i}.csv"
            )
    ds = _load(spec(tmp_path, split="{by: subject, subject_pattern: 's(\\d)_', test: 0.25}"))
    subject = {f: f.split("/")[1][:2] for f in ds.train.files}
    of_window = np.array([subject[ds.train.files[g]] for g in ds.train.groups])
    assert len(set(of_window)) == 3  # one subject of four held out for the test
    for seed in range(3):
        for tr, va in _splitter(ds, 3, seed).split(ds.train.x, ds.train.y, ds.train.fold_groups):
            assert not set(of_window[tr]) & set(of_window[va])
    # by recording (the default), the groups are the recordings, as before
    plain = _load(spec(tmp_path, split="{test: 0.25, seed: 1}"))
    assert plain.train.folds is None and plain.train.fold_groups is plain.train.groups
    # the test files chosen by pattern (the archive's split, unseen voices) and the folds
    # by subject: each training subject's files stay in one fold
    ds = _load(
        spec(
            tmp_path,
            split="{by: subject, subject_pattern: 's(\\d)_', test_files: ['*/s3_*.csv']}",
        )
    )
    subject = {f: f.split("/")[1][:2] for f in ds.train.files}
    of_window = np.array([subject[ds.train.files[g]] for g in ds.train.groups])
    assert sorted(set(of_window)) == ["s0", "s1", "s2"] and ds.train.folds is not None
    for seed in range(3):
        for tr, va in _splitter(ds, 3, seed).split(ds.train.x, ds.train.y, ds.train.fold_groups):
            assert not set(of_window[tr]) & set(of_window[va])
    assert "cross-validation by subject (3 subjects in train)" in ds.summary.split.text


def test_a_long_layout_finding_points_at_the_value_s_own_line(tmp_path: Path) -> None:
    """A long file has a line per value: a range finding named the line of the first
    channel's value at that time stamp, not the line of the value outside the range."""
    data = tmp_path / "data"
    for c in ("a", "b"):
        for i in range(3):
            body = [f"{t},ax,0.{t}" for t in range(12)] + [f"{t},ay,0.{t}" for t in range(12)]
            if (c, i) == ("b", 1):
                body[12 + 5] = "5,ay,40"  # ay at t=5: line 19 (ax at t=5 is line 7)
            write_csv(data / c / f"r{i}.csv", body, header="t,channel,value")
    path = spec(tmp_path, extra="csv: {layout: long, time_column: t}\n")
    s = survey(load_spec(path).spec.data, tmp_path)
    (hit,) = [f for f in s.findings if f.check == "range"]
    assert hit.file is not None and hit.file.endswith("data/b/r1.csv")
    assert hit.line == 19 and hit.message.startswith("channel 'ay': 40 is outside")
