"""The click group, shared options and output helpers."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .._version import __version__
from ..errors import McuforgeError

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BUDGET = 0, 1, 2, 3


def color() -> bool:
    """Colour only on a terminal and when NO_COLOR is unset."""
    return sys.stderr.isatty() and "NO_COLOR" not in os.environ


#: ``ctx.meta`` key set by :data:`json_option`: errors are printed as JSON on stdout.
JSON_META = "mcuforge.json"


def json_errors(records: list[dict[str, object]]) -> None:
    """``{"ok": false, "errors": [...]}`` on stdout: what every ``--json`` prints on failure."""
    click.echo(json.dumps({"ok": False, "errors": records}, indent=2))


def _remember_json(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta[JSON_META] = True
    return value


#: ``--json``: machine-readable output on stdout, errors included (logs stay on stderr).
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    callback=_remember_json,
    help='Machine-readable output on stdout (errors too: {"ok": false, "errors": [...]}).',
)


class Group(click.Group):
    """Turns every :class:`McuforgeError` into its message and exit code (with ``--json``,
    into ``{"ok": false, "errors": [...]}`` on stdout as well)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except McuforgeError as exc:
            if ctx.meta.get(JSON_META):
                json_errors(exc.records())
            text = str(exc)
            prefix = click.style("error:", fg="red", bold=True) if color() else "error:"
            # located problems, one a line: each is an error (an indented line continues
            # the one above); other text: one error
            lines = text.splitlines() if exc.problems else [text]
            click.echo(
                "\n".join(ln if ln[:1].isspace() else f"{prefix} {ln}" for ln in lines or [""]),
                err=True,
            )
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            from .._stop import Terminated

            if sys.stderr.isatty():
                click.echo("", err=True)  # end a progress bar's line
            term = isinstance(exc, Terminated)
            why = (
                f"{'terminated (SIGTERM)' if term else 'interrupted'}: no output was written; "
                "the finished search trials are kept and the next run resumes the study (a "
                "trial cut short runs again)"
            )
            if ctx.meta.get(JSON_META):
                json_errors([{"file": "", "line": None, "col": None, "field": "", "message": why}])
            click.echo(why, err=True)
            sys.exit(143 if term else 130)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mcuforge")
def cli() -> None:
    """mcuforge: from a YAML spec to measured C firmware for a microcontroller.

    \b
    Examples:
      mcuforge init data/ > spec.yaml          # a starter spec from your CSV files
      mcuforge validate spec.yaml
      mcuforge explain spec.yaml               # which recipes, and why
      mcuforge generate spec.yaml --force      # search, C, parity, measure, firmware
      mcuforge targets list

    \b
    Exit codes: 0 ok, 1 failure (toolchain, parity, device), 2 usage or spec, catalog,
    data or lock error, 3 no candidate fits the budgets (or task.min_score is missed).
    """


def catalogs_of(values: tuple[Path, ...]) -> list[Path]:
    return [Path(v) for v in values]


catalog_option = click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder of your own recipes/targets layered over the built-in catalog (repeatable).",
)


def logger(quiet: bool, verbose: bool = False) -> Callable[[str], None]:
    def log(msg: str) -> None:
        if not quiet:
            click.echo(msg, err=True)

    return log


class DurationType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """A duration such as ``5m``, ``90s``, ``1h30m`` or a number of seconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        from ..spec import parse_duration

        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


time_budget_option = click.option(
    "--time-budget",
    "time_budget",
    type=DurationType(),
    default=None,
    help="Wall time of the search, e.g. 5m or 90s (overrides search.time_budget; with "
    "--trials too, the first reached ends the search).",
)
