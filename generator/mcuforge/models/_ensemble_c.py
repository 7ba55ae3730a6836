"""The C of a voting tree ensemble, in its two layouts (see :mod:`.trees`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..codegen.c import c_array
from ._inline import bits_helper, emit_trees

if TYPE_CHECKING:
    from .trees import TreeEnsemble


def _emit_tail(model: TreeEnsemble, score: list[str]) -> list[str]:
    """Scores to ``out`` and the first largest score's index."""
    lines = [f"    out[{c}] = (float){s};" for c, s in enumerate(score)]
    lines.append(f"    top = {score[0]};")
    for c in range(1, model.n_classes):
        lines.append(f"    if ({score[c]} > top) {{ top = {score[c]}; best = {c}; }}")
    return [*lines, "    return best;"]


def emit_inline(model: TreeEnsemble, p: str) -> list[str]:
    quant = model.nodes.quant
    parts = [bits_helper(p)] if quant is None else [quant.emit_c(p)]
    if model.n_trees == 1:
        return [*parts, *_emit_one_tree(model, p)]
    counters = [f"v{c}" for c in range(model.n_classes)]

    def leaf(tree: int, index: int) -> list[str]:
        return [f"{counters[c]} += {v}u;" for c, v in model._leaf_votes(index)]

    body = [
        f"static int {p}_infer(const float *f, float *out)",
        "{",
        "    /* votes per class, summed over the trees */",
        f"    uint32_t {', '.join(f'{v} = 0u' for v in counters)};",
        "    uint32_t top;",
        "    int best = 0;",
        *model.nodes.emit_prologue(p),
        *emit_trees(model.nodes, p, leaf),
        *_emit_tail(model, counters),
        "}",
    ]
    return [*parts, "\n".join(body)]


def _emit_one_tree(model: TreeEnsemble, p: str) -> list[str]:
    """One tree: each leaf names its class (hard) or its row of shares (soft), so
    that the compiler cannot copy the scoring code into every leaf."""
    P = p.upper()
    if model.voting == "hard":
        found = [
            f"    for (c = 0; c < {P}_N_SCORES; ++c) {{ out[c] = c == best ? 1.0f : 0.0f; }}",
            "    return best;",
        ]
        parts: list[str] = []

        def leaf(tree: int, index: int) -> list[str]:
            return [f"best = {int(model.leaves[index])};"]

    else:
        parts = [
            c_array(f"{p}_leaf_share", "uint8_t", model.leaves.tolist(), inner=model.n_classes)
        ]
        found = [
            f"    share = {p}_leaf_share[leaf];",
            "    best = 0;",
            f"    for (c = 1; c < {P}_N_SCORES; ++c) {{",
            "        if (share[c] > share[best]) { best = c; }",
            "    }",
            f"    for (c = 0; c < {P}_N_SCORES; ++c) {{ out[c] = (float)share[c]; }}",
            "    return best;",
        ]

        def leaf(tree: int, index: int) -> list[str]:
            return [f"leaf = {index};"]

    decl = ["    int c, best;"]
    if model.voting == "soft":
        decl += ["    int leaf;", "    const uint8_t *share;"]
    body = [
        f"static int {p}_infer(const float *f, float *out)",
        "{",
        *decl,
        *model.nodes.emit_prologue(p),
        *emit_trees(model.nodes, p, leaf),
        *found,
        "}",
    ]
    return [*parts, "\n".join(body)]


def emit_table(model: TreeEnsemble, p: str) -> list[str]:
    P = p.upper()
    score_t = model._score_type()
    parts = list(model.nodes.emit_arrays(p))
    if model.voting == "soft":
        parts.append(
            c_array(f"{p}_leaf_share", "uint8_t", model.leaves.tolist(), inner=model.n_classes)
        )
    else:
        parts.append(c_array(f"{p}_leaf_class", "uint8_t", model.leaves.tolist()))
    walk = model.nodes.emit_walk(p)
    if model.voting == "soft":
        walk += [
            "        {",
            f"            const uint8_t *share = {p}_leaf_share[-(n + 1)];",
            "            int k;",
            f"            for (k = 0; k < {P}_N_SCORES; ++k) {{",
            f"                score[k] = ({score_t})(score[k] + share[k]);",
            "            }",
            "        }",
        ]
    else:
        walk += [f"        score[{p}_leaf_class[-(n + 1)]] += 1u;"]
    body = [
        f"static int {p}_infer(const float *f, float *out)",
        "{",
        f"    {score_t} score[{P}_N_SCORES] = {{0}};",
        f"    {score_t} top;",
        "    int t, best = 0;",
        *model.nodes.emit_prologue(p),
        f"    for (t = 0; t < {P}_N_TREES; ++t) {{",
        *walk,
        "    }",
        *_emit_tail(model, [f"score[{c}]" for c in range(model.n_classes)]),
        "}",
    ]
    return [*parts, "\n".join(body)]
