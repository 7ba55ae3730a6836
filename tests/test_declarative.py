"""The declarative layer: spec variants, catalogs, resolver decisions, the lock."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from mcuforge.catalog import load_catalog
from mcuforge.cli import cli
from mcuforge.data import load_dataset
from mcuforge.errors import BudgetError
from mcuforge.lock import pins, read_lock
from mcuforge.pipeline import prepare, update_lock
from mcuforge.resolver import resolve
from mcuforge.spec import load_spec

from .conftest import EXAMPLE


def cli_run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.output


# ---------------------------------------------------------------- bad specs


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda s: s.replace("metric: accuracy", "metric: rmse"),
            r"task: metric 'rmse' does not apply to classification; use one of accuracy",
        ),
        (
            lambda s: s.replace("target: nrf52840", "target: nrf52840\nrecipe: imu-stats-forest@9"),
            r"recipe 'imu-stats-forest' has no version 9; versions: 1",
        ),
        (
            lambda s: s.replace(
                "search: {trials: 4, seed: 3, rescore_top: 0}", "search: {trials: 0, seed: 3}"
            ),
            r"search.trials: Input should be greater than or equal to 1",
        ),
        (
            lambda s: s.replace(
                "search: {trials: 4, seed: 3, rescore_top: 0}",
                "search: {trials: 4, seed: 3, strategy: annealing}",
            ),
            r"search.strategy: Input should be 'auto', 'tpe', 'nsga2', 'gp', 'random' or 'grid'",
        ),
        (
            lambda s: s.replace(
                "search: {trials: 4, seed: 3, rescore_top: 0}",
                "search: {trials: 4, objectives: [flash, score]}",
            ),
            r"search.objectives: objectives start with `score`",
        ),
        (
            lambda s: s.replace("{length_s: 10, stride_s: 10}", "{length_s: 0}"),
            r"data.window.length_s: Input should be greater than 0",
        ),
        (
            lambda s: s.replace("  window:", "  labels: {from: column}\n  window:"),
            r"data.labels: `from: column` needs `column: NAME`",
        ),
        (
            lambda s: s.replace("metric: accuracy}", "metric: accuracy, normal: [walking]}"),
            r"task: `normal` applies to `kind: anomaly` only",
        ),
        (
            lambda s: s.replace('split: {test_files: ["*/test_*.csv"]}', "split: {by: subject}"),
            r"data.split: `by: subject` needs `subject_column`, `subject_pattern` or `subjects`",
        ),
        (
            lambda s: s.replace(
                'split: {test_files: ["*/test_*.csv"]}',
                "split: {by: subject, subject_pattern: '('}",
            ),
            r"`subject_pattern` is not a valid regular expression",
        ),
        (
            lambda s: s.replace("format: csv", "format: wav"),
            r"data: `format: wav` reads mono files",
        ),
        (
            lambda s: s.replace("format: csv", "format: parquet"),
            r"data.format: Input should be 'csv', 'npz' or 'wav'",
        ),
        (
            lambda s: s.replace("budgets: {sram_kb: 4,", "budgets: {sram_kb: 4, app_sram_kb: 300,"),
            r"spec.yaml:13:\d+: budgets.sram_kb: SRAM for the model \(304 kB with the "
            r"application's\) exceeds what nrf52840 has \(256 kB\)",
        ),
        (  # both over the part: both said (only the SRAM was)
            lambda s: s.replace(
                "budgets: {sram_kb: 4, flash_kb: 16,", "budgets: {sram_kb: 400, flash_kb: 4000,"
            ),
            r"budgets.sram_kb: SRAM for the model \(400 kB.*\n.*budgets.flash_kb: flash for "
            r"the model \(4000 kB",
        ),
        (
            lambda s: s.replace(
                "target: nrf52840",
                "target: {name: My Board, core: cortex-m4f, clock_mhz: 64, "
                "sram_kb: 64, flash_kb: 256}",
            ),
            r"target.name: String should match pattern",
        ),
        (
            lambda s: s.replace(
                "target: nrf52840",
                "target: nrf52840\nrecipe: {name: imu-stats-tree, "
                "overrides: {space: {max_depth: {int: [9, 2]}}}}",
            ),
            r"recipe.overrides.space.max_depth: range \[9, 2\] is inverted",
        ),
        (
            lambda s: s.replace("target: nrf52840", "target: nrf52840\ncatalogs: [no-such-dir]"),
            r"spec.yaml:13:\d+: catalogs.0: catalog folder .*no-such-dir does not exist",
        ),
        (
            lambda s: s.replace(
                "output: {dir: out, test_windows: 4}",
                "output: {dir: out, test_windows: 4, prefix: 9lives}",
            ),
            r"output.prefix: '9lives' is not a valid C identifier prefix",
        ),
    ],
)
def test_bad_spec_one_clear_line(
    write_spec: Callable[..., Path], edit: Callable[[str], str], expected: str
) -> None:
    path = write_spec()
    path.write_text(edit(path.read_text()))
    code, out = cli_run("validate", str(path))
    assert code in (2, 3), out
    assert re.search(expected, out), out
    assert "Traceback" not in out


def test_budgets_over_the_part_are_a_spec_error(write_spec: Callable[..., Path]) -> None:
    """Exit 2 like any spec mistake, alone or beside another (it was 3, "nothing fits",
    alone and 2 beside another error)."""
    path = write_spec()
    path.write_text(path.read_text().replace("budgets: {sram_kb: 4,", "budgets: {sram_kb: 400,"))
    code, out = cli_run("validate", str(path))
    assert code == 2, out
    assert re.search(r"budgets.sram_kb: SRAM for the model \(400 kB", out), out


# ---------------------------------------------------------------- catalogs


def _recipe(name: str, version: int, model: str = "decision_tree", extra: str = "") -> str:
    return textwrap.dedent(f"""\
        name: {name}
        version: {version}
        description: test recipe
        applies: {{task: [classification], modality: [imu]}}
        pipeline: {{features: [stats], model: {model}}}
        search:
          space:
            max_depth: {{int: [2, 3]}}
        {extra}""")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"a.yaml": _recipe("a", 1).replace("version: 1\n", "")},
            r"a.yaml:1:1: version: Field required",
        ),
        (
            {"a.yaml": _recipe("a", 1), "b.yaml": _recipe("a", 1)},
            r"b.yaml:1:1: version: recipe a@1 is also defined in .*a.yaml; bump `version`",
        ),
        (
            {"a.yaml": _recipe("a", 1).replace("int: [2, 3]", "int: [5, 3]")},
            r"a.yaml:8:\d+: search.space.max_depth: .*range \[5, 3\] is inverted",
        ),
        (
            {"a.yaml": _recipe("a", 1, model="transformer")},
            r"a.yaml:\d+:\d+: pipeline.model: unknown model family 'transformer'",
        ),
        (
            {"a.yaml": _recipe("a", 1).replace("pipeline:", "pipelin:")},
            r"a.yaml:5:1: pipelin: unknown key 'pipelin'; did you mean 'pipeline'\?",
        ),
        (
            {
                "a.yaml": _recipe("a", 1)
                .replace("[features: [stats]", "x")
                .replace("features: [stats]", "features: [wavelets]")
            },
            r"unknown feature block 'wavelets'",
        ),
        (
            {
                "targets/board.yaml": "version: 1\nname: other\ncore: cortex-m4f\nclock_mhz: 64\n"
                "sram_kb: 64\nflash_kb: 256\n"
            },
            r"board.yaml:1:1: name: target 'other' must live in other.yaml",
        ),
        (
            {
                "targets/slow.yaml": "version: 1\nname: slow\ncore: cortex-m4f\nclock_mhz: -1\n"
                "sram_kb: 64\nflash_kb: 256\n"
            },
            r"slow.yaml:4:12: clock_mhz: Input should be greater than 0",
        ),
        (
            {
                "targets/weird.yaml": "version: 1\nname: weird\ncore: z80\nclock_mhz: 4\n"
                "sram_kb: 1\nflash_kb: 16\n"
            },
            r"weird.yaml:3:7: core: core 'z80' is not in the core table \(cores.yaml\)",
        ),
        ({"a.yaml": "name: [unclosed\n"}, r"a.yaml:1:7: YAML syntax error: the `\[` opened"),
    ],
)
def test_catalog_validate_reports_file_line_field(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    code, out = cli_run("catalog", "validate", str(tmp_path))
    assert code == 2, out
    assert re.search(expected, out), out


def test_catalog_validate_ok_and_counts(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(_recipe("mine", 1))
    code, out = cli_run("catalog", "validate", str(tmp_path))
    assert code == 0, out
    assert re.search(r"ok: \d+ recipes, \d+ targets", out)


def test_builtin_catalog_has_real_parts_and_all_recipes_load() -> None:
    cat = load_catalog()
    assert len(cat.targets) >= 15
    cores = {t.core for t in cat.targets.values()}
    assert {"avr", "cortex-m0plus", "cortex-m4f", "cortex-m7", "xtensa-lx7", "rv32imc"} <= cores
    for t in cat.targets.values():
        assert t.datasheet, t.name
    assert len(cat.recipes) >= 6


def test_user_catalog_layers_over_builtin_and_pins_win(
    tmp_path: Path, write_spec: Callable[..., Path]
) -> None:
    user = tmp_path / "cat"
    (user / "targets").mkdir(parents=True)
    (user / "imu-stats-tree.yaml").write_text(
        _recipe("imu-stats-tree", 7).replace("int: [2, 3]", "int: [2, 2]")
    )
    (user / "targets" / "myboard.yaml").write_text(
        "version: 1\nname: myboard\ncore: cortex-m4f\nclock_mhz: 120\nsram_kb: 128\n"
        "flash_kb: 512\nfpu: single\ndatasheet: our board\n"
    )
    spec = write_spec()
    text = spec.read_text().replace("target: nrf52840", f"target: myboard\ncatalogs: [{user}]")
    spec.write_text(text + "recipe: imu-stats-tree\n")
    p = resolve(load_spec(spec), load_catalog([user]))
    assert p.target.name == "myboard" and p.recipes[0].ref == "imu-stats-tree@7"
    spec.write_text(text + "recipe: imu-stats-tree@1\n")
    assert resolve(load_spec(spec), load_catalog([user])).recipes[0].ref == "imu-stats-tree@1"
    # a lock pins the version it recorded even when a newer one appears
    spec.write_text(text)
    plan = resolve(load_spec(spec), load_catalog([user]), {"imu-stats-tree": 1})
    assert "imu-stats-tree@1" in [d.recipe for d in plan.decisions]
    assert "imu-stats-tree@7" not in [d.recipe for d in plan.decisions]


# ---------------------------------------------------------------- resolver


def test_explain_lists_every_recipe_with_a_reason(write_spec: Callable[..., Path]) -> None:
    code, out = cli_run("explain", str(write_spec()))
    assert code == 0, out
    lines = [ln for ln in out.splitlines() if ln.startswith("  ")]
    assert len(lines) == sum(1 for _ in load_catalog().recipes)
    assert any(
        re.search(r"chosen\s+imu-stats-forest@1\s+handles classification", ln) for ln in lines
    )
    for ln in lines:
        assert re.match(r"  (chosen  |rejected) \S+@\d+ +\S", ln), ln


def test_network_recipes_need_the_nn_extra_when_tensorflow_is_missing(
    write_spec: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without TensorFlow (the light install) `auto` skips the network recipes and says
    how to get them; a spec naming one is refused with the same words."""
    import mcuforge.extras

    monkeypatch.setitem(mcuforge.extras.EXTRAS, "nn", ("mcuforge_no_such_module",))
    spec = write_spec()
    code, out = cli_run("explain", str(spec))
    assert code == 0, out
    mlp = next(ln for ln in out.splitlines() if "imu-stats-mlp@1" in ln)
    assert re.match(
        r"  rejected imu-stats-mlp@1 +needs `pip install 'mcuforge\[nn\]'` "
        r"\(mcuforge_no_such_module is not installed\)$",
        mlp,
    ), mlp
    assert "chosen   imu-stats-forest@1" in out
    spec.write_text(spec.read_text() + "recipe: imu-stats-mlp\n")
    code, out = cli_run("validate", str(spec))
    assert code == 2
    assert "recipe imu-stats-mlp@1 cannot be used: it needs `pip install 'mcuforge[nn]'`" in out


def test_recipe_needing_an_fpu_is_rejected_on_m0(
    tmp_path: Path, write_spec: Callable[..., Path]
) -> None:
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "fpu-only.yaml").write_text(
        _recipe("fpu-only", 1).replace("modality: [imu]}", "modality: [imu], needs_fpu: true}")
    )
    spec = write_spec()
    spec.write_text(spec.read_text().replace("target: nrf52840", "target: atsamd21g18"))
    plan = resolve(load_spec(spec), load_catalog([tmp_path / "cat"]))
    d = next(d for d in plan.decisions if d.recipe == "fpu-only@1")
    assert not d.chosen and d.reason == "needs an FPU; atsamd21g18 (cortex-m0plus) has none"


def test_nothing_fits_stops_before_training_and_names_the_budget(
    write_spec: Callable[..., Path],
) -> None:
    spec = write_spec()
    spec.write_text(spec.read_text().replace("flash_kb: 16", "flash_kb: 0.01"))
    with pytest.raises(BudgetError, match=r"flash_kb >= \d+\.\d\d"):
        resolve(load_spec(spec), load_catalog())
    code, out = cli_run("generate", str(spec), "-o", str(spec.parent / "o"))
    assert code == 3 and "no recipe fits the budgets" in out
    assert not (spec.parent / "o").exists()
    # explain still lists every recipe and why, then the error (exit 3)
    code, out = cli_run("explain", str(spec))
    lines = out.strip().splitlines()
    assert code == 3 and lines[0].startswith("target nrf52840")
    listed = [ln for ln in lines if ln.startswith("  rejected ")]
    assert len(listed) == sum(1 for _ in load_catalog().recipes)
    assert any(re.search(r"rejected imu-stats-tree@1 .*> budget 0.01 kB", ln) for ln in listed)
    assert lines[-1].startswith("error: ") and "no recipe fits the budgets" in lines[-1]
    assert lines[-1].endswith(f"would fit; `mcuforge explain {spec}` lists every recipe and why")


# ---------------------------------------------------------------- data formats


def _wav(path: Path, x: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def test_wav_npz_and_long_csv_load_the_same_windows(
    tmp_path: Path, write_spec: Callable[..., Path]
) -> None:
    rng = np.random.default_rng(0)
    for c, f0 in (("low", 200.0), ("high", 900.0)):
        for i in range(4):
            t = np.arange(4000) / 8000.0
            _wav(
                tmp_path / "wav" / c / f"{i}.wav",
                np.sin(2 * np.pi * f0 * t) + 0.05 * rng.normal(size=t.size),
                8000,
            )
    spec = tmp_path / "wav.yaml"
    spec.write_text(
        textwrap.dedent(f"""\
        version: 1
        name: kw
        data:
          format: wav
          path: {tmp_path / "wav"}
          sensors: [{{name: mic, channels: [audio], rate_hz: 8000}}]
          window: {{length: 2000, stride: 1000}}
          split: {{test: 0.25, seed: 1}}
        target: nrf52840
        budgets: {{sram_kb: 32, flash_kb: 64}}
        """)
    )
    loaded = load_spec(spec)
    assert loaded.spec.data.modality == "audio"
    # audio is a sampled signal: the time-series recipes take it beside the audio ones
    plan = resolve(loaded, load_catalog(), {})
    took = {r.name for r in plan.recipes}
    assert {"audio-mfcc-dscnn", "imu-spectral-forest", "raw-forest", "minirocket-ridge"} <= took
    why = {d.recipe.split("@")[0]: d.reason for d in plan.decisions if not d.chosen}
    assert why["tabular-forest"] == "is for tabular data, not audio"
    ds = load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task)
    assert ds.classes == ["high", "low"] and ds.train.x.shape[1:] == (2000, 1)
    assert len(ds.train.x) == 3 * 2 * 3  # 3 files a class in train, 3 windows a file
    # NPZ: one archive of recordings with labels
    src = load_dataset(load_spec(EXAMPLE / "spec.yaml").spec.data, EXAMPLE)
    np.savez(tmp_path / "bm.npz", x=src.train.x[:12], y=np.array(src.classes)[src.train.y[:12]])
    spec2 = write_spec(name="npz.yaml")
    spec2.write_text(
        spec2.read_text()
        .replace("format: csv", "format: npz")
        .replace(str(EXAMPLE / "data"), str(tmp_path / "bm.npz"))
        .replace('split: {test_files: ["*/test_*.csv"]}', "split: {test: 0.34, seed: 2}")
    )
    ds2 = load_dataset(load_spec(spec2).spec.data, tmp_path)
    assert len(ds2.train.x) + len(ds2.test.x) == 12
    assert ds2.train.files[0].startswith("bm.npz#")
    # long (tidy) CSV gives the same samples as the wide file
    refs = {}
    for c in ("running", "walking"):
        (tmp_path / "long" / c).mkdir(parents=True)
        for i in range(2):
            wide = (EXAMPLE / f"data/{c}/train_00{i}.csv").read_text().splitlines()
            header = wide[0].split(",")
            long_rows = ["t,channel,value"] + [
                f"{t},{h},{v}"
                for t, ln in enumerate(wide[1:])
                for h, v in zip(header, ln.split(","), strict=True)
            ]
            (tmp_path / "long" / c / f"{i}.csv").write_text("\n".join(long_rows) + "\n")
            refs[f"{c}/{i}.csv"] = wide[1:]
    spec3 = write_spec(name="long.yaml", data=str(tmp_path / "long"))
    spec3.write_text(
        spec3.read_text()
        .replace("  window:", "  csv: {layout: long, time_column: t}\n  window:")
        .replace('split: {test_files: ["*/test_*.csv"]}', "split: {test: 0.5}")
    )
    ds3 = load_dataset(load_spec(spec3).spec.data, tmp_path)
    ref = np.array(
        [[float(v) for v in ln.split(",")] for ln in refs[ds3.train.files[0]]], np.float32
    )
    assert np.array_equal(ds3.train.x[0], ref)


def test_subject_split_keeps_each_subject_on_one_side(
    tmp_path: Path, write_spec: Callable[..., Path]
) -> None:
    data = tmp_path / "data"
    for c in ("running", "walking"):
        (data / c).mkdir(parents=True)
        for i, f in enumerate(sorted((EXAMPLE / "data" / c).glob("train_*.csv"))[:6]):
            shutil.copy(f, data / c / f"subject{i % 3}_{f.name}")
    spec = write_spec(data=str(data))
    spec.write_text(
        spec.read_text().replace(
            'split: {test_files: ["*/test_*.csv"]}',
            "split: {by: subject, subject_pattern: 'subject(\\d+)_', test: 0.34, seed: 4}",
        )
    )
    ds = load_dataset(load_spec(spec).spec.data, tmp_path)
    subj = lambda files: {re.search(r"subject(\d+)", f).group(1) for f in files}  # noqa: E731
    assert subj(ds.train.files).isdisjoint(subj(ds.test.files))
    assert len(subj(ds.test.files)) == 1


def _regression_spec(tmp_path: Path, write_spec: Callable[..., Path], files: int = 6) -> Path:
    """Recordings of the example with a `speed` column: recording i's speed rises from i
    by 0.01 per sample; windows of 50 samples, a random split by recording."""
    data = tmp_path / "data"
    data.mkdir()
    sources = [
        f for c in ("running", "walking") for f in sorted((EXAMPLE / "data" / c).glob("train_*"))
    ]
    for i, src in enumerate(sources[:files]):
        lines = src.read_text().splitlines()
        out = [lines[0] + ",speed"] + [f"{ln},{i + t / 100:.2f}" for t, ln in enumerate(lines[1:])]
        (data / f"r{i}.csv").write_text("\n".join(out) + "\n")
    spec = write_spec(data=str(data))
    spec.write_text(
        spec.read_text()
        .replace("task: {kind: classification, metric: accuracy}", "task: {kind: regression}")
        .replace("  window:", "  labels: {from: column, column: speed}\n  window:")
        .replace("{length_s: 10, stride_s: 10}", "{length: 50, stride: 50}")
        .replace('split: {test_files: ["*/test_*.csv"]}', "split: {test: 0.34, seed: 0}")
    )
    return spec


def test_regression_targets_are_window_means(
    tmp_path: Path, write_spec: Callable[..., Path]
) -> None:
    loaded = load_spec(_regression_spec(tmp_path, write_spec))
    assert loaded.spec.task.resolved_metric == "rmse" and not loaded.spec.task.maximize
    ds = load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task)
    assert ds.classes == [] and ds.train.y.dtype == np.float32
    i = int(ds.train.files[0][1])
    assert ds.train.y[0] == pytest.approx(i + np.mean(np.arange(50) / 100), abs=1e-5)


def test_each_recipe_claims_only_the_tasks_its_model_handles() -> None:
    """A recipe that names a task its model family cannot train is a contradiction the
    resolver would print for every such spec (raw-cnn1d claimed regression with a
    classifier); the regression form has its own recipe."""
    from mcuforge.models import MODELS

    cat = load_catalog()
    for versions in cat.recipes.values():
        for recipe in versions:
            family = MODELS.get(recipe.pipeline.model)
            assert set(recipe.applies.task) == {family.task}, recipe.ref


@pytest.mark.slow
def test_a_raw_window_cnn_regressor_runs_end_to_end(
    tmp_path: Path, write_spec: Callable[..., Path]
) -> None:
    spec = _regression_spec(tmp_path, write_spec, files=16)
    plan = resolve(load_spec(spec), load_catalog())
    why = {d.recipe: d.reason for d in plan.decisions}
    assert "raw-cnn1d-regression@1" in [r.ref for r in plan.recipes]
    assert "does not handle regression" in why["raw-cnn1d@1"]
    spec.write_text(
        spec.read_text()
        .replace(
            "budgets: {sram_kb: 4, flash_kb: 16, latency_ms: 5}",
            "budgets: {sram_kb: 32, flash_kb: 64}",
        )
        .replace("search: {trials: 4,", "recipe: raw-cnn1d-regression\nsearch: {trials: 2,")
    )
    code, out = cli_run("generate", str(spec), "--no-measure")
    assert code == 0, out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["recipe"] == "raw-cnn1d-regression@1" and report["metric"] == "rmse"
    # the int8 network's value in C is Python's on every test window (bit-exact)
    parity = report["parity"]
    assert parity["agree"] == parity["total"] > 0 and parity["outputs_max_rel_err"] == 0.0


def test_anomaly_labels_map_to_normal_and_anomaly(write_spec: Callable[..., Path]) -> None:
    spec = write_spec()
    spec.write_text(
        spec.read_text().replace(
            "task: {kind: classification, metric: accuracy}",
            "task: {kind: anomaly, normal: [standing, walking]}",
        )
    )
    loaded = load_spec(spec)
    ds = load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task)
    assert ds.classes == ["normal", "anomaly"]
    assert int(ds.test.y.sum()) == 20 and int((ds.test.y == 0).sum()) == 20
    spec.write_text(spec.read_text().replace("[standing, walking]", "[sitting]"))
    loaded = load_spec(spec)
    with pytest.raises(Exception, match=r"`task.normal` names sitting"):
        load_dataset(loaded.spec.data, loaded.base_dir, loaded.spec.task)


# ---------------------------------------------------------------- lock


def test_lock_is_written_followed_and_enforced(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    shutil.copytree(EXAMPLE / "data", proj / "data")
    spec = proj / "spec.yaml"
    spec.write_text((EXAMPLE / "spec.yaml").read_text())
    code, out = cli_run("generate", str(spec), "--locked", "--no-measure", "--trials", "2")
    assert code == 2 and "--locked: no lock" in out
    path, diff = update_lock(spec)
    assert path == proj / "mcuforge.lock" and diff == ["new lock"]
    lock = read_lock(path, spec)
    chosen = {r.name: r.version for r in prepare(spec).plan.recipes}
    assert lock is not None and pins(lock) == chosen and "imu-stats-forest" in chosen
    assert len(lock["data"]["files"]) == 80 and lock["seeds"] == {"search": 7, "split": 0}
    assert cli_run("lock", str(spec))[1].endswith("up to date\n")
    # change one data file: --locked refuses and names it; lock --update accepts it
    f = proj / "data/walking/train_000.csv"
    f.write_text(f.read_text().replace("0.", "1.", 1))
    p = prepare(spec)
    assert any("data files changed since the lock: walking/train_000.csv" in n for n in p.notes)
    code, out = cli_run("generate", str(spec), "--locked", "--no-measure", "--trials", "2")
    assert code == 2 and "walking/train_000.csv" in out
    assert f"run `mcuforge lock --update {spec}` to accept" in out  # a command that runs
    # validate warns of it too (it said ok, and nothing more)
    code, out = cli_run("validate", str(spec))
    assert code == 0
    assert "warning: mcuforge.lock: data files changed since the lock: walking/train_000.csv" in out
    # a file added, one removed: said as such (both were "data files differ")
    (proj / "data/walking/extra.csv").write_text(f.read_text())
    (proj / "data/running/train_000.csv").unlink()
    code, out = cli_run("validate", str(spec))
    assert "data files added since the lock: walking/extra.csv" in out, out
    assert "data files removed since the lock: running/train_000.csv" in out, out
    (proj / "data/walking/extra.csv").unlink()
    shutil.copy(EXAMPLE / "data/running/train_000.csv", proj / "data/running/train_000.csv")
    code, out = cli_run("lock", str(spec))
    assert code == 2 and "differs" in out
    assert cli_run("lock", "--update", str(spec))[0] == 0
    assert prepare(spec, locked=True).notes == []
    text = yaml.safe_load(path.read_text())
    assert (
        text["data"]["files"]["walking/train_000.csv"]
        != lock["data"]["files"]["walking/train_000.csv"]
    )


def test_portfolio_takes_every_recipe_that_applies_and_fits(tmp_path: Path) -> None:
    """Raw window vs features is decided by the search: every recipe that can fit takes
    part, raw-window ones included, and explain gives each rejected one its reason."""
    spec = tmp_path / "ts.yaml"
    spec.write_text(
        textwrap.dedent(f"""\
        version: 1
        name: ts
        data:
          format: csv
          path: {EXAMPLE / "data"}
          sensors: [{{name: s, channels: [ax, ay, az, gx, gy, gz], unit: g, rate_hz: 10}}]
          window: {{length_s: 10}}
          split: {{test_files: ["*/test_*.csv"]}}
        target: nrf52840
        budgets: {{sram_kb: 16, flash_kb: 64}}
        """)
    )
    plan = resolve(load_spec(spec), load_catalog())
    refs = [r.ref for r in plan.recipes]
    assert "raw-cnn1d@1" in refs
    assert any(r.pipeline.features[:1] != ["raw"] for r in plan.recipes)
    chosen = {d.recipe for d in plan.decisions if d.chosen}
    assert chosen == set(refs)
    rejected = [d for d in plan.decisions if not d.chosen]
    assert rejected and all(d.reason for d in rejected)
    assert not any("recipes fit better" in d.reason for d in rejected)


def test_a_recipe_left_out_of_the_lock_says_so_only_when_it_could_run() -> None:
    """With a lock, a recipe missing from it is rejected for that reason only when it
    applies and fits; one over budget gives the budget as its reason."""
    loaded = load_spec(EXAMPLE / "spec.yaml")  # 4 kB SRAM, 5 ms
    plan = resolve(loaded, load_catalog(), {"imu-stats-tree": 1})
    reasons = {d.recipe: d.reason for d in plan.decisions}
    assert [r.ref for r in plan.recipes] == ["imu-stats-tree@1"]
    assert "can fit, but is not in mcuforge.lock" in reasons["imu-stats-forest@1"]
    assert "lock --update" in reasons["imu-stats-forest@1"]
    # the raw window decimated by 4 can fit 4 kB (the first choice, no decimation, cannot)
    assert "can fit, but is not in mcuforge.lock" in reasons["raw-forest@1"]
    assert "take at least" in reasons["minirocket-ridge@1"]
    assert reasons["minirocket-ridge@1"].endswith("> budget 5 ms")
    assert "for audio data" in reasons["audio-mfcc-dscnn@1"]
