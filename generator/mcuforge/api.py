"""The Python API: what the command line does, as functions with typed results.

Every function takes a spec as a path (a YAML file) or a mapping (with ``base_dir``, the
folder its relative paths start from), and raises :class:`~mcuforge.errors.McuforgeError`
subclasses, each with a located message, like the command line::

    from mcuforge import api

    problems = api.validate("examples/basicmotions/spec.yaml")      # [] when valid
    plan = api.resolve("examples/basicmotions/spec.yaml")           # recipes and why
    result = api.generate("examples/basicmotions/spec.yaml", out="out", trials=4,
                          force=True, measure=False)
    print(result.recipe, result.score, result.cost.flash_bytes.value, result.paths.report_html)

The results are pydantic models: ``result.model_dump(mode="json")`` is what
``mcuforge generate --json`` prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from .errors import Located, McuforgeError, SpecError
from .spec import LoadedSpec, load_spec, load_spec_data

if TYPE_CHECKING:
    from .search import SearchResult

SpecSource = str | Path | Mapping[str, Any]
Log = Callable[[str], None]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class Figure(_Result):
    """One cost figure and how it was obtained (analytic, compiled, emulated, device…)."""

    value: float
    source: str


class CostResult(_Result):
    """What the chosen features + model cost on the target; each figure with its source."""

    model_config = ConfigDict(frozen=True, extra="allow")

    flash_bytes: Figure
    sram_bytes: Figure
    latency_ms: Figure
    instructions: Figure


class Problem(_Result):
    """One problem in a spec or catalog: ``file:line:col: field: message``."""

    file: str
    line: int | None
    col: int | None
    field: str
    message: str

    def __str__(self) -> str:
        return str(Located(self.file, self.line, self.col, self.field, self.message))


class Decision(_Result):
    """Whether a recipe takes part in the search, and why."""

    recipe: str
    chosen: bool
    reason: str


class Resolution(_Result):
    """The target, its core, the recipes the search will use and why each one is in or out."""

    target: str
    core: str
    recipes: list[str]
    decisions: list[Decision]


class Trial(_Result):
    """One trial of the study."""

    number: int
    recipe: str
    params: dict[str, Any]
    score: float | None
    feasible: bool
    state: str
    reason: str = ""
    cost: CostResult | None = None


class SearchOutcome(_Result):
    """A study after ``search``: every trial, the best, the Pareto set, what stopped it."""

    study: str
    storage: str
    trials: list[Trial]
    best: Trial
    ranked: list[int]
    pareto: list[int]
    stopped_by: str


class Parity(_Result):
    """C against Python on the test windows."""

    model_config = ConfigDict(frozen=True, extra="allow")

    agree: int
    total: int


class Paths(_Result):
    """What ``generate`` wrote."""

    out_dir: Path
    firmware: Path
    report_html: Path
    report_md: Path
    report_json: Path
    trials_csv: Path
    lock: Path


class GenerateOutcome(_Result):
    """The model ``generate`` handed over: score, parity, measured cost, where it is."""

    recipe: str
    metric: str
    score: float
    cv_score: float | None
    parity: Parity
    cost: CostResult
    target: str
    pareto: list[Trial]
    notes: list[str]
    paths: Paths


def load(spec: SpecSource, base_dir: str | Path | None = None) -> LoadedSpec:
    """A validated spec from a file or a mapping.

    Raises:
        SpecError: every problem, located.
    """
    if isinstance(spec, Mapping):
        return load_spec_data(dict(spec), Path(base_dir or Path.cwd()))
    return load_spec(Path(spec))


def _problems(exc: McuforgeError) -> list[Problem]:
    located = list(getattr(exc, "problems", []) or [])
    if not located:
        return [Problem(file="", line=None, col=None, field="", message=str(exc))]
    return [
        Problem(file=p.file, line=p.line, col=p.col, field=p.field, message=p.message)
        for p in located
    ]


def _count(value: int | None, name: str) -> int | None:
    """A count argument (``trials``, ``jobs``), checked as the command line checks it.

    Raises:
        SpecError: not a whole number of at least 1.
    """
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise SpecError.at(
            Located("argument", None, None, name, f"must be 1 or more; got {value!r}")
        )
    return value


def _budget_s(value: float | str | None) -> float | None:
    """``time_budget`` in seconds (``5m``, ``90s`` or a number).

    Raises:
        SpecError: not a duration.
    """
    from .spec import parse_duration

    try:
        return None if value is None else parse_duration(value)
    except ValueError as exc:
        raise SpecError.at(Located("argument", None, None, "time_budget", str(exc))) from None


def validate(
    spec: SpecSource, catalogs: Sequence[str | Path] = (), base_dir: str | Path | None = None
) -> list[Problem]:
    """Every problem ``generate`` would find before its search (what ``mcuforge
    validate`` finds: spec, catalogs, lock, budgets, template, profilers, calibration,
    output folder, data); ``[]`` when there is none."""
    from .data import data_root, locate_findings
    from .data import preflight as data_preflight
    from .preflight import preflight

    try:
        loaded = load(spec, base_dir)
        preflight(loaded, [Path(c) for c in catalogs])
        found = data_preflight(loaded.spec, loaded.base_dir)
    except McuforgeError as exc:
        return _problems(exc)
    errors = [f for f in found if f.severity == "error"]
    root = data_root(loaded.spec, loaded.base_dir)
    return [
        Problem(file=p.file, line=p.line, col=p.col, field=p.field, message=p.message)
        for p in locate_findings(errors, root, loaded)
    ]


def resolve(
    spec: SpecSource, catalogs: Sequence[str | Path] = (), base_dir: str | Path | None = None
) -> Resolution:
    """The recipes the search will use for ``spec`` (following its lock), and why."""
    from .catalog import load_catalog
    from .lock import pins, read_lock
    from .resolver import resolve as _resolve

    loaded = load(spec, base_dir)
    folders = [
        *(Path(c) for c in catalogs),
        *(loaded.resolve_path(c) for c in loaded.spec.catalogs),
    ]
    plan = _resolve(loaded, load_catalog(folders), pins(read_lock(loaded.lock_path, loaded.path)))
    return Resolution(
        target=plan.target.name,
        core=plan.target.core,
        recipes=[r.ref for r in plan.recipes],
        decisions=[
            Decision(recipe=d.recipe, chosen=d.chosen, reason=d.reason) for d in plan.decisions
        ],
    )


def _trial(r: Any) -> Trial:
    return Trial(
        number=r.number,
        recipe=r.recipe,
        params=dict(r.params),
        score=r.score,
        feasible=r.feasible,
        state=r.state,
        reason=r.reason,
        cost=CostResult.model_validate(r.cost) if r.cost else None,
    )


def search(
    spec: SpecSource,
    *,
    trials: int | None = None,
    time_budget: float | str | None = None,
    storage: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    catalogs: Sequence[str | Path] = (),
    base_dir: str | Path | None = None,
    log: Log | None = None,
) -> SearchOutcome:
    """Run trials into the spec's study (``mcuforge search``); generate nothing."""
    from .pipeline import search_only

    res = search_only(
        load(spec, base_dir),
        storage,
        _count(trials, "trials"),
        _count(jobs, "jobs"),
        force,
        [Path(c) for c in catalogs],
        log or (lambda s: None),
        time_budget_s=_budget_s(time_budget),
    )
    return search_outcome(res)


def search_outcome(res: SearchResult) -> SearchOutcome:
    """The typed result of a search (what ``mcuforge search --json`` prints)."""
    return SearchOutcome(
        study=res.study_name,
        storage=res.storage.split("://", 1)[0],
        trials=[_trial(t) for t in res.trials],
        best=_trial(next(t for t in res.trials if t.number == res.best_trial)),
        ranked=list(res.ranked),
        pareto=list(res.pareto),
        stopped_by=res.stopped_by,
    )


def generate(
    spec: SpecSource,
    *,
    out: str | Path | None = None,
    trials: int | None = None,
    time_budget: float | str | None = None,
    force: bool = False,
    measure: bool = True,
    locked: bool = False,
    storage: str | None = None,
    jobs: int | None = None,
    from_study: bool = False,
    catalogs: Sequence[str | Path] = (),
    base_dir: str | Path | None = None,
    log: Log | None = None,
) -> GenerateOutcome:
    """The whole pipeline (``mcuforge generate``): search, C, parity, cost, firmware."""
    from .pipeline import generate as _generate

    res = _generate(
        load(spec, base_dir),
        Path(out) if out is not None else None,
        _count(trials, "trials"),
        force,
        log or (lambda s: None),
        measure_cost=measure,
        catalogs=[Path(c) for c in catalogs],
        locked=locked,
        storage=storage,
        jobs=_count(jobs, "jobs"),
        from_study=from_study,
        time_budget_s=_budget_s(time_budget),
    )
    return outcome_of(res.out_dir, res.report)


def outcome_of(out_dir: Path, report: dict[str, Any]) -> GenerateOutcome:
    """The typed result of a ``generate`` from its report (as in ``report.json``)."""
    import json

    rows = []
    trials_json = out_dir / "pareto.json"
    if trials_json.is_file():
        rows = json.loads(trials_json.read_text())
    pareto = [
        Trial(
            number=int(r["trial"]),
            recipe=str(r["recipe"]),
            params=json.loads(r["params"]) if isinstance(r["params"], str) else r["params"],
            score=r.get("score"),
            feasible=bool(r.get("feasible")),
            state=str(r.get("state", "")),
            reason=str(r.get("reason") or ""),
        )
        for r in rows
    ]
    return GenerateOutcome(
        recipe=report["recipe"],
        metric=report["metric"],
        score=float(report["score"]),
        cv_score=report.get("cv_score"),
        parity=Parity.model_validate(report["parity"]),
        cost=CostResult.model_validate(report["cost"]),
        target=report.get("target", {}).get("name", ""),
        pareto=pareto,
        notes=list(report.get("notes", [])),
        paths=Paths(
            out_dir=out_dir,
            firmware=out_dir / "firmware",
            report_html=out_dir / "report.html",
            report_md=out_dir / "report.md",
            report_json=out_dir / "report.json",
            trials_csv=out_dir / "trials.csv",
            lock=out_dir / "mcuforge.lock",
        ),
    )


__all__ = [
    "CostResult",
    "Decision",
    "Figure",
    "GenerateOutcome",
    "Parity",
    "Paths",
    "Problem",
    "Resolution",
    "SearchOutcome",
    "SpecError",
    "Trial",
    "generate",
    "load",
    "outcome_of",
    "resolve",
    "search",
    "search_outcome",
    "validate",
]
