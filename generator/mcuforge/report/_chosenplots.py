"""The chosen model's plots: confusion matrix, residuals, ROC curve, memory by part.

Drawn like the search's (:mod:`._plots`): matplotlib, imported only while a plot is
drawn, every artist a reader may look for with a ``gid``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._model import fmt
from ._svg import CHOSEN, EXTRA_COLOURS, FEASIBLE, PART_COLOURS, budget_line, figure


def confusion(classes: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """Confusion matrix of the test set: counts, shaded by the share of each true class.

    Args:
        classes: Class names, in label order.
        matrix: Rows: true class; columns: predicted class.

    Returns:
        The inlined SVG (vector cells, no embedded raster).
    """
    n = len(classes)
    side = min(max(2.8, 0.55 * n + 1.6), 9.0)
    out: list[str] = []
    with figure("confusion", (side + 0.6, side), out) as fig:
        ax = fig.add_subplot()
        totals = [max(sum(row), 1) for row in matrix]
        share = [[v / totals[i] for v in row] for i, row in enumerate(matrix)]
        mesh = ax.pcolormesh(
            share, cmap="Blues", vmin=0.0, vmax=1.0, edgecolors="white", linewidth=1.0
        )
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                ax.text(
                    j + 0.5,
                    i + 0.5,
                    str(v),
                    ha="center",
                    va="center",
                    color="white" if share[i][j] > 0.5 else "#222",
                    fontsize=8 if n > 10 else 9.5,
                )
        ax.set_xticks([i + 0.5 for i in range(n)], list(classes), rotation=40, ha="right")
        ax.set_yticks([i + 0.5 for i in range(n)], list(classes))
        ax.set_xlim(0, n)
        ax.set_ylim(n, 0)
        ax.grid(False)
        ax.tick_params(length=0)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        bar = fig.colorbar(mesh, ax=ax, shrink=0.8, label="share of the true class")
        if bar.solids is not None:
            bar.solids.set_rasterized(False)  # vectors: no embedded PNG in the page
            bar.solids.set_edgecolor("face")  # no seams between the colour steps
    return out[0]


def residuals(y_true: Sequence[float], y_pred: Sequence[float]) -> str:
    """Regression on the test set: predicted against true, and residuals against true.

    Args:
        y_true: True targets of the test windows.
        y_pred: The chosen model's predictions, same order.

    Returns:
        The inlined SVG.
    """
    out: list[str] = []
    with figure("residuals", (7.2, 3.1), out) as fig:
        left, right = fig.subplots(1, 2)
        t = [float(v) for v in y_true]
        p = [float(v) for v in y_pred]
        res = [b - a for a, b in zip(t, p, strict=True)]
        lo, hi = min(t + p, default=0.0), max(t + p, default=1.0)
        left.plot([lo, hi], [lo, hi], color="#888", linestyle="--", linewidth=1, label="ideal")
        left.scatter(t, p, s=14, color=FEASIBLE, label="test window")
        left.set_xlabel("true")
        left.set_ylabel("predicted")
        left.legend(loc="upper left")
        right.axhline(0.0, color="#888", linestyle="--", linewidth=1)
        right.scatter(t, res, s=14, color=FEASIBLE)
        right.set_xlabel("true")
        right.set_ylabel("residual (predicted - true)")
    return out[0]


def roc(fpr: Sequence[float], tpr: Sequence[float], auc: float | None, point: Any) -> str:
    """ROC curve of the anomaly score on the test set, with the chance line.

    Args:
        fpr: False-positive rates, increasing.
        tpr: True-positive rates at the same thresholds.
        auc: Area under the curve, shown in the legend when given.
        point: Optional operating point ``{"fpr", "tpr", "threshold"}`` of the firmware.

    Returns:
        The inlined SVG.
    """
    out: list[str] = []
    with figure("roc", (3.9, 3.5), out) as fig:
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="#888", linestyle="--", linewidth=1, label="chance")
        label = "ROC" if auc is None else f"ROC (AUC {auc:.3f})"
        ax.plot(list(fpr), list(tpr), color=FEASIBLE, linewidth=1.8, label=label)
        if isinstance(point, Mapping):
            thr = point.get("threshold")
            ax.scatter(
                [point["fpr"]],
                [point["tpr"]],
                s=60,
                marker="D",
                color=CHOSEN,
                edgecolors="black",
                zorder=4,
                label="operating point" + ("" if thr is None else f" (threshold {fmt(thr)})"),
            )
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("true-positive rate")
        ax.legend(loc="lower right")
    return out[0]


def memory(
    parts: Mapping[str, Mapping[str, float]],
    totals: Mapping[str, Mapping[str, Any]],
    budgets_kb: Mapping[str, float],
) -> str:
    """Flash and SRAM used, part by part, against their budgets.

    Args:
        parts: Per memory (``flash``, ``sram``): part name -> bytes, in drawing order.
        totals: Per memory: the report's final figure ``{"value", "source"}`` (bytes),
            marked when it differs from the sum of the parts.
        budgets_kb: Per memory: the budget in kB.

    Returns:
        The inlined SVG; budget lines have the ids ``memory-budget-<memory>``, bar
        segments ``memory-part-<memory>-<part>``.
    """
    out: list[str] = []
    mems = list(parts)
    with figure("memory", (7.2, 0.9 + 0.85 * len(mems)), out) as fig:
        axes = fig.subplots(len(mems), 1, squeeze=False)[:, 0]
        extra = iter(EXTRA_COLOURS * 4)
        colours: dict[str, str] = {}
        for ax, mem in zip(axes, mems, strict=True):
            left = 0.0
            for part, nbytes in parts[mem].items():
                if part not in colours:
                    colours[part] = PART_COLOURS.get(part) or next(extra)
                kbytes = nbytes / 1024
                ax.barh(
                    [0],
                    [kbytes],
                    left=left,
                    height=0.6,
                    color=colours[part],
                    gid=f"part-{mem}-{part}",
                    label=part if part not in ax.get_legend_handles_labels()[1] else None,
                )
                left += kbytes
            budget = budgets_kb.get(mem)
            total = totals.get(mem)
            span = [left, budget or 0.0]
            if total is not None and abs(float(total["value"]) / 1024 - left) > 1e-9:
                tv = float(total["value"]) / 1024
                span.append(tv)
                ax.plot(
                    [tv, tv],
                    [-0.42, 0.42],
                    color="black",
                    linewidth=2.2,
                    label=f"total ({total['source']})",
                )
            budget_line(ax, budget, "kB", f"budget-{mem}")
            ax.set_xlim(0, max(span) * 1.12 if max(span) > 0 else 1.0)
            ax.set_ylim(-0.6, 0.6)
            ax.set_yticks([0], [mem if mem != "sram" else "SRAM"])
            ax.grid(axis="y", visible=False)
            used = left if total is None else float(total["value"]) / 1024
            pct = "" if not budget else f", {100 * used / budget:.1f} % of the budget"
            ax.set_title(f"{used:.2f} kB{pct}", loc="left", fontsize=8)
        axes[-1].set_xlabel("kB")
        handles: dict[str, Any] = {}
        for ax in axes:
            for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, h)
        fig.legend(list(handles.values()), list(handles), loc="outside right upper", fontsize=7.5)
    return out[0]


__all__ = ["confusion", "memory", "residuals", "roc"]
