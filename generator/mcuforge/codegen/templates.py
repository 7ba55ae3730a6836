"""The C of a whole candidate from Jinja2 templates (``_templates/``, StrictUndefined):
a missing variable is an error, never an empty string. Filters: ``c_string``,
``c_comment`` (the one escaping path, :mod:`.c`) and ``c_float``."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .c import c_comment, c_float, c_literal, c_string

TEMPLATES = Path(__file__).resolve().parent / "_templates"


def c_values(values: Any, ctype: str, inner: int | None = None, per_line: int = 8) -> str:
    """The initializer ``{...}`` of an array of ``ctype`` (2-D rows when ``inner``)."""
    if inner is not None:
        rows = [", ".join(c_literal(v, ctype) for v in row) for row in values]
        return "{\n" + ",\n".join(f"    {{{r}}}" for r in rows) + "\n}"
    items = [c_literal(v, ctype) for v in values]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "{\n    " + ",\n    ".join(lines) + "\n}"


@functools.cache
def c_environment(folder: Path) -> Environment:
    """The Jinja environment of the C templates in ``folder``: a missing variable is an
    error, blocks trim their newlines, nothing is HTML-escaped, and the filters
    ``c_string``/``c_comment`` (the one escaping path) and ``c_float`` are there."""
    env = Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # C, not HTML
    )
    env.filters["c_string"] = c_string
    env.filters["c_comment"] = c_comment
    env.filters["c_float"] = c_float
    return env


def environment() -> Environment:
    return c_environment(TEMPLATES)


def render(name: str, **context: Any) -> str:
    """Render template ``name`` with ``context``."""
    return environment().get_template(name).render(**context)


__all__ = ["TEMPLATES", "c_values", "environment", "render"]
