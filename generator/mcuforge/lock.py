"""The lock: everything needed to reproduce a generate run byte for byte."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import yaml

from . import __version__
from .catalog import Catalog
from .data import Dataset
from .resolver import Plan

LOCK_VERSION = 1
KEY_PACKAGES = ("numpy", "scikit-learn", "optuna", "pydantic", "cookiecutter")


def _pkg(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def lock_data(plan: Plan, catalog: Catalog, dataset: Dataset, chosen: str) -> dict[str, Any]:
    """The lock as a plain mapping (written as YAML)."""
    target_key = f"target:{plan.target.name}"
    target_sha = (
        catalog.sources[target_key].sha256
        if target_key in catalog.sources
        else hashlib.sha256(plan.target.model_dump_json().encode()).hexdigest()
    )
    spec = plan.spec.spec
    return {
        "version": LOCK_VERSION,
        "spec": {"file": plan.spec.path.name, "sha256": plan.spec.sha256},
        "recipes": [
            {
                "name": r.name,
                "version": r.version,
                "sha256": catalog.sources[f"recipe:{r.ref}"].sha256,
            }
            for r in plan.recipes
        ],
        "chosen": chosen,
        "target": {"name": plan.target.name, "sha256": target_sha},
        "data": {"sha256": dataset.sha256, "files": dict(sorted(dataset.file_hashes.items()))},
        "seeds": {"search": spec.search.seed, "split": spec.data.split.seed},
        "packages": {"mcuforge": __version__, **{p: _pkg(p) for p in KEY_PACKAGES}},
    }


def dump_lock(data: dict[str, Any]) -> str:
    header = (
        "# mcuforge.lock: written by `mcuforge generate`; commit it with the spec.\n"
        "# It pins recipe versions and hashes, the target entry, the data files and seeds.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, width=100)
