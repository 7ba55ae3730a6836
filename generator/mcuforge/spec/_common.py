"""Shared pieces of the spec models: strict base, C identifier rules, core names."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

C_RESERVED = frozenset(
    """auto break case char const continue default do double else enum extern float for
    goto if inline int long register restrict return short signed sizeof static struct
    switch typedef union unsigned void volatile while _Bool _Complex _Imaginary main""".split()
)
_C_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: A core of the core table (``recipes/cores.yaml``): checked against the catalog, so
#: adding a core is a change to that file, not to code.
CoreName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]


#: Largest seed: every library seeded from it (NumPy, scikit-learn, TensorFlow, Optuna)
#: takes it, also plus a worker's index.
MAX_SEED = 2**31 - 1


class Strict(BaseModel):
    """Base of every spec model: unknown keys are errors; values are immutable and finite."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


def check_c_prefix(value: str) -> str:
    """Validate a C identifier prefix: letters, digits, underscore; not reserved."""
    if not _C_IDENT.match(value):
        raise ValueError(
            f"{value!r} is not a valid C identifier prefix; use letters, digits and "
            "underscores, starting with a letter (e.g. wrist_activity)"
        )
    if value in C_RESERVED or value.startswith("__") or (value[0] == "_" and value[1:2].isupper()):
        raise ValueError(f"{value!r} is reserved in C; pick another name")
    if len(value) > 40:
        raise ValueError(f"{value!r} is longer than 40 characters; C symbols get too long")
    return value


_NUM = r"(\d+(?:\.\d+)?)"
_DURATION = re.compile(rf"^\s*(?:{_NUM}\s*h)?\s*(?:{_NUM}\s*m)?\s*(?:{_NUM}\s*s)?\s*$")

#: The longest duration a spec may give (a week): longer is a typo.
MAX_DURATION_S = 7 * 24 * 3600.0


def parse_duration(value: object) -> float:
    """Seconds from ``90``, ``"90s"``, ``"5m"``, ``"1h30m"`` or ``"2.5m"``.

    Raises:
        ValueError: not a duration, not positive, or longer than a week.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; write e.g. 5m, 90s or 1h30m")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)) and any(m.groups()):
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = 3600 * h + 60 * mi + s
    else:
        raise ValueError(f"{value!r} is not a duration; write e.g. 5m, 90s or 1h30m")
    if not 0 < seconds <= MAX_DURATION_S:
        raise ValueError(f"{value!r}: a duration must be above 0 and at most a week")
    return seconds


#: A duration in the spec: a number of seconds or a string such as ``5m``; held as seconds.
Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {
                    "type": "string",
                    "pattern": r"^\s*(\d+(\.\d+)?\s*h)?\s*(\d+(\.\d+)?\s*m)?"
                    r"\s*(\d+(\.\d+)?\s*s)?\s*$",
                },
            ],
            "examples": ["5m", "90s", "1h30m"],
        }
    ),
]
