"""The benchmark runner: one tiny peers case through bench/run.py --smoke."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, needs_arm_gcc

pytestmark = [pytest.mark.slow, pytest.mark.toolchain, needs_arm_gcc]


def _table(text: str, header_start: str) -> list[list[str]]:
    """Rows (cells) of the first markdown table whose header starts with ``header_start``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def test_smoke_run_writes_results_with_a_peers_table(tmp_path: Path) -> None:
    for module in ("emlearn", "m2cgen", "unicorn"):  # installed? (importing emlearn would
        if importlib.util.find_spec(module) is None:  # set numpy's errors to raise here)
            pytest.skip(f"{module} is not installed")
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard (about 20 s here), not a speed check
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    for heading in ("## Machine", "## Versions", "## Sections", "## 1. Classic-ML C"):
        assert heading in text
    assert re.search(r"\| emlearn \| 0\.23\.", text)
    assert "`.venv/bin/python bench/peers.py --models dt --cores cortex-m4f`" in text

    rows = _table(text, "| model | sklearn acc | impl |")
    impls = ["mcuforge", "mcuforge-table", "mcuforge-int16", "emlearn", "m2cgen"]
    assert [r[2] for r in rows] == impls
    for r in rows:
        assert len(r) == 12
        assert r[10].startswith("`") and r[10].endswith("`")  # the exact configuration
        assert r[0].startswith("dt")
        assert 0.5 <= float(r[1]) <= 1.0  # sklearn test accuracy
        flash, static_sram, stack = int(r[3]), int(r[4]), int(r[5])
        assert 0 < flash < 20_000
        assert 0 <= static_sram < 4096 and 0 <= stack < 4096  # a leaf function may push nothing
        mean, worst = float(r[6]), int(r[7])
        assert 0 < mean <= worst < 100_000
        for parity in (r[8], r[9]):
            agree, total = (int(v) for v in parity.split("/"))
            assert total == 40 and 0 <= agree <= total
    ours = rows[0]
    assert ours[8] == "40/40" and ours[9] == "40/40"  # our C equals sklearn on every window

    ratios = _table(text, "| core | model | ours | peer |")
    assert [(r[2], r[3]) for r in ratios] == [
        ("mcuforge", "emlearn"),
        ("mcuforge-table", "emlearn"),
        ("mcuforge-int16", "emlearn"),
        ("mcuforge", "m2cgen"),
    ]
    for r in ratios:
        assert float(r[4].split()[0]) > 0 and float(r[5].split()[0]) > 0
