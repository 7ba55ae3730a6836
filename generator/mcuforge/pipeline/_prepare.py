"""Step 1, prepare: spec, lock, catalog, plan, profiler chain, data; nothing trained yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..catalog import Catalog, load_catalog
from ..data import Dataset, load_dataset
from ..hardware.calibrate import Calibration
from ..hardware.measure import build_chain, chain_names
from ..lock import LockError, differences, lock_data, pins, read_lock
from ..resolver import Plan, resolve
from ..spec import LoadedSpec, load_spec

Log = Callable[[str], None]


@dataclass
class Prepared:
    """Everything known before the search: spec, catalog, plan, data, lock."""

    loaded: LoadedSpec
    catalog: Catalog
    plan: Plan
    dataset: Dataset
    lock: dict[str, Any]
    lock_existed: bool
    notes: list[str] = field(default_factory=list)
    calibration: Calibration | None = None
    profilers: list[str] = field(default_factory=list)  # the measuring chain, in order


def prepare(
    spec_path: Path | LoadedSpec,
    catalogs: list[Path] | None = None,
    locked: bool = False,
    log: Log = lambda s: None,
) -> Prepared:
    """Load and check everything the search needs; follow the lock beside the spec.

    Raises:
        LockError: with ``locked``, the lock is missing or differs (listing what).
        ProfilerError: the spec or the core table names a profiler nobody registered.
    """
    loaded = spec_path if isinstance(spec_path, LoadedSpec) else load_spec(spec_path)
    spec = loaded.spec
    folders = [*(catalogs or []), *(loaded.resolve_path(c) for c in spec.catalogs)]
    catalog = load_catalog(folders)
    old = read_lock(loaded.lock_path)
    if locked and old is None:
        raise LockError(
            f"--locked: no lock at {loaded.lock_path}; run `mcuforge lock "
            f"{loaded.path}` (or generate once without --locked) and commit it"
        )
    plan = resolve(loaded, catalog, pins(old))
    calibration = None
    if spec.hardware.calibration:
        calibration = Calibration.load(loaded.resolve_path(spec.hardware.calibration))
        plan = replace(plan, calibration=calibration)
    from ..scaffold import check_template

    check_template(spec.output.firmware, plan.target, plan.core)
    profilers = chain_names(catalog.profilers(plan.target.core), spec.hardware)
    build_chain(profilers, spec.hardware)  # every name must be a registered profiler
    dataset = load_dataset(spec.data, loaded.base_dir, spec.task)
    now = lock_data(plan, catalog, dataset)
    notes: list[str] = []
    if old is not None:
        diff = differences(old, now)
        if diff and locked:
            raise LockError(
                f"--locked: {loaded.lock_path} differs from the catalog and data:\n"
                + "\n".join(f"  - {d}" for d in diff)
                + "\nrun `mcuforge lock --update` to accept the changes"
            )
        for d in diff:
            notes.append(f"lock: {d} (run `mcuforge lock --update` to record it)")
            log(notes[-1])
    return Prepared(
        loaded,
        catalog,
        plan,
        dataset,
        old or now,
        old is not None,
        notes,
        calibration,
        profilers,
    )


__all__ = ["Log", "Prepared", "prepare"]
