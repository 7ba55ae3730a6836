"""Measure a candidate: a chain of profilers, each replacing the figures it can measure.

The chain is data: the core's ``profilers`` in ``recipes/cores.yaml`` (by default
``compiled``, ``emulated``, ``linked``, ``qemu``), plus the one a spec names in
``hardware.profiler`` (e.g. ``device``), each looked up in :data:`PROFILERS` (plugins
included) and built with :meth:`Profiler.configure`. In order, each profiler that can
run here replaces the figures it measures:

* ``compiled``: flash of features + model from the cross-compiled ELF;
* ``emulated``: instructions of the worst test window and the stack high-water mark in
  unicorn (SRAM = static + stack; latency = instructions x CPI / clock);
* ``linked``: the whole firmware linked for the part (flash and SRAM the budgets check);
* ``qemu``: the self-test firmware in QEMU; its predictions must agree with Python's. It
  runs for the final check of the chosen candidate, or earlier when no profiler
  before it measured the instructions (then its count is the figure);
* ``device``: a board over a serial port.

Two sets of figures are kept when the caller gives both estimates (:func:`run_chain`,
``analytic_model``): the whole firmware's (``cost``: what the budgets check, refined by
``firmware`` profilers) and features + model alone (``model_only``: refined by the
others). Whatever cannot be measured here keeps its analytic figure, and a note says
why. The energy of one inference follows the final latency (:func:`.analytic.with_energy`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._yaml import load_file, locate
from ..catalog import Catalog
from ..cost import Calibration, Cost, Figure
from ..errors import Located, McuforgeError
from ..resolver import Plan
from ..spec import Hardware
from ._base import ESTIMATED_STACK_PEAK, PROFILERS, Firmware, Profiler, Workload
from .analytic import with_energy

#: The chain when a caller names none (tests, tools): what ``cores.yaml`` gives by default.
DEFAULT_CHAIN = ("compiled", "emulated", "qemu")
#: Figures in the order the report lists them.
FIGURES = ("flash_bytes", "sram_bytes", "instructions", "latency_ms")


class ProfilerError(McuforgeError):
    """A profiler named in the spec or the core table is not registered."""

    exit_code = 2


def profiler_problems(catalog: Catalog, folders: Sequence[Path]) -> list[Located]:
    """Core tables in ``folders`` naming profilers that do not exist (found otherwise
    only when a search measures), located in the file."""
    from difflib import get_close_matches

    out: list[Located] = []
    for key, entry in catalog.sources.items():
        src = entry.path.resolve()
        if not key.startswith("cores:") or not any(src.is_relative_to(f) for f in folders):
            continue
        try:
            data, marks = load_file(src)
        except McuforgeError:
            continue
        chains: list[tuple[tuple[str, ...], Any]] = [(("profilers",), data.get("profilers"))]
        chains += [
            (("cores", name, "profilers"), core.get("profilers"))
            for name, core in (data.get("cores") or {}).items()
            if isinstance(core, dict)
        ]
        for key_path, names in chains:
            for i, name in enumerate(names or []):
                if not isinstance(name, str) or name in PROFILERS:
                    continue
                close = get_close_matches(name, PROFILERS.names(), n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else "known: " + ", ".join(PROFILERS.names())
                )
                line, col = locate(marks, (*key_path, i))
                where = ".".join(map(str, (*key_path, i)))
                out.append(
                    Located(str(src), line, col, where, f"unknown profiler {name!r}; {hint}")
                )
    return out


def chain_names(core_chain: Sequence[str], hardware: Hardware) -> list[str]:
    """The profiler names that measure a candidate: the core's chain, plus the spec's
    ``hardware.profiler`` unless it is ``auto``; none for ``analytic``."""
    if hardware.profiler == "analytic":
        return []
    names = list(core_chain)
    if hardware.profiler != "auto" and hardware.profiler not in names:
        names.append(hardware.profiler)
    return names


def build_chain(names: Sequence[str], hardware: Hardware) -> list[Profiler]:
    """Registered profilers for ``names``, configured from the spec.

    Raises:
        ProfilerError: a name no installed profiler has (with the known ones).
    """
    out = []
    for name in names:
        if name not in PROFILERS:
            from difflib import get_close_matches

            close = get_close_matches(name, PROFILERS.names(), n=2)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise ProfilerError(
                f"hardware.profiler: unknown profiler {name!r}; {hint}known: "
                f"{', '.join(dict.fromkeys(['auto', 'analytic', *PROFILERS.names()]))}"
            )
        out.append(PROFILERS.get(name).configure(hardware))
    return out


@dataclass
class Measured:
    """What a chain found: the figures the budgets check, and features + model alone.

    Attributes:
        cost: the figures the budgets check (the whole firmware when the caller gave
            both estimates).
        model_only: features + model alone, when the caller gave that estimate too.
        rows: estimated vs measured per figure (``scope``: ``firmware`` or ``model``).
    """

    cost: Cost
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    qemu: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    model_only: Cost | None = None
    #: Results a later measurement of the same firmware may reuse (see :data:`REUSABLE`).
    reusable: dict[str, Any] = field(default_factory=dict)


#: Workload results that do not depend on the embedded test windows: a later run of the
#: chain on the same firmware with other windows (the final check) reuses them.
REUSABLE = ("linked", "stack_bytes", "stack_source", "emulated_stack_bytes")


def _row(figure: str, analytic: float, measured: Figure, scope: str) -> dict[str, Any]:
    err = (
        None
        if analytic == 0
        else 100.0 * (analytic - measured.value) / measured.value
        if measured.value
        else None
    )
    return {
        "figure": figure,
        "analytic": analytic,
        "measured": measured.value,
        "source": measured.source,
        "error_pct": err,
        "scope": scope,
    }


def error_rows(analytic: Cost, measured: Cost, scope: str = "firmware") -> list[dict[str, Any]]:
    """Estimated vs measured for every figure that was measured (error in %)."""
    return [
        _row(name, getattr(analytic, name).value, getattr(measured, name), scope)
        for name in FIGURES
        if getattr(measured, name).source != "analytic"
    ]


#: Figures of one inference: the same whatever a profiler's scope.
PER_INFERENCE = ("instructions", "latency_ms")


def workload(
    template: str,
    variables: dict[str, str],
    files: dict[str, str],
    sources: dict[str, str],
    plan: Plan,
    workdir: Path,
) -> Workload:
    """The workload of a candidate: its C, test vectors, target and firmware project."""
    return Workload(
        prefix=plan.spec.spec.prefix,
        sources=sources,
        test_vectors={k: v for k, v in files.items() if k not in sources},
        target=plan.target,
        core=plan.core,
        workdir=workdir,
        qemu=plan.qemu,
        firmware=Firmware(template, variables, files),
    )


def run_chain(
    work: Workload,
    analytic: Cost,
    profilers: Sequence[Profiler] | None = None,
    firmware_run: bool = True,
    analytic_model: Cost | None = None,
) -> Measured:
    """Run ``profilers`` (default: :data:`DEFAULT_CHAIN`) on ``work`` in order.

    Args:
        analytic: the estimate of the figures the budgets check.
        firmware_run: also run the ``final_only`` profilers (the whole firmware) when
            earlier ones already measured their figures; the closed loop skips them for
            candidates that are not kept.
        analytic_model: the estimate of features + model alone. Given, ``model``-scope
            profilers refine it and ``firmware`` ones refine ``analytic``; None, every
            profiler refines ``analytic`` (all of it is features + model).
    """
    if profilers is None:
        profilers = [PROFILERS.get(n)() for n in DEFAULT_CHAIN]
    two = analytic_model is not None
    model = analytic_model if analytic_model is not None else analytic
    work.store("analytic_model", model)
    firm = analytic
    out = Measured(analytic)
    missing: list[str] = []
    for p in profilers:
        why = p.unavailable(work)
        if why is not None:
            missing.append(f"{p.name} not run: {why}")
            continue
        whole = p.scope == "firmware" and two
        base = _carry(firm, model) if whole else model
        pending = [f for f in p.measures if getattr(base, f).source == "analytic"]
        if p.final_only and not firmware_run and not pending:
            continue
        prof = p.profile(work, base)
        if whole:
            firm = prof.cost
        else:
            model = prof.cost
        out.notes.extend(prof.notes)
        if prof.details:
            out.details[p.name] = prof.details
    cost = _carry(firm, model) if two else model
    if cost.energy_uj is not None or cost.latency_ms.source != "analytic":
        cost = with_energy(cost, work.target)  # the energy follows the latency
    out.qemu = out.details.get("qemu")
    left = [_WORDS[f] for f in FIGURES if getattr(cost, f).source == "analytic"]
    if missing:
        if len(left) == len(FIGURES):
            suffix = "; cost is analytic"
        elif left:
            suffix = f"; {', '.join(left[:-1])}{' and ' if len(left) > 1 else ''}{left[-1]} "
            suffix += "stay analytic"
        else:
            suffix = ""
        out.notes.insert(0, "; ".join(missing) + suffix)
    out.cost = cost
    out.rows = error_rows(analytic, cost)
    out.reusable = {k: work.cached(k) for k in REUSABLE if work.cached(k) is not None}
    if analytic_model is not None:
        out.model_only = with_energy(model, work.target)
        out.rows += [
            {**r, "figure": f"model_{r['figure']}"}
            for r in error_rows(analytic_model, model, "model")
            if r["figure"] not in PER_INFERENCE
        ]
    return out


def _carry(firm: Cost, model: Cost) -> Cost:
    """``firm`` with the per-inference figures ``model`` measured (instructions, latency)."""
    return firm.with_(
        **{f: getattr(model, f) for f in PER_INFERENCE if getattr(model, f).source != "analytic"}
    )


_WORDS = {
    "flash_bytes": "flash",
    "sram_bytes": "SRAM",
    "instructions": "instructions",
    "latency_ms": "latency",
}


def measure(
    template: str,
    variables: dict[str, str],
    files: dict[str, str],
    sources: dict[str, str],
    plan: Plan,
    analytic: Cost,
    *,
    profilers: Sequence[Profiler] | None = None,
    firmware_run: bool = True,
    calibration: Calibration | None = None,
    analytic_model: Cost | None = None,
    reuse: dict[str, Any] | None = None,
    stack_estimate: int | None = None,
) -> Measured:
    """Replace analytic figures by measured ones where the tools allow it.

    Args:
        profilers: the chain (see :func:`build_chain`); default :data:`DEFAULT_CHAIN`.
        firmware_run: see :func:`run_chain`.
        calibration: correct the analytic figures of this target first (figures that
            cannot be measured stay calibrated estimates).
        analytic_model: features + model alone, estimated (see :func:`run_chain`).
        reuse: :attr:`Measured.reusable` of an earlier measurement of the same firmware.
        stack_estimate: the firmware's stack peak, estimated
            (:func:`~.analytic.estimated_stack_peak`): the ``linked`` profiler reserves
            it when no run measures the peak.
    """
    with tempfile.TemporaryDirectory(prefix="mcuforge-measure-") as tmp:
        work = workload(template, variables, files, sources, plan, Path(tmp))
        for key, value in (reuse or {}).items():
            work.store(key, value)
        if stack_estimate is not None:
            work.store(ESTIMATED_STACK_PEAK, stack_estimate)
        base = analytic
        if calibration is not None:
            base = calibration.apply(plan.target.name, plan.target.core, analytic)
        out = run_chain(work, base, profilers, firmware_run, analytic_model)
        out.rows = error_rows(analytic, out.cost) + [
            r for r in out.rows if r.get("scope") == "model"
        ]
        return out
