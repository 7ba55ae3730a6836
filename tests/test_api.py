"""The Python API: the README's example runs as written; results are typed."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import mcuforge
from mcuforge import api
from mcuforge.errors import SpecError

from .conftest import EXAMPLE, ROOT


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- api-example:start.*?```python\n(.*?)```", text, re.S)
    assert m, "README has no API example"
    return m.group(1)


@pytest.mark.slow
def test_readme_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(
        EXAMPLE, tmp_path / "examples" / "basicmotions", ignore=shutil.ignore_patterns("out")
    )
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(_readme_example(), "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "report.html" in out and "analytic" in out
    assert "data: Field required" in out
    assert (tmp_path / "out-api" / "report.json").is_file()


def test_import_is_light_and_exports_the_api() -> None:
    assert set(mcuforge.__all__) >= {"generate", "validate", "resolve", "search", "load"}
    assert mcuforge.generate is api.generate


def test_validate_returns_located_problems(write_spec) -> None:  # type: ignore[no-untyped-def]
    spec = write_spec()
    assert api.validate(spec) == []
    spec.write_text(spec.read_text().replace("sram_kb: 4", "sram_kbb: 4"))
    problems = api.validate(spec)
    assert [p.field for p in problems] == ["budgets.sram_kbb"]  # the typo, not "sram_kb missing"
    typo = problems[0]
    assert (typo.file, typo.line, typo.col) == (str(spec), 13, 11)
    assert "did you mean 'sram_kb'" in typo.message
    assert str(typo).startswith(f"{spec}:13:11: budgets.sram_kbb: unknown key")


def test_a_spec_mapping_resolves_relative_to_base_dir() -> None:
    import yaml

    data = yaml.safe_load((EXAMPLE / "spec.yaml").read_text())
    plan = api.resolve(data, base_dir=EXAMPLE)
    assert plan.target == "nrf52840" and plan.recipes
    assert all(d.reason for d in plan.decisions)
    loaded = api.load(data, base_dir=EXAMPLE)
    assert loaded.resolve_path(loaded.spec.data.path) == (EXAMPLE / "data").resolve()


def _cli(*args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from mcuforge.cli import cli

    res = CliRunner().invoke(cli, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout, res.stderr


@pytest.mark.slow
def test_generate_and_search_json_print_the_typed_results(write_spec, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`--json` prints the API's result object on stdout; the log stays on stderr."""
    import json

    spec = write_spec()
    code, out, err = _cli("generate", str(spec), "--trials", "2", "--no-measure", "--json")
    assert code == 0, err
    got = api.GenerateOutcome.model_validate_json(out)
    report = json.loads((got.paths.report_json).read_text())
    assert (got.recipe, got.score) == (report["recipe"], report["score"])
    assert got.cost.flash_bytes.source == "analytic" and "trial #" not in out
    assert "data:" in err  # the log
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    code, out, err = _cli("search", str(spec), "--storage", storage, "--trials", "2", "--json")
    assert code == 0, err
    found = api.SearchOutcome.model_validate_json(out)
    assert len(found.trials) == 2 and found.best.number in [t.number for t in found.trials]


def test_every_json_command_prints_its_errors_as_json(write_spec) -> None:  # type: ignore[no-untyped-def]
    import json

    spec = write_spec()
    spec.write_text(spec.read_text().replace("target: nrf52840", "target: nrf52480"))
    for cmd in (["generate"], ["search", "--storage", "sqlite:///unused.db"], ["explain"]):
        code, out, err = _cli(*cmd, str(spec), "--json")
        assert code == 2, (cmd, out, err)
        errors = json.loads(out)
        assert errors["ok"] is False and errors["errors"][0]["field"] == "target", cmd
        assert "did you mean nrf52840" in errors["errors"][0]["message"]
        assert "nrf52480" in err  # the text stays on stderr


def test_search_stays_callable_after_the_package_is_imported(write_spec) -> None:  # type: ignore[no-untyped-def]
    """``mcuforge.search`` is the API function and the name of a subpackage: after any
    API call had imported the package, calling it raised 'module is not callable'."""
    import mcuforge
    import mcuforge.search as package

    assert mcuforge.search is package and callable(mcuforge.search)
    with pytest.raises(SpecError, match="trials: must be 1 or more; got 0"):
        mcuforge.search(write_spec(), trials=0)  # forwarded to mcuforge.api.search
    with pytest.raises(SpecError, match="time_budget: 'abc' is not a duration"):
        mcuforge.api.generate(write_spec(), time_budget="abc")


def test_validate_finds_what_the_command_line_finds(write_spec) -> None:  # type: ignore[no-untyped-def]
    import mcuforge

    spec = write_spec()
    text = spec.read_text().replace("output: {dir: out,", "output: {dir: out, firmware: zephr,")
    spec.write_text(text + "hardware: {profiler: nosuch}\n")
    fields = {p.field for p in mcuforge.validate(spec)}
    assert {"output.firmware", "hardware.profiler"} <= fields
