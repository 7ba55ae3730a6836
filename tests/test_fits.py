""" "Fits" means the firmware links and runs on the part.

* Fast: datasheet power and the energy of one inference for every catalog target; the
  analytic estimate and the resolver's bound include the input buffer and the runtime;
  the chain keeps the whole firmware's figures beside those of features + model; the
  linker map's parts add up; the self-test line's units; the build check's note.
* ``toolchain``: the linked profiler's figures equal the linker's; a firmware whose
  stack overflows says so in QEMU instead of hanging; a build that does not link is an
  error quoting the linker.
* ``slow`` end to end: a window of 1,200 samples on a Cortex-M0+ of 8 kB SRAM and 32 kB
  flash gives a project whose sensor and self-test builds link and run in QEMU, with
  report.json's flash and SRAM equal to the linked ELF's; a longer window stops before
  training, naming the smallest budget that would fit.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mcuforge import scaffold
from mcuforge.catalog import load_catalog
from mcuforge.cost import stack_reserve
from mcuforge.errors import BudgetError, CatalogError, ToolchainError
from mcuforge.features import FEATURES, FeaturePipeline
from mcuforge.hardware import Cost, Figure, Profile, Profiler, Workload
from mcuforge.hardware._base import ESTIMATED_STACK_PEAK, Firmware
from mcuforge.hardware._linkmap import MemoryUse, breakdown, read_map
from mcuforge.hardware.analytic import analytic_cost, analytic_model_cost, with_energy
from mcuforge.hardware.linked import DEPLOY_OPTIONS, link_firmware, overflows
from mcuforge.hardware.measure import run_chain
from mcuforge.hardware.qemu import parse_selftest, run_elf
from mcuforge.models import MODELS
from mcuforge.pipeline._build import build_check, linker_usage
from mcuforge.resolver import resolve
from mcuforge.spec import Power, load_spec

from .conftest import needs_arm_gcc, needs_qemu
from .test_scaffold import SHA, small_model

CATALOG = load_catalog()


def _tiny(target: str) -> tuple[FeaturePipeline, object]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 64, 2)).astype(np.float32)
    y = np.arange(12) % 2
    pipe = FeaturePipeline([FEATURES.get("stats")({}, 64, ["a", "b"], 50.0)]).fit(x, y)
    model = MODELS.get("decision_tree")().fit(pipe.transform(x), y, 2, {}, 0)
    return pipe, model


# ---------------------------------------------------------------- energy and the estimate


@pytest.mark.parametrize("name", sorted(CATALOG.targets))
def test_every_catalog_target_has_datasheet_power_and_an_energy(name: str) -> None:
    target = CATALOG.target(name)
    assert target.power is not None, f"{name}: no power figures"
    assert target.power.datasheet.strip()
    pipe, model = _tiny(name)
    cost = analytic_cost(pipe, model, target, CATALOG.core(target.core))  # type: ignore[arg-type]
    energy = cost.to_json()["energy_uj"]
    current_ma = target.power.current_ma(target.clock_mhz)
    assert 0.1 < current_ma < 500  # a run current, not a sleep current or a typo
    assert energy == {
        "value": pytest.approx(
            cost.latency_ms.value * current_ma * target.power.supply_v, abs=1e-6
        ),
        "source": cost.latency_ms.source,
    }


def test_power_takes_one_current_and_scales_with_the_clock() -> None:
    per_mhz = Power(supply_v=3.0, active_ua_per_mhz=50, datasheet="d")
    assert per_mhz.current_ma(64) == pytest.approx(3.2)
    at_clock = Power(supply_v=3.3, run_ma=4.0, run_mhz=16, datasheet="d")
    assert at_clock.current_ma(32) == pytest.approx(8.0)
    assert at_clock.energy_uj(2.0, 16) == pytest.approx(2.0 * 4.0 * 3.3)  # ms x mA x V
    for bad in ({}, {"active_ua_per_mhz": 1, "run_ma": 1, "run_mhz": 1}, {"run_ma": 1}):
        with pytest.raises(ValueError, match="either active_ua_per_mhz"):
            Power(supply_v=3.0, datasheet="d", **bad)


def test_the_estimate_holds_the_input_window_and_the_runtime() -> None:
    target = CATALOG.target("atsamd21g18")
    core = CATALOG.core(target.core)
    pipe, model = _tiny("atsamd21g18")
    alone = analytic_model_cost(pipe, model, target, core)  # type: ignore[arg-type]
    whole = analytic_cost(pipe, model, target, core)  # type: ignore[arg-type]
    assert whole.flash_bytes.value - alone.flash_bytes.value == core.runtime_flash_bytes
    extra = whole.sram_bytes.value - alone.sram_bytes.value
    assert extra >= 4 * 64 * 2 + core.runtime_sram_bytes + core.runtime_stack_bytes
    assert extra == 4 * 64 * 2 + core.runtime_sram_bytes + stack_reserve(
        core.runtime_stack_bytes,
        model.n_outputs,  # type: ignore[attr-defined]
    )
    assert whole.latency_ms == alone.latency_ms


SPEC = """\
version: 1
name: longwin
data:
  format: npz
  path: data.npz
  sensors: [{{name: s, channels: [v], rate_hz: 100}}]
  window: {{length: {length}, stride: {length}}}
task: {{kind: classification}}
target: {{name: m0plus8k, core: cortex-m0plus, clock_mhz: 48, sram_kb: 8, flash_kb: 32{power}}}
budgets: {{sram_kb: 8, flash_kb: 32}}
search: {{trials: 2, seed: 1{objectives}}}
recipe: {recipe}
output: {{dir: out}}
"""
POWER = ', power: {supply_v: 3.3, active_ua_per_mhz: 70, datasheet: "a test part"}'


def _long_data(folder: Path, length: int, n: int = 32) -> None:
    """Two classes of sine waves (2 and 5 Hz at 100 Hz) with noise, one channel."""
    rng = np.random.default_rng(0)
    t = np.arange(length) / 100.0
    x = np.zeros((n, length, 1))
    for i in range(n):
        x[i, :, 0] = np.sin(2 * np.pi * (2.0 if i % 2 else 5.0) * t + rng.uniform(0, 6))
        x[i, :, 0] += 0.2 * rng.standard_normal(length)
    np.savez(folder / "data.npz", x=x, y=np.array(["slow" if i % 2 else "fast" for i in range(n)]))


def _spec(folder: Path, length: int, **fmt: str) -> Path:
    _long_data(folder, length)
    path = folder / "spec.yaml"
    values = {"power": POWER, "objectives": "", "recipe": "imu-stats-tree", **fmt}
    path.write_text(SPEC.format(length=length, **values))
    return path


def test_a_window_longer_than_the_sram_stops_naming_the_smallest_budget(
    tmp_path: Path,
) -> None:
    spec = _spec(tmp_path, 2500, recipe="auto")
    with pytest.raises(BudgetError) as info:
        resolve(load_spec(spec), CATALOG)
    text = str(info.value)
    m = re.search(r"sram_kb >= (\d+\.\d+)", text)
    assert m and float(m.group(1)) > 4 * 2500 / 1024  # the input window alone is 9.8 kB
    assert "input window alone 9.77 kB" in text


def test_the_energy_objective_needs_the_targets_power(tmp_path: Path) -> None:
    spec = _spec(tmp_path, 200, power="", objectives=", objectives: [score, energy]")
    with pytest.raises(CatalogError, match="`energy` needs the target's datasheet current"):
        resolve(load_spec(spec), CATALOG)
    ok = _spec(tmp_path, 200, objectives=", objectives: [score, energy]")
    assert resolve(load_spec(ok), CATALOG).target.power is not None


# ------------------------------------------------------------------ the chain's two scopes


class _Model(Profiler):
    name, source, measures = "fake-model", "compiled", ("flash_bytes", "latency_ms")

    def unavailable(self, work: Workload) -> str | None:
        return None

    def profile(self, work: Workload, base: Cost) -> Profile:
        return Profile(
            base.with_(flash_bytes=Figure(1000.0, "compiled"), latency_ms=Figure(2.0, "emulated"))
        )


class _Firmware(Profiler):
    name, source, measures, scope = "fake-fw", "linked", ("flash_bytes", "sram_bytes"), "firmware"

    def unavailable(self, work: Workload) -> str | None:
        return None

    def profile(self, work: Workload, base: Cost) -> Profile:
        assert base.latency_ms.value == 2.0  # sees what the model profilers measured
        return Profile(
            base.with_(flash_bytes=Figure(5000.0, "linked"), sram_bytes=Figure(3000.0, "linked"))
        )


def _cost(flash: float, sram: float) -> Cost:
    return Cost(
        Figure(flash, "analytic"),
        Figure(sram, "analytic"),
        Figure(1.0, "analytic"),
        Figure(100.0, "analytic"),
    )


def test_the_chain_keeps_the_firmware_and_the_model_alone(tmp_path: Path) -> None:
    target = CATALOG.target("nrf52840")
    work = Workload("x", {}, {}, target, CATALOG.core(target.core), tmp_path)
    m = run_chain(work, _cost(4000, 2500), [_Model(), _Firmware()], analytic_model=_cost(900, 100))
    assert m.cost.flash_bytes == Figure(5000.0, "linked")
    assert m.cost.sram_bytes == Figure(3000.0, "linked")
    assert m.cost.latency_ms == Figure(2.0, "emulated")
    assert m.model_only is not None and m.model_only.flash_bytes == Figure(1000.0, "compiled")
    assert m.model_only.sram_bytes.source == "analytic"
    assert target.power is not None
    energy = 2.0 * target.power.current_ma(target.clock_mhz) * target.power.supply_v
    assert m.cost.energy_uj == Figure(pytest.approx(energy), "emulated")  # type: ignore[arg-type]
    rows = {(r["figure"], r["scope"]): r for r in m.rows}
    assert rows["flash_bytes", "firmware"]["error_pct"] == pytest.approx(-20.0)
    assert rows["model_flash_bytes", "model"]["error_pct"] == pytest.approx(-10.0)
    assert ("model_latency_ms", "model") not in rows  # one inference: reported once


def test_energy_follows_the_latency_only_when_there_is_one(tmp_path: Path) -> None:
    target = CATALOG.target("nrf52840")
    cost = with_energy(_cost(1, 1), target)
    assert cost.energy_uj is not None and cost.energy_uj.source == "analytic"
    inline = target.model_copy(update={"power": None})
    assert with_energy(cost, inline).energy_uj is None
    assert Cost.from_json(cost.to_json()) == cost
    assert "energy_uj" not in _cost(1, 1).to_json()


# ----------------------------------------------------------------------- linker map, units

MAP = """\
Discarded input sections
 .text.unused   0x00000000       0x40 CMakeFiles/fw.dir/src/main.c.obj

Linker script and memory map

.isr_vector     0x00000000       0xc0
 .isr_vector    0x00000000       0xc0 CMakeFiles/fw.dir/src/startup.c.obj

.text           0x000000c0      0x200
 *(.text .text.*)
 .text.mcuforge_sensor_push
                0x000000c0       0x94 CMakeFiles/fw.dir/src/mcuforge_app.c.obj
 .text.demo_run 0x00000154       0x18 CMakeFiles/fw.dir/src/model/demo_model.c.obj
                0x00000154                demo_run
 *fill*         0x0000016c        0x4
 .text          0x00000170      0x110 /usr/lib/gcc/libgcc.a(_udivsi3.o)

.stack          0x20000000      0x100
 *fill*         0x20000000      0x100

.bss            0x20000100       0x48
 .bss.mcuforge_window_buf
                0x20000100       0x40 CMakeFiles/fw.dir/src/mcuforge_app.c.obj
 .bss.cycles_t0 0x20000140        0x4 CMakeFiles/fw.dir/src/platform_board.c.obj
"""


def test_the_linker_map_parts_add_up_to_the_linked_totals() -> None:
    pieces, outputs = read_map(MAP)
    assert [p.name for p in pieces][:3] == [
        ".isr_vector",
        ".text.mcuforge_sensor_push",
        ".text.demo_run",
    ]
    assert outputs[".stack"] == 0x100 and ".text.unused" not in {p.name for p in pieces}
    use = MemoryUse(
        0x2C0, 0x148, frozenset({".isr_vector", ".text"}), frozenset({".stack", ".bss"}), 0x100
    )
    parts = breakdown(MAP, "demo", use)
    assert parts["flash"] == {
        "features + model": 0x18,
        "runtime": 0x94,
        "startup and platform": 0xC0,
        "C library": 0x110,
        "alignment": 0x2C0 - 0x18 - 0x94 - 0xC0 - 0x110,
    }
    assert parts["sram"] == {
        "input buffer": 0x40,
        "startup and platform": 4,
        "stack": 0x100,
        "alignment": 4,
    }
    assert sum(parts["flash"].values()) == use.flash_bytes
    assert sum(parts["sram"].values()) == use.sram_bytes


def test_link_errors_and_memory_usage_are_read() -> None:
    err = "ld: region `FLASH' overflowed by 21076 bytes\nld: region `RAM' overflowed by 12 bytes"
    assert overflows(err) == {"FLASH": 21076, "RAM": 12}
    usage = "Memory region  Used Size  Region Size\n  FLASH:  6448 B  32 KB  19%\n"
    usage += "  RAM:  8 KB  8 KB  100%\n"
    assert linker_usage(usage) == {"FLASH": 6448, "RAM": 8192}


def test_the_self_test_line_names_its_unit() -> None:
    qemu = "mcuforge: done agree=3/3 instructions_max=937 instructions_mean=930 stack_bytes=104\n"
    qemu += "mcuforge: stack_peak_bytes=192 stack_size_bytes=4096\n"
    run = parse_selftest(qemu, 0)
    assert (run.instructions, run.stack_bytes, run.stack_peak_bytes) == (937, 104, 192)
    board = "mcuforge: done agree=3/3 cycles_max=25 cycles_mean=25 clock_hz=25000000 stack_bytes=8"
    assert parse_selftest(board, 0).instructions == 1000  # ticks at 25 MHz, 1 ns each
    over = "mcuforge: stack overflow: the stack of 96 bytes is too small (MCUFORGE_STACK_SIZE)"
    with pytest.raises(ToolchainError, match=r"overflowed its stack.*96 bytes"):
        parse_selftest(over, 4)


def test_the_build_check_skips_a_template_whose_tools_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    notes: list[str] = []
    out = build_check("platformio", tmp_path, {}, notes.append)
    assert out == {"built": False, "note": "pio not installed here"}
    assert notes == ["build check: platformio not built: pio not installed here"]


# --------------------------------------------------------------- toolchain: link and run


def _firmware_work(target_name: str, tmp: Path, **variables: str) -> Workload:
    target = CATALOG.target(target_name)
    core = CATALOG.core(target.core)
    qemu = CATALOG.qemu_machines.get(core.qemu_machine or "")
    files = small_model("demo", "classification")
    sources = {k: v for k, v in files.items() if k.startswith("demo_")}
    vectors = {k: v for k, v in files.items() if k.startswith("test_")}
    v = {**scaffold.context("demo", target, core, qemu, SHA, "demo@1", 7), **variables}
    return Workload(
        "demo", sources, vectors, target, core, tmp, qemu, Firmware("cmake-baremetal", v, files)
    )


def _cmake(project: Path, build: Path, options: dict[str, str]) -> tuple[Path, str]:
    defs = [f"-D{k}={v}" for k, v in options.items()]
    subprocess.run(
        ["cmake", "-S", str(project), "-B", str(build), *defs], check=True, capture_output=True
    )
    out = subprocess.run(
        ["cmake", "--build", str(build)], check=True, capture_output=True, text=True
    )
    return next(build.glob("*.elf")), out.stdout


def test_without_qemu_the_linked_stack_is_the_estimated_peak(tmp_path: Path) -> None:
    """Without a QEMU run or an emulated stack, the linked firmware reserves the estimate
    the no-measure firmware reserves (a network's static arena not on the stack, an
    allowance for the estimate's error); it counted the analytic SRAM, arena included,
    and no allowance."""
    from mcuforge.hardware.analytic import ESTIMATE_ALLOWANCE
    from mcuforge.hardware.linked import _estimate

    work = _firmware_work("atsamd21g18", tmp_path)
    runtime = work.core.runtime_stack_bytes
    a = Figure(5000.0, "analytic")
    work.store("analytic_model", Cost(a, a, a, a))
    peak = _estimate(work)  # a caller that stored no estimate: the allowance still added
    assert peak.peak_bytes == 5000 + runtime + ESTIMATE_ALLOWANCE and peak.source == "analytic"
    work.store(ESTIMATED_STACK_PEAK, 1234)
    peak = _estimate(work)
    assert peak.peak_bytes == 1234 and f"{ESTIMATE_ALLOWANCE} B for the estimate's error" in (
        peak.how
    )
    work.store("emulated_stack_bytes", 700)  # a measured predict stack wins
    assert _estimate(work).peak_bytes == 700 + runtime and _estimate(work).source == "emulated"


@pytest.mark.slow
@pytest.mark.toolchain
@needs_arm_gcc
@needs_qemu
def test_the_linked_figures_are_the_linkers(tmp_path: Path) -> None:
    work = _firmware_work("atsamd21g18", tmp_path / "w")
    link = link_firmware(work)
    assert link.fits_part and link.stack.source == "emulated" and "QEMU microbit" in link.stack.how
    assert link.use.stack_bytes == link.reserve_bytes == stack_reserve(link.stack.peak_bytes, 3)
    project = scaffold.render(
        "cmake-baremetal",
        {**work.firmware.variables, "platform": "board", "stack_bytes": str(link.reserve_bytes)},  # type: ignore[union-attr]
        dict(work.firmware.files),  # type: ignore[union-attr]
        tmp_path / "fw",
    )
    _, out = _cmake(project, tmp_path / "b", DEPLOY_OPTIONS)
    assert linker_usage(out) == {"FLASH": link.use.flash_bytes, "RAM": link.use.sram_bytes}
    assert sum(link.parts["flash"].values()) == link.use.flash_bytes
    assert "test windows" not in link.parts["flash"]  # the deployable firmware holds none
    assert link.parts["sram"]["input buffer"] == 4 * 4 * 2  # one window of 4 x 2 floats


@pytest.mark.slow
@pytest.mark.toolchain
@needs_arm_gcc
@needs_qemu
@pytest.mark.parametrize(
    ("target", "machine"), [("atsamd21g18", "microbit"), ("nrf52840", "mps2-an386")]
)
def test_a_stack_overflow_is_reported_not_a_hang(tmp_path: Path, target: str, machine: str) -> None:
    work = _firmware_work(target, tmp_path, stack_bytes="96")
    assert work.firmware is not None and work.qemu is not None
    variables = scaffold.qemu_context(dict(work.firmware.variables), work.target, work.qemu)
    project = scaffold.render(
        "cmake-baremetal", variables, dict(work.firmware.files), tmp_path / "fw"
    )
    elf, _ = _cmake(project, tmp_path / "b", {})
    code, out = run_elf(elf, machine, timeout_s=30)
    assert code == 4, out
    assert "mcuforge: stack overflow: the stack of 96 bytes is too small" in out
    with pytest.raises(ToolchainError, match="overflowed its stack"):
        parse_selftest(out, code)


@pytest.mark.toolchain
@needs_arm_gcc
def test_a_build_that_does_not_link_is_an_error_quoting_the_linker(tmp_path: Path) -> None:
    work = _firmware_work("atsamd21g18", tmp_path, flash_kb="2", platform="board")
    assert work.firmware is not None
    project = scaffold.render(
        "cmake-baremetal", dict(work.firmware.variables), dict(work.firmware.files), tmp_path / "fw"
    )
    with pytest.raises(
        ToolchainError, match=r"does not build.*\n.*region `FLASH' overflowed by \d+ bytes"
    ):
        build_check("cmake-baremetal", project, dict(work.firmware.variables), lambda s: None)


# ------------------------------------------------------------- end to end: the long window


@pytest.mark.slow
@pytest.mark.toolchain
@needs_arm_gcc
@needs_qemu
def test_a_long_window_fits_an_m0plus_of_8k_sram_and_32k_flash(tmp_path: Path) -> None:
    from mcuforge.pipeline import generate

    res = generate(_spec(tmp_path, 1200), force=True)
    r = json.loads((res.out_dir / "report.json").read_text())
    cost, project = r["cost"], res.out_dir / "firmware"
    assert cost["flash_bytes"]["source"] == cost["sram_bytes"]["source"] == "linked"
    assert cost["sram_bytes"]["value"] <= 8 * 1024 and cost["flash_bytes"]["value"] <= 32 * 1024
    assert cost["energy_uj"]["source"] == "emulated" and cost["energy_uj"]["value"] > 0
    assert r["cost_model_only"]["flash_bytes"]["source"] == "compiled"
    parts = r["breakdown"]["sram"]["parts"]
    assert parts["input buffer"] == 4 * 1200 and sum(parts.values()) == cost["sram_bytes"]["value"]
    # the deployable firmware, built as the report says: the reported figures are the linker's
    _, out = _cmake(project, tmp_path / "deploy", DEPLOY_OPTIONS)
    assert linker_usage(out) == {
        "FLASH": cost["flash_bytes"]["value"],
        "RAM": cost["sram_bytes"]["value"],
    }
    # sensor mode and the self-test, default platform (microbit): both link and run
    elf, _ = _cmake(project, tmp_path / "sensor", {"MCUFORGE_MODE": "sensor"})
    code, text = run_elf(elf, "microbit", timeout_s=60)
    windows = r["firmware"]["test_windows"]
    assert (
        code == 0 and len(re.findall(r"^window \d+ [01] \w+$", text, re.M)) == windows["embedded"]
    )
    elf, _ = _cmake(project, tmp_path / "selftest", {})
    code, text = run_elf(elf, "microbit", timeout_s=60)
    n = windows["embedded"]
    assert code == 0 and f"agree={n}/{n} instructions_max=" in text, text
    assert 1 <= n < windows["wanted"] == 8  # 4.8 kB a window: not all 8 fit in 32 kB
    peak = re.search(r"stack_peak_bytes=(\d+) stack_size_bytes=(\d+)", text)
    assert (
        peak
        and int(peak.group(1))
        < int(peak.group(2))
        == r["hardware"]["linked"]["stack"]["reserved_bytes"]
    )
    assert r["firmware"]["build_check"]["built"] is True
