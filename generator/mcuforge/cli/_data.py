"""``mcuforge data check``: the data checks of a spec, as a table or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ._base import EXIT_USAGE, json_option


@click.group()
def data() -> None:
    """Your recordings, before a search."""


@data.command("check")
@click.argument("spec", type=click.Path(path_type=Path))
@json_option
@click.option("--all", "show_all", is_flag=True, help="Every finding (default: 10 of a kind).")
def check(spec: Path, as_json: bool, show_all: bool) -> None:
    """Check the data of SPEC: what each class and split holds, and every problem.

    \b
    Errors (exit 2): unreadable files, cells that are not finite numbers, too many
    recordings shorter than the window, the same recording in train and test.
    Warnings: recordings shorter than the window, constant channels, values outside
    the unit's range, gaps, jitter or another rate in a time column, duplicates,
    classes with few recordings, imbalance, subjects on both sides.
    Thresholds: `data.checks` in the spec.

    \b
    Example:
      mcuforge data check spec.yaml --json
    """
    from ..data import Finding, check_json, report_lines, survey
    from ..errors import DataError
    from ..spec import load_spec

    loaded = load_spec(spec)
    try:
        s = survey(loaded.spec.data, loaded.base_dir, loaded.spec.task)
    except DataError as exc:
        if not as_json:
            raise
        click.echo(json.dumps(check_json(None, [Finding.of(exc, "data")]), indent=2))
        sys.exit(EXIT_USAGE)
    if as_json:
        click.echo(json.dumps(s.json(), indent=2))
    else:
        if s.summary is not None:
            click.echo("\n".join(s.summary.lines()))
            click.echo("")
            click.echo("\n".join(s.summary.table()))
            click.echo("")
        lines = report_lines(s.findings, limit=10**9 if show_all else 10, infos=True)
        if lines:
            click.echo("\n".join(lines))
            click.echo("")
        counts = {k: sum(f.severity == k for f in s.findings) for k in ("error", "warning", "info")}
        click.echo(
            f"{counts['error']} error{'s' if counts['error'] != 1 else ''}, "
            f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}, "
            f"{counts['info']} note{'s' if counts['info'] != 1 else ''}"
        )
    if s.errors:
        sys.exit(EXIT_USAGE)
