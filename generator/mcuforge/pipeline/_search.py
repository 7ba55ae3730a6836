"""Step 2, search: the Optuna study with the spec's settings and the command line's."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..search import (
    SearchError,
    SearchResult,
    SearchSettings,
    default_storage,
    run_search,
    storage_url,
)
from ..spec import Search
from ._prepare import Log, Prepared


def search_settings(
    search: Search,
    out_dir: Path,
    *,
    trials: int | None,
    time_budget_s: float | None,
    storage: str | None,
    jobs: int | None,
    force: bool,
    verbose: bool,
    exclusive: bool = False,
) -> SearchSettings:
    """The spec's ``search`` section with the command line's overrides applied.

    A trial total and a time budget may both be given (the first reached ends the
    search); with neither, the default time budget applies.
    """
    effective = search.model_copy(
        update={
            "trials": trials if trials is not None else search.trials,
            "time_budget": time_budget_s if time_budget_s is not None else search.time_budget,
        }
    )
    return SearchSettings(
        trials=effective.trials,
        storage=storage_url(storage or search.storage, out_dir),
        jobs=jobs or search.jobs,
        force=force,
        time_budget_s=effective.budget_s,
        trial_timeout_s=effective.trial_timeout_s,
        verbose=verbose,
        exclusive=exclusive,
    )


def continue_local_study(out_dir: Path, settings: SearchSettings) -> bool:
    """With the local study (no ``--storage``), continue the one of the last output: its
    ``study.db`` becomes the working study beside the output when there is none. True
    when the study is the local one."""
    working = default_storage(out_dir)
    local = settings.storage == storage_url(None, out_dir)
    if local and not working.exists() and (out_dir / "study.db").is_file():
        shutil.copy2(out_dir / "study.db", working)
    return local


def search(
    p: Prepared,
    out_dir: Path,
    settings: SearchSettings,
    log: Log,
    catalogs: list[Path] | None,
) -> SearchResult:
    """Run (or resume) the study; a local study continues the one of the last output."""
    working = default_storage(out_dir)
    local = continue_local_study(out_dir, settings)
    if local and settings.trials == 0 and not working.exists():
        raise SearchError(  # before Optuna creates an empty study file there
            f"--from-study: there is no study for {out_dir} (neither {working.name} beside "
            "it nor study.db in it); run `mcuforge generate` without --from-study first"
        )
    spec_file = p.loaded.path if p.loaded.path.is_file() else None  # workers reread it
    return run_search(p.plan, p.dataset, settings, log, spec_file, catalogs)


__all__ = ["continue_local_study", "search", "search_settings"]
