"""Trees as code: every decision node a C ``if``, every leaf the statements it runs.

The ``inline`` layout of the tree models (``layout: inline``) writes each tree as
nested ``if``/``else`` in one function, the form emlearn calls "inline": a node is a
load of the feature, a compare with a constant and a branch, and no memory is read to
find the next node. Trees follow each other in order, so a leaf's statement (add a
vote, add a leaf value) runs in tree order, as the Python reference adds them.

Decisions are those of :mod:`._flat`: with float32 thresholds the feature's bits are
compared as integers, signed when the threshold is ``>= 0`` and unsigned (``>=``)
when it is negative, which orders floats exactly as ``x <= t`` does; with int16
thresholds the quantised codes ``q`` are compared.

Nesting is bounded: C99 guarantees 127 levels of nested blocks, so trees deeper than
:data:`INLINE_MAX_DEPTH` are refused here and the families fall back to the table.
"""

from __future__ import annotations

from collections.abc import Callable

from ..codegen.c import c_float, c_literal
from ._flat import Nodes, float_bits

LAYOUTS = ("inline", "table")

#: Deepest tree written as nested ``if``/``else`` (C99 guarantees 127 nesting levels).
INLINE_MAX_DEPTH = 60
#: Analytic instruction counts of the inline layout (arm-none-eabi-gcc 12.2 -Os,
#: counted in unicorn on Cortex-M4F and Cortex-M0+ on forests of bench/peers.py):
#: per decision on the path (load the feature, load the threshold, compare, branch)
#: and per leaf reached (its statement and the branch to the next tree).
INLINE_NODE_INSTR = 4.0
INLINE_LEAF_INSTR = 1.5
#: Flash of one decision node (ldr, ldr literal, cmp, branch: 8 bytes of Thumb code and
#: a 4-byte literal, more for long branches and for the paths the compiler duplicates
#: when an earlier decision already fixes a later one; measured 14-19 bytes) and of a
#: leaf's branch to the end of its tree, without its statements.
INLINE_NODE_BYTES = 14.0
INLINE_LEAF_BYTES = 1.0


def resolve_layout(layout: str, nodes: Nodes | None = None) -> str:
    """The ``layout`` parameter; ``inline`` falls back to ``table`` for trees too deep
    to nest in C (see :data:`INLINE_MAX_DEPTH`)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}; got {layout!r}")
    if layout == "inline" and nodes is not None and not inline_possible(nodes):
        return "table"
    return layout


def inline_possible(nodes: Nodes) -> bool:
    """Whether every tree is shallow enough to be written as nested ``if``/``else``."""
    return nodes.max_depth() <= INLINE_MAX_DEPTH


def bits_helper(p: str) -> str:
    """``{p}_bits(v)``: the bits of a float as int32, through a union (no aliasing)."""
    return "\n".join(
        [
            f"static int32_t {p}_bits(float v)",
            "{",
            "    union { float f; int32_t i; } u;",
            "    u.f = v;",
            "    return u.i;",
            "}",
        ]
    )


def condition(nodes: Nodes, n: int, p: str) -> str:
    """The C condition that sends node ``n`` to its left child."""
    f = int(nodes.feature[n])
    if nodes.quant is not None:
        return f"q[{f}] <= {int(nodes.threshold[n])}"
    b = int(float_bits(nodes.threshold[n : n + 1])[0])
    if b >= 0:
        return f"{p}_bits(f[{f}]) <= {c_literal(b, 'int32_t')}"
    return f"(uint32_t){p}_bits(f[{f}]) >= {c_literal(b & 0xFFFFFFFF, 'uint32_t')}"


def _readable(nodes: Nodes, n: int) -> str:
    """The decision as a comment, for a reader of the float-bits comparison."""
    if nodes.quant is not None:
        return ""
    return f"  /* f[{int(nodes.feature[n])}] <= {c_float(float(nodes.threshold[n]))} */"


def emit_trees(
    nodes: Nodes, p: str, leaf_code: Callable[[int, int], list[str]], indent: str = "    "
) -> list[str]:
    """Lines of every tree in order; ``leaf_code(tree, leaf)`` gives a leaf's statements."""
    if not inline_possible(nodes):
        raise ValueError(f"trees {nodes.max_depth()} deep cannot be nested in C; use layout: table")
    lines: list[str] = []

    def walk(tree: int, node: int, pad: str) -> None:
        if node < 0:
            lines.extend(pad + s for s in leaf_code(tree, -node - 1))
            return
        lines.append(f"{pad}if ({condition(nodes, node, p)}) {{{_readable(nodes, node)}")
        walk(tree, int(nodes.left[node]), pad + "    ")
        lines.append(f"{pad}}} else {{")
        walk(tree, int(nodes.right[node]), pad + "    ")
        lines.append(f"{pad}}}")

    for t, root in enumerate(nodes.roots):
        lines.append(f"{indent}/* tree {t} */")
        walk(t, int(root), indent)
    return lines


def inline_instructions(nodes: Nodes, leaf_instr: float) -> float:
    """Expected instructions of the trees themselves: decisions on the path and the
    statements (``leaf_instr`` on average) of each tree's leaf."""
    return nodes.visited_nodes() * INLINE_NODE_INSTR + nodes.n_trees * (
        INLINE_LEAF_INSTR + leaf_instr
    )


def inline_bytes(nodes: Nodes, leaf_bytes: float) -> float:
    """Flash of the trees' code; ``leaf_bytes`` is a leaf's statements on average."""
    return nodes.n_nodes * INLINE_NODE_BYTES + nodes.n_leaves * (INLINE_LEAF_BYTES + leaf_bytes)
