"""The spec: parsing, validation, located error messages, the JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from mcuforge.cli import cli
from mcuforge.errors import SpecError
from mcuforge.schemas import schema_files
from mcuforge.spec import load_spec

from .conftest import EXAMPLE, ROOT


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output


def test_example_spec_is_valid_and_points_editors_at_the_schema() -> None:
    loaded = load_spec(EXAMPLE / "spec.yaml")
    assert loaded.spec.name == "basicmotions"
    assert loaded.spec.data.channels == ["ax", "ay", "az", "gx", "gy", "gz"]
    first = (EXAMPLE / "spec.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schema/spec.schema.json"
    assert (EXAMPLE / "../../schema/spec.schema.json").resolve().is_file()


def test_example_spec_validates_against_exported_json_schema() -> None:
    schema = json.loads((ROOT / "schema" / "spec.schema.json").read_text())
    jsonschema.validate(yaml.safe_load((EXAMPLE / "spec.yaml").read_text()), schema)


def test_schema_files_are_current() -> None:
    for name, text in schema_files().items():
        path = ROOT / "schema" / name
        assert path.read_text() == text, (
            f"schema/{name} is stale: run `mcuforge schema all -o schema/`"
        )


def test_schema_check_command_detects_stale(tmp_path: Path) -> None:
    code, _ = run("schema", "all", "-o", str(tmp_path))
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(schema_files())
    assert run("schema", "all", "--check", "-o", str(tmp_path))[0] == 0
    (tmp_path / "spec.schema.json").write_text("{}")
    code, out = run("schema", "all", "--check", "-o", str(tmp_path))
    assert code == 1 and "spec.schema.json" in out


def test_schema_prints_unless_told_where_to_write(tmp_path: Path) -> None:
    """No option: the spec schema on stdout, nothing written (not the installed files)."""
    installed = {p: p.stat().st_mtime_ns for p in (ROOT / "schema").iterdir()}
    code, out = run("schema")
    assert code == 0 and json.loads(out)["title"] == "mcuforge spec"
    code, out = run("schema", "target")
    assert code == 0 and json.loads(out)["title"] == "mcuforge target"
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "schema").iterdir()} == installed
    code, _ = run("schema", "-o", str(tmp_path / "spec.schema.json"))
    assert (
        code == 0
        and (tmp_path / "spec.schema.json").read_text() == schema_files()["spec.schema.json"]
    )
    code, out = run("schema", "all")
    assert code == 2 and "give their folder with -o" in out


def test_validate_ok_exit_0() -> None:
    code, out = run("validate", str(EXAMPLE / "spec.yaml"))
    assert code == 0, out
    assert "ok" in out


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # YAML syntax error: line and column
        (
            lambda s: s.replace(
                "task: {kind: classification, metric: accuracy}",
                "task: {kind: classification, metric: accuracy",
            ),
            r"spec.yaml:1\d:\d+: YAML syntax error",
        ),
        # unknown key, with a suggestion
        (
            lambda s: s.replace("budgets: {sram_kb", "budgets: {sram_kbb"),
            r"spec.yaml:13:\d+: budgets.sram_kbb: unknown key 'sram_kbb'; did you mean 'sram_kb'\?",
        ),
        (
            lambda s: s.replace("search:", "serach:"),
            r"spec.yaml:14:1: serach: unknown key 'serach'; did you mean 'search'\?",
        ),
        # wrong type, with the unit hint
        (
            lambda s: s.replace("sram_kb: 4", "sram_kb: 32k"),
            r"spec.yaml:13:\d+: budgets.sram_kb: Input should be a valid number"
            r".*'32k'.*plain number",
        ),
        # budget <= 0
        (
            lambda s: s.replace("flash_kb: 16", "flash_kb: 0"),
            r"spec.yaml:13:\d+: budgets.flash_kb: Input should be greater than 0",
        ),
        (
            lambda s: s.replace("latency_ms: 5", "latency_ms: -1"),
            r"budgets.latency_ms: Input should be greater than 0",
        ),
        # name that is no C identifier
        (
            lambda s: s.replace("name: demo", "name: 2fast"),
            r"spec.yaml:2:7: name: '2fast' is not a valid C identifier prefix",
        ),
        (
            lambda s: s.replace("name: demo", "name: ../evil"),
            r"name: '../evil' is not a valid C identifier prefix",
        ),
        (lambda s: s.replace("name: demo", "name: static"), r"name: 'static' is reserved in C"),
        # a final newline (`$` of Python's re matches before it): the C would break
        (
            lambda s: s.replace("name: demo", 'name: "demo\\n"'),
            r"name: 'demo\\n' is not a valid C identifier prefix",
        ),
        # missing field
        (
            lambda s: s.replace("budgets: {sram_kb: 4, flash_kb: 16, latency_ms: 5}\n", ""),
            r"spec.yaml:1:1: budgets: Field required; add this field",
        ),
        # wrong version
        (
            lambda s: s.replace("version: 1", "version: 7"),
            r"spec.yaml:1:10: version: Input should be 1",
        ),
        # inline target with a bad core
        (
            lambda s: s.replace(
                "target: nrf52840",
                "target: {core: cortex-m9, clock_mhz: 48, sram_kb: 32, flash_kb: 256}",
            ),
            r"spec.yaml:12:\d+: target.core: core 'cortex-m9' is not in the core table "
            r"\(cores.yaml\); did you mean 'cortex-m7'\?",
        ),
        # a flag or a quoted number where a number goes (the JSON Schema refuses them too;
        # pydantic's lax mode took `trials: true` as 1 trial)
        (
            lambda s: s.replace("trials: 4", "trials: true"),
            r"search.trials: Input should be a valid number, not true/false",
        ),
        (
            lambda s: s.replace("trials: 4", 'trials: "6"'),
            r"search.trials: Input should be a valid number, not the text '6'; remove the quotes",
        ),
        (
            lambda s: s.replace("sram_kb: 4", "sram_kb: yes"),
            r"budgets.sram_kb: Input should be a valid number, not true/false",
        ),
        (
            lambda s: s.replace("  window:", "  checks: {allow_copies: 1}\n  window:"),
            r"data.checks.allow_copies: Input should be true or false, not 1",
        ),
        # ... also inside a pair: the entry and its place are named
        (
            lambda s: s.replace("  window:", '  checks: {ranges: {x: ["-1", 1]}}\n  window:'),
            r"data.checks.ranges: x: item 1: Input should be a valid number, not the text '-1'",
        ),
        # a score the metric cannot reach: found before the search, not after it
        (
            lambda s: s.replace("metric: accuracy}", "metric: accuracy, min_score: 2}"),
            r"task: min_score 2 is out of reach: accuracy lies between 0 and 1",
        ),
        # window given twice
        (
            lambda s: s.replace("{length_s: 10, stride_s: 10}", "{length_s: 10, length: 100}"),
            r"data.window: give exactly one of",
        ),
    ],
)
def test_bad_spec_gives_one_located_line_and_exit_2(
    write_spec: Callable[..., Path], edit: Callable[[str], str], expected: str
) -> None:
    path = write_spec()
    path.write_text(edit(path.read_text()))
    code, out = run("validate", str(path))
    assert code == 2, out
    import re

    assert re.search(expected, out), out
    assert "Traceback" not in out


def test_exponent_numbers_are_numbers(write_spec: Callable[..., Path]) -> None:
    """`5e-1` is a number in YAML 1.2 and in the JSON Schema; YAML 1.1 (PyYAML) read it
    as text, which the spec now refuses (a number must be a number)."""
    path = write_spec()
    path.write_text(
        path.read_text().replace("  window:", "  checks: {max_jitter: 5e-1}\n  window:")
    )
    assert load_spec(path).spec.data.checks.max_jitter == 0.5


def test_every_problem_is_reported_at_once(write_spec: Callable[..., Path]) -> None:
    path = write_spec()
    text = path.read_text().replace("sram_kb: 4", "sram_kb: -4").replace("trials: 4", "trials: x")
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    fields = [p.field for p in info.value.problems]
    assert fields == ["budgets.sram_kb", "search.trials"]


def test_unknown_target_is_an_error_with_suggestion(write_spec: Callable[..., Path]) -> None:
    path = write_spec()
    path.write_text(path.read_text().replace("target: nrf52840", "target: nrf52480"))
    code, out = run("validate", str(path))
    assert code == 2
    assert "unknown target 'nrf52480'; did you mean nrf52840" in out


def test_missing_data_path(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    path = write_spec(data=str(tmp_path / "nowhere"))
    code, out = run("validate", str(path))
    assert code == 2
    assert "data.path" in out and "does not exist" in out


def test_unknown_recipe(write_spec: Callable[..., Path]) -> None:
    path = write_spec()
    path.write_text(path.read_text() + "recipe: imu-stats-forrest\n")
    code, out = run("validate", str(path))
    assert code == 2
    assert "unknown recipe 'imu-stats-forrest'; did you mean imu-stats-forest" in out


def test_duplicate_key_is_located(write_spec: Callable[..., Path]) -> None:
    path = write_spec()
    path.write_text(path.read_text() + "name: again\n")
    code, out = run("validate", str(path))
    assert code == 2
    assert "duplicate key 'name'" in out


def test_readme_spec_reference_is_current() -> None:
    from mcuforge.schemas import update_readme

    text = (ROOT / "README.md").read_text()
    assert update_readme(text) == text, "run `mcuforge schema --readme README.md`"


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = [
        ln
        for ln in (ROOT / ".ci/run").read_text().splitlines()
        if ln.strip() and not ln.startswith(("#", "set ", "cd "))
    ]
    assert ci[-1] == "make test"
    assert "make test" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    ("spec_name", "lock_name"),
    [
        ("spec.yaml", "mcuforge.lock"),
        ("mcuforge.yaml", "mcuforge.lock"),
        ("wrist.yaml", "wrist.mcuforge.lock"),
    ],
)
def test_lock_name_is_the_documented_one(tmp_path: Path, spec_name: str, lock_name: str) -> None:
    """Two specs in one folder keep their own locks; the README says which name each gets."""
    spec = tmp_path / spec_name
    spec.write_text((EXAMPLE / "spec.yaml").read_text())
    assert load_spec(spec).lock_path == tmp_path / lock_name
    readme = (ROOT / "README.md").read_text()
    assert "`NAME.mcuforge.lock` for any other `NAME.yaml`" in readme


@pytest.mark.parametrize(
    ("seconds", "rate_hz", "samples"),
    [
        (0.025, 100.0, 3),  # 2.5 samples: a half rounds up (round() gives 2)
        (0.045, 100.0, 5),  # 4.5 (round() gives 4)
        (0.035, 100.0, 4),  # 3.5000000000000004
        (1.005, 100.0, 101),  # 100.49999999999999: the float product of a half
        (0.0124, 100.0, 1),  # 1.24 samples: the nearest
        (2.0, 50.0, 100),
        (0.032, 16000.0, 512),
    ],
)
def test_seconds_become_the_nearest_sample_count_halves_up(
    seconds: float, rate_hz: float, samples: int
) -> None:
    from mcuforge.spec._data import Window

    window = Window(length_s=seconds, stride_s=seconds)
    assert window.samples(rate_hz) == (samples, samples)
