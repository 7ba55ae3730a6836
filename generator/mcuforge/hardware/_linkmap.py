"""What a linked firmware holds: memory use from the ELF, parts from the linker's map.

:func:`memory_use` reads the flash and SRAM a linked ELF occupies the way the linker's
``--print-memory-usage`` counts them: from the start of each region to the end of the
last thing placed in it (alignment gaps included; ``.data`` counts in flash for its
initial values and in SRAM). :func:`breakdown` splits those totals by what each input
section came from (the GNU ld map file), so that the parts add up to the totals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile

#: Parts of a firmware, in the order the report lists them.
PARTS = (
    "features + model",
    "input buffer",
    "runtime",
    "startup and platform",
    "C library",
    "test windows",
    "stack",
    "alignment",
)


@dataclass(frozen=True)
class Region:
    """A memory region of the linker script."""

    origin: int
    length: int

    def holds(self, address: int) -> bool:
        return self.origin <= address < self.origin + self.length


@dataclass(frozen=True)
class MemoryUse:
    """Bytes a linked ELF occupies in flash and SRAM, and which sections are where."""

    flash_bytes: int
    sram_bytes: int
    flash_sections: frozenset[str]
    sram_sections: frozenset[str]
    stack_bytes: int  # the .stack section: what linker.ld reserves

    @property
    def static_sram_bytes(self) -> int:
        return self.sram_bytes - self.stack_bytes


def memory_use(elf: Path, flash: Region, ram: Region) -> MemoryUse:
    """Flash and SRAM of ``elf`` as the linker counts them for its regions."""
    flash_end, ram_end = flash.origin, ram.origin
    in_flash: set[str] = set()
    in_ram: set[str] = set()
    stack = 0
    with elf.open("rb") as fh:
        f = ELFFile(fh)
        loads = [s for s in f.iter_segments() if s["p_type"] == "PT_LOAD"]
        for sec in f.iter_sections():
            if not sec["sh_flags"] & 0x2 or sec["sh_size"] == 0:  # SHF_ALLOC
                continue
            vma, size = sec["sh_addr"], sec["sh_size"]
            if sec.name == ".stack":
                stack = size
            if ram.holds(vma):
                in_ram.add(sec.name)
                ram_end = max(ram_end, vma + size)
            if sec["sh_type"] == "SHT_NOBITS":
                continue
            lma = _lma(vma, loads)
            if flash.holds(lma):
                in_flash.add(sec.name)
                flash_end = max(flash_end, lma + size)
    return MemoryUse(
        flash_end - flash.origin,
        ram_end - ram.origin,
        frozenset(in_flash),
        frozenset(in_ram),
        stack,
    )


def _lma(vma: int, loads: Sequence[Any]) -> int:
    """The load address of the section at ``vma`` (its run address, unless a load
    segment says it is copied from elsewhere, like ``.data`` from flash)."""
    for seg in loads:
        start, size = seg["p_vaddr"], seg["p_memsz"]
        if start <= vma < start + max(size, 1):
            return int(seg["p_paddr"] + (vma - start))
    return vma


@dataclass(frozen=True)
class Piece:
    """One input section (or fill) placed in an output section."""

    output: str
    name: str
    size: int
    file: str  # "" for *fill*


_OUT = re.compile(r"^(\.\S+)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+))?")
_IN = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_IN_NAME = re.compile(r"^ (\S+)$")
_IN_REST = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_FILL = re.compile(r"^ \*fill\*\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)")


def read_map(text: str) -> tuple[list[Piece], dict[str, int]]:
    """Input sections and output-section sizes of a GNU ld map file (the part after
    "Linker script and memory map"; discarded sections are listed before it)."""
    start = text.find("Linker script and memory map")
    lines = text[start:].splitlines() if start >= 0 else []
    pieces: list[Piece] = []
    outputs: dict[str, int] = {}
    output = ""
    pending = ""
    for line in lines:
        if pending:
            m = _IN_REST.match(line)
            if m:
                pieces.append(Piece(output, pending, int(m.group(2), 16), m.group(3).strip()))
            pending = ""
            continue
        if m := _OUT.match(line):
            output = m.group(1)
            if m.group(3):
                outputs[output] = int(m.group(3), 16)
            continue
        if m := _FILL.match(line):
            pieces.append(Piece(output, "*fill*", int(m.group(2), 16), ""))
        elif m := _IN.match(line):
            pieces.append(Piece(output, m.group(1), int(m.group(3), 16), m.group(4).strip()))
        elif (m := _IN_NAME.match(line)) and not m.group(1).startswith("*"):
            pending = m.group(1)  # its address and size follow ("*(...)" is a pattern)
    return pieces, outputs


def part_of(piece: Piece, prefix: str) -> str:
    """Which part of the firmware an input section belongs to (see :data:`PARTS`)."""
    path = piece.file.replace("\\", "/")
    if not path or piece.name == "*fill*":
        return "alignment"
    if ".a(" in path or path.endswith(".a"):
        return "C library"
    if "/src/model/" in path:
        if "/test_vectors." in path:
            return "test windows"
        return "features + model"
    if piece.name.endswith(".mcuforge_window_buf"):
        return "input buffer"
    if "/src/mcuforge_" in path:
        return "runtime"
    if "/src/" in path:
        return "startup and platform"
    return "runtime"


def breakdown(map_text: str, prefix: str, use: MemoryUse) -> dict[str, dict[str, int]]:
    """Flash and SRAM by part; each memory's parts add up to its total in ``use``
    (what the map does not attribute is alignment)."""
    pieces, outputs = read_map(map_text)
    out: dict[str, dict[str, int]] = {}
    for memory, sections, total in (
        ("flash", use.flash_sections, use.flash_bytes),
        ("sram", use.sram_sections, use.sram_bytes),
    ):
        parts = dict.fromkeys(PARTS, 0)
        for p in pieces:
            if p.output in sections and p.output != ".stack":
                parts[part_of(p, prefix)] += p.size
        if ".stack" in sections:
            parts["stack"] += outputs.get(".stack", use.stack_bytes)
        named = sum(v for k, v in parts.items() if k != "alignment")
        parts["alignment"] = max(total - named, 0)
        out[memory] = {k: v for k, v in parts.items() if v}
    return out


__all__ = [
    "PARTS",
    "MemoryUse",
    "Piece",
    "Region",
    "breakdown",
    "memory_use",
    "part_of",
    "read_map",
]
