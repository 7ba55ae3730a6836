"""The Python API: the README's example runs as written; results are typed."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import mcuforge
from mcuforge import api

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
