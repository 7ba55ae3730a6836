"""Shared fixtures: the bundled example, small specs written on the fly, tool checks."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "basicmotions"

needs_arm_gcc = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None and not __import__("os").environ.get("CI"),
    reason="arm-none-eabi-gcc not installed (make test installs it)",
)
needs_qemu = pytest.mark.skipif(
    shutil.which("qemu-system-arm") is None and not __import__("os").environ.get("CI"),
    reason="qemu-system-arm not installed (make test installs it)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden files under tests/golden/ from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


EXAMPLE_SPEC = """\
version: 1
name: demo
data:
  format: csv
  path: {data}
  sensors:
    - {{name: accel, channels: [ax, ay, az], unit: g, rate_hz: 10}}
    - {{name: gyro, channels: [gx, gy, gz], unit: dps, rate_hz: 10}}
  window: {{length_s: 10, stride_s: 10}}
  split: {{test_files: ["*/test_*.csv"]}}
task: {{kind: classification, metric: accuracy}}
target: nrf52840
budgets: {{sram_kb: 4, flash_kb: 16, latency_ms: 5}}
search: {{trials: 4, seed: 3, rescore_top: 0}}
output: {{dir: out, test_windows: 4}}
"""


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """Write a spec file (text, dedented) into tmp_path and return its path."""

    def write(text: str | None = None, name: str = "spec.yaml", **fmt: str) -> Path:
        body = EXAMPLE_SPEC if text is None else textwrap.dedent(text)
        fmt.setdefault("data", str(EXAMPLE / "data"))
        path = tmp_path / name
        path.write_text(body.format(**fmt))
        return path

    return write
