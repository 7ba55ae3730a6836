"""The wheel: what it carries, its extras, and the light install without them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from mcuforge.extras import EXTRAS

from .conftest import EXAMPLE, ROOT

#: The core install (no extra) must stay under this, MiB with pip's bytecode (``du -sh``).
MAX_VENV_MIB = 400
#: Distribution names whose import name differs from the name with - made _.
IMPORT_NAMES = {"ai-edge-litert": "ai_edge_litert"}


def _dist(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.\-]+", requirement)
    assert match, requirement
    return match.group(0).lower()


def test_extras_in_pyproject_match_the_modules_mcuforge_checks() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for name, modules in EXTRAS.items():
        dists = [_dist(r) for r in extras[name]]
        assert [IMPORT_NAMES.get(d, d.replace("-", "_")) for d in dists] == list(modules)
    # make test / make demo install `.[dev,bench]`: every extra comes with them
    assert "mcuforge[all]" in extras["dev"]
    assert set(EXTRAS) <= set(re.findall(r"\w+", extras["all"][0].partition("[")[2]))


def _disk_mib(folder: Path) -> float:
    """Disk usage of ``folder`` as ``du -s`` counts it, MiB."""
    total = sum(p.lstat().st_blocks * 512 for p in folder.rglob("*"))
    return total / 2**20


@pytest.mark.slow
def test_wheel_without_extras_runs_the_example_in_a_fresh_venv(tmp_path: Path) -> None:
    """The light install: init, validate, explain, generate (trees) and report, with
    neither TensorFlow nor matplotlib nor unicorn, in a venv under 400 MiB."""
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
    subprocess.run([*build, str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("mcuforge-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "mcuforge/_data/recipes/targets/nrf52840.yaml" in names
    assert "mcuforge/_data/recipes/cores.yaml" in names
    assert "mcuforge/_data/templates/cmake-baremetal/cookiecutter.json" in names
    assert "mcuforge/_data/schema/spec.schema.json" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py, exe = venv / "bin" / "python", venv / "bin" / "mcuforge"
    # the versions this suite runs with (.venv): not whatever PyPI has newest today,
    # which would move the size below with no change here
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(f"{line}\n" for line in frozen if "==" in line))
    pip = [str(py), "-m", "pip", "install", "-q", "--prefer-binary", "-c", str(constraints)]
    installed = subprocess.run([*pip, str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(exe), *args], capture_output=True, text=True, env=env, cwd=tmp_path
        )

    absent = subprocess.run(
        [
            str(py),
            "-c",
            "import importlib.util as u, mcuforge, sys; print(mcuforge.__file__); "
            "print(*[m for m in sys.argv[1:] if u.find_spec(m)])",
            *(m for ms in EXTRAS.values() for m in ms),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    ).stdout.splitlines()
    assert str(venv) in absent[0], absent  # mcuforge comes from the wheel
    assert absent[1:] in ([], [""]), f"extras installed by the core install: {absent[1:]}"
    size = _disk_mib(venv)
    print(f"core venv: {size:.0f} MiB")
    assert size < MAX_VENV_MIB, f"the core install takes {size:.0f} MiB"

    version = run("--version")
    assert version.returncode == 0 and "mcuforge, version 0.1.0" in version.stdout

    init = run("init", str(EXAMPLE / "data"), "-o", str(tmp_path / "mine" / "spec.yaml"))
    assert init.returncode == 0, init.stderr
    started = yaml.safe_load((tmp_path / "mine" / "spec.yaml").read_text())
    assert started["name"] == "basicmotions"

    spec = yaml.safe_load((EXAMPLE / "spec.yaml").read_text())
    spec["data"]["path"] = str(EXAMPLE / "data")
    spec["search"]["trials"] = 3
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (tmp_path / "mcuforge.lock").write_bytes((EXAMPLE / "mcuforge.lock").read_bytes())

    check = run("validate", "spec.yaml")
    assert check.returncode == 0, check.stderr
    assert "ok (target nrf52840" in check.stdout and "imu-stats-mlp" not in check.stdout
    explain = run("explain", "spec.yaml")
    assert explain.returncode == 0, explain.stderr
    mlp = next(ln for ln in explain.stdout.splitlines() if "imu-stats-mlp@1" in ln)
    assert "rejected" in mlp and "needs `pip install 'mcuforge[nn]'`" in mlp, mlp

    gen = run("generate", "spec.yaml", "-q", "--no-measure")
    assert gen.returncode == 0, gen.stderr
    assert "C == Python on 40/40" in gen.stdout, gen.stdout
    out = tmp_path / "out"
    (out / "report.html").unlink()
    again = run("report", str(out))
    assert again.returncode == 0, again.stderr
    html = (out / "report.html").read_text()
    assert "pip install &#39;mcuforge[plots]&#39;" in html and "data-plot=" not in html
