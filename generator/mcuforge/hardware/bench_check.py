"""Check the bench firmware's report against the outputs Python expects.

The firmware's test windows are the output's ``test_vectors.c``; what Python predicts
for them is in the same file (``mcuforge_test_expected``) and in report.json (the raw
outputs). :func:`check` compares each window's class and outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bench_report import BenchReport, DeviceError

#: Float outputs of the board against Python's: the same operations in the same
#: order (-ffp-contract=off on both sides), so differences come only from the
#: target's libm (newlib's expf/sqrtf vs glibc's, within a few ulp) and accumulate
#: over at most a few hundred operations: 1e-4 relative is ~800 ulp of headroom.
OUTPUT_RTOL = 1e-4
OUTPUT_ATOL = 1e-6


@dataclass(frozen=True)
class Expected:
    """Python's results on the firmware's test windows."""

    returns: list[int]
    outputs: list[list[float]] | None = None


_EXPECTED = re.compile(r"mcuforge_test_expected\s*\[[^\]]*\]\s*=\s*\{([^}]*)\}", re.S)


def expected_from_c(text: str, where: str = "test_vectors.c") -> list[int]:
    """The expected return values written in a ``test_vectors.c``.

    Raises:
        DeviceError: the array is not there.
    """
    m = _EXPECTED.search(text)
    if m is None:
        raise DeviceError(f"{where} has no mcuforge_test_expected array")
    return [int(v) for v in m.group(1).replace("\n", " ").split(",") if v.strip()]


def expected_from_output(output_dir: Path, report: dict[str, Any]) -> Expected:
    """Expected values: ``report.json`` ``test_vectors`` if present, else test_vectors.c."""
    tv = report.get("test_vectors")
    if isinstance(tv, dict) and "expected" in tv:
        outputs = tv.get("outputs")
        return Expected([int(v) for v in tv["expected"]], outputs)
    matches = sorted((output_dir / "firmware").rglob("test_vectors.c"))
    if not matches:
        raise DeviceError(f"{output_dir}/firmware has no test_vectors.c to check against")
    return Expected(expected_from_c(matches[0].read_text(), str(matches[0])))


@dataclass
class Check:
    """The board's results against Python's, window by window."""

    windows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def agree(self) -> int:
        return sum(w["agree"] for w in self.windows)

    @property
    def total(self) -> int:
        return len(self.windows)

    def failures(self) -> list[int]:
        return [w["window"] for w in self.windows if not w["agree"]]


def check(report: BenchReport, expected: Expected) -> Check:
    """Compare return values (exactly) and outputs (within OUTPUT_RTOL/ATOL).

    Raises:
        DeviceError: the board ran another number of windows than Python's.
    """
    if len(expected.returns) != report.hello.n_windows:
        raise DeviceError(
            f"the board ran {report.hello.n_windows} test windows, the output has "
            f"{len(expected.returns)}: flash the firmware of this output"
        )
    out = Check()
    for r, want in zip(report.results, expected.returns, strict=True):
        row: dict[str, Any] = {
            "window": r.window,
            "returned": r.returned,
            "expected": want,
            "cycles": r.cycles,
        }
        ok = r.returned == want
        if expected.outputs is not None:
            ref = expected.outputs[r.window]
            err = max(
                (abs(a - b) - OUTPUT_RTOL * abs(b) for a, b in zip(r.outputs, ref, strict=True)),
                default=0.0,
            )
            row["outputs_ok"] = bool(len(ref) == len(r.outputs) and err <= OUTPUT_ATOL)
            ok = ok and row["outputs_ok"]
        row["agree"] = ok
        out.windows.append(row)
    return out
