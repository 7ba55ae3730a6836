"""What the report says about the firmware itself: its stack figures and what each
covers, the test windows it embeds, the build it was linked as, whether it was built.

Shared by report.html and report.md; every key is optional (older reports have none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._model import fmt


def stack(r: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every stack figure and what it covers (``stack`` in report.json)."""
    return [
        {
            "figure": s["figure"],
            "bytes": fmt(s.get("bytes")),
            "source": s["source"],
            "covers": s["covers"],
        }
        for s in r.get("stack") or []
    ]


def firmware_facts(r: Mapping[str, Any]) -> list[str]:
    """What the firmware holds and whether it was built: one sentence each."""
    fw = r["firmware"]
    out = []
    tw = fw.get("test_windows") or {}
    if tw:
        fitted = tw.get("embedded", 0) < tw.get("wanted", 0)
        out.append(
            f"The self-test firmware embeds {tw.get('embedded')} test windows"
            + (
                f" of the {tw.get('wanted')} asked for: as many as fit in the part's flash "
                "after the application"
                if fitted
                else ""
            )
            + "; the sensor firmware holds none."
        )
    linked = (r.get("hardware") or {}).get("linked")
    if linked:
        opts = " ".join(f"-D{k}={v}" for k, v in linked["build"]["options"].items())
        out.append(
            f"Flash and SRAM are of the firmware as linked for the part ({opts}): "
            f"{linked['flash_bytes']} B flash, {linked['sram_bytes']} B SRAM, of which "
            f"{linked['stack']['reserved_bytes']} B stack."
        )
    check = fw.get("build_check")
    if check:
        if check.get("built"):
            usage = (
                f" (flash {check['flash_bytes']} B, RAM {check['sram_bytes']} B)"
                if check.get("flash_bytes") is not None
                else ""
            )
            out.append(f"The project was built with its default options{usage}.")
        else:
            out.append(f"The project was not built: {check.get('note', '')}.")
    return out


__all__ = ["firmware_facts", "stack"]
