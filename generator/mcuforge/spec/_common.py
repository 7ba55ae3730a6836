"""Shared pieces of the spec models: strict base, C identifier rules, core names."""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

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

    @field_validator("*", mode="before")
    @classmethod
    def _as_written(cls, value: Any, info: ValidationInfo) -> Any:
        """A number is a number and a flag is true/false, as the JSON Schema says:
        pydantic's lax mode took ``trials: true`` as 1 trial, ``seed: false`` as 0 and
        ``trials: "6"`` as 6 (fields with their own parser, such as durations, excepted)."""
        field = cls.model_fields.get(info.field_name or "")
        if field is None or any(isinstance(m, BeforeValidator) for m in field.metadata):
            return value
        _check_written(value, field.annotation)
        return value


def _check_written(value: Any, annotation: Any) -> None:
    """Raise when ``value`` is not written as ``annotation`` asks for a number or a flag,
    also inside lists, pairs and mappings (``ranges: {x: ["-1", 1]}``)."""
    kinds = _plain_kinds(annotation)
    if kinds and kinds <= {int, float} and isinstance(value, bool):
        raise ValueError("Input should be a valid number, not true/false")
    if kinds and kinds <= {int, float} and isinstance(value, str):
        try:
            float(value)
            fix = "remove the quotes"
        except ValueError:
            fix = "write a plain number; the unit is in the field name (e.g. `sram_kb: 32`)"
        raise ValueError(f"Input should be a valid number, not the text {value!r}; {fix}")
    if kinds == {bool} and not isinstance(value, bool):
        raise ValueError(f"Input should be true or false, not {value!r}")
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (list, tuple) and isinstance(value, (list, tuple)) and args:
        items = args if origin is tuple and Ellipsis not in args else (args[0],) * len(value)
        for i, (item, kind) in enumerate(zip(value, items, strict=False)):
            _inside(f"item {i + 1}", item, kind)
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            _inside(f"{key!s}", item, args[1])


def _inside(where: str, value: Any, annotation: Any) -> None:
    try:
        _check_written(value, annotation)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def _plain_kinds(annotation: Any) -> set[Any]:
    """The types of a field written ``int``, ``float``, ``bool`` or one of them ``| None``
    (empty for any other annotation)."""
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = {a for a in get_args(annotation) if a is not type(None)}
    else:
        kinds = {annotation}
    return kinds if kinds and kinds <= {int, float, bool} else set()


class Power(Strict):
    """A part's datasheet figures for the energy of one inference: the run-mode current
    (per MHz, or at one clock) and the supply voltage it is given at.

    The energy mcuforge reports is ``time x current x voltage``: an estimate from typical
    datasheet figures (code running from flash, peripherals off), not a measurement.
    """

    supply_v: float = Field(gt=0, le=12, description="Supply voltage the current is given at, V.")
    active_ua_per_mhz: float | None = Field(
        default=None, gt=0, description="Run-mode current per MHz of core clock, uA/MHz."
    )
    run_ma: float | None = Field(
        default=None, gt=0, description="Run-mode current at `run_mhz`, mA (instead of per MHz)."
    )
    run_mhz: float | None = Field(default=None, gt=0, description="Core clock of `run_ma`, MHz.")
    datasheet: str = Field(
        min_length=1, description="The document and table the figures come from, and conditions."
    )

    @model_validator(mode="after")
    def _one_current(self) -> Power:
        per_mhz = self.active_ua_per_mhz is not None
        at_clock = self.run_ma is not None or self.run_mhz is not None
        if per_mhz == at_clock or (at_clock and (self.run_ma is None or self.run_mhz is None)):
            raise ValueError("give either active_ua_per_mhz, or run_ma with run_mhz")
        return self

    def current_ma(self, clock_mhz: float) -> float:
        """Run-mode current at ``clock_mhz``, mA (a current given at another clock is
        scaled in proportion: dynamic current dominates in run mode)."""
        if self.active_ua_per_mhz is not None:
            return self.active_ua_per_mhz * clock_mhz / 1000.0
        assert self.run_ma is not None and self.run_mhz is not None
        return self.run_ma * clock_mhz / self.run_mhz

    def energy_uj(self, latency_ms: float, clock_mhz: float) -> float:
        """Energy of ``latency_ms`` of run mode at ``clock_mhz``, uJ (ms x mA x V)."""
        return latency_ms * self.current_ma(clock_mhz) * self.supply_v


def check_c_prefix(value: str) -> str:
    """Validate a C identifier prefix: letters, digits, underscore; not reserved."""
    if not _C_IDENT.fullmatch(value):  # match: `$` also before a final newline
        raise ValueError(
            f"{value!r} is not a valid C identifier prefix; use letters, digits and "
            "underscores, starting with a letter (e.g. wrist_activity)"
        )
    if value in C_RESERVED or value.startswith("_"):
        raise ValueError(
            f"{value!r} is reserved in C (keywords, main, names starting with _); pick another name"
        )
    if value.lower() == "mcuforge" or value.lower().startswith("mcuforge_"):
        raise ValueError(
            f"{value!r} clashes with the firmware runtime's own names (mcuforge_*, "
            "MCUFORGE_*); pick another name, e.g. my_model"
        )
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
