"""Small helpers for writing C99: literals, arrays, integer types, and user text.

Every string that comes from the user (spec, catalogs, data: names, channels, units,
labels, paths) and lands in generated C goes through one of three functions here:

* :func:`c_string`: the text as a C string literal. Every byte outside printable ASCII is
  an octal escape (``\\ooo``: at most three digits, so the next character can never be
  read as part of it), ``"`` and ``\\`` are escaped, and every ``?`` is ``\\?`` so no
  trigraph (``??/``, ``??=``) can form. The literal holds the text's exact UTF-8 bytes.
* :func:`c_comment`: the text for the inside of a comment, on one line: printable ASCII
  kept, everything else (control bytes, newlines, backslashes, non-ASCII, bidirectional
  overrides) written as ``\\xNN`` / ``\\uNNNN`` / ``\\UNNNNNNNN`` (readable, inert in a
  comment); ``*/`` and ``/*`` are broken, a ``/`` or ``*`` at either end is escaped (the
  template's own ``*`` or ``/`` may touch it), and ``??`` is broken.
* :func:`c_identifier`: refuses a name that is not a safe C identifier prefix.

The templates use the same functions as Jinja filters (``| c_string``, ``| c_comment``;
see :mod:`mcuforge.scaffold`), so there is one escaping path for all generated C.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import OutputError
from ..spec import check_c_prefix

#: ISO C99 5.2.4.1: a compiler need not accept a string literal longer than this (bytes,
#: after concatenation); ``-pedantic`` warns above it.
C99_MAX_STRING_BYTES = 4095
_PLAIN = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\"), ord("?")}


def c_string(text: str, what: str = "text") -> str:
    """``text`` as a C99 string literal holding its exact UTF-8 bytes (see the module doc).

    Raises:
        OutputError: the text is longer than a C99 compiler must accept.
    """
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > C99_MAX_STRING_BYTES:
        raise OutputError(
            f"{what} {text[:40]!r}... is {len(data)} bytes long; C99 compilers need "
            f"string literals of at most {C99_MAX_STRING_BYTES} bytes: shorten it"
        )
    out = []
    for b in data:
        if b in _PLAIN:
            out.append(chr(b))
        elif b in (0x22, 0x5C, 0x3F):
            out.append("\\" + chr(b))
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def _escape_char(ch: str) -> str:
    o = ord(ch)
    if o < 0x80:
        return f"\\x{o:02x}"
    if o <= 0xFFFF:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def c_comment(text: str) -> str:
    """``text`` made inert inside a C comment (``/* ... */`` or ``//``), on one line."""
    out = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        o = ord(ch)
        prev = text[i - 1] if i else ""
        nxt = text[i + 1] if i < last else ""
        unsafe = (
            not 0x20 <= o < 0x7F
            or ch == "\\"
            or (ch == "/" and (prev == "*" or nxt == "*" or i in (0, last)))
            or (ch == "*" and i in (0, last))
            or (ch == "?" and nxt == "?")
        )
        out.append(_escape_char(ch) if unsafe else ch)
    return "".join(out)


def c_identifier(name: str, what: str = "name") -> str:
    """``name`` when it is a safe C identifier prefix (the spec's rules), else an error.

    Raises:
        OutputError: not letters, digits and underscores starting with a letter, reserved
            in C, or too long.
    """
    try:
        return check_c_prefix(name)
    except ValueError as exc:
        raise OutputError(f"{what}: {exc}") from None


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
