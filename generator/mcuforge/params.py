"""Typed parameters: what a feature block, a model family or the augmentation accepts.

Each declares its parameters as a :class:`Params` model (pydantic): every key with its
type, default, static range and a one-line description. Unknown keys are refused
(``extra="forbid"``) and values are taken as given (``strict``: ``"3"`` is not 3, ``1``
is not ``true``), so a misspelt recipe key or a value of the wrong kind is an error,
never a silently ignored default. Checks that depend on the data (the window length,
the sample rate) stay with the block that knows them.

:meth:`Params.read` validates a mapping into the model and raises :class:`ParamError`
with one line per bad key, named ``owner.key`` (``random_forest.max_depth must be >= 1,
got 0``; ``random_forest has no parameter 'n_estimator'; did you mean 'n_estimators'?``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from types import UnionType
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from .errors import CatalogError


class ParamError(CatalogError, ValueError):
    """A parameter of a feature block, model family or the augmentation is unknown, or
    its value has the wrong type or lies outside its range."""


class Params(BaseModel):
    """Base of every parameter model: unknown keys refused, values taken as given."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    @classmethod
    def read(cls, raw: Mapping[str, Any], owner: str) -> Self:
        """``raw`` validated into this model.

        Raises:
            ParamError: naming ``owner.key`` and what would fix it, one line per key.
        """
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as exc:
            raise ParamError(
                "; ".join(messages(cls, exc.errors(include_url=False), owner))
            ) from None


def unknown_message(owner: str, key: str, known: Iterable[str], what: str = "parameter") -> str:
    """``owner has no parameter 'key'; did you mean 'x'?`` (or the known names)."""
    names = sorted(known)
    close = difflib.get_close_matches(key, names, n=1)
    if close:
        hint = f"did you mean {close[0]!r}?"
    elif names:
        hint = f"its {what}s are {', '.join(names)}"
    else:
        hint = f"it has no {what}s"
    return f"{owner} has no {what} {key!r}; {hint}"


def check_subset(value: list[str], options: Sequence[str]) -> list[str]:
    """A non-empty subset of ``options`` in their canonical order (a field validator)."""
    unknown = [s for s in value if s not in options]
    if unknown or not value:
        raise ValueError(
            f"must be a non-empty subset of [{', '.join(options)}]"
            + (f"; unknown: {', '.join(map(str, unknown))}" if unknown else "")
        )
    return [s for s in options if s in value]


def _number(v: object) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def span(metadata: Iterable[object]) -> str:
    """The static range in a field's ``metadata`` (``in [1, 64]``, ``>= 0``, ``in (0, 1]``),
    or ``""``."""
    lo = hi = ""
    lo_val: object = None
    hi_val: object = None
    for m in metadata:
        if isinstance(m, at.Ge):
            lo, lo_val = "[", m.ge
        elif isinstance(m, at.Gt):
            lo, lo_val = "(", m.gt
        elif isinstance(m, at.Le):
            hi, hi_val = "]", m.le
        elif isinstance(m, at.Lt):
            hi, hi_val = ")", m.lt
    if lo and hi:
        return f"in {lo}{_number(lo_val)}, {_number(hi_val)}{hi}"
    if lo:
        return f"{'>=' if lo == '[' else '>'} {_number(lo_val)}"
    if hi:
        return f"{'<=' if hi == ']' else '<'} {_number(hi_val)}"
    return ""


_KINDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "none_required": "null",
}
_BOUNDS = {
    "greater_than_equal": ">=",
    "greater_than": ">",
    "less_than_equal": "<=",
    "less_than": "<",
}


def _expected(err: ErrorDetails, field: FieldInfo | None) -> str:
    """What the value should have been, as a phrase (``one of a, b``, ``>= 1``)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _BOUNDS:
        whole = span(field.metadata) if field is not None else ""
        bound = next(iter(ctx.values()), "?")
        return whole or f"{_BOUNDS[kind]} {_number(bound)}"
    if kind == "literal_error":
        options = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"one of {options}"
    return _KINDS.get(kind, str(err["msg"]).removeprefix("Input should be "))


def describe_type(annotation: Any, metadata: Sequence[object] = ()) -> str:
    """What a value of ``annotation`` is, in words (``an integer >= 1``, ``one of a, b``)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        meta = [m for e in extra for m in (e.metadata if isinstance(e, FieldInfo) else [e])]
        return describe_type(base, [*metadata, *meta])
    if origin is Literal:
        return "one of " + ", ".join(map(str, get_args(annotation)))
    if origin in (Union, UnionType):
        return " or ".join(describe_type(a) for a in get_args(annotation))
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "a mapping"
    words = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    word = words.get(annotation, "a list" if origin is list else str(annotation))
    rng = span(metadata)
    return f"{word} {rng}" if rng else word


def _walk(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[list[str], FieldInfo | None]:
    """The document path of an error location (union tags dropped) and its leaf field."""
    path: list[str] = []
    current: type[BaseModel] | None = model
    field: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            path.append(f"[{part}]")
            field = None
        elif current is not None and part in current.model_fields:
            field = current.model_fields[part]
            path.append(f".{part}" if path else part)
            current = _submodel(field.annotation)
        elif current is not None:  # an unknown key (union member tags have no model)
            path.append(f".{part}" if path else part)
    return path, field


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``Model | None`` included), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        sub = _submodel(arg)
        if sub is not None:
            return sub
    return None


def messages(model: type[BaseModel], errors: list[ErrorDetails], owner: str) -> list[str]:
    """One line per bad key of ``model``'s validation ``errors``."""
    by_key: dict[str, list[ErrorDetails]] = {}
    for err in errors:
        path, _ = _walk(model, err["loc"])
        by_key.setdefault("".join(path), []).append(err)
    out: list[str] = []
    for key, errs in by_key.items():
        first = errs[0]
        if first["type"] == "extra_forbidden":
            parent, _, name = key.rpartition(".")
            sub = _submodel(model.model_fields[parent].annotation) if parent else model
            known = list(sub.model_fields) if sub is not None else []
            where = f"{owner}.{parent}" if parent else owner
            what = "key" if parent else "parameter"
            out.append(unknown_message(where, name, known, what))
            continue
        if first["type"] == "missing":
            out.append(f"{owner}.{key} is required")
            continue
        if first["type"] == "value_error":
            out.append(f"{owner}.{key} {str(first['msg']).removeprefix('Value error, ')}")
            continue
        _, field = _walk(model, first["loc"])
        if len(errs) > 1 and field is not None:  # a union: say what each member takes
            expected = describe_type(field.annotation, field.metadata)
        else:
            expected = _expected(first, field)
        out.append(f"{owner}.{key} must be {expected}, got {first['input']!r}")
    return out


__all__ = [
    "ParamError",
    "Params",
    "check_subset",
    "describe_type",
    "messages",
    "span",
    "unknown_message",
]
