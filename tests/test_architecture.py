"""The package's shape: stages import one way (the import-linter contract in
pyproject.toml), no package imports another's private modules, and modules and
functions stay small enough to read."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "generator" / "mcuforge"


def test_the_layers_contract_is_kept() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(exe)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "generator"), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 kept, 0 broken" in proc.stdout


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_private_module_of_another_package_is_imported() -> None:
    """``from ..pkg._private import x`` across packages: the public name must be used."""
    offenders = []
    for path in _modules():
        package = (
            path.relative_to(PACKAGE).parts[0] if len(path.relative_to(PACKAGE).parts) > 1 else ""
        )
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level < 1:
                continue
            parts = node.module.split(".")
            base = path.relative_to(PACKAGE).parts[:-1]
            target = [*base[: len(base) - (node.level - 1)], *parts]
            if len(target) >= 2 and target[0] != package and target[1].startswith("_"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {'.'.join(target)}")
    assert offenders == []
