"""Operator lowering: one handler per TFLite builtin, keyed by name.

A handler checks that it can generate an operator (returning the reasons it cannot)
and lowers it to a :class:`Lowered`: the kernels and constants it needs, its scratch
memory, its cost, and a function that writes the C statement once the memory plan
has given every tensor an address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..c import c_array
from ._graph import Graph, Op, Tensor

#: How a handler's output relates to its input buffer.
VIEW = "view"  # same bytes, new shape (RESHAPE, SQUEEZE, EXPAND_DIMS)
INPLACE = "inplace"  # elementwise: may overwrite its input when nothing reads it later


@dataclass
class Lowered:
    """What one operator becomes in C."""

    kernels: tuple[str, ...] = ()
    consts: list[str] = field(default_factory=list)
    scratch: int = 0
    alias: str | None = None
    macs: int = 0
    params: int = 0
    const_bytes: int = 0
    #: runs the im2col copies per output pixel (convolutions; the cost model's input)
    segments: float = 0.0
    #: (addresses of tensors by index, scratch address) -> C statements
    call: Callable[[dict[int, str], str], str] = lambda addr, scratch: ""


@dataclass
class Handler:
    """Checks and lowers one builtin operator."""

    check: Callable[[Graph, Op], list[str]]
    #: (graph, op, prefix, reference) -> Lowered; reference is "litert" or "tflm"
    lower: Callable[[Graph, Op, str, str], Lowered]


def const_array(name: str, ctype: str, values: np.ndarray, align: str = "") -> str:
    """A ``static const`` array (at least one element), optionally aligned."""
    vals = [int(v) for v in np.asarray(values).reshape(-1)] or [0]
    text = c_array(name, ctype, vals, per_line=16)
    if align:
        text = text.replace(f"{name}[{len(vals)}] =", f"{name}[{len(vals)}] {align} =", 1)
    return text


def quant_problems(graph: Graph, op: Op, acts: list[int], outs: list[int]) -> list[str]:
    """Problems with the activation tensors of an op: int8, per-tensor quantised."""
    problems = []
    for i in acts + outs:
        t = graph.tensor(i)
        if t.dtype != "int8":
            problems.append(f"{t.dtype} tensor {t.name!r} (only int8 activations)")
        elif len(t.scale) != 1:
            problems.append(f"tensor {t.name!r} is not per-tensor quantised")
        elif t.data is not None:
            problems.append(f"constant input {t.name!r} (activations must be computed)")
    return problems


def nhwc(t: Tensor) -> tuple[int, int, int, int]:
    """A 4-D activation shape as (batch, height, width, channels)."""
    s = t.shape
    if len(s) != 4:
        raise ValueError(f"tensor {t.name!r} has shape {s}; expected 4-D NHWC")
    return s[0], s[1], s[2], s[3]


def same_padding(
    padding: int, stride: int, dilation: int, in_size: int, k: int, out_size: int
) -> int:
    """TFLite ``ComputePaddingHeightWidth``: leading pad (0 for VALID)."""
    if padding != 0:  # Padding.VALID
        return 0
    eff = (k - 1) * dilation + 1
    total = (out_size - 1) * stride + eff - in_size
    return max(total, 0) // 2


def merge(*tables: dict[str, Handler]) -> dict[str, Handler]:
    """One table of handlers from several; a name is never defined twice."""
    out: dict[str, Handler] = {}
    for table in tables:
        for name, handler in table.items():
            if name in out:
                raise ValueError(f"op handler {name!r} defined twice")
            out[name] = handler
    return out
