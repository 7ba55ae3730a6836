"""The wheel carries the built-in catalog, templates and schemas."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import EXAMPLE, ROOT


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_validates_the_example(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("mcuforge-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "mcuforge/_data/recipes/targets/nrf52840.yaml" in names
    assert "mcuforge/_data/recipes/cores.yaml" in names
    assert "mcuforge/_data/templates/cmake-baremetal/cookiecutter.json" in names
    assert "mcuforge/_data/schema/spec.schema.json" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # The (large) dependencies come from this test run's environment through a .pth
    # line; paths added that way are not scanned for .pth files, so the editable
    # install of this checkout does not leak in: mcuforge comes from the wheel only.
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site) / "deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    exe = venv / "bin" / "mcuforge"
    where = subprocess.run(
        [str(py), "-c", "import mcuforge, sys; print(mcuforge.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    assert str(venv) in where.stdout, where.stdout
    version = subprocess.run(
        [str(exe), "--version"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert version.returncode == 0 and "mcuforge, version 0.1.0" in version.stdout
    check = subprocess.run(
        [str(exe), "validate", str(EXAMPLE / "spec.yaml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stderr
    assert "ok (target nrf52840" in check.stdout
