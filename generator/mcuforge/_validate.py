"""Turn pydantic validation errors into located, actionable messages."""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ._yaml import Marks, locate
from .errors import Located

M = TypeVar("M", bound=BaseModel)

#: Keys an earlier spec format had, and what replaced them.
RENAMED = {"timeout_min": "time_budget"}

_HINTS = {
    "float_parsing": "write a plain number; the unit is in the field name (e.g. `sram_kb: 32`)",
    "int_parsing": "write a whole number",
    "missing": "add this field",
}


def _members(annotation: Any) -> list[Any]:
    """Flatten Optional/Union/Annotated/list into the candidate types inside."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_members(arg))
        return out
    if origin in (list, tuple, dict):
        out = []
        for arg in typing.get_args(annotation):
            out.extend(_members(arg))
        return out
    return [annotation]


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def allowed_keys(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The field names allowed at ``loc`` (the mapping that holds the last element)."""
    current: list[type[BaseModel]] = [model]
    for part in loc[:-1]:
        nxt: list[type[BaseModel]] = []
        for m in current:
            fields = {f.alias or n: f for n, f in m.model_fields.items()}
            if isinstance(part, str) and part in fields:
                nxt.extend(
                    t
                    for t in _members(fields[part].annotation)
                    if isinstance(t, type) and issubclass(t, BaseModel)
                )
        if nxt:
            current = nxt
        # otherwise: a list index or a union tag, which does not change the model
    names: list[str] = []
    for m in current:
        names.extend(n for n in _field_names(m) if n not in names)
    return names


def validate_located(
    model: type[M], data: Any, marks: Marks, file: str
) -> tuple[M | None, list[Located]]:
    """Validate ``data`` as ``model``; return the model or the located problems."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, to_located(exc, model, marks, file)


def to_located(
    exc: ValidationError, model: type[BaseModel], marks: Marks, file: str
) -> list[Located]:
    """Convert each pydantic error into a :class:`Located` problem."""
    problems: list[Located] = []
    seen: set[tuple[Any, ...]] = set()
    errors = exc.errors(include_url=False)
    # a misspelt key also makes the field it stands for missing: report the typo only
    typos = {
        (tuple(e["loc"][:-1]), close[0])
        for e in errors
        if e["type"] == "extra_forbidden"
        and (close := _suggest(str(e["loc"][-1]), allowed_keys(model, tuple(e["loc"]))))
    }
    for err in errors:
        loc = tuple(err["loc"])
        doc_loc = _doc_path(marks, loc)
        kind = err["type"]
        msg = str(err["msg"])
        if kind == "missing" and (loc[:-1], loc[-1]) in typos:
            continue
        if kind == "extra_forbidden":
            key = str(loc[-1])
            choices = allowed_keys(model, loc)
            close = [RENAMED[key]] if key in RENAMED else _suggest(key, choices)
            msg = f"unknown key {key!r}"
            msg += (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; allowed keys: {', '.join(choices)}"
            )
            line, col = locate(marks, loc, key=True)
        else:
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            hint = _HINTS.get(kind)
            if kind != "missing" and "input" in err and not isinstance(err["input"], dict | list):
                msg += f" (got {_shown(err['input'])})"
            if kind == "literal_error" and isinstance(err.get("input"), str):
                options = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
                close = difflib.get_close_matches(err["input"], options, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else hint
            if hint:
                msg += f"; {hint}"
            line, col = locate(marks, loc)
        field = ".".join(str(p) for p in doc_loc)
        dedup = (line, col, field, msg)
        if dedup in seen:
            continue
        seen.add(dedup)
        problems.append(Located(file, line, col, field, msg))
    return problems


def _suggest(name: str, choices: list[str]) -> list[str]:
    return difflib.get_close_matches(name, choices, n=1, cutoff=0.6)


def _shown(value: Any) -> str:
    """A value for a message: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _doc_path(marks: Marks, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` without the parts that are not in the document (pydantic's union tags).

    The last part is kept even when absent: it is the name of a missing field.
    """
    path: tuple[Any, ...] = ()
    for i, part in enumerate(loc):
        if (*path, part) in marks or i == len(loc) - 1:
            path = (*path, part)
    return path
