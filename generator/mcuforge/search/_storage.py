"""Where a study lives: an SQLite file by default, or any SQLAlchemy URL.

A study records a fingerprint of everything that decides its trials (data, task,
target, budgets, recipes, seed); a later run joins it only when the fingerprint
matches, so a resumed search never mixes trials of two different problems.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import optuna

from ..errors import McuforgeError


class SearchError(McuforgeError):
    """The study's storage cannot be used (unreachable, corrupt, or another spec's)."""

    exit_code = 2


def default_storage(out_dir: Path) -> Path:
    """The SQLite file of a local search, beside the output folder (kept across runs)."""
    return out_dir.parent / f".{out_dir.name}.study.db"


def storage_url(url: str | None, out_dir: Path) -> str:
    return url if url else f"sqlite:///{default_storage(out_dir)}"


def open_storage(url: str, attempts: int = 4) -> optuna.storages.BaseStorage:
    """An Optuna storage for ``url``, with one clear error if it cannot be opened.

    Workers starting together may race to create the schema of a new database; a
    failed attempt is retried a few times before giving up.
    """
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            if url.startswith("sqlite:///"):
                return optuna.storages.RDBStorage(
                    url, engine_kwargs={"connect_args": {"timeout": 60}}
                )
            return optuna.storages.RDBStorage(url, engine_kwargs={"pool_pre_ping": True})
        except ImportError as exc:
            raise SearchError(
                f"no database driver for {_redact(url)}: install one, e.g. "
                "`pip install 'psycopg[binary]'` for PostgreSQL"
            ) from exc
        except Exception as exc:  # sqlalchemy's errors vary by driver; all mean "cannot use"
            last = exc
            if url.startswith("sqlite:") or "Connection refused" in str(exc):
                break
            time.sleep(0.5 * (attempt + 1))
    assert last is not None
    text = str(last).strip()
    detail = text.splitlines()[0][:300] if text else type(last).__name__
    hint = (
        "delete the file (or pass --force) to start a new study"
        if url.startswith("sqlite:")
        else "check the URL, the server and the driver"
    )
    raise SearchError(f"cannot open the study storage {_redact(url)}: {detail}; {hint}") from last


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
