"""The lock: what reproduces a generate run byte for byte.

``mcuforge.lock`` (``NAME.mcuforge.lock`` for a spec ``NAME.yaml`` other than ``spec.yaml``,
see :attr:`mcuforge.spec.LoadedSpec.lock_path`) lives beside the spec and is committed
with it (as ``Cargo.lock`` is). ``generate`` writes it on the first run and follows it
afterwards: the recipe versions it records are used even when the catalog has newer ones.
``--locked`` refuses to run when the lock is missing or the catalog, target or data differ
from it; ``mcuforge lock --update`` refreshes it on purpose.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

from ._output import current_umask
from ._version import __version__
from ._yaml import load_file, locate
from .catalog import Catalog
from .data import Dataset
from .errors import Located, McuforgeError, SpecError
from .resolver import Plan, update_command

LOCK_VERSION = 1
KEY_PACKAGES = ("numpy", "scikit-learn", "optuna", "pydantic", "cookiecutter", "tensorflow")


class LockError(McuforgeError):
    """The lock is missing, unreadable, or differs from the catalog or data (--locked)."""

    exit_code = 2


def _pkg(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def lock_data(plan: Plan, catalog: Catalog, dataset: Dataset) -> dict[str, Any]:
    """The lock as a plain mapping (written as YAML)."""
    return lock_of(plan, catalog, dataset.sha256, dataset.file_hashes)


def lock_of(
    plan: Plan, catalog: Catalog, data_sha256: str, file_hashes: dict[str, str]
) -> dict[str, Any]:
    """The lock of ``plan`` for data with these digests (``validate`` has no dataset)."""
    target_key = f"target:{plan.target.name}"
    target_sha = (
        catalog.sha256(target_key)
        or hashlib.sha256(plan.target.model_dump_json().encode()).hexdigest()
    )
    spec = plan.spec.spec
    return {
        "version": LOCK_VERSION,
        "spec": {"file": plan.spec.path.name, "sha256": plan.spec.sha256},
        "recipes": [
            {"name": r.name, "version": r.version, "sha256": catalog.sha256(f"recipe:{r.ref}")}
            for r in plan.recipes
        ],
        "target": {"name": plan.target.name, "sha256": target_sha},
        "data": {"sha256": data_sha256, "files": dict(sorted(file_hashes.items()))},
        "seeds": {"search": spec.search.seed, "split": spec.data.split.seed},
        "packages": {"mcuforge": __version__, **{p: _pkg(p) for p in KEY_PACKAGES}},
    }


def dump_lock(data: dict[str, Any]) -> str:
    header = (
        "# mcuforge.lock: written by `mcuforge generate`; commit it with the spec.\n"
        "# It pins recipe versions and hashes, the target entry, the data files and seeds.\n"
        "# Refresh on purpose with `mcuforge lock --update SPEC`.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, width=100)


def read_lock(path: Path, spec: Path) -> dict[str, Any] | None:
    """The lock ``path`` beside ``spec``, or None when there is none.

    Raises:
        LockError: the file is not a valid lock.
    """
    if not path.is_file():
        return None
    fix = f"; run `{update_command(spec)}` to rewrite it"
    try:
        data, marks = load_file(path)
    except SpecError as exc:
        raise LockError(f"{exc}{fix}", exc.problems) from None
    problem = _lock_problem(data)
    if problem is not None:
        where, message = problem
        line, col = locate(marks, where)
        raise LockError.at(Located(str(path), line, col, ".".join(map(str, where)), message + fix))
    assert isinstance(data, dict)
    return data


def _lock_problem(data: Any) -> tuple[tuple[str | int, ...], str] | None:
    """Where a lock's layout is wrong, and how; None when it is a lock of this version."""
    if not isinstance(data, dict) or data.get("version") != LOCK_VERSION:
        return (("version",), f"not an mcuforge lock of version {LOCK_VERSION}")
    recipes = data.get("recipes", [])
    if not isinstance(recipes, list):
        return (("recipes",), "must be a list of {name, version, sha256}")
    for i, r in enumerate(recipes):
        ok = (
            isinstance(r, dict)
            and isinstance(r.get("name"), str)
            and isinstance(r.get("version"), int)
            and not isinstance(r.get("version"), bool)
            and isinstance(r.get("sha256", ""), str)
        )
        if not ok:
            return (("recipes", i), "must be {name: NAME, version: NUMBER, sha256: HASH}")
    for key in ("target", "data", "seeds", "spec"):
        if not isinstance(data.get(key, {}), dict):
            return ((key,), "must be a mapping")
    if not isinstance(data.get("data", {}).get("files", {}), dict):
        return (("data", "files"), "must be a mapping of file to sha256")
    return None


def pins(lock: dict[str, Any] | None) -> dict[str, int]:
    """Recipe name → the version the lock recorded."""
    if not lock:
        return {}
    return {str(r["name"]): int(r["version"]) for r in lock.get("recipes", [])}


def differences(
    lock: dict[str, Any], current: dict[str, Any], plan: Plan | None = None
) -> list[str]:
    """What differs between a lock and the current catalog, target, data and seeds
    (with ``plan``, a locked recipe left out says why: e.g. its extra is not installed)."""
    out: list[str] = []
    why = {d.recipe: d.reason for d in (plan.decisions if plan else []) if not d.chosen}
    old_r = {(r["name"], r["version"]): r["sha256"] for r in lock.get("recipes", [])}
    new_r = {(r["name"], r["version"]): r["sha256"] for r in current["recipes"]}
    for key in sorted(set(old_r) | set(new_r)):
        ref = f"{key[0]}@{key[1]}"
        if key not in new_r and ref in why:
            out.append(f"recipe {ref} is locked but not chosen: {why[ref]}")
        elif key not in new_r:
            out.append(f"recipe {ref} is locked but no longer chosen or in the catalog")
        elif key not in old_r:
            out.append(f"recipe {ref} is chosen but not in the lock")
        elif old_r[key] != new_r[key]:
            out.append(f"recipe {ref} changed (sha256 {old_r[key][:12]} -> {new_r[key][:12]})")
    if lock.get("target") != current["target"]:
        out.append(
            f"target {current['target']['name']} differs from the locked "
            f"{lock.get('target', {}).get('name')}"
        )
    old_f, new_f = lock.get("data", {}).get("files", {}), current["data"]["files"]
    for what, names in (
        ("added", sorted(set(new_f) - set(old_f))),
        ("removed", sorted(set(old_f) - set(new_f))),
        ("changed", sorted(k for k in set(old_f) & set(new_f) if old_f[k] != new_f[k])),
    ):
        if names:
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            out.append(f"data files {what} since the lock: {shown}")
    if lock.get("seeds") != current["seeds"]:
        out.append(f"seeds differ: locked {lock.get('seeds')}, now {current['seeds']}")
    return out


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes 0600; a lock is shared
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
