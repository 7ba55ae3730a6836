"""Small helpers for writing C99: literals, arrays, integer types."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_INT_TYPES = [
    ("int8_t", -(2**7), 2**7 - 1),
    ("uint8_t", 0, 2**8 - 1),
    ("int16_t", -(2**15), 2**15 - 1),
    ("uint16_t", 0, 2**16 - 1),
    ("int32_t", -(2**31), 2**31 - 1),
    ("uint32_t", 0, 2**32 - 1),
]


def smallest_int_type(lo: int, hi: int) -> str:
    """The narrowest ``<stdint.h>`` type holding every value in ``[lo, hi]``."""
    for name, tmin, tmax in _INT_TYPES:
        if tmin <= lo and hi <= tmax:
            return name
    raise ValueError(f"no 32-bit integer type holds [{lo}, {hi}]")


def c_float(value: float) -> str:
    """A float32 literal that round-trips exactly (9 significant digits)."""
    v = np.float32(value)
    if not np.isfinite(v):
        raise ValueError(f"cannot emit non-finite float {value!r}")
    text = f"{float(v):.9g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def c_literal(value: float | int, ctype: str) -> str:
    if ctype == "float":
        return c_float(float(value))
    v = int(value)
    if ctype.startswith("u"):
        return f"{v}u"
    if ctype == "int32_t" and v == -(2**31):
        return "(-2147483647 - 1)"
    return str(v)


def c_array(
    name: str, ctype: str, values: Sequence[object], inner: int | None = None, per_line: int = 8
) -> str:
    """``static const`` array definition, 2-D when ``inner`` is given."""
    if inner is not None:
        rows = [", ".join(c_literal(v, ctype) for v in row) for row in values]  # type: ignore[attr-defined]
        body = ",\n".join(f"    {{{r}}}" for r in rows)
        return f"static const {ctype} {name}[{len(rows)}][{inner}] = {{\n{body}\n}};"
    items = [c_literal(v, ctype) for v in values]  # type: ignore[arg-type]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(items)}] = {{\n    {body}\n}};"
