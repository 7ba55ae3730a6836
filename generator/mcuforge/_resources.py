"""Where the built-in catalog, templates and schemas live.

From an installed wheel they are package data under ``mcuforge/_data``; from a
checkout (editable install) they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``recipes``, ``templates`` or ``schema`` of this installation."""
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"mcuforge installation is incomplete: no {name}/ folder near {_PACKAGE}"
    )
