"""Steps 6 and 7, scaffold and report: the firmware project, report.*, trials, Pareto set,
lock and calibration, written to a temporary folder beside the output and renamed into
place, so a failed run leaves nothing half-written."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ..report import write_reports
from ..scaffold import render
from ..search import SearchResult, default_storage, trial_rows
from ..summary import trials_csv
from ._build import build_check
from ._measure import Measurement
from ._prepare import Log, Prepared


def check_output(out: Path, force: bool) -> None:
    """Refuse to replace a non-empty output folder unless ``force``.

    Raises:
        OutputError: the output exists and is a file, or is not empty without ``force``.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"output {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(f"output directory {out} is not empty; pass --force to replace it")


def _replace_dir(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``, replacing ``out`` only once ``tmp`` is complete."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)


def write_output(
    p: Prepared,
    out_dir: Path,
    m: Measurement,
    result: SearchResult,
    report: dict[str, Any],
    lock_text: str,
    measured: bool,
    log: Log = lambda s: None,
) -> None:
    """Render the firmware, build it once (:func:`._build.build_check`, when ``measured``:
    the tools may be used), write every output file, then rename into ``out_dir``."""
    spec = p.loaded.spec
    working = default_storage(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        project = render(spec.output.firmware, m.chosen.variables, m.chosen.files, tmp / "firmware")
        if measured:
            report["firmware"]["build_check"] = build_check(
                spec.output.firmware, project, m.chosen.variables, log
            )
        rows = trial_rows(result)
        write_reports(tmp, report, rows)
        (tmp / "trials.csv").write_text(trials_csv(rows))
        (tmp / "pareto.json").write_text(
            json.dumps([r for r in rows if r["pareto"]], indent=2) + "\n"
        )
        (tmp / "mcuforge.lock").write_text(lock_text)
        if measured:
            m.calibration.save(tmp / "calibration.json")
        if working.is_file():
            shutil.copy2(working, tmp / "study.db")
        _replace_dir(tmp, out_dir)
        # the study now lives in the output (an interrupted run keeps the working copy)
        working.unlink(missing_ok=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = ["check_output", "write_output"]
