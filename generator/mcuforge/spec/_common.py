"""Shared pieces of the spec models: strict base, C identifier rules, core names."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

C_RESERVED = frozenset(
    """auto break case char const continue default do double else enum extern float for
    goto if inline int long register restrict return short signed sizeof static struct
    switch typedef union unsigned void volatile while _Bool _Complex _Imaginary main""".split()
)
_C_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

CoreName = Literal[
    "avr",
    "cortex-m0",
    "cortex-m0plus",
    "cortex-m3",
    "cortex-m4",
    "cortex-m4f",
    "cortex-m7",
    "cortex-m33",
    "xtensa-lx6",
    "xtensa-lx7",
    "rv32imc",
    "rv32imac",
]


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
