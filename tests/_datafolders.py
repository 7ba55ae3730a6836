"""Tiny synthetic data folders and specs for the data tests (built in tmp_path)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

SPEC = """\
version: 1
name: t
data:
  path: {data}
  sensors: [{{name: imu, channels: [ax, ay], unit: g, rate_hz: 10}}]
{extra}  window: {{length: {length}, stride: {length}}}
  split: {split}
task: {{kind: {kind}}}
target: nrf52840
budgets: {{sram_kb: 16, flash_kb: 64}}
"""


def rows(seed: int, n: int = 12, time: bool = False) -> list[str]:
    """Data rows of one recording (distinct for every seed): ``t,ax,ay`` or ``ax,ay``."""
    t = np.arange(n)
    ax = np.round(np.sin(0.3 * t + seed), 4)
    ay = np.round(np.cos(0.2 * t + 2 * seed) + 0.01 * seed, 4)
    if time:
        return [f"{k / 10:.3f},{a:g},{b:g}" for k, a, b in zip(t, ax, ay, strict=True)]
    return [f"{a:g},{b:g}" for a, b in zip(ax, ay, strict=True)]


def write_csv(path: Path, body: list[str], header: str = "ax,ay") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *body]) + "\n")
    return path


def folder(
    root: Path,
    classes: dict[str, int] | None = None,
    n: int = 12,
    test_prefix: bool = False,
) -> Path:
    """``root/data/<class>/rI.csv``: ``classes`` maps a class to its number of files;
    with ``test_prefix`` the last file of each class is ``test_rI.csv``."""
    data = root / "data"
    seed = 0
    for c, count in (classes or {"a": 4, "b": 4}).items():
        for i in range(count):
            name = f"test_r{i}.csv" if test_prefix and i == count - 1 else f"r{i}.csv"
            write_csv(data / c / name, rows(seed, n))
            seed += 1
    return data


def spec(
    root: Path,
    data: Path | str = "data",
    extra: str = "",
    length: int = 4,
    split: str = "{test: 0.25, seed: 1}",
    kind: str = "classification",
    text: str | None = None,
) -> Path:
    """A spec beside the data; ``extra`` holds more ``data:`` lines (indented by 2)."""
    body = text or SPEC.format(
        data=data,
        extra=textwrap.indent(textwrap.dedent(extra), "  ") if extra else "",
        length=length,
        split=split,
        kind=kind,
    )
    path = root / "spec.yaml"
    path.write_text(body)
    return path
