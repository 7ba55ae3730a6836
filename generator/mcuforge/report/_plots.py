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

from ._model import AXES, Trial, better, pareto_front
from ._svg import (
    CHOSEN,
    FEASIBLE,
    FRONT,
    INFEASIBLE,
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


__all__ = ["pareto", "search_history"]
