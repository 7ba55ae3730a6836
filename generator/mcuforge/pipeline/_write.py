"""Steps 6 and 7, scaffold and report: the firmware project, report.*, trials, Pareto set,
lock and calibration, written to a folder beside the output and swapped into place in one
atomic step (:mod:`mcuforge._output`), so the output is always the old one or the new one,
whole, and a failed run leaves nothing half-written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .._output import commit, discard, replace_problem, stage
from .._version import __version__
from ..errors import OutputError
from ..report import write_reports
from ..scaffold import render
from ..search import SearchResult, default_storage, trial_rows
from ..summary import trials_csv
from ._build import build_check
from ._measure import Measurement
from ._prepare import Log, Prepared


def check_output(out: Path, force: bool) -> None:
    """Refuse to replace a folder mcuforge did not write, or a non-empty one without
    ``force`` (see :func:`mcuforge._output.replace_problem`).

    Raises:
        OutputError: what is wrong and what would fix it.
    """
    why = replace_problem(out, force)
    if why:
        raise OutputError(why)


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
    tmp = stage(out_dir, {"mcuforge": __version__, "spec": str(p.loaded.path)})
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
        commit(tmp, out_dir)
        # the study now lives in the output (an interrupted run keeps the working copy)
        working.unlink(missing_ok=True)
    except BaseException:
        discard(tmp)
        raise


__all__ = ["check_output", "write_output"]
