"""The report files of an output directory: written at generation, re-rendered later.

``report.json`` is the source of truth; ``report.md`` and ``report.html`` are rendered
from it and ``trials.csv``. Its ``report_version`` is :data:`REPORT_VERSION` when
written. The version changes only when a key is renamed, removed or changes meaning;
adding a key does not change it, because renderers treat every key added after
version 1 as optional. :func:`rerender` refuses a report newer than this mcuforge
understands rather than rendering it wrongly.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import OutputError
from ._html import render_html
from ._markdown import render_markdown
from ._schema import REPORT_VERSION, validate_report

#: Version of the report.json layout that this mcuforge writes and reads.

REPORT_FILES = ("report.json", "report.md", "report.html")


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so no reader sees half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_rendered(out_dir: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        _atomic_write(out_dir / name, text)


def write_reports(
    out_dir: Path, report: Mapping[str, Any], trials: Sequence[Mapping[str, Any]]
) -> None:
    """Write report.json, report.md and report.html into ``out_dir``.

    Everything is rendered before anything is written, so a rendering error leaves the
    directory as it was.

    Args:
        out_dir: An existing directory (the pipeline's temporary output directory).
        report: The report mapping; its ``report_version`` must be :data:`REPORT_VERSION`.
        trials: The rows that trials.csv holds (:func:`mcuforge.search.trial_rows`).

    Raises:
        ValueError: ``report["report_version"]`` is not :data:`REPORT_VERSION`.
    """
    if report.get("report_version") != REPORT_VERSION:
        raise ValueError(f"report_version {report.get('report_version')!r} is not {REPORT_VERSION}")
    validate_report(dict(report))  # the report is what schema/report.schema.json says
    files = {
        "report.json": json.dumps(report, indent=2, allow_nan=False) + "\n",
        "report.md": render_markdown(report, trials),
        "report.html": render_html(report, trials),
    }
    _write_rendered(out_dir, files)


def read_output(out_dir: Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The report mapping and the trial rows of an output directory.

    Args:
        out_dir: A directory written by ``mcuforge generate``.

    Returns:
        report.json as a mapping, and the rows of trials.csv (strings, as :mod:`csv`
        reads them).

    Raises:
        OutputError: A file is missing or unreadable, or the report is newer than this
            mcuforge.
    """
    report_path, trials_path = out_dir / "report.json", out_dir / "trials.csv"
    for path in (report_path, trials_path):
        if not path.is_file():
            raise OutputError(
                f"{path} not found: {out_dir} is not an output directory of "
                "`mcuforge generate` (it writes report.json and trials.csv)"
            )
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise OutputError(f"{report_path}: not valid JSON ({e}); regenerate the output") from e
    if not isinstance(report, dict):
        raise OutputError(f"{report_path}: expected a JSON object; regenerate the output")
    version = report.get("report_version")
    if not isinstance(version, int) or version < 1:
        raise OutputError(f"{report_path}: no valid report_version; regenerate the output")
    if version > REPORT_VERSION:
        raise OutputError(
            f"{report_path}: report_version {version} was written by a newer mcuforge "
            f"(this one reads up to {REPORT_VERSION}); upgrade mcuforge to re-render it"
        )
    if version == REPORT_VERSION:  # older versions: read as they are
        import pydantic

        try:
            validate_report(report)
        except pydantic.ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(k) for k in first["loc"]) or "(top level)"
            raise OutputError(
                f"{report_path}: {where}: {first['msg']} ({e.error_count()} problem(s) in "
                "all); the file was edited or damaged: regenerate the output"
            ) from None
    with trials_path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and "trial" not in rows[0]:
        raise OutputError(f"{trials_path}: no 'trial' column; regenerate the output")
    return report, rows


def rerender(out_dir: Path) -> None:
    """Render report.md and report.html again from report.json and trials.csv.

    For ``mcuforge report OUTPUT_DIR``: after an upgrade of mcuforge, or to restore a
    deleted page. The result is byte-identical to what :func:`write_reports` wrote for
    the same report and trials.

    Args:
        out_dir: A directory written by ``mcuforge generate``.

    Raises:
        OutputError: See :func:`read_output`.
    """
    report, rows = read_output(out_dir)
    files = {"report.md": render_markdown(report, rows), "report.html": render_html(report, rows)}
    _write_rendered(out_dir, files)


__all__ = ["REPORT_FILES", "REPORT_VERSION", "read_output", "rerender", "write_reports"]
