"""Instructions per window and flash of every feature block on Cortex-M0+ and Cortex-M4F.

For each block and core this builds a tiny bare-metal ELF (own vector table and reset
handler, no HAL) with arm-none-eabi-gcc and the core's flags from recipes/cores.yaml,
runs the block ``reps`` times between two SysTick reads in qemu-system-arm with
``-icount shift=0`` (mps2-an386 for the M4F, microbit for the M0+) and prints the
result through semihosting. Instructions per window = (ticks - ticks of an empty
measurement) / reps * instructions per tick (40 on mps2, 62.5 on microbit; see the
``qemu_machines`` table in cores.yaml). Flash is the difference between the linked
sizes (.text + .rodata + .data) of the same program with and without the block call,
so it includes the libgcc/libm routines the block pulls in (soft float on the M0+).

IMU blocks run on the first BasicMotions test window (6 channels, 100 samples at
10 Hz); vector blocks on the statistics of that window (30 features); audio blocks on
half a second of a deterministic 16 kHz chirp with seeded noise (their instruction
counts barely depend on the data: no data-dependent loops, only a few branches).

A second table shows what the integer statistics (``stats`` with ``numeric: int16``)
cost in accuracy: test accuracy on the example with float32 and with int16
statistics, the same model fitted on each.

Usage: ``.venv/bin/python bench/features.py [--out bench/RESULTS_features.md]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.catalog import load_catalog
from mcuforge.codegen.c import c_array
from mcuforge.data import load_dataset
from mcuforge.features import FEATURES, CoreCosts, FeatureBlock, FeaturePipeline
from mcuforge.hardware.cross import elf_sizes
from mcuforge.spec import load_spec
from mcuforge.testing._features_c import pipeline_source

ROOT = Path(__file__).resolve().parent.parent
CORES = ("cortex-m0plus", "cortex-m4f")
AUDIO_RATE = 16000
AUDIO_LEN = 8000
TARGET_INSTRUCTIONS = 3_000_000  # per measurement: enough ticks for <0.1 % resolution

CFLAGS = ["-std=c99", "-Os", "-ffp-contract=off", "-fno-math-errno", "-ffunction-sections",
          "-fdata-sections", "-Wall", "-Wextra", "-Wno-unused-function"]  # fmt: skip

STARTUP = r"""
#include <stdint.h>
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], __stack_top[];
int main(void);
void Reset_Handler(void);
void Default_Handler(void);

static void semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile ("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

static void bench_exit(int code)
{
    uint32_t block[2];
    block[0] = 0x20026u; /* ADP_Stopped_ApplicationExit */
    block[1] = (uint32_t)code;
    semihost(0x20u, block); /* SYS_EXIT_EXTENDED */
    for (;;) {
    }
}

void Default_Handler(void) { bench_exit(3); }

__attribute__((section(".isr_vector"), used))
void (*const bench_vectors[16])(void) = {
    (void (*)(void))__stack_top, Reset_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler,
    Default_Handler, 0, Default_Handler, Default_Handler,
};

void Reset_Handler(void)
{
    uint32_t *src = _sidata, *dst;
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20); /* CPACR: enable the FPU */
    __asm__ volatile ("dsb\n\tisb" ::: "memory");
#endif
    for (dst = _sdata; dst < _edata;) { *dst++ = *src++; }
    for (dst = _sbss; dst < _ebss;) { *dst++ = 0u; }
    bench_exit(main());
}

static void put_u32(const char *label, uint32_t v)
{
    char buf[48];
    char digits[12];
    int n = 0, i = 0;
    while (label[i] != '\0') { buf[n++] = label[i++]; }
    i = 0;
    do { digits[i++] = (char)('0' + v % 10u); v /= 10u; } while (v != 0u);
    while (i > 0) { buf[n++] = digits[--i]; }
    buf[n++] = '\n';
    buf[n] = '\0';
    semihost(0x04u, buf); /* SYS_WRITE0 */
}
"""

MAIN = r"""
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
{input}
static float bench_out[{n_out}];
volatile float bench_sink;
volatile int bench_index;

int main(void)
{{
    uint32_t a, b, c, d;
    int i;
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0u;
    SYST_CSR = 5u; /* enable, processor clock, no interrupt */
    a = SYST_CVR;
    b = SYST_CVR;
    c = SYST_CVR;
    for (i = 0; i < {reps}; ++i) {{
        {call}
    }}
    d = SYST_CVR;
    bench_sink = bench_in[bench_index] + bench_out[bench_index]; /* keeps the input table */
    put_u32("empty=", (a - b) & 0xFFFFFFu);
    put_u32("ticks=", (c - d) & 0xFFFFFFu);
    return 0;
}}
"""

LINKER = """
MEMORY {{
  FLASH (rx) : ORIGIN = 0x00000000, LENGTH = {flash}K
  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = {ram}K
}}
SECTIONS {{
  .isr_vector : {{ KEEP(*(.isr_vector)) }} > FLASH
  .text : {{ *(.text*) *(.rodata*) . = ALIGN(4); }} > FLASH
  .ARM.exidx : {{ *(.ARM.exidx*) }} > FLASH
  _sidata = LOADADDR(.data);
  .data : {{ _sdata = .; *(.data*) . = ALIGN(4); _edata = .; }} > RAM AT > FLASH
  .bss : {{ _sbss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; }} > RAM
  end = _ebss;
  __stack_top = ORIGIN(RAM) + LENGTH(RAM);
}}
"""


def _imu() -> tuple[np.ndarray, np.ndarray, list[str], float]:
    loaded = load_spec(ROOT / "examples" / "basicmotions" / "spec.yaml")
    ds = load_dataset(loaded.spec.data, loaded.base_dir)
    return ds.train.x, ds.train.y, ds.channels, ds.rate_hz


def _audio() -> np.ndarray:
    t = np.arange(AUDIO_LEN) / AUDIO_RATE
    chirp = 0.3 * np.sin(2 * np.pi * (200 + 3000 * t) * t)
    noise = np.random.default_rng(7).normal(0, 0.01, AUDIO_LEN)
    return (chirp + noise).astype(np.float32)[None, :, None]


Case = tuple[str, dict[str, Any]]
FIVE = ["mean", "std", "min", "max", "rms"]
ALL = [*FIVE, "ptp", "skew", "kurtosis", "zcr", "mcr"]
IMU_CASES: list[Case] = [
    ("stats", {}),
    ("stats", {"numeric": "int16"}),
    ("stats", {"features": ALL}),
    ("stats", {"features": ALL, "numeric": "int16"}),
    ("spectral", {"fft_size": 64, "bands": 8}),
    ("spectral", {"fft_size": 64, "bands": 8, "numeric": "q15"}),
    ("spectral", {"fft_size": 32, "bands": 4, "band_scale": "log",
                  "filter": {"kind": "lowpass", "order": 4, "cutoff_hz": 3.0}}),
    ("raw", {"decimate": 2, "normalize": True}),
    ("minirocket", {}),
    ("minirocket", {"numeric": "q15"}),
    ("standardize", {}),
    ("pca", {"n_components": 8}),
    ("lda", {}),
]  # fmt: skip
AUDIO_CASES: list[Case] = [("mfe", {}), ("mfcc", {}), ("mfcc", {"top_db": None})]


def _spectral_grid(numeric: str) -> list[Case]:
    return [
        ("spectral", {"fft_size": n, "hop": hop, "remove_mean": rm, "bands": 4,
                      "numeric": numeric})
        for n in (16, 32, 64) for hop in (n // 2, n) for rm in (True, False)
    ]  # fmt: skip


#: The grids the analytic costs of these blocks were fitted on (the blocks' ``cost()``
#: docstrings and comments cite them): each case on the IMU window (100 samples) and,
#: for the spectral grids, four of them on a window of 200 samples too.
FIT_GRIDS: dict[str, list[Case]] = {
    "spectral float32": _spectral_grid("float32"),
    "spectral q15": _spectral_grid("q15"),
    "stats float32": [("stats", {"features": ["mean", s]}) for s in ALL[1:]]
    + [("stats", {"features": ["mean"]}), ("stats", {"features": ALL})],
    "stats int16": [("stats", {"features": ["mean", s], "numeric": "int16"}) for s in ALL[1:]]
    + [("stats", {"features": ["mean"], "numeric": "int16"}),
       ("stats", {"features": ALL, "numeric": "int16"})],
    "raw": [("raw", {"decimate": d, "normalize": nz}) for d in (1, 2, 4) for nz in (False, True)],
}  # fmt: skip
#: The fit grids run on a Thumb-2 core without an FPU as well (soft float, the integer
#: constants of the M4F): the cores the integer (q15, int16) paths are for.
FIT_CORES = (*CORES, "cortex-m3")


def _pipeline(case: Case, x: np.ndarray, y: np.ndarray, chans: list[str], rate: float) -> tuple[
    FeaturePipeline, FeatureBlock, np.ndarray, int
]:  # fmt: skip
    """The pipeline, the benched block, its input (one window or vector), its index."""
    name, params = case
    block = FEATURES.get(name)(params, x.shape[1], chans, rate)
    if block.input == "vector":
        stats = FEATURES.get("stats")({}, x.shape[1], chans, rate)
        pipe = FeaturePipeline([stats, block]).fit(x, y)
        return pipe, block, stats.transform(x[:1])[0], 1
    pipe = FeaturePipeline([block]).fit(x, y)
    return pipe, block, x[0].reshape(-1), 0


def _build(d: Path, tag: str, flags: str, source: str, mem: tuple[int, int]) -> Path:
    gcc = "arm-none-eabi-gcc"
    (d / f"{tag}.c").write_text(source)
    (d / "link.ld").write_text(LINKER.format(flash=mem[0], ram=mem[1]))
    elf = d / f"{tag}.elf"
    cmd = [gcc, *flags.split(), *CFLAGS, str(d / f"{tag}.c"), "-T", str(d / "link.ld"),
           "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections",
           "-Wl,-e,Reset_Handler", "-o", str(elf), "-lm"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"cross build failed: {' '.join(cmd)}\n{proc.stderr}")
    return elf


def measure(
    case: Case, core: str, data: dict[str, Any], cat: Any, key: str | None = None
) -> dict[str, Any]:
    """One block on one core: QEMU's instructions, the analytic estimate, flash. The
    input is ``data[key]``, by default the audio or the IMU window."""
    spec = cat.cores[core]
    machine = cat.qemu_machines[spec.qemu_machine]
    x, y, chans, rate = data[key or ("audio" if case[0] in ("mfe", "mfcc") else "imu")]
    pipe, block, inp, idx = _pipeline(case, x, y, chans, rate)
    cc = CoreCosts(spec.float_op_instructions, spec.float_div_instructions)
    analytic = block.cost(cc)
    reps = int(max(1, min(32, TARGET_INSTRUCTIONS // max(analytic.instructions, 1))))
    fn = f"bx_block{idx}_{block.name}"
    src = pipeline_source(pipe, "bx")
    inp_c = c_array("bench_in", "float", [float(v) for v in inp])
    mem = (int(machine.flash_kb), int(machine.sram_kb))
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-") as tmp:
        d = Path(tmp)
        elfs = {}
        for tag, call in (("with", f"{fn}(bench_in, bench_out);"), ("without", "(void)bench_in;")):
            main = MAIN.format(input=inp_c, n_out=block.n_outputs, reps=reps, call=call)
            elfs[tag] = _build(d, tag, spec.gcc_flags, STARTUP + src + main, mem)
        flash = elf_sizes(elfs["with"]).flash - elf_sizes(elfs["without"]).flash
        cmd = ["qemu-system-arm", "-M", spec.qemu_machine, "-nographic", "-monitor", "none",
               "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
               "-kernel", str(elfs["with"])]  # fmt: skip
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    m = re.search(r"empty=(\d+)\s+ticks=(\d+)", run.stdout + run.stderr)
    if run.returncode != 0 or m is None:
        sys.exit(f"QEMU run failed ({run.returncode}): {run.stdout}{run.stderr}")
    empty, ticks = int(m.group(1)), int(m.group(2))
    instructions = (ticks - empty) / reps * machine.instructions_per_tick()
    return {
        "block": block.name,
        "params": _describe(case[1]),
        "core": core,
        "instructions": round(instructions),
        "analytic": analytic.instructions,
        "flash": flash,
        "reps": reps,
    }


#: Models scored on float32 and int16 statistics of the example (test accuracy): the
#: family and parameters the example's search chose (bench/RESULTS.md, pipeline
#: section) and those of the tree recipes.
ACCURACY_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("knn", {"n_neighbors": 2, "max_prototypes": 20, "prototypes": "random"},
     ["mean", "max", "rms"]),
    ("decision_tree", {"max_depth": 6}, FIVE),
    ("random_forest", {"n_estimators": 10, "max_depth": 6}, FIVE),
    ("gradient_boosting", {"n_estimators": 20, "max_depth": 2}, FIVE),
    ("random_forest", {"n_estimators": 10, "max_depth": 6}, ALL),
]  # fmt: skip


def int16_accuracy() -> list[str]:
    """Test accuracy on examples/basicmotions with float32 and with int16 statistics."""
    from mcuforge.models import MODELS

    loaded = load_spec(ROOT / "examples" / "basicmotions" / "spec.yaml")
    ds = load_dataset(loaded.spec.data, loaded.base_dir)
    rows = []
    for family, params, stats in ACCURACY_CASES:
        acc, preds = {}, {}
        for numeric in ("float32", "int16"):
            block = FEATURES.get("stats")(
                {"features": stats, "numeric": numeric}, ds.window, ds.channels, ds.rate_hz
            )
            fit = MODELS.get(family)().fit(
                block.transform(ds.train.x), ds.train.y, len(ds.classes), params, 0
            )
            preds[numeric] = fit.predict(block.transform(ds.test.x))
            acc[numeric] = float(np.mean(preds[numeric] == ds.test.y))
        same = int(np.sum(preds["float32"] == preds["int16"]))
        label = ", ".join(f"{k}={v}" for k, v in params.items())
        rows.append(
            f"| {family} ({label}) | {'+'.join(stats)} | {acc['float32']:.3f} | "
            f"{acc['int16']:.3f} | {same}/{len(ds.test.y)} |"
        )
    return [
        "",
        "`stats` with `numeric: int16` (integer statistics for cores without an FPU)"
        " against float32 on examples/basicmotions (40 train / 40 test windows): the same"
        " model family and parameters fitted on each feature set, seed 0.",
        "",
        "| model | statistics | test acc float32 | test acc int16 | same predictions |",
        "| --- | --- | ---: | ---: | ---: |",
        *rows,
    ]


def fit_grids(data: dict[str, Any], cat: Any) -> list[str]:
    """Analytic / QEMU instructions over each grid of :data:`FIT_GRIDS`, per core."""
    x, y, chans, rate = data["imu"]
    data = {**data, "imu200": (np.concatenate([x, x[:, ::-1]], axis=1), y, chans, rate)}
    rows = []
    for name, cases in FIT_GRIDS.items():
        runs = [(c, "imu") for c in cases]
        if name.startswith("spectral"):
            runs += [(c, "imu200") for c in cases if c[1]["hop"] == c[1]["fft_size"] != 32]
        for core in FIT_CORES:
            ratios = [
                (r := measure(c, core, data, cat, key))["analytic"] / r["instructions"]
                for c, key in runs
            ]
            print(f"fit grid {name:18s} {core:14s} {min(ratios):.2f}-{max(ratios):.2f}", flush=True)
            rows.append(
                f"| {name} | {core} | {len(runs)} | {min(ratios):.2f} | "
                f"{float(np.median(ratios)):.2f} | {max(ratios):.2f} |"
            )
    return [
        "",
        "The grids the analytic costs were fitted on (bench/features.py `FIT_GRIDS`: the",
        "spectral block at fft_size 16, 32 and 64, hop fft_size/2 and fft_size, with and",
        "without remove_mean, 4 bands, on the 100-sample window and some on a 200-sample",
        "one; each statistic beside the mean, the mean alone and all ten; raw decimate",
        "1, 2, 4 with and without normalisation), estimate / QEMU count per case. The",
        "Cortex-M3 (mps2-an385: Thumb-2, soft float) was not fitted on: it checks the",
        "integer constants of the M4F and the soft-float costs on another core.",
        "",
        "| grid | core | cases | analytic / QEMU min | median | max |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        *rows,
    ]


def _describe(params: dict[str, Any]) -> str:
    if not params:
        return "defaults"
    parts = []
    for k, v in params.items():
        if isinstance(v, dict):
            v = " ".join(f"{a}={b}" for a, b in v.items())
        elif isinstance(v, list):
            v = "+".join(map(str, v))
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS_features.md")
    args = parser.parse_args()
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found (apt-get install gcc-arm-none-eabi qemu-system-arm)")
    cat = load_catalog()
    x, y, chans, rate = _imu()
    audio = _audio()
    data = {"imu": (x, y, chans, rate), "audio": (audio, np.zeros(1), ["mic"], AUDIO_RATE)}
    rows = []
    for case in IMU_CASES + AUDIO_CASES:
        for core in CORES:
            row = measure(case, core, data, cat)
            print(f"{row['block']:12s} {row['core']:14s} {row['instructions']:>10d} "
                  f"{row['flash']:>7d}  {row['params']}", flush=True)  # fmt: skip
            rows.append(row)
    lines = [
        "# Feature blocks: instructions per window and flash",
        "",
        f"Command: `.venv/bin/python bench/features.py` ({dt.date.today().isoformat()}).",
        "",
        "Instructions counted in qemu-system-arm `-icount shift=0` (SysTick ticks x 40 on",
        "mps2-an386 for the Cortex-M4F, x 62.5 on microbit for the Cortex-M0+), per window,",
        "averaged over `reps` runs; flash = what the block adds to a bare-metal program",
        "(code, tables, libgcc/libm routines), arm-none-eabi-gcc -Os with the cores.yaml",
        "flags. IMU: one BasicMotions window, 6 channels x 100 samples at 10 Hz (vector",
        "blocks: its 30 statistics). Audio: 0.5 s at 16 kHz. `analytic` is the block's",
        "`cost()` estimate that steers the search.",
        "",
        "| block | params | core | instructions | analytic | flash bytes | reps |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['block']} | {r['params']} | {r['core']} | {r['instructions']} | "
        f"{r['analytic']} | {r['flash']} | {r['reps']} |"
        for r in rows
    ]
    lines += fit_grids(data, cat)
    lines += int16_accuracy()
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
