"""Which board each firmware template builds for each target: data in the templates.

A template that needs a board (a framework with board support: PlatformIO, Arduino,
Zephyr) lists the catalog targets it builds for in ``templates/<name>/boards.json``::

    {"about": "...", "targets": {"nrf52840": {"board_platformio": "nrf52840_dk",
                                              "platformio_platform": "nordicnrf52"}}}

Each entry holds template variables (``board_<template>`` and what else the template's
build files need: the PlatformIO platform, the Zephyr modules). A target of a user's own
catalog names its board itself (``boards: {platformio: ..., zephyr: ..., arduino: ...}``
in its YAML file); that wins over the table. A target the template has no board for
lacks the variables the template ``requires``, so :func:`mcuforge.scaffold.check_template`
refuses the pair before any search and names the templates that can build it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ._resources import data_dir
from .catalog import Target

#: Templates that take a board, each from ``boards.<template>`` of a target.
BOARD_FIELDS = ("platformio", "zephyr", "arduino")


@cache
def _table(template: str) -> dict[str, Any]:
    path = data_dir("templates") / template / "boards.json"
    if not path.is_file():
        return {"targets": {}}
    table: dict[str, Any] = json.loads(path.read_text())
    return table


def targets_of(template: str) -> list[str]:
    """The catalog targets ``template``'s board table lists (empty: no table)."""
    return sorted(_table(template)["targets"])


def board_variables(target: Target) -> dict[str, str]:
    """Every board variable of every template for ``target`` (empty when it has none):
    ``board_platformio``, ``platformio_platform``, ``board_zephyr``, ``zephyr_modules``,
    ``board_arduino``."""
    out: dict[str, str] = {
        "board_platformio": "",
        "platformio_platform": "",
        "board_zephyr": "",
        "zephyr_modules": "",
        "board_arduino": "",
    }
    for template in BOARD_FIELDS:
        table = _table(template)
        own = target.boards.get(template)
        if own:  # a user's target: its own board, the rest from what the table knows
            out.update(_own(template, own, target, table))
        else:
            out.update({k: str(v) for k, v in table["targets"].get(target.name, {}).items()})
    return out


def _own(template: str, board: str, target: Target, table: dict[str, Any]) -> dict[str, str]:
    rows = table["targets"].values()
    if template == "platformio":
        known = {r["board_platformio"]: r["platformio_platform"] for r in rows}
        known |= table.get("platforms", {})
        platform = target.boards.get("platformio_platform") or known.get(board, "")
        return {"board_platformio": board, "platformio_platform": platform}
    if template == "zephyr":
        modules = sorted({m for r in rows for m in r["zephyr_modules"].split(",")})
        return {"board_zephyr": board, "zephyr_modules": ",".join(modules)}
    return {f"board_{template}": board}


__all__ = ["BOARD_FIELDS", "board_variables", "targets_of"]
