"""Profilers: cross build, unicorn (IT blocks, stack), QEMU cross-check, chain, calibration,
closed loop.

The C under test is a small hand-written model whose outputs Python computes exactly
(sums of small integers and halves are exact in float32), so these tests do not depend
on the code generators or the firmware template.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mcuforge.catalog import Core, Target, load_catalog
from mcuforge.cost import Calibration, CalibrationError, fit
from mcuforge.errors import BudgetError, ToolchainError
from mcuforge.hardware import PROFILERS, Cost, Figure, Workload
from mcuforge.hardware import emulate as emulate_mod
from mcuforge.hardware.closed_loop import Budgets, pick_measured
from mcuforge.hardware.cross import cross_build
from mcuforge.hardware.emulate import Emulator, emulate_elf, thumb_count, unicorn_cpu
from mcuforge.hardware.measure import Measured, run_chain

from .conftest import needs_arm_gcc, needs_qemu

needs_unicorn = pytest.mark.skipif(
    not emulate_mod.unicorn_installed() and not os.environ.get("CI"),
    reason="unicorn not installed (pip install unicorn)",
)

MODEL_H = """\
#ifndef DEMO_MODEL_H
#define DEMO_MODEL_H
#define DEMO_WINDOW_LEN 16
#define DEMO_N_CHANNELS 2
#define DEMO_N_OUTPUTS 3
int demo_run(const float *window, float *out);
int demo_predict(const float *window);
#endif
"""
# means of two channels, three scores, argmax: divisions, a square root, compares
MODEL_C = """\
#include <math.h>
#include "demo_model.h"
int demo_run(const float *window, float *out)
{
    float m0 = 0.0f, m1 = 0.0f;
    int t, c, best = 0;
    for (t = 0; t < DEMO_WINDOW_LEN; ++t) {
        m0 += window[t * DEMO_N_CHANNELS];
        m1 += window[t * DEMO_N_CHANNELS + 1];
    }
    m0 /= (float)DEMO_WINDOW_LEN;
    m1 /= (float)DEMO_WINDOW_LEN;
    out[0] = m0 - m1;
    out[1] = m1 - m0;
    out[2] = sqrtf(m0 * m0 + m1 * m1) - 2.0f;
    for (c = 1; c < DEMO_N_OUTPUTS; ++c) {
        if (out[c] > out[best]) { best = c; }
    }
    return best;
}
int demo_predict(const float *window)
{
    float out[DEMO_N_OUTPUTS];
    return demo_run(window, out);
}
"""
#: (channel 0, channel 1) constant over the window, and the class Python expects
WINDOWS = [((4.0, 0.0), 0), ((0.0, 4.0), 1), ((3.0, 3.0), 2), ((0.0, 0.0), 0)]


def vectors() -> dict[str, str]:
    rows = ", ".join(
        "{" + ", ".join(f"{a}f, {b}f" for _ in range(16)) + "}" for (a, b), _ in WINDOWS
    )
    expected = ", ".join(str(e) for _, e in WINDOWS)
    return {
        "test_vectors.h": (
            '#include <stdint.h>\n#include "demo_model.h"\n'
            f"#define MCUFORGE_N_TEST_WINDOWS {len(WINDOWS)}\n"
            "extern const float mcuforge_test_windows[MCUFORGE_N_TEST_WINDOWS]"
            "[DEMO_WINDOW_LEN * DEMO_N_CHANNELS];\n"
            "extern const int16_t mcuforge_test_expected[MCUFORGE_N_TEST_WINDOWS];\n"
        ),
        "test_vectors.c": (
            '#include "test_vectors.h"\n'
            "const float mcuforge_test_windows[MCUFORGE_N_TEST_WINDOWS]"
            f"[DEMO_WINDOW_LEN * DEMO_N_CHANNELS] = {{{rows}}};\n"
            f"const int16_t mcuforge_test_expected[MCUFORGE_N_TEST_WINDOWS] = {{{expected}}};\n"
        ),
    }


SOURCES = {"demo_model.h": MODEL_H, "demo_model.c": MODEL_C}
M4F = "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
M3 = "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft"
M0 = "-mcpu=cortex-m0 -mthumb -mfloat-abi=soft"


def gcc(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["arm-none-eabi-gcc", *args], check=True, cwd=cwd)


def catalog_parts(target: str) -> tuple[Target, Core]:
    cat = load_catalog()
    t = cat.target(target)
    return t, cat.core(t.core)


def work_for(target: str, tmp: Path) -> Workload:
    t, core = catalog_parts(target)
    return Workload("demo", SOURCES, vectors(), t, core, tmp)


def analytic(flash: float = 500, sram: float = 100, instr: float = 1000) -> Cost:
    return Cost(
        Figure(flash, "analytic"),
        Figure(sram, "analytic"),
        Figure(instr / 64e3, "analytic"),
        Figure(instr, "analytic"),
    )


# ---------------------------------------------------------------- instruction counting


def test_thumb_count_tells_16_from_32_bit_instructions() -> None:
    # movs r0,#1 (16) | bl (32) | bx lr (16) | vadd.f32 (32)
    code = bytes.fromhex("012000f000f8704730ee010a")
    assert thumb_count(code) == 4


def test_unicorn_cpu_comes_from_the_core_table() -> None:
    cat = load_catalog()
    assert unicorn_cpu(cat.core("cortex-m4f")) == "CORTEX_M4"
    assert unicorn_cpu(cat.core("cortex-m0plus")) == "CORTEX_M0"  # ARMv6-M of the M0 model
    assert unicorn_cpu(cat.core("avr")) is None
    for name, core in cat.cores.items():  # every core a GCC here builds for is covered
        assert (core.unicorn_cpu is None) == (core.gcc_flags is None), name


IT_DEMO = """\
    .syntax unified
    .thumb
    .global it_demo
    .type it_demo, %function
it_demo:
    cmp r0, #0
    ite eq
    moveq r0, #1
    movne r0, #2
    itttt ne
    addne r0, r0, #1
    addne r0, r0, #1
    addne r0, r0, #1
    addne r0, r0, #1
    bx lr
    .size it_demo, . - it_demo
"""


@needs_arm_gcc
@needs_unicorn
def test_instructions_skipped_in_it_blocks_are_counted(tmp_path: Path) -> None:
    """10 instructions whatever the branch; unicorn's code hook sees only the executed."""
    (tmp_path / "it.S").write_text(IT_DEMO)
    elf = tmp_path / "it.elf"
    gcc(
        *M3.split(),
        "-nostdlib",
        "-Wl,-e,it_demo",
        "-Wl,-Ttext=0x0",
        str(tmp_path / "it.S"),
        "-o",
        str(elf),
    )
    emu = Emulator(elf, "CORTEX_M3")
    taken = emu.call("it_demo", (0,), trace_it=True)
    assert (taken.returned, taken.instructions, taken.it_skipped) == (1, 10, 5)
    other = emu.call("it_demo", (5,), trace_it=True)
    assert (other.returned, other.instructions, other.it_skipped) == (6, 10, 1)
    assert other.stack_bytes == 0


@needs_arm_gcc
@needs_unicorn
@pytest.mark.parametrize(("flags", "cpu"), [(M4F, "CORTEX_M4"), (M0, "CORTEX_M0")])
def test_unicorn_runs_the_bench_elf_and_checks_python(tmp_path: Path, flags: str, cpu: str) -> None:
    build = cross_build(SOURCES, "demo", flags, tmp_path, vectors())
    assert build.bench is not None
    run = emulate_elf(build.bench, "demo", cpu)
    assert run.returned == [e for _, e in WINDOWS]
    assert run.agree == run.total == 4
    # 16 iterations of two adds + the tail; soft-float calls libgcc for every operation
    assert (100 if cpu == "CORTEX_M4" else 800) < run.instructions_max < 5000
    assert 8 <= run.stack_bytes <= 128
    # soft-float pulls in libgcc/libm, with a word or so of .data
    assert build.sizes.flash > 0 and build.sizes.static_sram <= 16


@needs_arm_gcc
@needs_unicorn
def test_a_call_is_stuck_only_well_past_the_analytic_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow model (MiniRocket on a long window runs tens of millions of instructions)
    is not taken for a stuck one: the limit grows with the analytic estimate."""
    import mcuforge.hardware.emulate as emulate

    build = cross_build(SOURCES, "demo", M4F, tmp_path, vectors())
    assert build.bench is not None
    monkeypatch.setattr(emulate, "MAX_INSTRUCTIONS", 50)
    with pytest.raises(ToolchainError, match="did not return within 50 instructions"):
        emulate_elf(build.bench, "demo", "CORTEX_M4")
    run = emulate_elf(build.bench, "demo", "CORTEX_M4", expected_instructions=1000)
    assert run.agree == run.total == 4 and run.instructions_max < 4 * 1000


@needs_arm_gcc
@needs_unicorn
def test_emulator_reports_a_fault_clearly(tmp_path: Path) -> None:
    (tmp_path / "bad.S").write_text(
        ".syntax unified\n.thumb\n.global bad\n.type bad, %function\n"
        "bad:\n    ldr r0, =0x70000000\n    ldr r0, [r0]\n    bx lr\n.size bad, . - bad\n"
    )
    elf = tmp_path / "bad.elf"
    gcc(
        *M3.split(),
        "-nostdlib",
        "-Wl,-e,bad",
        "-Wl,-Ttext=0x0",
        str(tmp_path / "bad.S"),
        "-o",
        str(elf),
    )
    with pytest.raises(ToolchainError, match=r"emulated bad faulted at 0x0000000\d \(in bad\)"):
        Emulator(elf, "CORTEX_M3").call("bad")


# ------------------------------------------------------------ unicorn vs QEMU, same ELF

# A bare-metal harness for QEMU: SysTick (processor clock, counting down) read around
# each demo_predict call, the tick counts printed through semihosting, then exit.
QEMU_MAIN = """\
#include <stdint.h>
#include "demo_model.h"
#include "test_vectors.h"
#define REG(a) (*(volatile uint32_t *)(a))
extern uint32_t __stack_top[];
void Reset_Handler(void);
__attribute__((section(".isr_vector"), used))
const void *const vectors[2] = {__stack_top, (const void *)Reset_Handler};
static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
static char line[16];
static void put_u32(uint32_t v)
{
    int i = 14;
    line[15] = 0;
    line[i] = '\\n';
    do { line[--i] = (char)('0' + v % 10u); v /= 10u; } while (v != 0u);
    semihost(0x04, &line[i]);
}
volatile int sink;
void Reset_Handler(void)
{
    int i;
#if defined(__ARM_FP)
    REG(0xE000ED88) |= 0xFu << 20;
    __asm__ volatile("dsb\\n\\tisb" ::: "memory");
#endif
    REG(0xE000E014) = 0xFFFFFFu;
    REG(0xE000E018) = 0u;
    REG(0xE000E010) = 5u;
    while (REG(0xE000E018) == 0u) { }
    for (i = 0; i < MCUFORGE_N_TEST_WINDOWS; ++i) {
        uint32_t a = REG(0xE000E018);
        sink = demo_predict(mcuforge_test_windows[i]);
        put_u32((a - REG(0xE000E018)) & 0xFFFFFFu);
    }
    semihost(0x18, (const void *)0x20026);
    for (;;) { }
}
"""
QEMU_LD = """\
MEMORY { FLASH (rx) : ORIGIN = 0, LENGTH = 128K
         RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 16K }
SECTIONS {
  .isr_vector : { KEEP(*(.isr_vector)) } > FLASH
  .text : { *(.text*) *(.rodata*) } > FLASH
  .bss (NOLOAD) : { *(.bss*) *(COMMON) } > RAM
  __stack_top = ORIGIN(RAM) + LENGTH(RAM);
}
"""


@pytest.mark.toolchain
@needs_arm_gcc
@needs_qemu
@needs_unicorn
@pytest.mark.parametrize(
    ("flags", "cpu", "machine", "per_tick"),
    [
        (M4F, "CORTEX_M4", "mps2-an386", 40.0),
        (M3, "CORTEX_M3", "mps2-an385", 40.0),
        (M0, "CORTEX_M0", "microbit", 62.5),
    ],
)
def test_unicorn_agrees_with_qemu_systick_on_the_same_elf(
    tmp_path: Path, flags: str, cpu: str, machine: str, per_tick: float
) -> None:
    from mcuforge.hardware.qemu import run_elf

    for name, text in {**SOURCES, **vectors(), "main.c": QEMU_MAIN, "l.ld": QEMU_LD}.items():
        (tmp_path / name).write_text(text)
    elf = tmp_path / "fw.elf"
    gcc(
        *flags.split(),
        *("-Os", "-ffp-contract=off", "-fno-math-errno", "-nostartfiles", "-T", "l.ld"),
        *("--specs=nano.specs", "--specs=nosys.specs", "-I.", "main.c", "demo_model.c"),
        *("test_vectors.c", "-o", str(elf), "-lm"),
        cwd=tmp_path,
    )
    code, out = run_elf(elf, machine, timeout_s=60)
    ticks = [int(t) for t in re.findall(r"^(\d+)$", out, re.M)]
    assert code == 0 and len(ticks) == 4, out
    run = emulate_elf(elf, "demo", cpu, trace_it=True)
    assert run.agree == 4
    for t, n in zip(ticks, run.instructions, strict=True):
        # one tick of quantisation, plus the call and the second SysTick load (<= 6)
        assert abs(t * per_tick - n) <= per_tick + 6, (t * per_tick, n)
    if cpu == "CORTEX_M3":  # soft-float libgcc is full of IT blocks: a code hook misses them
        assert min(run.it_skipped) > per_tick + 6
        assert all(
            abs(t * per_tick - (n - s)) > per_tick
            for t, n, s in zip(ticks, run.instructions, run.it_skipped, strict=True)
        )


# ------------------------------------------------------------------ the profiler chain


@needs_arm_gcc
@needs_unicorn
def test_chain_measures_flash_sram_and_latency(tmp_path: Path) -> None:
    work = work_for("nrf52840", tmp_path)
    m = run_chain(work, analytic())
    assert m.cost.flash_bytes.source == "compiled"
    assert m.cost.sram_bytes.source == m.cost.latency_ms.source == "emulated"
    assert m.cost.instructions.source == "emulated"
    instr = m.details["emulated"]["instructions_max"]
    assert m.cost.latency_ms.value == pytest.approx(instr * work.core.cpi / 64e3, abs=1e-6)
    assert m.cost.sram_bytes.value == m.details["emulated"]["stack_bytes"]
    assert [r["figure"] for r in m.rows] == [
        "flash_bytes",
        "sram_bytes",
        "instructions",
        "latency_ms",
    ]
    row = m.rows[0]
    assert row["error_pct"] == pytest.approx(100 * (500 - row["measured"]) / row["measured"])
    assert m.notes == ["qemu not run: no QEMU machine emulates cortex-m4f"]


def test_no_cross_compiler_keeps_analytic_and_names_the_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to run in there
    m = run_chain(work_for("nrf52840", tmp_path), analytic())
    assert m.cost == analytic()
    assert m.rows == []
    assert len(m.notes) == 1
    assert m.notes[0].startswith("compiled not run: arm-none-eabi-gcc not found")
    assert "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi" in m.notes[0]
    assert m.notes[0].endswith("cost is analytic")


@needs_arm_gcc
def test_core_no_emulator_covers_falls_back_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = work_for("nrf52840", tmp_path)
    core = work.core.model_copy(update={"unicorn_cpu": None})  # a core unicorn lacks
    work = Workload(work.prefix, work.sources, work.test_vectors, work.target, core, tmp_path)
    m = run_chain(work, analytic())
    assert m.cost.flash_bytes.source == "compiled"
    assert m.cost.sram_bytes.source == m.cost.latency_ms.source == "analytic"
    assert m.notes == [
        "emulated not run: unicorn does not emulate cortex-m4f; qemu not run: no QEMU "
        "machine emulates cortex-m4f; SRAM, instructions and latency stay analytic"
    ]


def test_every_profiler_is_registered_and_says_when_it_cannot_run(tmp_path: Path) -> None:
    work = work_for("nrf52840", tmp_path)
    assert PROFILERS.names() == ["analytic", "compiled", "device", "emulated", "linked", "qemu"]
    for name in PROFILERS.names():
        cls = PROFILERS.get(name)
        prof = cls("loop://") if name == "device" else cls()  # type: ignore[call-arg]
        assert prof.name == name
        assert prof.source in {"analytic", "compiled", "emulated", "linked", "device"}
        why = prof.unavailable(work)
        assert why is None or isinstance(why, str)
    assert PROFILERS.get("qemu")().unavailable(work) == "no QEMU machine emulates cortex-m4f"
    device = PROFILERS.get("device")("loop://")  # type: ignore[call-arg]
    assert device.unavailable(work) == "no firmware project to build"
    assert PROFILERS.get("linked")().unavailable(work) == "no firmware project to link"


# -------------------------------------------------------------------------- calibration


def test_calibration_fits_geometric_mean_and_corrects_estimates(tmp_path: Path) -> None:
    measured = [
        analytic(550, 90, 1210).with_(flash_bytes=Figure(550, "compiled")),
        analytic(1000, 100, 1000).with_(
            flash_bytes=Figure(1210, "compiled"),
            sram_bytes=Figure(80, "emulated"),
            instructions=Figure(1500, "emulated"),
            latency_ms=Figure(0.03, "device"),
        ),
    ]
    cal = fit(
        [
            ("nrf52840", "cortex-m4f", analytic(500, 100, 1000), measured[0]),
            ("nrf52840", "cortex-m4f", analytic(1000, 100, 1000), measured[1]),
        ]
    )
    f = cal.factors("nrf52840", "cortex-m4f")
    assert f["flash_bytes"] == pytest.approx(math.sqrt(1.1 * 1.21))
    assert f["sram_bytes"] == pytest.approx(0.8)
    assert f["instructions"] == pytest.approx(1.5)
    assert f["latency_ms"] == pytest.approx(0.03 / (1000 / 64e3))
    assert cal.factors("nrf52840", "cortex-m0plus") == {}
    assert cal.factors("stm32f401re", "cortex-m4f") == {}

    est = cal.apply("nrf52840", "cortex-m4f", analytic(2000, 200, 2000))
    assert est.flash_bytes == Figure(round(2000 * f["flash_bytes"], 1), "analytic")
    assert est.sram_bytes.value == pytest.approx(160)
    measured_fig = analytic().with_(flash_bytes=Figure(700, "compiled"))
    assert cal.apply("nrf52840", "cortex-m4f", measured_fig).flash_bytes.value == 700

    path = cal.save(tmp_path / "calibration.json")
    back = Calibration.load(path)
    assert back.factors("nrf52840", "cortex-m4f") == pytest.approx(f)
    merged = back.merge(fit([("nrf52840", "cortex-m4f", analytic(), measured[0])]))
    assert len(merged.targets["nrf52840"].points["flash_bytes"]) == 3


def test_calibration_file_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="cannot read calibration"):
        Calibration.load(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "targets": {"x": {"core": "c", "figures": {"mhz": {}}}}}')
    with pytest.raises(CalibrationError, match="unknown figure 'mhz'"):
        Calibration.load(bad)
    bad.write_text("{")
    with pytest.raises(CalibrationError, match=r"bad.json:1: not JSON"):
        Calibration.load(bad)


# ------------------------------------------------------------------------- closed loop


def _measured(flash: float, sram: float, latency: float) -> Measured:
    return Measured(
        Cost(
            Figure(flash, "compiled"),
            Figure(sram, "emulated"),
            Figure(latency, "emulated"),
            Figure(latency * 64e3, "emulated"),
        ),
        rows=[{"figure": "flash_bytes", "analytic": 100.0, "measured": flash}],
    )


def test_closed_loop_keeps_the_first_candidate_that_fits_when_measured() -> None:
    budgets = Budgets(sram_kb=1, flash_kb=1, latency_ms=1)
    costs = {"a": _measured(1100, 100, 0.5), "b": _measured(900, 100, 0.5), "c": _measured(1, 1, 0)}
    calls: list[str] = []

    def measure(c: str) -> Measured:
        calls.append(c)
        return costs[c]

    ranked = [(c, analytic(900)) for c in "abc"]
    res = pick_measured(ranked, measure, budgets, top_k=3)
    assert res.chosen.candidate == "b" and res.chosen.rank == 2
    assert calls == ["a", "b"]
    assert res.tried[0].broken == ["flash 1.074 kB (compiled) > 1 kB"]
    assert [r["rank"] for r in res.rows()] == [1, 2]
    cal = res.calibration("nrf52840", "cortex-m4f")
    assert cal.factors("nrf52840", "cortex-m4f")["flash_bytes"] == pytest.approx(
        math.sqrt(1100 / 900 * 900 / 900)
    )


def test_closed_loop_names_the_measured_figures_when_nothing_fits() -> None:
    budgets = Budgets(sram_kb=1, flash_kb=1, latency_ms=0.1)
    ranked = [("a", analytic()), ("b", analytic()), ("c", analytic())]
    seen: list[str] = []

    def measure(c: str) -> Measured:
        seen.append(c)
        return _measured(2048, 100, 0.5)

    with pytest.raises(BudgetError) as err:
        pick_measured(ranked, measure, budgets, top_k=2)
    assert seen == ["a", "b"]
    msg = str(err.value)
    assert "none of the 2 best candidates fits" in msg
    assert "#1: flash 2.000 kB (compiled) > 1 kB; latency 0.500 ms (emulated) > 0.1 ms" in msg


def test_closed_loop_without_latency_budget() -> None:
    res = pick_measured([("a", analytic())], lambda c: _measured(10, 10, 99.0), Budgets(1, 1, None))
    assert res.chosen.fits


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs the compiler")
def test_cross_build_failure_is_a_toolchain_error(tmp_path: Path) -> None:
    bad = {"demo_model.h": MODEL_H, "demo_model.c": MODEL_C + "int broken(void) { return x; }"}
    with pytest.raises(ToolchainError, match="cross build failed"):
        cross_build(bad, "demo", M4F, tmp_path)


# ---- the object cache of mcuforge's own firmware builds -----------------------------------


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc")
def test_model_objects_are_compiled_once_per_content_and_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The launcher keys a model source's object on the preprocessed text and the flags
    that are not defines, include folders or paths: another project folder with other
    defines (another firmware mode) reuses it, and still gets its dependency file; a
    change of the code or of an optimisation flag compiles again; files outside a
    `model` folder always compile."""
    from mcuforge.hardware import _objcache

    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv(_objcache.ENV, str(cache))

    def project(name: str, body: str) -> Path:
        src = tmp_path / name / "src" / "model"
        src.mkdir(parents=True)
        (src / "m_model.h").write_text("int m_predict(int x);\n")
        (src / "m_model.c").write_text(f'#include "m_model.h"\nint m_predict(int x) {{ {body} }}\n')
        (src.parent / "main.c").write_text("int main(void) { return 0; }\n")
        return src.parent

    def compile_(src: Path, rel: str, *flags: str) -> tuple[int, Path]:
        obj = src.parent / "build" / (rel + ".o")
        obj.parent.mkdir(parents=True, exist_ok=True)
        dep = obj.with_suffix(".d")
        argv = ["gcc", *flags, f"-I{src / 'model'}", "-MD", "-MT", str(obj), "-MF", str(dep)]
        code = _objcache.run([*argv, "-o", str(obj), "-c", str(src / rel)])
        assert code == 0 and obj.is_file() and dep.is_file()
        assert str(src / "model" / "m_model.h") in dep.read_text() or rel == "main.c"
        return len(list(cache.glob("*.o"))), obj

    a, b = project("a", "return x + 1;"), project("b", "return x + 1;")
    n, first = compile_(a, "model/m_model.c", "-O2", "-DMODE_SELFTEST=1")
    assert n == 1
    n, again = compile_(b, "model/m_model.c", "-O2", "-DMODE_SENSOR=1")
    assert n == 1 and again.read_bytes() == first.read_bytes()  # reused
    assert compile_(b, "model/m_model.c", "-Os")[0] == 2  # another flag
    c = project("c", "return x + 2;")
    assert compile_(c, "model/m_model.c", "-O2")[0] == 3  # other code
    assert compile_(a, "main.c", "-O2")[0] == 3  # not a model source: not cached
    # it runs once per compiled file as a bare script: it imports nothing of mcuforge
    launcher = Path(_objcache.__file__).read_text()
    assert not re.search(r"^\s*(from|import) (\.|mcuforge)", launcher, re.M)
