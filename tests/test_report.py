"""report.md and report.html: from a real output and from hand-made reports of each task kind."""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from mcuforge.errors import OutputError
from mcuforge.pipeline import generate
from mcuforge.report import (
    REPORT_VERSION,
    SECTIONS,
    render_html,
    render_markdown,
    rerender,
    write_reports,
)
from mcuforge.report._model import pareto_front, read_trials, recipe_summary

from .conftest import EXAMPLE, ROOT

_SVG = re.compile(r'<svg\b[^>]*\bdata-plot="([^"]+)"[^>]*>.*?</svg>', re.S)


def plots(html: str) -> dict[str, str]:
    """Every inline plot of a page, by its data-plot name."""
    found = {m.group(1): m.group(0) for m in _SVG.finditer(html)}
    assert len(found) == len(_SVG.findall(html)), "two plots share a name"
    return found


def assert_drawn(svg: str) -> None:
    """A plot with a size, a view box and drawn paths."""
    head = svg[: svg.index(">")]
    w, h = (float(re.search(rf'\b{k}="([\d.]+)"', head).group(1)) for k in ("width", "height"))  # type: ignore[union-attr]
    assert w > 0 and h > 0
    assert re.search(r'viewBox="0 0 [\d.]+ [\d.]+"', head)
    assert svg.count("<path") > 10


def group(svg: str, gid: str) -> str:
    """The text of the ``<g id=gid>`` element of a plot."""
    start = svg.index(f'<g id="{gid}">')
    depth, i = 0, start
    while True:
        nxt_open, nxt_close = svg.find("<g", i + 1), svg.find("</g>", i + 1)
        if nxt_open != -1 and nxt_open < nxt_close:
            depth, i = depth + 1, nxt_open
        elif depth:
            depth, i = depth - 1, nxt_close
        else:
            return svg[start : nxt_close + 4]


def vertical_line_x(svg: str, gid: str) -> float:
    """x of a vertical line drawn as ``M x y0 L x y1`` (asserted vertical and long)."""
    m = re.search(r'd="M ([\d.]+) ([\d.]+)\s*L ([\d.]+) ([\d.]+)', group(svg, gid))
    assert m, gid
    x0, y0, x1, y1 = (float(v) for v in m.groups())
    assert x0 == x1 and abs(y1 - y0) > 20
    return x0


def bar_width(svg: str, gid: str) -> float:
    """Width of a rectangle drawn as ``M x0 y0 L x1 y0 ...``."""
    m = re.search(r'd="M ([\d.]+) [\d.]+\s*L ([\d.]+) ', group(svg, gid))
    assert m, gid
    return float(m.group(2)) - float(m.group(1))


def marker_xs(svg: str, gid: str) -> list[float]:
    """x of every marker of a scatter group."""
    return [float(x) for x in re.findall(r'<use [^>]*\bx="([-\d.]+)"', group(svg, gid))]


# --- a real output -------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """report.json and trials.csv of one small run of the bundled example."""
    out = tmp_path_factory.mktemp("report") / "out"
    generate(EXAMPLE / "spec.yaml", out, trials=4, force=True, measure_cost=False)
    report = json.loads((out / "report.json").read_text())
    with (out / "trials.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return report, rows


@pytest.fixture(scope="module")
def real_html(real: tuple[dict[str, Any], list[dict[str, str]]]) -> str:
    return render_html(*real)


@pytest.mark.slow
def test_real_report_has_every_section_in_order(real_html: str) -> None:
    positions = [real_html.index(f'<section id="{sid}">') for sid, _ in SECTIONS]
    assert positions == sorted(positions)
    for sid, title in SECTIONS:
        assert f'<a href="#{sid}">{title}</a>' in real_html


@pytest.mark.slow
def test_real_report_plots_are_drawn(
    real: tuple[dict[str, Any], list[dict[str, str]]], real_html: str
) -> None:
    found = plots(real_html)
    assert set(found) == {
        "search-history",
        "pareto-latency",
        "pareto-flash",
        "pareto-sram",
        "confusion",
        "memory",
        "data-windows",
    }
    for svg in found.values():
        assert_drawn(svg)
    feasible = real[0]["search"]["feasible"]
    assert feasible >= 1
    assert len(marker_xs(found["search-history"], "search-history-within-budget")) == feasible


@pytest.mark.slow
def test_real_report_draws_every_budget_line(real_html: str) -> None:
    found = plots(real_html)
    for name in ("pareto-latency", "pareto-flash", "pareto-sram"):
        vertical_line_x(found[name], f"{name}-budget")
    for mem in ("flash", "sram"):
        vertical_line_x(found["memory"], f"memory-budget-{mem}")


@pytest.mark.slow
def test_real_report_is_self_contained(real_html: str) -> None:
    assert "http://" not in real_html and "https://" not in real_html
    assert not re.search(r"<(link|img|iframe|object|embed)\b", real_html)
    assert "<image" not in real_html and "data:" not in real_html  # vectors only
    assert not re.search(r"<script\b[^>]*\bsrc=", real_html)
    assert "@import" not in real_html and "url(http" not in real_html
    ids = Counter(re.findall(r'\bid="([^"]+)"', real_html))
    assert [i for i, n in ids.items() if n > 1] == []
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', real_html))
    assert refs <= set(ids), refs - set(ids)


@pytest.mark.slow
def test_real_report_shows_the_chosen_candidate(
    real: tuple[dict[str, Any], list[dict[str, str]]], real_html: str
) -> None:
    report, _ = real
    assert f"Chosen: trial #{report['search']['chosen_trial']}" in real_html
    assert f"{report['parity']['agree']}/{report['parity']['total']} test windows" in real_html
    for d in report["decisions"]:
        assert f"<code>{d['recipe']}</code>" in real_html
    assert "cmake --build build" in real_html


@pytest.mark.slow
def test_write_then_rerender_gives_identical_bytes(
    real: tuple[dict[str, Any], list[dict[str, str]]], tmp_path: Path
) -> None:
    report, rows = real
    native = [{**r, "trial": int(r["trial"]), "feasible": r["feasible"] == "True"} for r in rows]
    write_reports(tmp_path, report, rows)
    first = {n: (tmp_path / n).read_bytes() for n in ("report.json", "report.md", "report.html")}
    assert json.loads(first["report.json"]) == report
    (tmp_path / "trials.csv").write_text(
        "".join(
            [",".join(rows[0]) + "\n"]
            + [",".join(_csv_cell(v) for v in r.values()) + "\n" for r in rows]
        )
    )
    (tmp_path / "report.html").unlink()
    rerender(tmp_path)
    for name in ("report.md", "report.html"):
        assert (tmp_path / name).read_bytes() == first[name], name
    assert render_html(report, native) == first["report.html"].decode()
    assert not list(tmp_path.glob(".*.tmp"))


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if ("," in value or '"' in value) else value


@pytest.mark.slow
def test_real_markdown_has_search_summary_and_pareto_table(
    real: tuple[dict[str, Any], list[dict[str, str]]],
) -> None:
    report, rows = real
    md = render_markdown(report, rows)
    assert "| recipe | trials | within budget | best cv accuracy |" in md
    assert "### Pareto set" in md
    chosen = report["search"]["chosen_trial"]
    assert re.search(rf"^\| {chosen} \(chosen\) \|", md, re.M)
    assert "## Confusion matrix" in md
    assert md == render_markdown(report, rows)
    assert "### Pareto set" not in render_markdown(report)  # no trials, no table


# --- hand-made reports ---------------------------------------------------------------


def base_report(**changes: Any) -> dict[str, Any]:
    """A complete classification report with small numbers; ``changes`` replace keys."""
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "mcuforge_version": "0.1.0",
        "name": "demo",
        "task": "classification",
        "spec_sha256": "ab" * 32,
        "metric": "accuracy",
        "maximize": True,
        "score": 0.9,
        "cv_score": 0.95,
        "test_windows": 10,
        "classes": ["idle", "walk"],
        "confusion": [[5, 0], [1, 4]],
        "parity": {"agree": 10, "total": 10, "features_bit_exact": True},
        "cost": {
            "flash_bytes": {"value": 2048.0, "source": "compiled"},
            "sram_bytes": {"value": 512.0, "source": "emulated"},
            "latency_ms": {"value": 0.5, "source": "emulated"},
            "instructions": {"value": 1000.0, "source": "emulated"},
        },
        "measurements": [
            {
                "figure": "flash_bytes",
                "analytic": 2000.0,
                "measured": 2048.0,
                "source": "compiled",
                "error_pct": -2.34,
            }
        ],
        "notes": [],
        "budgets": {"sram_kb": 1.0, "flash_kb": 4.0, "latency_ms": 1.0},
        "recipe": "r-forest@1",
        "model": {
            "family": "random_forest",
            "params": {"n_estimators": 3},
            "features": {"stats": {"features": ["mean"]}},
            "n_features": 3,
            "size": {"trees": 3},
        },
        "target": {"name": "nrf52840", "core": "cortex-m4f", "clock_mhz": 64.0},
        "decisions": [
            {"recipe": "r-forest@1", "chosen": True, "reason": "fits"},
            {"recipe": "r-net@1", "chosen": False, "reason": "needs <b>4 kB</b> of SRAM"},
        ],
        "search": {
            "trials": 4,
            "feasible": 3,
            "strategy": "tpe",
            "seed": 1,
            "best_trial": 1,
            "chosen_trial": 1,
        },
        "firmware": {"template": "cmake-baremetal", "qemu_machine": None, "qemu": None},
    }
    report.update(changes)
    return report


def trial(
    n: int, score: float | None, feasible: bool, flash: float, **extra: Any
) -> dict[str, Any]:
    """One trials.csv row as the search returns it."""
    row: dict[str, Any] = {
        "trial": n,
        "state": "COMPLETE" if score is not None else "FAIL",
        "recipe": "r-forest@1",
        "score": score,
        "feasible": feasible,
        "params": json.dumps({"n": n}),
    }
    if score is not None:
        row |= {
            "flash_bytes": flash,
            "flash_bytes_source": "analytic",
            "sram_bytes": 300.0 + n,
            "sram_bytes_source": "analytic",
            "latency_ms": 0.1 * (n + 1),
            "latency_ms_source": "analytic",
        }
    return row | extra


TRIALS = [
    trial(0, 0.8, True, 1024.0),
    trial(1, 0.95, True, 4096.0),  # exactly at the 4 kB flash budget: within it
    trial(2, 0.99, False, 8192.0),
    trial(3, None, False, 0.0),
]


def test_budget_line_is_where_the_budget_is() -> None:
    found = plots(render_html(base_report(), TRIALS))
    flash = found["pareto-flash"]
    budget_x = vertical_line_x(flash, "pareto-flash-budget")
    within = marker_xs(flash, "pareto-flash-within-budget")
    over = marker_xs(flash, "pareto-flash-over-budget")
    assert len(within) == 2 and len(over) == 1
    assert max(within) == pytest.approx(budget_x, abs=1e-3)
    assert over[0] > budget_x > min(within)
    assert marker_xs(flash, "pareto-flash-chosen") == [pytest.approx(budget_x, abs=1e-3)]
    history = found["search-history"]
    assert len(marker_xs(history, "search-history-within-budget")) == 2
    assert len(marker_xs(history, "search-history-over-budget")) == 1


def test_regression_report_shows_residuals() -> None:
    report = base_report(
        task="regression",
        metric="mae",
        maximize=False,
        score=0.25,
        cv_score=0.3,
        regression={"y_true": [1.0, 2.0, 3.0, 4.0], "y_pred": [1.5, 2.0, 2.5, 4.0]},
        parity={"agree": 4, "total": 4, "outputs_max_rel_err": 1e-7, "tolerance": 1e-5},
    )
    del report["classes"], report["confusion"]
    html = render_html(report, TRIALS)
    found = plots(html)
    assert "residuals" in found and "confusion" not in found and "roc" not in found
    assert_drawn(found["residuals"])
    assert "MAE 0.25, RMSE 0.3536, largest error 0.5" in html
    assert "lower is better" in html
    assert "largest relative output difference" in html
    md = render_markdown(report, TRIALS)
    assert "## Regression (test set)" in md and "MAE 0.25, RMSE 0.3536" in md
    assert "Confusion" not in md
    # beside the plainest model: the training mean for every window
    report["regression"]["train_mean"] = 2.5
    md = render_markdown(report, TRIALS)
    assert "Predicting the training mean instead: MAE 1, RMSE 1.118." in md
    assert "no better than predicting" not in md
    # a model worse than the mean (the target unrelated to the signal) says so
    report["regression"]["y_pred"] = [4.0, 1.0, 4.0, 1.0]
    for text in (render_markdown(report, TRIALS), render_html(report, TRIALS)):
        assert "is no better than predicting the training mean for every window (1)" in text


def test_anomaly_report_shows_roc_and_confusion() -> None:
    report = base_report(
        task="anomaly",
        metric="roc_auc",
        classes=["normal", "anomaly"],
        roc={
            "fpr": [0.0, 0.0, 0.5, 1.0],
            "tpr": [0.0, 0.5, 1.0, 1.0],
            "auc": 0.875,
            "operating_point": {"fpr": 0.0, "tpr": 0.5, "threshold": 0.7},
        },
    )
    html = render_html(report, TRIALS)
    found = plots(html)
    assert {"roc", "confusion"} <= set(found)
    assert_drawn(found["roc"])
    assert "anomaly score against the true labels: AUC 0.8750." in html
    md = render_markdown(report)
    assert "ROC AUC 0.8750." in md and "threshold 0.7" in md


def test_memory_breakdown_is_drawn_part_by_part() -> None:
    breakdown = {
        "flash": {"source": "compiled", "parts": {"features": 512, "model": 1280, "code": 256}},
        "sram": {"source": "analytic", "parts": {"features": 64, "arena": 0, "stack": 400}},
    }
    report = base_report(breakdown=breakdown)
    html = render_html(report, TRIALS)
    memory = plots(html)["memory"]
    assert_drawn(memory)
    widths = {
        (mem, part): bar_width(memory, f"memory-part-{mem}-{part}")
        for mem, entry in breakdown.items()
        for part in entry["parts"]
    }
    assert widths[("flash", "model")] / widths[("flash", "features")] == pytest.approx(2.5, 1e-3)
    assert widths[("flash", "code")] / widths[("flash", "features")] == pytest.approx(0.5, 1e-3)
    assert widths[("sram", "arena")] == 0.0
    vertical_line_x(memory, "memory-budget-flash")
    vertical_line_x(memory, "memory-budget-sram")
    rows = re.findall(r"<tr><td>(flash|SRAM)</td><td>(\w+)</td><td class=\"num\">(\d+)</td>", html)
    assert ("flash", "model", "1280") in rows and ("SRAM", "stack", "400") in rows
    assert ("SRAM", "total", "512") in rows  # the measured total, beside the parts
    md = render_markdown(report)
    assert "| flash | model | 1280 | compiled |" in md
    assert "| SRAM | stack | 400 | analytic |" in md


def test_cost_over_budget_and_candidates_tried_are_shown() -> None:
    report = base_report(
        cost={
            "flash_bytes": {"value": 5000.0, "source": "compiled"},
            "sram_bytes": {"value": 512.0, "source": "emulated"},
            "latency_ms": {"value": 0.5, "source": "emulated"},
        },
        tried=[
            {"trial": 2, "cost": {}, "over_budget": ["flash 4.88 kB > 4 kB"]},
            {"trial": 1, "cost": {"flash_bytes": {"value": 4096.0}}, "over_budget": []},
        ],
        search={**base_report()["search"], "best_trial": 2, "chosen_trial": 1},
    )
    html = render_html(report, TRIALS)
    assert '<div class="card over"><div class="label">flash</div>' in html
    assert "Candidates measured in turn" in html and "flash 4.88 kB &gt; 4 kB" in html
    assert "the best trial, #2, broke a budget once measured" in html
    md = render_markdown(report, TRIALS)
    assert "best trial #2, chosen trial #1." in md
    assert "- trial #2: flash 4.88 kB > 4 kB" in md


def test_text_from_the_report_is_escaped() -> None:
    html = render_html(base_report(notes=["<script>alert(1)</script>"]), TRIALS)
    assert "needs &lt;b&gt;4 kB&lt;/b&gt; of SRAM" in html
    assert "<script>alert(1)" not in html
    assert len(re.findall(r"<script\b", html)) == 1  # the page's own, inline


def test_firmware_steps_of_the_report_are_shown_instead_of_cmake() -> None:
    steps = [{"what": "Build with west", "commands": ["cd firmware", "west build -b b -d build ."]}]
    report = base_report(firmware={"template": "zephyr", "steps": steps, "dir": "firmware"})
    for text in (render_markdown(report), render_html(report, TRIALS)):
        firmware = text.split("Firmware")[-1]
        assert "west build -b b -d build ." in firmware
        assert "cmake" not in firmware and "run-qemu" not in firmware


def test_the_search_line_counts_pruned_and_failed_trials() -> None:
    """The line "6 trials (5 within budget)" read as one trial over budget; it was pruned."""
    search = {**base_report()["search"], "trials": 6, "feasible": 4, "pruned": 1, "failed": 1}
    md = render_markdown(base_report(search=search))
    assert "6 trials (4 within budget, 1 pruned, 1 failed), sampler tpe" in md
    assert "4 trials (3 within budget), sampler tpe" in render_markdown(base_report())


def test_labels_from_the_data_are_literal_text_in_markdown() -> None:
    # a label with a line break or `|` broke report.md's tables; raw HTML went through
    weird = ["a|b", "new\nline", "<img src=x onerror=alert(1)>"]
    md = render_markdown(base_report(classes=weird, confusion=[[1, 0, 0], [0, 1, 0], [0, 0, 1]]))
    lines = md.splitlines()
    head = lines[
        lines.index("## Confusion matrix (test set; rows: truth, columns: prediction)") + 2
    ]
    assert head == "| | a\\|b | new line | &lt;img src=x onerror=alert(1)&gt; |"
    assert "<img" not in md
    rows = [line for line in lines if line.startswith("| **")]
    assert [row.count(" | ") for row in rows] == [3, 3, 3]  # one cell per class, no more


def test_report_without_optional_keys_renders() -> None:
    report = base_report()
    for key in ("task", "maximize", "measurements", "notes"):
        del report[key]
    del report["search"]["chosen_trial"]
    report["budgets"]["latency_ms"] = None
    html = render_html(report, [])
    assert 'id="pareto-latency-budget"' not in html and 'id="pareto-flash-budget"' in html
    assert "budget none, emulated" in html
    assert "Nothing was measured" in html
    assert set(plots(html)) >= {"search-history", "pareto-flash", "memory"}
    assert "Chosen: trial #1" in html
    md = render_markdown(report)
    assert md.startswith("# mcuforge report: demo\n")
    assert "| latency | 0.5000 ms | - | emulated |" in md


def test_rendering_is_deterministic() -> None:
    a = render_html(base_report(), TRIALS)
    b = render_html(copy.deepcopy(base_report()), copy.deepcopy(TRIALS))
    assert a == b
    assert "Date" not in a and "Created with" not in a


def test_trials_read_back_from_csv_equal_the_search_rows() -> None:
    text = [{k: ("" if v is None else str(v)) for k, v in row.items()} for row in TRIALS]
    assert read_trials(text) == read_trials(TRIALS)


def test_pareto_front_and_recipe_summary_follow_the_score_direction() -> None:
    ts = read_trials(
        [trial(0, 0.5, True, 100.0), trial(1, 0.2, True, 200.0), trial(2, 0.9, True, 50.0)]
    )
    assert [t.number for t in pareto_front(ts, "flash_bytes", maximize=True)] == [2]
    assert [t.number for t in pareto_front(ts, "flash_bytes", maximize=False)] == [2, 0, 1]
    assert recipe_summary(ts, maximize=False)[0].best == 0.2
    assert recipe_summary(ts)[0].best == 0.9


def test_recorded_pareto_set_is_used_for_the_table() -> None:
    rows = [trial(0, 0.8, True, 1024.0, pareto=False), trial(1, 0.95, True, 4096.0, pareto=True)]
    md = render_markdown(base_report(), rows)
    table = md.split("### Pareto set", 1)[1]
    assert re.search(r"^\| 1 \(chosen\) \|", table, re.M)
    assert not re.search(r"^\| 0 \|", table, re.M)


def test_write_reports_refuses_another_version(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="report_version 99"):
        write_reports(tmp_path, base_report(report_version=99), TRIALS)
    assert list(tmp_path.iterdir()) == []


def _output(tmp_path: Path, report: dict[str, Any]) -> Path:
    (tmp_path / "report.json").write_text(json.dumps(report))
    (tmp_path / "trials.csv").write_text("trial,state,recipe,score,feasible,params\n")
    return tmp_path


def test_rerender_explains_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"report\.json not found"):
        rerender(tmp_path)
    out = _output(tmp_path, base_report(report_version=REPORT_VERSION + 1))
    with pytest.raises(OutputError, match="newer mcuforge"):
        rerender(out)
    (out / "report.json").write_text("{")
    with pytest.raises(OutputError, match="not valid JSON"):
        rerender(out)
    assert not (out / "report.html").exists() and not (out / "report.md").exists()
    # an edited or damaged report of this version: where, not a traceback
    broken = base_report()
    del broken["cost"]
    _output(tmp_path, broken)
    with pytest.raises(OutputError, match=r"report\.json: cost: Field required .*regenerate"):
        rerender(out)
    broken = base_report()
    broken["cost"]["flash_bytes"]["value"] = "big"
    _output(tmp_path, broken)
    with pytest.raises(OutputError, match=r"cost\.flash_bytes\.value: Input should be a valid"):
        rerender(out)
    _output(tmp_path, base_report())
    rerender(out)
    assert "<svg" in (out / "report.html").read_text()


def test_importing_the_package_does_not_import_matplotlib() -> None:
    code = "import sys, mcuforge.report; print('matplotlib' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"


def test_each_plot_is_well_formed_xml() -> None:
    for name, svg in plots(render_html(base_report(), TRIALS)).items():
        root = ElementTree.fromstring(svg)
        assert root.tag == "svg" and root.get("data-plot") == name


def test_rerender_in_another_process_gives_identical_bytes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_reports(out, base_report(), TRIALS)
    (out / "trials.csv").write_text(
        "trial,state,recipe,score,feasible,params,flash_bytes,sram_bytes,latency_ms\n"
        + "".join(
            f"{r['trial']},{r['state']},{r['recipe']},{'' if r['score'] is None else r['score']},"
            f"{r['feasible']},x,{r.get('flash_bytes', '')},{r.get('sram_bytes', '')},"
            f"{r.get('latency_ms', '')}\n"
            for r in TRIALS
        )
    )
    rerender(out)
    here = (out / "report.html").read_bytes()
    code = f"import pathlib, mcuforge.report as r; r.rerender(pathlib.Path({str(out)!r}))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    assert (out / "report.html").read_bytes() == here


def test_real_report_follows_the_exported_schema(
    real: tuple[dict[str, Any], list[dict[str, str]]],
) -> None:
    import jsonschema

    from mcuforge.report import validate_report

    schema = json.loads((ROOT / "schema" / "report.schema.json").read_text())
    jsonschema.validate(real[0], schema)
    typed = validate_report(real[0])
    assert typed.cost.flash_bytes.source in ("analytic", "compiled", "linked")
    bad = {**real[0], "scor": 1.0}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
