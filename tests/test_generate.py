"""`mcuforge generate` end to end on the bundled example, and its failure modes."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from mcuforge.cli import cli
from mcuforge.hardware.qemu import build_firmware, run_elf

from .conftest import EXAMPLE, needs_arm_gcc, needs_qemu


def generate(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["generate", *args])
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full run of the example (search, C, parity, firmware, measurement)."""
    out = tmp_path_factory.mktemp("gen") / "out"
    code, text = generate(str(EXAMPLE / "spec.yaml"), "-o", str(out), "--trials", "8")
    assert code == 0, text
    return out


@pytest.mark.slow
def test_output_layout_and_report(generated: Path) -> None:
    for rel in (
        "firmware/CMakeLists.txt",
        "firmware/src/main.c",
        "firmware/src/model/basicmotions_model.c",
        "firmware/src/model/basicmotions_model.h",
        "firmware/src/model/test_vectors.c",
        "report.md",
        "report.json",
        "mcuforge.lock",
        "trials.csv",
    ):
        assert (generated / rel).is_file(), rel
    r = json.loads((generated / "report.json").read_text())
    assert r["metric"] == "accuracy"
    assert r["score"] >= 0.85  # BasicMotions with statistics + trees; 1-NN DTW gets 0.975
    assert r["parity"]["agree"] == r["parity"]["total"] == 40
    assert r["parity"]["features_bit_exact"] is True
    assert r["parity"]["features_max_abs_err"] == 0.0
    for key in ("flash_bytes", "sram_bytes", "latency_ms"):
        fig = r["cost"][key]
        assert set(fig) == {"value", "source"}
        assert fig["source"] in {"analytic", "compiled", "emulated", "linked", "device"}
        assert fig["value"] > 0
    assert r["cost"]["flash_bytes"]["value"] <= r["budgets"]["flash_kb"] * 1024
    assert r["cost"]["sram_bytes"]["value"] <= r["budgets"]["sram_kb"] * 1024
    chosen = {d["recipe"] for d in r["decisions"] if d["chosen"]}
    assert r["recipe"] in chosen and len(chosen) >= 2
    assert r["target"]["name"] == "nrf52840"
    assert r["search"]["trials"] == 8


@pytest.mark.slow
@needs_arm_gcc
@needs_qemu
def test_cost_is_measured_when_the_toolchain_is_there(generated: Path) -> None:
    r = json.loads((generated / "report.json").read_text())
    # the budgets are checked on the whole firmware linked for the part ...
    assert r["cost"]["flash_bytes"]["source"] == "linked"
    assert r["cost"]["sram_bytes"]["source"] == "linked"
    assert r["cost"]["latency_ms"]["source"] == "emulated"
    assert r["cost"]["energy_uj"]["source"] == "emulated"
    # ... beside features + model alone
    assert r["cost_model_only"]["flash_bytes"]["source"] == "compiled"
    assert r["cost_model_only"]["sram_bytes"]["source"] == "emulated"
    assert r["cost_model_only"]["flash_bytes"]["value"] < r["cost"]["flash_bytes"]["value"]
    for mem, key in (("flash", "flash_bytes"), ("sram", "sram_bytes")):
        assert sum(r["breakdown"][mem]["parts"].values()) == r["cost"][key]["value"]
    assert r["firmware"]["qemu"]["agree"] == r["firmware"]["qemu"]["total"] == 8
    assert r["firmware"]["build_check"]["built"] is True
    figures = {m["figure"] for m in r["measurements"]}
    assert {"flash_bytes", "sram_bytes", "latency_ms", "model_flash_bytes"} <= figures
    covers = {s["figure"] for s in r["stack"]}
    assert {"PREFIX_predict stack", "stack reserved", "self-test stack peak"} <= covers


@pytest.mark.slow
def test_lock_records_what_reproduces_the_run(generated: Path) -> None:
    lock = yaml.safe_load((generated / "mcuforge.lock").read_text())
    assert lock["version"] == 1
    report = json.loads((generated / "report.json").read_text())
    chosen = {d["recipe"].split("@")[0] for d in report["decisions"] if d["chosen"]}
    assert {r["name"] for r in lock["recipes"]} == chosen
    assert all(len(r["sha256"]) == 64 for r in lock["recipes"])
    assert len(lock["data"]["files"]) == 80
    assert lock["seeds"]["search"] == 7
    assert lock["target"]["name"] == "nrf52840"
    assert "scikit-learn" in lock["packages"]


@pytest.mark.slow
@pytest.mark.toolchain
@needs_arm_gcc
@needs_qemu
def test_firmware_runs_in_qemu_and_prints_python_predictions(
    generated: Path, tmp_path: Path
) -> None:
    project = tmp_path / "fw"
    shutil.copytree(generated / "firmware", project)
    elf = build_firmware(project, tmp_path / "build", "mps2")
    code, out = run_elf(elf, "mps2-an386")
    assert code == 0, out
    preds = [
        (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(r"^pred (\d+) (-?\d+) (-?\d+)", out, re.M)
    ]
    assert len(preds) == 8
    # expected values are Python's predictions, embedded in test_vectors.c
    vec = (generated / "firmware/src/model/test_vectors.c").read_text()
    expected = [
        int(v)
        for v in re.search(r"mcuforge_test_expected\[.*?\] = \{([^}]*)\}", vec, re.S)
        .group(1)
        .replace("\n", "")
        .split(",")
    ]  # type: ignore[union-attr]
    assert [p for p, _ in preds] == expected
    assert "agree=8/8" in out


@pytest.mark.slow
def test_same_spec_gives_byte_identical_c(tmp_path: Path) -> None:
    outs = []
    for i in range(2):
        out = tmp_path / f"o{i}"
        code, text = generate(
            str(EXAMPLE / "spec.yaml"), "-o", str(out), "--trials", "5", "--no-measure"
        )
        assert code == 0, text
        outs.append(out)
    files = sorted(p.relative_to(outs[0]) for p in (outs[0] / "firmware").rglob("*") if p.is_file())
    assert files
    for rel in files:
        assert (outs[0] / rel).read_bytes() == (outs[1] / rel).read_bytes(), rel


def test_non_empty_output_is_refused_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, text = generate(str(EXAMPLE / "spec.yaml"), "-o", str(out), "--trials", "1")
    assert code == 2
    assert "is not empty and was not written by mcuforge" in text
    assert (out / "keep.txt").read_text() == "mine"
    # validate says so too (it said ok, and generate then refused even with --force)
    spec = tmp_path / "spec.yaml"  # its output.dir (out/) is that folder
    spec.write_text(
        (EXAMPLE / "spec.yaml").read_text().replace("path: data/", f"path: {EXAMPLE}/data/")
    )
    res = CliRunner().invoke(cli, ["validate", str(spec)])
    assert res.exit_code == 2, res.output
    assert re.search(r"spec\.yaml:\d+:\d+: output\.dir: output directory .* was not written by "
                     "mcuforge", res.output), res.output  # fmt: skip
    # a search worker (--jobs) checks no output folder: `-o` elsewhere, it crashed here
    from mcuforge.errors import OutputError
    from mcuforge.preflight import preflight

    with pytest.raises(OutputError, match="was not written by mcuforge"):
        preflight(spec)
    assert preflight(spec, check_output=False).plan.recipes
    (out / ".mcuforge-output").write_text("{}\n")  # an earlier output: --force replaces it
    code, text = generate(str(EXAMPLE / "spec.yaml"), "-o", str(out), "--trials", "1")
    assert code == 2 and "not empty; pass --force" in text


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.mark.slow
def test_infeasible_budget_exits_3_and_writes_nothing(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_spec()
    path.write_text(path.read_text().replace("flash_kb: 16", "flash_kb: 0.05"))
    code, text = generate(str(path), "-o", str(tmp_path / "out"), "--trials", "3")
    assert code == 3, text
    assert "fits the budgets" in text and "flash_kb >=" in text
    assert not (tmp_path / "out").exists()
    assert _leftovers(tmp_path) in ([], [".out.study.db"])  # a study is kept to resume


def test_bad_csv_fails_before_anything_is_written(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE / "data", data)
    bad = data / "walking" / "train_003.csv"
    lines = bad.read_text().splitlines()
    lines[7] = "1,2,3"
    bad.write_text("\n".join(lines) + "\n")
    path = write_spec(data=str(data))
    code, text = generate(str(path), "-o", str(tmp_path / "out"))
    assert code == 2
    assert "walking/train_003.csv:8: expected 6 columns" in text
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_force_replaces_a_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    args = [str(EXAMPLE / "spec.yaml"), "-o", str(out), "--trials", "2", "--force", "--no-measure"]
    code, text = generate(*args)
    assert code == 2 and "was not written by mcuforge" in text  # --force replaces only ours
    assert (out / "old.txt").read_text() == "old"
    (out / ".mcuforge-output").write_text("{}\n")  # as an earlier run leaves it
    code, text = generate(*args)
    assert code == 0, text
    assert not (out / "old.txt").exists() and (out / "report.json").is_file()
    assert (out / ".mcuforge-output").is_file()
    assert _leftovers(tmp_path) == []
    assert np.isfinite(json.loads((out / "report.json").read_text())["score"])
