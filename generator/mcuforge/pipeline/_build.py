"""The build check: the rendered project is built once, with its template's own build
commands and default options, before ``generate`` reports success.

A project whose template's tools are not installed here (PlatformIO, west,
arduino-cli) is not built; the report says so. A build that fails is an error that
quotes the compiler's or linker's message (e.g. ``region `FLASH' overflowed``), raised
before anything is written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ToolchainError
from ..scaffold import template_info
from ._prepare import Log

#: Lines of a failed build that say what failed (compiler and linker errors).
_ERROR_LINE = re.compile(r"(error|overflowed|undefined reference|not found)", re.I)
#: The linker's ``--print-memory-usage`` lines of a cmake-baremetal build.
_USAGE = re.compile(r"^\s*(FLASH|RAM):\s+(\d+)\s*(B|KB|MB|GB)\s", re.M)
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def linker_usage(output: str) -> dict[str, int]:
    """``{"FLASH": bytes, "RAM": bytes}`` from GNU ld's ``--print-memory-usage``."""
    return {m.group(1): int(m.group(2)) * _UNITS[m.group(3)] for m in _USAGE.finditer(output)}


def _failure(cmd: list[str], output: str) -> ToolchainError:
    lines = [ln.strip() for ln in output.splitlines() if _ERROR_LINE.search(ln)]
    said = "\n".join(f"  {ln}" for ln in lines[:12]) or output[-2000:]
    return ToolchainError(
        f"the generated firmware does not build ({' '.join(cmd)}):\n{said}\n"
        "nothing was written; this is a bug in mcuforge if the budgets fit the part"
    )


def build_check(
    template: str, project: Path, variables: dict[str, str], log: Log
) -> dict[str, Any]:
    """Build ``project`` once as its README says; return what the report records.

    Raises:
        ToolchainError: a build command fails (the message quotes its errors).
    """
    steps = template_info(template).build
    if steps is None:
        return {"built": False, "note": f"template {template} declares no build"}
    missing = [t for t in steps.tools if shutil.which(t) is None]
    if missing:
        note = f"{', '.join(missing)} not installed here"
        log(f"build check: {template} not built: {note}")
        return {"built": False, "note": note}
    out: dict[str, Any] = {"built": True}
    with tempfile.TemporaryDirectory(prefix="mcuforge-build-") as tmp:
        commands, env = steps.expand({**variables, "project": str(project), "build": tmp})
        text = ""
        for cmd in commands:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, env={**os.environ, **env}, cwd=project
            )
            text += proc.stdout + proc.stderr
            if proc.returncode != 0:
                raise _failure(cmd, proc.stdout + proc.stderr)
    shown, _ = steps.expand({**variables, "project": "firmware", "build": "build"})
    out["commands"] = [" ".join(c) for c in shown]
    usage = linker_usage(text)
    if usage:
        out["flash_bytes"], out["sram_bytes"] = usage.get("FLASH"), usage.get("RAM")
    log(
        f"build check: {template} project builds"
        + (f" (default build: flash {usage['FLASH']} B, RAM {usage['RAM']} B)" if usage else "")
    )
    return out


__all__ = ["build_check", "linker_usage"]
