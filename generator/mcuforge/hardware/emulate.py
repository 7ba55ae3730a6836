"""Run one inference of the cross-compiled C in-process with unicorn: exact counts.

The ELF's loadable segments are mapped at their run addresses (initialised ``.data``
included, so no startup code runs), a painted stack is mapped apart from them, and
``PREFIX_predict(window)`` is called with ``LR`` pointing at a return page: the
emulation stops when the function returns there.

Instructions are counted per translated block: a block hook fires once per executed
block and its instructions are counted once from their Thumb encodings (a halfword
whose top five bits are 0b11101, 0b11110 or 0b11111 starts a 32-bit instruction).
Unicorn's per-instruction *code* hook does not fire for instructions inside an IT
block whose condition fails, although a Cortex-M issues them (one cycle each); the
block count includes them, and equals QEMU's ``-icount`` count of the same code.
``trace_it=True`` adds a code hook to report how many such instructions a code-hook
count would have missed (on the bundled example: ~0.5 % of the instructions on an
M4F, ~12 % on a soft-float M3, where libgcc's float routines are full of IT blocks).

The stack high-water mark is the distance from the initial ``SP`` to the lowest
word of the painted stack that the call overwrote (as the firmware measures it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from ..catalog import Core
from ..cost import Cost, Figure
from ..errors import ParityError, ToolchainError
from ..extras import install_hint
from ._base import Profile, Profiler, Workload, latency_ms
from .cross import INSTALL_HINT, cross_compiler, workload_build

STACK_PAINT = b"\xc3\xa5\xc3\xa5"  # 0xA5C3A5C3 little-endian, as the firmware paints
STACK_SIZE = 0x10000
#: Stack, return page: in the SRAM region of the M-profile memory map (executable),
#: far above any part's SRAM, so they never overlap the ELF's segments.
STACK_BASE = 0x3F000000
OUTPUT_PAGE = 0x3FE00000  # out[] of PREFIX_run
RETURN_PAGE = 0x3FF00000
#: A call that runs longer than this is taken as stuck (about 10 s of emulation), unless
#: the analytic estimate expects more: then this many times the estimate.
MAX_INSTRUCTIONS = 20_000_000
ESTIMATE_HEADROOM = 4
PIP_HINT = install_hint("emulate")


def _unicorn() -> tuple[Any, Any]:
    """The ``unicorn`` and ``unicorn.arm_const`` modules (untyped: held as Any).

    Raises:
        ToolchainError: unicorn is not installed.
    """
    try:
        return importlib.import_module("unicorn"), importlib.import_module("unicorn.arm_const")
    except ImportError as exc:
        raise ToolchainError(f"unicorn is not installed ({PIP_HINT})") from exc


def unicorn_installed() -> bool:
    try:
        _unicorn()
    except ToolchainError:
        return False
    return True


def unicorn_cpu(core: Core) -> str | None:
    """The unicorn CPU model of ``core`` (``unicorn_cpu`` in cores.yaml), or None."""
    return core.unicorn_cpu


def thumb_count(code: bytes) -> int:
    """Number of Thumb instructions in ``code`` (a whole number of them)."""
    i = n = 0
    while i + 1 < len(code):
        i += 4 if code[i + 1] >> 3 >= 0b11101 else 2
        n += 1
    return n


@dataclass(frozen=True)
class Call:
    """One emulated call: its return value (r0) and what it cost."""

    returned: int
    instructions: int
    stack_bytes: int
    it_skipped: int | None = None


class Emulator:
    """An ELF loaded in unicorn, ready to have its functions called.

    Args:
        elf: a statically linked Thumb ELF (cross build or firmware).
        cpu: unicorn CPU model name, e.g. ``"CORTEX_M4"`` (the core's ``unicorn_cpu``).

    Raises:
        ToolchainError: unicorn is not installed, or the ELF cannot be mapped.
    """

    def __init__(self, elf: Path, cpu: str, limit: int = MAX_INSTRUCTIONS) -> None:
        unicorn, arm = _unicorn()
        self._unicorn = unicorn
        self._arm = arm
        self._uc_error = unicorn.UcError
        self.uc: Any = unicorn.Uc(
            unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS
        )
        self.uc.ctl_set_cpu_model(getattr(arm, f"UC_CPU_ARM_{cpu}"))
        self.symbols: dict[str, tuple[int, int]] = {}
        page = 0x1000
        regions: list[list[int]] = []
        segments: list[tuple[int, bytes]] = []
        with elf.open("rb") as fh:
            f = ELFFile(fh)
            for seg in f.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                lo = seg["p_vaddr"] & ~(page - 1)
                hi = (seg["p_vaddr"] + seg["p_memsz"] + page - 1) & ~(page - 1)
                regions.append([lo, hi])
                segments.append((seg["p_vaddr"], seg.data()))
            symtab = f.get_section_by_name(".symtab")
            syms = symtab.iter_symbols() if isinstance(symtab, SymbolTableSection) else []
            for sym in syms:
                if sym.name and sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT"):
                    self.symbols[sym.name] = (sym["st_value"], sym["st_size"])
        merged: list[list[int]] = []
        for lo, hi in sorted(regions):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        for lo, hi in merged:
            if lo < RETURN_PAGE + page and hi > STACK_BASE - page:
                raise ToolchainError(
                    f"{elf}: a segment at 0x{lo:08x} overlaps the emulator's stack"
                )
            self.uc.mem_map(lo, hi - lo)
        for addr, data in segments:
            self.uc.mem_write(addr, data)
        self.uc.mem_map(STACK_BASE, STACK_SIZE)
        self.uc.mem_map(RETURN_PAGE, page)
        self.uc.mem_map(OUTPUT_PAGE, page)
        self._blocks: dict[tuple[int, int], int] = {}
        self._count = 0
        self._executed = 0
        self._limit = limit
        self.uc.hook_add(unicorn.UC_HOOK_BLOCK, self._on_block)

    def _on_block(self, uc: Any, address: int, size: int, _data: Any) -> None:
        key = (address, size)
        n = self._blocks.get(key)
        if n is None:
            n = self._blocks[key] = thumb_count(bytes(uc.mem_read(address, size)))
        self._count += n
        if self._count > self._limit:
            uc.emu_stop()

    def _on_code(self, _uc: Any, _address: int, _size: int, _data: Any) -> None:
        self._executed += 1

    def read(self, symbol: str) -> bytes:
        """The current bytes of a data symbol."""
        addr, size = self.symbol(symbol)
        return bytes(self.uc.mem_read(addr, size))

    def symbol(self, name: str) -> tuple[int, int]:
        try:
            return self.symbols[name]
        except KeyError:
            raise ToolchainError(f"symbol {name} is not in the ELF") from None

    def call(self, function: str, args: tuple[int, ...] = (), trace_it: bool = False) -> Call:
        """Call ``function`` with up to four integer/pointer arguments.

        Raises:
            ToolchainError: the code faulted or did not return within the limit.
        """
        arm, uc = self._arm, self.uc
        addr = self.symbol(function)[0] & ~1
        uc.mem_write(STACK_BASE, STACK_PAINT * (STACK_SIZE // 4))
        top = STACK_BASE + STACK_SIZE
        uc.reg_write(arm.UC_ARM_REG_SP, top)
        uc.reg_write(arm.UC_ARM_REG_LR, RETURN_PAGE | 1)
        for reg, value in zip(
            (arm.UC_ARM_REG_R0, arm.UC_ARM_REG_R1, arm.UC_ARM_REG_R2, arm.UC_ARM_REG_R3),
            args,
            strict=False,
        ):
            uc.reg_write(reg, value)
        self._count = self._executed = 0
        code_hook = None
        if trace_it:
            code_hook = uc.hook_add(self._unicorn.UC_HOOK_CODE, self._on_code)
        try:
            uc.emu_start(addr | 1, RETURN_PAGE)
        except self._uc_error as exc:
            pc = uc.reg_read(arm.UC_ARM_REG_PC)
            raise ToolchainError(
                f"emulated {function} faulted at 0x{pc:08x} ({self._where(pc)}): {exc}"
            ) from exc
        finally:
            if code_hook is not None:
                uc.hook_del(code_hook)
        pc = uc.reg_read(arm.UC_ARM_REG_PC)
        if pc & ~1 != RETURN_PAGE:
            raise ToolchainError(
                f"emulated {function} did not return within {self._limit:,} instructions "
                f"(stopped at 0x{pc:08x}, {self._where(pc)})"
            )
        stack = bytes(uc.mem_read(STACK_BASE, STACK_SIZE))
        low = 0
        while low < STACK_SIZE and stack[low : low + 4] == STACK_PAINT:
            low += 4
        returned = uc.reg_read(arm.UC_ARM_REG_R0)
        returned = returned - (1 << 32) if returned & 0x80000000 else returned
        return Call(
            returned,
            self._count,
            STACK_SIZE - low,
            self._count - self._executed if trace_it else None,
        )

    def _where(self, pc: int) -> str:
        best = max(
            (
                (a & ~1, n)
                for n, (a, s) in self.symbols.items()
                if (a & ~1) <= pc < (a & ~1) + max(s, 1)
            ),
            default=None,
        )
        return f"in {best[1]}" if best else "outside known functions"


@dataclass(frozen=True)
class EmulatedRun:
    """``PREFIX_predict`` on every test window of an ELF."""

    returned: list[int]
    expected: list[int]
    instructions: list[int]
    stack_bytes: int
    it_skipped: list[int] = field(default_factory=list)

    @property
    def agree(self) -> int:
        return sum(r == e for r, e in zip(self.returned, self.expected, strict=True))

    @property
    def total(self) -> int:
        return len(self.expected)

    @property
    def instructions_max(self) -> int:
        return max(self.instructions, default=0)

    @property
    def instructions_mean(self) -> float:
        return sum(self.instructions) / len(self.instructions) if self.instructions else 0.0


def emulate_elf(
    elf: Path,
    prefix: str,
    cpu: str,
    trace_it: bool = False,
    function: str = "predict",
    expected_instructions: float = 0.0,
) -> EmulatedRun:
    """Run ``PREFIX_predict`` on each window of ``mcuforge_test_windows`` in ``elf``.

    Works on the cross build's bench ELF and on the firmware ELF alike: both hold
    the test vectors (``test_vectors.c``) and Python's prediction for each window.

    Args:
        function: ``"predict"`` (``PREFIX_predict(window)``) or ``"run"``
            (``PREFIX_run(window, out)``, what the bench firmware times).
        expected_instructions: the analytic estimate of one call: a call is taken as
            stuck past ``ESTIMATE_HEADROOM`` times it (at least ``MAX_INSTRUCTIONS``).

    Raises:
        ToolchainError: unicorn is missing, a symbol is missing, or the code faulted.
    """
    limit = max(MAX_INSTRUCTIONS, int(ESTIMATE_HEADROOM * expected_instructions))
    emu = Emulator(elf, cpu, limit)
    win_addr, win_size = emu.symbol("mcuforge_test_windows")
    expected_raw = emu.read("mcuforge_test_expected")
    n = len(expected_raw) // 2
    if n == 0:
        raise ToolchainError(f"{elf}: no test windows to run")
    expected = [
        int.from_bytes(expected_raw[2 * i : 2 * i + 2], "little", signed=True) for i in range(n)
    ]
    stride = win_size // n
    if function not in ("predict", "run"):
        raise ValueError(f"function must be predict or run, not {function!r}")
    extra = (OUTPUT_PAGE,) if function == "run" else ()
    calls = [
        emu.call(f"{prefix}_{function}", (win_addr + i * stride, *extra), trace_it)
        for i in range(n)
    ]
    return EmulatedRun(
        [c.returned for c in calls],
        expected,
        [c.instructions for c in calls],
        max(c.stack_bytes for c in calls),
        [c.it_skipped for c in calls if c.it_skipped is not None],
    )


class UnicornProfiler(Profiler):
    """Instructions and stack of ``PREFIX_predict`` on each test window, in unicorn.

    Figures: ``instructions`` (the worst window), ``latency_ms`` (instructions x CPI /
    clock, see :mod:`._base`) and ``sram_bytes`` (static SRAM from the ELF + the stack
    high-water mark), all ``emulated``. Every window's return value is checked
    against Python's prediction.
    """

    name = "emulated"
    source = "emulated"
    measures = ("instructions", "latency_ms", "sram_bytes")

    def unavailable(self, work: Workload) -> str | None:
        if work.core.gcc_flags is None:
            return f"no cross compiler for {work.target.core} here"
        if cross_compiler() is None:
            return f"arm-none-eabi-gcc not found ({INSTALL_HINT})"
        if unicorn_cpu(work.core) is None:
            return f"unicorn does not emulate {work.target.core}"
        if not unicorn_installed():
            return f"unicorn is not installed ({PIP_HINT})"
        if not work.test_vectors:
            return "no test vectors to run"
        return None

    def profile(self, work: Workload, base: Cost) -> Profile:
        build = workload_build(work)
        cpu = unicorn_cpu(work.core)
        assert build.bench is not None and cpu is not None
        run = emulate_elf(
            build.bench, work.prefix, cpu, expected_instructions=base.instructions.value
        )
        if run.agree != run.total:
            bad = [
                i for i, (r, e) in enumerate(zip(run.returned, run.expected, strict=True)) if r != e
            ]
            raise ParityError(
                f"cross-compiled C ({work.target.core}, emulated) disagrees with Python on "
                f"{run.total - run.agree} of {run.total} test windows (first: {bad[:5]}). "
                "This is a bug in mcuforge: please report it."
            )
        instr = run.instructions_max
        sram = build.sizes.static_sram + run.stack_bytes
        work.store("emulated_stack_bytes", run.stack_bytes)
        cost = base.with_(
            instructions=Figure(float(instr), "emulated"),
            latency_ms=Figure(latency_ms(instr, work.core, work.target.clock_mhz), "emulated"),
            sram_bytes=Figure(float(sram), "emulated"),
        )
        return Profile(
            cost,
            details={
                "emulator": f"unicorn {cpu.lower().replace('_', '-')}",
                "agree": run.agree,
                "total": run.total,
                "instructions_max": instr,
                "instructions_mean": round(run.instructions_mean, 1),
                "instructions": run.instructions,
                "stack_bytes": run.stack_bytes,
                "static_sram_bytes": build.sizes.static_sram,
            },
        )
