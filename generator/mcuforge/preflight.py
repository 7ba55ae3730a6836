"""Every check ``generate`` makes before it reads the data; ``validate`` runs the same.

The spec (syntax, fields, ranges), the catalogs, the lock, the target and the recipes
(names, versions, overrides, what applies, the budgets against the part and against
each recipe's smallest configuration), the calibration file, the firmware template
(known, and able to serve the target's boards), the storage URL, the data path, and
where the output goes (never an input, never inside one, never a folder of other files:
generate replaces only its own outputs). Every problem is located in
the file that causes it (``file:line:col: field: message``), and all of them are
reported at once when they are independent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ._output import input_problem, replace_problem
from ._resources import data_dir
from .catalog import Catalog, Core, Target, load_catalog
from .cost import Calibration
from .errors import DataError, Located, McuforgeError, OutputError, SpecError
from .lock import LockError, pins, read_lock
from .resolver import Plan, resolve
from .spec import LoadedSpec, load_spec

T = TypeVar("T")


@dataclass(frozen=True)
class Checked:
    """What the checks established: the spec, catalog, plan, lock, output folder."""

    loaded: LoadedSpec
    catalog: Catalog
    plan: Plan
    lock: dict[str, Any] | None
    calibration: Calibration | None
    out_dir: Path
    profilers: list[str]  # the chain that measures candidates, every name registered


def output_dir(loaded: LoadedSpec, out: Path | None) -> Path:
    """The output folder: ``-o`` when given, else ``output.dir`` beside the spec."""
    return (out if out is not None else loaded.resolve_path(loaded.spec.output.dir)).resolve()


class _Problems:
    """Runs independent checks and keeps every error they raise."""

    def __init__(self) -> None:
        self.errors: list[McuforgeError] = []

    def attempt(self, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except McuforgeError as exc:
            self.errors.append(exc)
            return None

    def raise_any(self, loaded: LoadedSpec) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            located: list[Located] = []
            for exc in self.errors:
                located += exc.problems or [Located(loaded.file, None, None, "", str(exc))]
            raise SpecError(located)


def preflight(
    spec_path: Path | LoadedSpec,
    catalogs: list[Path] | None = None,
    locked: bool = False,
    out: Path | None = None,
    check_output: bool = True,
) -> Checked:
    """Check everything ``generate`` needs before reading the data (``check_output``
    False: not the output folder, for a search worker that writes none).

    Raises:
        McuforgeError: the one problem found (``SpecError``, ``CatalogError``,
            ``BudgetError``, ``LockError``, ``OutputError``, ``DataError``...), or a
            ``SpecError`` listing all of them when there are several.
    """
    loaded = spec_path if isinstance(spec_path, LoadedSpec) else load_spec(spec_path)
    problems = _Problems()
    folders = _catalog_folders(loaded, catalogs or [], problems)
    catalog = problems.attempt(lambda: load_catalog(folders))
    old = problems.attempt(lambda: read_lock(loaded.lock_path, loaded.path))
    if locked and old is None and not any(isinstance(e, LockError) for e in problems.errors):
        problems.errors.append(
            LockError(
                f"--locked: no lock at {loaded.lock_path}; run `mcuforge lock "
                f"{loaded.file or loaded.path}` (or generate once without --locked) and commit it"
            )
        )
    plan = None
    if catalog is not None:
        plan = problems.attempt(lambda: resolve(loaded, catalog, pins(old)))
    profilers: list[str] = []
    part = (plan.target, plan.core) if plan is not None else _part(loaded, catalog)
    if part is not None:  # also when no recipe fits: every problem in one run
        target, core = part
        problems.attempt(lambda: _template(loaded, target, core))
    if plan is not None and catalog is not None:
        target_plan, cat = plan, catalog
        profilers = problems.attempt(lambda: _profilers(loaded, cat, target_plan)) or []
    calibration = problems.attempt(lambda: _calibration(loaded))
    problems.attempt(lambda: _storage(loaded))
    problems.attempt(lambda: _data_path(loaded))
    out_dir = output_dir(loaded, out)
    if check_output:
        problems.attempt(lambda: _output(loaded, out_dir, folders, out is not None))
    problems.raise_any(loaded)
    assert catalog is not None and plan is not None
    if calibration is not None:
        from dataclasses import replace

        plan = replace(plan, calibration=calibration)
    return Checked(loaded, catalog, plan, old, calibration, out_dir, profilers)


def _catalog_folders(loaded: LoadedSpec, cli: list[Path], problems: _Problems) -> list[Path]:
    """The catalog folders (command line, then spec) that exist; the others are problems."""
    folders: list[Path] = []
    for path in cli:
        if path.is_dir():
            folders.append(path.resolve())
        else:
            problems.errors.append(
                SpecError.at(
                    Located(f"--catalog {path}", None, None, "", "catalog folder does not exist")
                )
            )
    for i, rel in enumerate(loaded.spec.catalogs):
        path = loaded.resolve_path(rel)
        if path.is_dir():
            folders.append(path)
        else:
            problems.errors.append(
                SpecError.at(
                    loaded.problem(("catalogs", i), f"catalog folder {path} does not exist")
                )
            )
    return folders


def _part(loaded: LoadedSpec, catalog: Catalog | None) -> tuple[Target, Core] | None:
    """The spec's target and core from the catalog, when they are in it (quietly: the
    resolver reports an unknown one)."""
    if catalog is None:
        return None
    try:
        target = catalog.target_from(loaded.spec.target)
        return target, catalog.core(target.core)
    except McuforgeError:
        return None


def _template(loaded: LoadedSpec, target: Target, core: Core) -> None:
    from .scaffold import check_template

    try:
        check_template(loaded.spec.output.firmware, target, core)
    except OutputError as exc:
        raise OutputError.at(loaded.problem(("output", "firmware"), str(exc))) from None


def _profilers(loaded: LoadedSpec, catalog: Catalog, plan: Plan) -> list[str]:
    """The core's profiler chain plus the spec's ``hardware.profiler``, all registered."""
    from .hardware.measure import ProfilerError, build_chain, chain_names

    names = chain_names(catalog.profilers(plan.target.core), loaded.spec.hardware)
    try:
        build_chain(names, loaded.spec.hardware)
    except ProfilerError as exc:
        message = str(exc).removeprefix("hardware.profiler: ")
        raise ProfilerError.at(loaded.problem(("hardware", "profiler"), message)) from None
    return names


def _calibration(loaded: LoadedSpec) -> Calibration | None:
    rel = loaded.spec.hardware.calibration
    if not rel:
        return None
    try:
        return Calibration.load(loaded.resolve_path(rel))
    except McuforgeError as exc:
        raise type(exc).at(loaded.problem(("hardware", "calibration"), str(exc))) from None


def _storage(loaded: LoadedSpec) -> None:
    url = loaded.spec.search.storage
    if url is None:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise SpecError.at(
            loaded.problem(
                ("search", "storage"),
                f"not a database URL ({exc}); e.g. postgresql://user@host/db or sqlite:///study.db",
            )
        ) from None


def _data_path(loaded: LoadedSpec) -> None:
    path = loaded.resolve_path(loaded.spec.data.path)
    if not path.exists():
        raise DataError.at(
            loaded.problem(("data", "path"), f"{path} does not exist (relative to the spec)")
        )


def _output(loaded: LoadedSpec, out_dir: Path, catalogs: list[Path], from_cli: bool) -> None:
    spec = loaded.spec
    data = loaded.resolve_path(spec.data.path)
    builtin = [data_dir("recipes").resolve(), data_dir("templates").resolve()]
    inputs = [loaded.path, loaded.base_dir, data, loaded.lock_path.resolve(), *catalogs, *builtin]
    if spec.hardware.calibration:
        inputs.append(loaded.resolve_path(spec.hardware.calibration))
    folders = [*([data] if data.is_dir() else []), *catalogs, *builtin]
    why = input_problem(out_dir, inputs, folders)
    if why is None and out_dir.exists() and not out_dir.is_dir():
        why = f"output {out_dir} exists and is not a directory; choose a folder (e.g. out/)"
    if why is None:  # a folder of other files, which generate never replaces (--force too)
        why = replace_problem(out_dir, force=True)
    if why is None:
        return
    if from_cli:
        raise OutputError.at(Located("-o/--out", None, None, "", why))
    raise OutputError.at(loaded.problem(("output", "dir"), why))


__all__ = ["Checked", "output_dir", "preflight"]
