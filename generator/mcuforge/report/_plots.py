"""The report's plots, each returned as an SVG element to inline in report.html.

Why matplotlib: it is the plotting library the scientific Python stack already trusts
(every plot here is a scatter, a step line, a heat map or a bar), its SVG backend writes
vectors with no JavaScript runtime to ship, and its output can be made byte-for-byte
deterministic (see :mod:`._svg`). It is imported only while a plot is drawn, as
importing it costs about half a second.

Every artist a test or a reader may look for has a ``gid``; :func:`._svg.inline`
prefixes it with the plot's name, e.g. ``pareto-flash-budget``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._model import AXES, Trial, better, fmt, pareto_front
from ._svg import (
    CHOSEN,
    EXTRA_COLOURS,
    FEASIBLE,
    FRONT,
    INFEASIBLE,
    PART_COLOURS,
    budget_line,
    figure,
    log_if_wide,
    no_data,
    scores,
)


def _best_so_far(ax: Any, trials: Sequence[Trial], maximize: bool) -> None:
    """The step line of the best score within budget, trial after trial."""
    best: list[tuple[int, float]] = []
    for t in trials:
        if (
            t.feasible
            and t.score is not None
            and (not best or better(t.score, best[-1][1], maximize))
        ):
            best.append((t.number, t.score))
    if best:
        last = trials[-1].number if trials else best[-1][0]
        xs = [n for n, _ in best] + [last]
        ys = [s for _, s in best] + [best[-1][1]]
        ax.step(xs, ys, where="post", color=FRONT, linewidth=1.2, label="best within budget")


def search_history(
    trials: Sequence[Trial], chosen: int | None, metric: str, maximize: bool = True
) -> str:
    """Score of every trial in order: within budget, over budget, failed; the best so far.

    Args:
        trials: Every trial of the search.
        chosen: Number of the trial the pipeline picked.
        metric: Name of the score.
        maximize: Whether a higher score is better.

    Returns:
        The inlined SVG.
    """
    out: list[str] = []
    with figure("search-history", (8.4, 3.0), out) as fig:
        ax = fig.add_subplot()
        feas = [t for t in trials if t.feasible and t.score is not None]
        over = [t for t in trials if not t.feasible and t.score is not None]
        failed = [t for t in trials if t.score is None]
        ax.scatter(
            [t.number for t in feas],
            scores(feas),
            s=22,
            color=FEASIBLE,
            label=f"within budget ({len(feas)})",
            gid="within-budget",
            zorder=3,
        )
        ax.scatter(
            [t.number for t in over],
            scores(over),
            s=26,
            marker="x",
            color=INFEASIBLE,
            label=f"over budget ({len(over)})",
            gid="over-budget",
            zorder=3,
        )
        if failed:
            ax.scatter(
                [t.number for t in failed],
                [0.0] * len(failed),
                marker="|",
                s=60,
                color="#888",
                transform=ax.get_xaxis_transform(),
                label=f"failed or pruned ({len(failed)})",
            )
        _best_so_far(ax, trials, maximize)
        pick = next((t for t in trials if t.number == chosen and t.score is not None), None)
        if pick is not None:
            ax.scatter(
                [pick.number],
                scores([pick]),
                s=150,
                marker="*",
                color=CHOSEN,
                edgecolors="black",
                linewidths=0.8,
                label=f"chosen (#{pick.number})",
                zorder=4,
            )
        if not trials:
            no_data(ax, "no trials")
        from matplotlib.ticker import MaxNLocator

        ax.set_xlabel("trial")
        ax.set_ylabel(f"cross-validation {metric}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.legend(loc="outside right upper")
    return out[0]


def _chosen_marks(
    ax: Any, cx: list[float], cy: list[float], axis: Any, measured: Mapping[str, Any] | None
) -> list[float]:
    """The chosen trial's star (its estimate) and, when measured, its measured figure;
    returns the x values drawn beyond the estimate (for the axis scale)."""
    ax.scatter(
        cx,
        cy,
        s=150,
        marker="*",
        color=CHOSEN,
        edgecolors="black",
        linewidths=0.8,
        label="chosen (estimate)",
        gid="chosen",
        zorder=5,
    )
    if measured is None or measured.get("source") == "analytic":
        return []
    mx = axis.shown(float(measured["value"]))
    ax.scatter(
        [mx],
        cy,
        s=46,
        marker="D",
        color="white",
        edgecolors="black",
        linewidths=1.0,
        label=f"chosen ({measured['source']})",
        zorder=5,
    )
    return [mx]


def pareto(
    trials: Sequence[Trial],
    key: str,
    budgets: Mapping[str, Any],
    chosen: int | None,
    measured: Mapping[str, Any] | None,
    metric: str,
    maximize: bool = True,
) -> str:
    """Score against one cost figure, the front of feasible trials and the budget line.

    Args:
        trials: Every trial of the search (their costs are the search's analytic ones).
        key: The cost figure: ``flash_bytes``, ``sram_bytes`` or ``latency_ms``.
        budgets: The report's ``budgets`` (``flash_kb``, ``sram_kb``, ``latency_ms``).
        chosen: Number of the trial the pipeline picked.
        measured: The chosen candidate's final figure ``{"value", "source"}``; drawn
            beside its analytic point when it was measured.
        metric: Name of the score.
        maximize: Whether a higher score is better.

    Returns:
        The inlined SVG. Its groups have ids ``pareto-<figure>-`` + ``budget`` (the budget
        line), ``within-budget``, ``over-budget``, ``front`` and ``chosen``.
    """
    axis = AXES[key]
    name = f"pareto-{axis.label.lower()}"
    out: list[str] = []
    with figure(name, (3.9, 3.9), out) as fig:
        ax = fig.add_subplot()
        done = [t for t in trials if t.score is not None and key in t.cost]

        def xy(ts: Sequence[Trial]) -> tuple[list[float], list[float]]:
            return [axis.shown(t.cost[key]) for t in ts], [t.score or 0.0 for t in ts]

        fx, fy = xy([t for t in done if t.feasible])
        ox, oy = xy([t for t in done if not t.feasible])
        ax.scatter(
            fx, fy, s=18, color=FEASIBLE, label="within budget", zorder=3, gid="within-budget"
        )
        ax.scatter(
            ox,
            oy,
            s=22,
            marker="x",
            color=INFEASIBLE,
            label="over budget",
            zorder=3,
            gid="over-budget",
        )
        front = pareto_front(trials, key, maximize)
        if front:
            px, py = xy(front)
            ax.step(
                px, py, where="post", color=FRONT, linewidth=1.2, label="Pareto front", gid="front"
            )
        budget = axis.budget(budgets)
        xs = fx + ox + ([budget] if budget is not None else [])
        pick = next((t for t in done if t.number == chosen), None)
        if pick is not None:
            xs += _chosen_marks(ax, *xy([pick]), axis, measured)
        log_if_wide(ax, xs)
        budget_line(ax, budget, axis.unit, "budget")
        if not done:
            no_data(ax, "no finished trials")
        ax.set_xlabel(f"{axis.label} ({axis.unit}, estimated)")
        ax.set_ylabel(f"cross-validation {metric}")
        fig.legend(loc="outside lower center", ncols=2)
    return out[0]


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


__all__ = ["confusion", "memory", "pareto", "residuals", "roc", "search_history"]
