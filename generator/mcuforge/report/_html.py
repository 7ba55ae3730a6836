"""report.html: one self-contained page (inline CSS, SVG plots and a little JavaScript).

The page is a Jinja2 template (``_assets/report.html.j2``, autoescaped, StrictUndefined)
filled from a context built here and in :mod:`._sections` and :mod:`._chosen` (every
number is formatted in Python) with SVG plots from :mod:`._plots` and
:mod:`._chosenplots` (without matplotlib, the ``plots`` extra, each plot is a line
saying how to install it). Sections show what the report mapping holds, so a report of
another task kind (regression, anomaly detection) or one without measurements renders
the sections it can; see :func:`render_html` for the keys.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..extras import needs
from . import _chosen, _chosenplots, _data, _dataplots, _facts, _plots, _sections
from ._model import (
    COST_KEYS,
    Trial,
    chosen_trial,
    maximize,
    read_trials,
    recipe_summary,
    score_text,
)

if TYPE_CHECKING:
    from jinja2 import Environment
    from markupsafe import Markup

ASSETS = Path(__file__).resolve().parent / "_assets"

#: Sections of the page, in order: (element id, title); every page has all of them.
SECTIONS = (
    ("summary", "Summary"),
    ("data", "Data"),
    ("decisions", "Resolver decisions"),
    ("search", "Search history"),
    ("pareto", "Pareto fronts"),
    ("quality", "Quality of the chosen model"),
    ("memory", "Memory against the budget"),
    ("cost", "Estimated and measured cost"),
    ("parity", "C against Python"),
    ("firmware", "Build, flash and run"),
)


@functools.cache
def _env() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(ASSETS),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(report: Mapping[str, Any], trials: Sequence[Mapping[str, Any]]) -> str:
    """report.html from the report mapping and the trial rows.

    Keys used: ``name``, ``metric``, ``score``, ``test_windows``, ``target`` (``name``,
    ``core``, ``clock_mhz``), ``budgets``, ``cost``, ``recipe``, ``model``, ``decisions``,
    ``search`` (``trials``, ``feasible``, ``strategy``, ``seed``, ``best_trial``),
    ``parity``, ``firmware`` (``template``, ``qemu_machine``). Optional, shown when
    present: ``cv_score``, ``task``, ``maximize``, ``data``, ``classes`` + ``confusion``,
    ``regression`` (``y_true``, ``y_pred``), ``roc`` (``fpr``, ``tpr``, ``auc``,
    ``operating_point``), ``breakdown``, ``measurements``, ``notes``, ``tried``,
    ``target.sram_kb``/``flash_kb``, ``budgets.app_sram_kb``/``app_flash_kb``,
    ``search.chosen_trial``/``objectives``/``storage``, ``firmware.qemu``/``dir``/``steps``/
    ``test_windows``/``build_check``, ``cost.energy_uj``, ``cost_model_only``, ``stack``,
    ``hardware.linked``, ``data_check`` (the data section).

    Args:
        report: The mapping written as report.json.
        trials: Rows of :func:`mcuforge.search.trial_rows`, native or as read from
            trials.csv.

    Returns:
        The page, the same bytes for the same inputs.
    """
    ts = read_trials(trials)
    plots, memory_rows = _draw_plots(report, ts)
    return _env().get_template("report.html.j2").render(_context(report, ts, plots, memory_rows))


def _draw_plots(
    report: Mapping[str, Any], ts: Sequence[Trial]
) -> tuple[dict[str, Markup], list[dict[str, str]]]:
    """Every plot the report has data for, by key; and the memory table's rows (the
    memory plot and table share their figures)."""
    from markupsafe import Markup

    missing = needs("plots")  # the light install: tables and text, no plots

    def plot(draw: Callable[..., str], *args: Any) -> Markup:
        if missing:
            return Markup('<p class="no-plot">This plot {}.</p>').format(missing)
        return Markup(draw(*args))

    plots: dict[str, Markup] = {}
    chosen, up, metric = chosen_trial(report), maximize(report), report["metric"]
    plots["search"] = plot(_plots.search_history, ts, chosen, metric, up)
    for key in COST_KEYS:
        measured = report["cost"].get(key)
        plots[key] = plot(_plots.pareto, ts, key, report["budgets"], chosen, measured, metric, up)
    if "confusion" in report and "classes" in report:
        plots["confusion"] = plot(_chosenplots.confusion, report["classes"], report["confusion"])
    if "regression" in report:
        reg = report["regression"]
        plots["residuals"] = plot(_chosenplots.residuals, reg["y_true"], reg["y_pred"])
    if "roc" in report:
        roc = report["roc"]
        plots["roc"] = plot(
            _chosenplots.roc, roc["fpr"], roc["tpr"], roc.get("auc"), roc.get("operating_point")
        )
    if _data.classes(report):
        plots["data_windows"] = plot(_dataplots.class_windows, _data.classes(report))
    hist = _data.lengths_of(report)
    if hist is not None:
        plots["data_lengths"] = plot(_dataplots.lengths, *hist)
    parts, totals, budgets_kb, memory_rows = _chosen.memory(report)
    plots["memory"] = plot(_chosenplots.memory, parts, totals, budgets_kb)
    return plots, memory_rows


def _context(
    report: Mapping[str, Any],
    ts: Sequence[Trial],
    plots: dict[str, Markup],
    memory_rows: list[dict[str, str]],
) -> dict[str, Any]:
    """What the template fills the page with: every number already formatted."""
    from markupsafe import Markup

    chosen, up = chosen_trial(report), maximize(report)
    return {
        "r": report,
        "sections": SECTIONS,
        "plots": plots,
        "cards": _sections.cards(report),
        "summary": _sections.summary(report),
        "data": _data.section(report),
        "decisions": report["decisions"],
        "search_text": _sections.search_text(report, ts),
        "recipes": [
            {
                "recipe": s.recipe,
                "trials": s.trials,
                "feasible": s.feasible,
                "best": score_text(s.best),
            }
            for s in recipe_summary(ts, up)
        ],
        "trials": [_sections.trial_row(t) for t in ts],
        "pareto_rows": _sections.pareto_rows(ts, chosen, up),
        "pareto_recorded": any(t.pareto is not None for t in ts),
        "tried": _sections.tried(report),
        "quality": _chosen.quality(report),
        "memory_rows": memory_rows,
        "cost_rows": _chosen.cost_rows(report),
        "stack_rows": _facts.stack(report),
        "firmware_facts": _facts.firmware_facts(report),
        "measurements": _chosen.measurements(report),
        "parity": _chosen.parity(report),
        "steps": _chosen.steps(report),
        "css": Markup((ASSETS / "report.css").read_text()),
        "js": Markup((ASSETS / "report.js").read_text()),
    }


__all__ = ["ASSETS", "SECTIONS", "render_html"]
