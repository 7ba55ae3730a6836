"""Where a study lives: an SQLite file by default, or any SQLAlchemy URL.

A study records a fingerprint of everything that decides its trials (data, task,
target, budgets, recipes, seed); a later run joins it only when the fingerprint
matches, so a resumed search never mixes trials of two different problems.

Every trial sends a heartbeat (Optuna's ``heartbeat_interval``); a running trial whose
heartbeat stopped for ``grace_period`` belongs to a dead worker: the next worker to
start a trial marks it failed and queues its parameters again (:func:`retry_trial`),
so they are re-run, up to :data:`MAX_RETRIES` times (a trial Ctrl-C stopped is queued
again however often it is stopped: the user stopped it, not the trial).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
import warnings
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy

from ..errors import McuforgeError


class SearchError(McuforgeError):
    """The study's storage cannot be used (unreachable, corrupt, or another spec's)."""

    exit_code = 2


def default_storage(out_dir: Path) -> Path:
    """The SQLite file of a local search, beside the output folder (kept across runs)."""
    return out_dir.parent / f".{out_dir.name}.study.db"


def storage_url(url: str | None, out_dir: Path) -> str:
    return url if url else f"sqlite:///{default_storage(out_dir)}"


#: Seconds between two heartbeats of a running trial.
HEARTBEAT_S = 15
#: A running trial without a heartbeat for this long belongs to a dead worker.
GRACE_S = 120
#: How often the parameters of a trial whose worker died (killed, out of memory, the
#: machine lost) are queued again; a third death fails them for good (the report says so).
MAX_RETRIES = 2
#: System attribute: how many attempts at a trial's parameters died before it.
DEATHS_ATTR = "deaths"


def retry_trial(
    study: optuna.Study, trial: optuna.trial.FrozenTrial, interrupted: bool = False
) -> None:
    """Queue the parameters of a trial that did not finish (Ctrl-C, a dead worker).

    The queued trial records the original in ``failed_trial`` and the chain of
    attempts in ``retry_history``. A trial Ctrl-C stopped (``interrupted``) is always
    queued; one whose worker died counts a death, and after :data:`MAX_RETRIES` deaths
    its parameters are not queued again (parameters that kill the process each time
    would otherwise be re-run forever): the failed trial then counts towards the
    study's total, with :func:`trial_reason`. The queued trial keeps the original's
    other system attributes: a grid point's ``grid_id`` (without it the grid sampler
    gives the queued trial another, unvisited point, which then runs these parameters
    and is never evaluated itself).
    """
    history = [*trial.system_attrs.get("retry_history", []), trial.number]
    deaths = int(trial.system_attrs.get(DEATHS_ATTR, 0)) + (0 if interrupted else 1)
    if deaths > MAX_RETRIES:
        return
    study.add_trial(
        optuna.create_trial(
            state=optuna.trial.TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            system_attrs={
                **trial.system_attrs,
                "failed_trial": trial.system_attrs.get("failed_trial", trial.number),
                "retry_history": history,
                DEATHS_ATTR: deaths,
            },
        )
    )


def trial_reason(trial: optuna.trial.FrozenTrial) -> str:
    """Why a trial was pruned, failed or not run: what it recorded, else (a failed trial
    without a word) that its worker died: a trial that fails in Python records its
    error, and one Ctrl-C stopped is queued again."""
    reason = trial.user_attrs.get("reason") or trial.system_attrs.get("fail_reason", "")
    if reason or trial.state != optuna.trial.TrialState.FAIL:
        return str(reason)
    deaths = int(trial.system_attrs.get(DEATHS_ATTR, 0)) + 1  # its own included
    earlier = ", ".join(f"#{n}" for n in trial.system_attrs.get("retry_history", []))
    text = "its worker died while running it (killed, or out of memory?)"
    if deaths > 1:
        text += f"; {deaths} deaths at these parameters (earlier attempts: trials {earlier})"
    if deaths > MAX_RETRIES:
        return f"{text}; not queued again (at most {MAX_RETRIES} retries after a death)"
    return f"{text}; queued again"


def _heartbeat_kwargs() -> dict[str, Any]:
    """RDBStorage's heartbeat arguments (the callback's name changed in Optuna 4.9)."""
    params = inspect.signature(optuna.storages.RDBStorage).parameters
    name = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in params
        else "failed_trial_callback"
    )
    return {"heartbeat_interval": HEARTBEAT_S, "grace_period": GRACE_S, name: retry_trial}


def _rdb(url: str, engine_kwargs: dict[str, Any]) -> optuna.storages.RDBStorage:
    with warnings.catch_warnings():  # the heartbeat arguments are "experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, **_heartbeat_kwargs())


def _serialise_sqlite(storage: optuna.storages.RDBStorage) -> None:
    """Make each SQLite transaction take the write lock when it begins (``BEGIN IMMEDIATE``).

    SQLite has no row locks and Python's driver begins a transaction only at the first
    write, so Optuna's "take a queued trial" (read: WAITING, then write: RUNNING) let two
    workers take the same trial: both ran it, and the one that finished second failed
    recording it (measured: 11 of 200 queued trials taken twice by 3 processes). With
    the lock taken at the start, the read and the write are one step; the other
    connections wait (the driver's ``timeout``) as they do for any write.
    """
    engine = storage.engine

    @sqlalchemy.event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below instead

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened before the listeners: open them again


def open_storage(url: str, attempts: int = 4) -> optuna.storages.BaseStorage:
    """An Optuna storage for ``url`` (with heartbeats), with one clear error if it cannot be opened.

    Workers starting together may race to create the schema of a new database; a
    failed attempt is retried a few times before giving up.
    """
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            if url.startswith("sqlite:///"):
                storage = _rdb(url, {"connect_args": {"timeout": 60}})
                _serialise_sqlite(storage)
                return storage
            return _rdb(url, {"pool_pre_ping": True})
        except ImportError as exc:
            raise SearchError(
                f"no database driver for {_redact(url)}: install one, e.g. "
                "`pip install 'mcuforge[postgres]'` for PostgreSQL"
            ) from exc
        except Exception as exc:  # sqlalchemy's errors vary by driver; all mean "cannot use"
            last = exc
            if (url.startswith("sqlite:") and not _racing(exc)) or "Connection refused" in str(exc):
                break
            time.sleep(0.5 * (attempt + 1))
    assert last is not None
    text = str(last).strip()
    detail = text.splitlines()[0][:300] if text else type(last).__name__
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).parent.is_dir():
        hint = "its folder does not exist; create it or fix the path"
    elif _racing(last):
        hint = (
            "other workers were creating the same study at that moment; start this one "
            "again (the study is kept: do not delete the file)"
        )
    elif url.startswith("sqlite:"):
        hint = "delete the file (or pass --force) to start a new study"
    else:
        hint = "check the URL, the server and the driver"
    raise SearchError(f"cannot open the study storage {_redact(url)}: {detail}; {hint}") from last


def _racing(exc: Exception) -> bool:
    """An error of two workers creating one database's schema at the same moment."""
    text = str(exc)
    return any(
        s in text for s in ("UNIQUE constraint failed", "already exists", "database is locked")
    )


def _redact(url: str) -> str:
    """The URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def fingerprint(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Keys whose values differ between two fingerprint part maps."""
    keys = sorted(set(old) | set(new))
    return [
        k
        for k in keys
        if json.dumps(old.get(k), sort_keys=True, default=str)
        != json.dumps(new.get(k), sort_keys=True, default=str)
    ]
