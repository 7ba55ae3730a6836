"""Cross-compile generated network C into a tiny bare-metal program and run it in QEMU.

The program (vector table, reset handler, semihosting output, SysTick timing, stack
painting: about 150 lines of C) replays int8 input vectors through
``{p}_input``/``{p}_invoke`` and prints every output byte, the SysTick ticks of each
inference and of each operator (through the ``{P}_TRACE`` hook), and the deepest stack
use. Under ``qemu-system-arm -icount shift=0`` one instruction takes 1 ns of virtual
time, so on the MPS2 machines (25 MHz SysTick) a tick is 40 instructions.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ToolchainError
from ..hardware.cross import CROSS_CFLAGS, GCC, INSTALL_HINT, Sizes, elf_sizes

#: QEMU machines this runner knows: (flash origin, flash KiB, RAM origin, RAM KiB).
MACHINES = {
    "mps2-an385": (0x00000000, 4096, 0x20000000, 4096),
    "mps2-an386": (0x00000000, 4096, 0x20000000, 4096),
    "mps2-an500": (0x00000000, 4096, 0x20000000, 4096),
}
INSTRUCTIONS_PER_TICK = 40  # 1e9 ns / 25 MHz SysTick on MPS2 under -icount shift=0
STACK_BYTES = 8192

_LINKER = """\
MEMORY
{{
  FLASH (rx) : ORIGIN = {fo:#x}, LENGTH = {fk}K
  RAM (rwx) : ORIGIN = {ro:#x}, LENGTH = {rk}K
}}
ENTRY(reset_handler)
SECTIONS
{{
  .text : {{ KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); }} > FLASH
  .ARM.exidx : {{ *(.ARM.exidx*) }} > FLASH
  _sidata = LOADADDR(.data);
  .data : {{ . = ALIGN(4); _sdata = .; *(.data*) . = ALIGN(4); _edata = .; }} > RAM AT > FLASH
  .bss (NOLOAD) : {{ . = ALIGN(4); _sbss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; }} > RAM
  .stack (NOLOAD) : {{ . = ALIGN(8); _sstack = .; . = . + {stack}; _estack = .; }} > RAM
}}
"""

_MAIN = """\
#include <stdint.h>
#define TICK_NOW() (*(volatile uint32_t *)0xE000E018u)
static uint32_t trace_last;
static uint32_t trace_ticks[{n_ops}];
static void trace(int op, const int8_t *data, int32_t n)
{{
    const uint32_t now = TICK_NOW();
    (void)data;
    (void)n;
    trace_ticks[op] += (trace_last - now) & 0xFFFFFFu;
    trace_last = TICK_NOW();
}}
#define {P}_TRACE(op, data, n) trace((op), (data), (n))
{code}
{vectors}
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sstack, _estack;
static char line[{line_len}];
static int pos;
static void sh_call(uint32_t op, const void *arg)
{{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}}
static void put(char c) {{ line[pos++] = c; }}
static void put_hex(uint32_t v, int digits)
{{
    int i;
    for (i = digits - 1; i >= 0; --i) {{ put("0123456789abcdef"[(v >> (4 * i)) & 15u]); }}
}}
static void flush(void)
{{
    put('\\n');
    line[pos] = 0;
    sh_call(0x04u, line);
    pos = 0;
}}
int main(void);
void reset_handler(void)
{{
    uint32_t *s = &_sidata, *d;
    for (d = &_sdata; d < &_edata;) {{ *d++ = *s++; }}
    for (d = &_sbss; d < &_ebss;) {{ *d++ = 0u; }}
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: enable the FPU */
    __asm__ volatile("dsb\\n\\tisb");
#endif
    {{
        const uint32_t block[2] = {{0x20026u, (uint32_t)main()}};
        sh_call(0x20u, block);
    }}
    for (;;) {{
    }}
}}
__attribute__((section(".vectors"), used)) static const void *const vectors[2] = {{
    &_estack, (const void *)reset_handler}};
static void paint(void)
{{
    uint32_t sp, *p;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = &_sstack; (uint32_t)p + 64u < sp; ++p) {{ *p = 0xDEADBEEFu; }}
}}
static uint32_t stack_used(void)
{{
    const uint32_t *p = &_sstack;
    while (p < &_estack && *p == 0xDEADBEEFu) {{ ++p; }}
    return (uint32_t)((const char *)&_estack - (const char *)p);
}}
int main(void)
{{
    uint32_t v, i, t0, ticks, worst = 0;
    *(volatile uint32_t *)0xE000E014u = 0xFFFFFFu; /* SysTick reload */
    *(volatile uint32_t *)0xE000E018u = 0u;
    *(volatile uint32_t *)0xE000E010u = 5u; /* enable, processor clock, no interrupt */
    paint();
    for (v = 0; v < {n_vec}u; ++v) {{
        int8_t *x = {p}_input();
        const int8_t *y;
        for (i = 0; i < {n_in}u; ++i) {{ x[i] = vectors_in[v][i]; }}
        for (i = 0; i < {n_ops}u; ++i) {{ trace_ticks[i] = 0u; }}
        t0 = TICK_NOW();
        trace_last = t0;
        y = {p}_invoke();
        ticks = (t0 - TICK_NOW()) & 0xFFFFFFu;
        worst = ticks > worst ? ticks : worst;
        put('o');
        for (i = 0; i < {n_out}u; ++i) {{ put(' '); put_hex((uint8_t)y[i], 2); }}
        flush();
        put('t');
        put(' ');
        put_hex(ticks, 8);
        for (i = 0; i < {n_ops}u; ++i) {{ put(' '); put_hex(trace_ticks[i], 8); }}
        flush();
    }}
    put('s');
    put(' ');
    put_hex(stack_used(), 8);
    flush();
    (void)&{p}_quantize;
    (void)worst;
    return 0;
}}
"""


@dataclass(frozen=True)
class BareMetalRun:
    """What the network computed in QEMU, and what it cost."""

    outputs: np.ndarray  # int8 (n, n_out)
    ticks: np.ndarray  # SysTick ticks per inference (n,)
    op_ticks: np.ndarray  # (n, n_ops): ticks per operator index (0 for views)
    stack_bytes: int  # deepest stack use of the whole program (paint / high-water mark)
    sizes: Sizes  # ELF section totals (the test vectors are in rodata)

    @property
    def instructions(self) -> np.ndarray:
        out: np.ndarray = self.ticks * INSTRUCTIONS_PER_TICK
        return out


def toolchain_available() -> bool:
    """Both ``arm-none-eabi-gcc`` and ``qemu-system-arm`` are on the PATH."""
    return shutil.which(GCC) is not None and shutil.which("qemu-system-arm") is not None


def compile_object(code: str, gcc_flags: str, extra: list[str] | None = None) -> bytes:
    """Compile C to an object file for a core (warnings are errors); returns its bytes."""
    if shutil.which(GCC) is None:
        raise ToolchainError(f"{GCC} not found; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="mcuforge-nn-cc-") as tmp:
        src, obj = Path(tmp) / "net.c", Path(tmp) / "net.o"
        src.write_text(code)
        cmd = [GCC, *gcc_flags.split(), *CROSS_CFLAGS, "-pedantic", *(extra or [])]
        proc = subprocess.run(
            [*cmd, "-c", str(src), "-o", str(obj)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise ToolchainError(f"cross build failed ({' '.join(cmd)}):\n{proc.stderr}")
        return obj.read_bytes()


def run_baremetal(
    code: str,
    prefix: str,
    q: np.ndarray,
    n_out: int,
    n_ops: int,
    gcc_flags: str,
    machine: str = "mps2-an386",
    extra_flags: list[str] | None = None,
    timeout_s: float = 120,
) -> BareMetalRun:
    """Build ``code`` + the replay program for ``machine`` and run it in QEMU.

    Raises:
        ToolchainError: a tool is missing, the build fails, or QEMU prints no result.
    """
    if not toolchain_available():
        raise ToolchainError(f"{GCC} and qemu-system-arm are needed; {INSTALL_HINT}")
    fo, fk, ro, rk = MACHINES[machine]
    q = np.asarray(q, dtype=np.int8)
    rows = ",\n".join("{" + ", ".join(str(int(v)) for v in r) + "}" for r in q)
    vectors = f"static const int8_t vectors_in[{len(q)}][{q.shape[1]}] = {{\n{rows}\n}};"
    main = _MAIN.format(
        code=code,
        vectors=vectors,
        p=prefix,
        P=prefix.upper(),
        n_vec=len(q),
        n_in=q.shape[1],
        n_out=n_out,
        n_ops=max(n_ops, 1),
        line_len=16 + 9 * max(n_out, max(n_ops, 1) + 1),
    )
    with tempfile.TemporaryDirectory(prefix="mcuforge-nn-qemu-") as tmp:
        d = Path(tmp)
        (d / "main.c").write_text(main)
        (d / "link.ld").write_text(_LINKER.format(fo=fo, fk=fk, ro=ro, rk=rk, stack=STACK_BYTES))
        elf = d / "main.elf"
        cmd = [
            GCC,
            *gcc_flags.split(),
            *[f for f in CROSS_CFLAGS if f != "-Wextra"],
            *(extra_flags or []),
            "--specs=nano.specs",
            "-nostartfiles",
            "-T",
            str(d / "link.ld"),
            str(d / "main.c"),
            "-o",
            str(elf),
            "-lc",
            "-lgcc",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolchainError(f"bare-metal build failed ({' '.join(cmd)}):\n{proc.stderr}")
        sizes = elf_sizes(elf)
        from ..hardware.qemu import run_elf

        exit_code, text = run_elf(elf, machine, timeout_s)
    outs = [
        [int(h, 16) for h in m.split()] for m in re.findall(r"^o((?: [0-9a-f]{2})*)$", text, re.M)
    ]
    times = [
        [int(h, 16) for h in m.split()] for m in re.findall(r"^t((?: [0-9a-f]{8})+)$", text, re.M)
    ]
    stack = re.search(r"^s ([0-9a-f]{8})$", text, re.M)
    if len(outs) != len(q) or stack is None:
        raise ToolchainError(f"QEMU run incomplete (exit {exit_code}):\n{text[-2000:]}")
    return BareMetalRun(
        np.asarray(outs, dtype=np.uint8).astype(np.int8).reshape(len(q), n_out),
        np.asarray([t[0] for t in times], dtype=np.int64),
        np.asarray([t[1:] for t in times], dtype=np.int64),
        int(stack.group(1), 16),
        sizes,
    )
