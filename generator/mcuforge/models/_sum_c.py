"""The C of summed trees, in their two layouts (see :mod:`.tree_sums`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..codegen.c import c_array, c_float, c_literal, smallest_int_type
from ._inline import bits_helper, emit_trees

if TYPE_CHECKING:
    from .tree_sums import TreeSum


def _literal(model: TreeSum, v: float | int) -> str:
    return c_literal(int(v), "int32_t") if model.int_values else c_float(float(v))


def emit_table(model: TreeSum, p: str) -> list[str]:
    P, n = p.upper(), model.nodes
    acc_t = model._acc_type()
    leaf_t = "int16_t" if model.int_values else "float"
    parts = [
        *n.emit_arrays(p),
        c_array(f"{p}_leaf_value", leaf_t, model.leaf_value.tolist()),
        c_array(f"{p}_init", acc_t, model.init.tolist()),
    ]
    multi = model.n_outputs > 1
    if multi:
        out_t = smallest_int_type(0, model.n_outputs - 1)
        parts.append(c_array(f"{p}_tree_output", out_t, model.tree_output.tolist()))
    target = f"acc[{p}_tree_output[t]]" if multi else "acc[0]"
    body = [
        f"static int {p}_infer(const float *f, float *out)",
        "{",
        f"    {acc_t} acc[{P}_N_SCORES];",
        "    int t, c;",
        *_result_decl(model),
        *n.emit_prologue(p),
        f"    for (c = 0; c < {P}_N_SCORES; ++c) {{ acc[c] = {p}_init[c]; }}",
        f"    for (t = 0; t < {P}_N_TREES; ++t) {{",
        *n.emit_walk(p),
        f"        {target} += {p}_leaf_value[-(n + 1)];",
        "    }",
        *_emit_result(model, [f"acc[{c}]" for c in range(model.n_outputs)]),
        "}",
    ]
    return [*parts, "\n".join(body)]


def emit_inline(model: TreeSum, p: str) -> list[str]:
    n = model.nodes
    acc_t = model._acc_type()
    acc = [f"a{c}" for c in range(model.n_outputs)]
    init = ", ".join(f"{a} = {_literal(model, v)}" for a, v in zip(acc, model.init, strict=True))

    def leaf(tree: int, index: int) -> list[str]:
        target = acc[int(model.tree_output[tree])]
        return [f"{target} += {_literal(model, model.leaf_value[index])};"]

    body = [
        f"static int {p}_infer(const float *f, float *out)",
        "{",
        "    /* sums per output, leaf values added in tree order */",
        f"    {acc_t} {init};",
        *_result_decl(model),
        *n.emit_prologue(p),
        *emit_trees(n, p, leaf),
        *_emit_result(model, acc),
        "}",
    ]
    helper = [bits_helper(p)] if n.quant is None else [n.quant.emit_c(p)]
    return [*helper, "\n".join(body)]


def _emit_result(model: TreeSum, acc: list[str]) -> list[str]:
    """``out`` from the sums, then the task's return value."""
    conv = "(float)" if model.int_values else ""
    scale = c_float(float(model.post_scale))
    lines = [f"    out[{c}] = {conv}{a} * {scale};" for c, a in enumerate(acc)]
    if model.task == "classification":
        lines += [f"    top = {acc[0]};"]
        lines += [
            f"    if ({a} > top) {{ top = {a}; best = {c}; }}" for c, a in enumerate(acc) if c > 0
        ]
        return [*lines, "    return best;"]
    if model.task == "anomaly":
        assert model.threshold is not None
        return [*lines, f"    return out[0] > {c_float(float(model.threshold))} ? 1 : 0;"]
    return [*lines, "    return 0;"]


def _result_decl(model: TreeSum) -> list[str]:
    if model.task != "classification":
        return []
    return [f"    {model._acc_type()} top;", "    int best = 0;"]
