"""The data section's small plots: windows per class and split, recording lengths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._svg import BUDGET, FEASIBLE, INFEASIBLE, figure


def class_windows(classes: Sequence[Mapping[str, Any]]) -> str:
    """Windows of each class (one or more) in the training and the test set (stacked bars).

    Returns:
        The inlined SVG; the bars of class ``i`` have the ids ``data-windows-train-i`` and
        ``data-windows-test-i``.
    """
    out: list[str] = []
    names = [str(c["name"]) for c in classes]
    height = min(1.2 + 0.28 * len(names), 6.0)
    with figure("data-windows", (5.2, height), out) as fig:
        ax = fig.add_subplot()
        train = [int(c.get("train_windows", 0)) for c in classes]
        test = [int(c.get("test_windows", 0)) for c in classes]
        ys = list(range(len(names)))
        for side, values, left, colour in (
            ("train", train, None, FEASIBLE),
            ("test", test, train, INFEASIBLE),
        ):
            bars = ax.barh(ys, values, left=left, color=colour, height=0.65, label=side)
            for i, bar in enumerate(bars):
                bar.set_gid(f"{side}-{i}")
        ax.set_yticks(ys, names)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("windows")
        fig.legend(loc="outside lower center", ncols=2)
    return out[0]


def lengths(edges: Sequence[float], counts: Sequence[int], window: int) -> str:
    """Histogram of recording lengths with the window length as a line; the bars left of
    it are recordings shorter than the window.

    Returns:
        The inlined SVG; the window line has the id ``data-lengths-window``.
    """
    out: list[str] = []
    with figure("data-lengths", (5.2, 2.4), out) as fig:
        ax = fig.add_subplot()
        lefts, rights = list(edges[:-1]), list(edges[1:])
        widths = [max(r - left, 1.0) for left, r in zip(lefts, rights, strict=True)]
        colours = ["#bbbbbb" if r <= window else FEASIBLE for r in rights]
        ax.bar(lefts, counts, width=widths, align="edge", color=colours)
        line = ax.axvline(window, color=BUDGET, linestyle="--", linewidth=1.4, zorder=4)
        line.set_gid("window")
        ax.text(
            window,
            1.0,
            f" window {window}",
            transform=ax.get_xaxis_transform(),
            color=BUDGET,
            ha="left",
            va="top",
            fontsize=7.5,
        )
        ax.set_xlabel("recording length (samples)")
        ax.set_ylabel("recordings")
    return out[0]


__all__ = ["class_windows", "lengths"]
