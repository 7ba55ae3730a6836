"""SVG from matplotlib: the report style, deterministic bytes, fit for inlining in HTML.

Determinism: ``svg.hashsalt`` fixes the ids matplotlib derives from hashes, the metadata
(date, creator) is dropped, text is written as glyph paths of the DejaVu Sans font that
ships with matplotlib (``svg.fonttype: path``), so the same report always gives the same
bytes and looks the same in every browser. Only the SVG canvas is used, through
:class:`matplotlib.figure.Figure` (never ``pyplot``), so no global backend is selected
and nothing is rasterised. Matplotlib is imported inside :func:`figure` only.

Inlining: :func:`inline` drops the XML prologue, comments and metadata, drops the
namespace declarations (HTML's parser puts ``<svg>`` in the SVG namespace itself; this
also leaves no ``http://`` in the page), writes ``href`` for ``xlink:href`` and prefixes
every id with the plot's name, so several plots on one page never share an id.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ._model import Trial

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colours (colour-blind safe pairs); budget lines are always the same red.
FEASIBLE = "#1f77b4"
INFEASIBLE = "#ff7f0e"
BUDGET = "#c0392b"
CHOSEN = "#ffd400"
FRONT = "#2c3e50"
#: Memory parts with a fixed colour; others take the next colour of :data:`EXTRA_COLOURS`.
PART_COLOURS = {
    "features": "#4c78a8",
    "model": "#f58518",
    "code": "#54a24b",
    "arena": "#b279a2",
    "stack": "#e45756",
    "total": "#4c78a8",
}
EXTRA_COLOURS = ("#72b7b2", "#eeca3b", "#9d755d", "#bab0ac", "#ff9da6")

_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
#: Above this max/min ratio of the values on a cost axis (budget included) it is logarithmic.
LOG_RATIO = 30.0


@contextmanager
def figure(name: str, size: tuple[float, float], out: list[str]) -> Iterator[Figure]:
    """A fresh figure in the report style; on exit its inlined SVG is appended to ``out``."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with matplotlib.rc_context(
        {
            "svg.hashsalt": "mcuforge-report",
            "svg.fonttype": "path",
            "font.family": "DejaVu Sans",
            "font.size": 8.5,
            "axes.titlesize": 9.5,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "axes.axisbelow": True,
            "grid.color": "#e3e6ea",
            "grid.linewidth": 0.6,
            "legend.fontsize": 7.5,
            "legend.frameon": False,
            "path.simplify": False,
        }
    ):
        fig = Figure(figsize=size, layout="constrained")
        FigureCanvasSVG(fig)
        yield fig
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=_NO_METADATA)
    out.append(inline(buf.getvalue(), name))


_PROLOGUE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>", re.S)
_XMLNS = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')
_SIZE = re.compile(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')
_IDREF = re.compile(r'(\bid="|\bhref="#|url\(#)([^")]+)')


def inline(svg: str, name: str) -> str:
    """Matplotlib's SVG document as an element for an HTML page (see module docstring)."""
    svg = _PROLOGUE.sub("", svg).strip()
    svg = _XMLNS.sub("", svg).replace("xlink:href=", "href=")
    svg = svg.replace('<style type="text/css">*{', "<style>svg.plot-svg *{")

    def size(m: re.Match[str]) -> str:
        w, h = (round(float(v) * 4 / 3) for v in (m.group(2), m.group(3)))
        return (
            f'<svg{m.group(1)} width="{w}" height="{h}" class="plot-svg" '
            f'data-plot="{name}" role="img"'
        )

    svg = _SIZE.sub(size, svg, count=1)
    return _IDREF.sub(lambda m: f"{m.group(1)}{name}-{m.group(2)}", svg)


def log_if_wide(ax: Axes, values: Sequence[float]) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    pos = [v for v in values if v > 0]
    if pos and max(pos) / min(pos) > LOG_RATIO:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())


def budget_line(ax: Axes, value: float | None, unit: str, gid: str) -> None:
    if value is None:
        return
    line = ax.axvline(value, color=BUDGET, linestyle="--", linewidth=1.4, zorder=4)
    line.set_gid(gid)
    ax.text(
        value,
        1.0,
        f" budget {value:g} {unit}",
        transform=ax.get_xaxis_transform(),
        color=BUDGET,
        ha="left",
        va="top",
        fontsize=7.5,
    )


def scores(trials: Sequence[Trial]) -> list[float]:
    """Scores of finished trials (callers filter out trials without one)."""
    return [t.score for t in trials if t.score is not None]


def no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777")


__all__ = [
    "BUDGET",
    "CHOSEN",
    "EXTRA_COLOURS",
    "FEASIBLE",
    "FRONT",
    "INFEASIBLE",
    "LOG_RATIO",
    "PART_COLOURS",
    "budget_line",
    "figure",
    "inline",
    "log_if_wide",
    "no_data",
    "scores",
]
