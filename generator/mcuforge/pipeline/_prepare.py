"""Step 1, prepare: spec, lock, catalog, plan, profiler chain, data; nothing trained yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import Catalog
from ..cost import Calibration
from ..data import Dataset, load_dataset
from ..lock import LockError, differences, lock_data
from ..preflight import preflight
from ..resolver import Plan, update_command
from ..spec import LoadedSpec

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
    out_dir: Path | None = None  # where the output goes (checked: not an input)


def prepare(
    spec_path: Path | LoadedSpec,
    catalogs: list[Path] | None = None,
    locked: bool = False,
    log: Log = lambda s: None,
    out: Path | None = None,
) -> Prepared:
    """Check everything (:func:`mcuforge.preflight.preflight`: what ``validate`` checks),
    load the data; follow the lock beside the spec.

    Raises:
        McuforgeError: a located problem of the spec, catalogs, lock, output or data.
        LockError: with ``locked``, the lock is missing or differs (listing what).
    """
    checked = preflight(spec_path, catalogs, locked, out)
    loaded, catalog, plan, old = checked.loaded, checked.catalog, checked.plan, checked.lock
    spec = loaded.spec
    dataset = load_dataset(spec.data, loaded.base_dir, spec.task, loaded)
    now = lock_data(plan, catalog, dataset)
    notes: list[str] = []
    if spec.data.window.short == "whole":
        notes.append(
            "data.window.short: whole: the model learnt whole recordings fitted to "
            f"{dataset.window} samples; the firmware's sensor mode cuts windows from the "
            "stream as they come, so give it one recording fitted the same way per inference"
        )
    if old is not None:
        diff = differences(old, now, plan)
        if diff and locked:
            raise LockError(
                f"--locked: {loaded.lock_path} differs from the catalog and data:\n"
                + "\n".join(f"  - {d}" for d in diff)
                + f"\nrun `{update_command(loaded.path)}` to accept the changes"
            )
        for d in diff:
            notes.append(f"lock: {d} (run `{update_command(loaded.path)}` to record it)")
            log(notes[-1])
    return Prepared(
        loaded,
        catalog,
        plan,
        dataset,
        old or now,
        old is not None,
        notes,
        checked.calibration,
        checked.profilers,
        checked.out_dir,
    )


__all__ = ["Log", "Prepared", "prepare"]
