"""Firmware scaffolds: every template rendered, checked, compiled and (where possible) run.

* Fast: rendering for several targets, config files, clear errors, golden projects, and
  the runtime + framework glue compiled with the host compiler against the stand-in
  headers of ``tests/stubs/`` and run on the host (a small hand-written model).
* ``toolchain``: the same sources cross-compiled with arm-none-eabi-gcc/g++ for a
  Cortex-M4F and a Cortex-M0+.
* ``slow`` + ``toolchain``: cmake-baremetal with a real generated model, built and run in
  QEMU (mps2-an386 / Cortex-M4 and microbit / Cortex-M0) in selftest, bench and sensor
  modes; predictions must equal Python's (the expected values in test_vectors.c).

Update the golden projects with ``pytest tests/test_scaffold.py --update-golden``.
"""

from __future__ import annotations

import binascii
import configparser
import json
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mcuforge import __version__, scaffold
from mcuforge.boards import BOARD_FIELDS, board_variables, targets_of
from mcuforge.catalog import Catalog, load_catalog
from mcuforge.errors import OutputError
from mcuforge.hardware.analytic import ESTIMATE_ALLOWANCE

from .conftest import EXAMPLE, ROOT, needs_arm_gcc, needs_qemu

STUBS = ROOT / "tests" / "stubs"
GOLDEN = ROOT / "tests" / "golden" / "scaffold"
SHA = "5ca1ab1e" * 8
RECIPE = "imu-stats-forest@1"
TARGETS = ["nrf52840", "stm32f401re", "atsamd21g18", "rp2040", "nrf51822"]
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
CXXFLAGS = ["-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
CPUS = {
    "m4f": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "m0plus": ["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"],
}
needs_host_cc = pytest.mark.skipif(
    shutil.which("gcc") is None or shutil.which("g++") is None, reason="no host gcc/g++"
)


# ---- a small model with the generated API (see mcuforge.emit) ----------------

# Three windows of 4 samples x 2 channels; values exact in binary so that C and Python
# compute the same means.
WINDOWS = [
    [0.0, 1.0, 0.5, 1.5, 0.0, 1.0, 0.5, 1.5],  # means 0.25, 1.25
    [2.0, 0.0, 2.0, 0.5, 3.0, 0.0, 3.0, 0.5],  # means 2.5, 0.25
    [-1.0, -2.0, -1.0, -2.0, -1.0, -2.0, -1.0, -2.0],  # means -1, -2
]


def _means(w: list[float]) -> tuple[float, float]:
    return sum(w[0::2]) / 4, sum(w[1::2]) / 4


def _expected(task: str) -> list[int]:
    out = []
    for w in WINDOWS:
        m0, m1 = _means(w)
        if task == "classification":
            scores = [m0, m1, -m0 - m1]
            out.append(scores.index(max(scores)))
        elif task == "regression":
            out.append(0)
        else:
            out.append(1 if m0 > 1.0 else 0)
    return out


def small_model(prefix: str, task: str) -> dict[str, str]:
    """``{prefix}_model.[ch]`` and ``test_vectors.[ch]`` of a 2-feature model for ``task``."""
    p, P = prefix, prefix.upper()
    n_classes = 3 if task == "classification" else 0
    n_outputs = 3 if task == "classification" else 1
    names = f"extern const char *const {p}_class_names[{P}_N_CLASSES];\n" if n_classes else ""
    header = f"""/* small test model */
#ifndef {P}_MODEL_H
#define {P}_MODEL_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {{
#endif
#define {P}_WINDOW_LEN 4
#define {P}_N_CHANNELS 2
#define {P}_N_FEATURES 2
#define {P}_N_CLASSES {n_classes}
#define {P}_N_OUTPUTS {n_outputs}
#define {P}_RATE_HZ 10.0f
#define {P}_ERR_NULL (-1)
{names}extern const char *const {p}_channel_names[{P}_N_CHANNELS];
int {p}_features(const float *window, float *features);
int {p}_infer(const float *features, float *out);
int {p}_run(const float *window, float *out);
int {p}_predict(const float *window);
#ifdef __cplusplus
}}
#endif
#endif
"""
    if task == "classification":
        infer = """    int best = 0;
    int c;
    out[0] = f[0];
    out[1] = f[1];
    out[2] = -f[0] - f[1];
    for (c = 1; c < 3; c++) { if (out[c] > out[best]) { best = c; } }
    return best;"""
    elif task == "regression":
        infer = "    out[0] = f[0] + f[1];\n    return 0;"
    else:
        infer = "    out[0] = f[0];\n    return out[0] > 1.0f ? 1 : 0;"
    class_names = (
        f'const char *const {p}_class_names[{P}_N_CLASSES] = {{"first", "second", "third"}};\n'
        if n_classes
        else ""
    )
    source = f"""/* small test model */
#include "{p}_model.h"
#include <stddef.h>
{class_names}const char *const {p}_channel_names[{P}_N_CHANNELS] = {{"a", "b"}};
int {p}_features(const float *w, float *f)
{{
    int t;
    if (w == NULL || f == NULL) {{ return {P}_ERR_NULL; }}
    f[0] = 0.0f;
    f[1] = 0.0f;
    for (t = 0; t < {P}_WINDOW_LEN; t++) {{ f[0] += w[2 * t]; f[1] += w[2 * t + 1]; }}
    f[0] /= (float){P}_WINDOW_LEN;
    f[1] /= (float){P}_WINDOW_LEN;
    return 0;
}}
int {p}_infer(const float *f, float *out)
{{
    if (f == NULL || out == NULL) {{ return {P}_ERR_NULL; }}
{infer}
}}
int {p}_run(const float *window, float *out)
{{
    float f[{P}_N_FEATURES];
    const int rc = {p}_features(window, f);
    if (rc != 0) {{ return rc; }}
    return {p}_infer(f, out);
}}
int {p}_predict(const float *window)
{{
    float out[{P}_N_OUTPUTS];
    return {p}_run(window, out);
}}
"""
    rows = ",\n".join("    {" + ", ".join(f"{v!r}f" for v in w) + "}" for w in WINDOWS)
    expected = ", ".join(str(e) for e in _expected(task))
    vec_h = f"""/* small test model */
#ifndef MCUFORGE_TEST_VECTORS_H
#define MCUFORGE_TEST_VECTORS_H
#include <stdint.h>
#include "{p}_model.h"
#define MCUFORGE_N_TEST_WINDOWS {len(WINDOWS)}
extern const float mcuforge_test_windows[MCUFORGE_N_TEST_WINDOWS][{P}_WINDOW_LEN * {P}_N_CHANNELS];
extern const int16_t mcuforge_test_expected[MCUFORGE_N_TEST_WINDOWS];
#endif
"""
    vec_c = f"""/* small test model */
#include "test_vectors.h"
const float mcuforge_test_windows[MCUFORGE_N_TEST_WINDOWS][{P}_WINDOW_LEN * {P}_N_CHANNELS] = {{
{rows}
}};
const int16_t mcuforge_test_expected[MCUFORGE_N_TEST_WINDOWS] = {{{expected}}};
"""
    return {
        f"{p}_model.h": header,
        f"{p}_model.c": source,
        "test_vectors.h": vec_h,
        "test_vectors.c": vec_c,
    }


# ---- the bench protocol, host side (only what the tests need) ---------------------------


@dataclass(frozen=True)
class Bench:
    hello: dict[str, object]
    results: list[tuple[int, int, int, tuple[float, ...]]]
    done: dict[str, int]


def parse_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Frames ``A5 5A type len16 payload crc16``; every byte must belong to a valid frame."""
    frames: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data):
        assert data[i : i + 2] == b"\xa5\x5a", f"no sync at byte {i}: {data[i : i + 8]!r}"
        ftype, length = data[i + 2], struct.unpack_from("<H", data, i + 3)[0]
        payload = data[i + 5 : i + 5 + length]
        (crc,) = struct.unpack_from("<H", data, i + 5 + length)
        # CRC-16/CCITT-FALSE = binascii's CRC-CCITT (poly 0x1021, MSB first) from 0xFFFF
        assert crc == binascii.crc_hqx(data[i + 2 : i + 5 + length], 0xFFFF), f"crc at {i}"
        frames.append((ftype, payload))
        i += 7 + length
    return frames


def parse_bench(data: bytes) -> Bench:
    frames = parse_frames(data)
    assert frames[0][0] == 0x01 and frames[-1][0] == 0x03
    (h,) = [p for t, p in frames if t == 0x01]
    fw_id, n_windows, n_outputs, clock_hz, counter = struct.unpack("<8sHHIB", h)
    results = []
    for t, p in frames[1:-1]:
        assert t == 0x02 and len(p) == 8 + 4 * n_outputs
        idx, rc, cycles = struct.unpack_from("<HhI", p)
        results.append((idx, rc, cycles, struct.unpack_from(f"<{n_outputs}f", p, 8)))
    agree, total, cycles_max, stack = struct.unpack("<HHII", frames[-1][1])
    hello = {"id": fw_id.hex(), "n_windows": n_windows, "n_outputs": n_outputs}
    hello |= {"clock_hz": clock_hz, "counter": counter}
    done = {"agree": agree, "total": total, "cycles_max": cycles_max, "stack_bytes": stack}
    return Bench(hello, results, done)


def test_crc_is_ccitt_false() -> None:
    assert binascii.crc_hqx(b"123456789", 0xFFFF) == 0x29B1  # the catalogued check value


# ---- rendering ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(None)


def variables(catalog: Catalog, target: str, **kw: object) -> dict[str, str]:
    t = catalog.target(target)
    core = catalog.core(t.core)
    qemu = catalog.qemu_machines.get(core.qemu_machine) if core.qemu_machine else None
    return scaffold.context("demo", t, core, qemu, SHA, RECIPE, 7, **kw)  # type: ignore[arg-type]


def render(
    catalog: Catalog,
    template: str,
    target: str,
    dest: Path,
    task: str = "classification",
    sources: dict[str, str] | None = None,
    **kw: object,
) -> Path:
    v = variables(catalog, target, task=task, **kw)
    return scaffold.render(template, v, sources or small_model("demo", task), dest)


def test_templates_are_listed() -> None:
    assert scaffold.templates() == ["arduino", "cmake-baremetal", "platformio", "zephyr"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("template", ["cmake-baremetal", "platformio", "zephyr", "arduino"])
def test_every_template_renders_for_its_targets(
    catalog: Catalog, tmp_path: Path, template: str, target: str
) -> None:
    t = catalog.target(target)
    boards = board_variables(t)
    if template in BOARD_FIELDS and not boards[f"board_{template}"]:
        with pytest.raises(OutputError, match="Templates that support") as err:
            render(catalog, template, target, tmp_path / "p")
        for other in scaffold.supported_templates(variables(catalog, target)):
            assert other in str(err.value)
        assert not (tmp_path / "p").exists()
        return
    project = render(catalog, template, target, tmp_path / "p")
    info = scaffold.template_info(template)
    assert (project / info.model_dir / "demo_model.h").is_file()
    assert (project / info.runtime_dir / "mcuforge_app.h").is_file()
    assert (project / "README.md").is_file()
    for path in project.rglob("*"):
        if path.is_file() and info.model_dir not in path.relative_to(project).parents:
            text = path.read_text()
            assert SHA in text and RECIPE in text and __version__ in text, path  # provenance
            assert "{{" not in text and "{%" not in text, path
    if template in BOARD_FIELDS:
        board = boards[f"board_{template}"]
        assert any(board in p.read_text() for p in project.rglob("*") if p.is_file())
    if template == "cmake-baremetal":
        # run-qemu is promised where the project has it: linked for the emulated machine
        # (an STM32's or a SAMD21's memory map is not QEMU's: platform board, no target)
        emulated = variables(catalog, target)["platform"] != "board"
        readme = (project / "README.md").read_text()
        head = (project / "CMakeLists.txt").read_text().split("cmake_minimum_required")[0]
        assert ("cmake --build build --target run-qemu" in readme) == emulated, target
        assert ("--target run-qemu" in head) == emulated, target
        if not emulated and t.core in ("cortex-m0plus", "cortex-m4f"):
            assert "so its default platform is `board` and it has no\n`run-qemu`" in readme


def test_the_report_promises_run_qemu_only_where_the_project_has_it(tmp_path: Path) -> None:
    from mcuforge.resolver import resolve
    from mcuforge.spec import load_spec
    from mcuforge.summary import _firmware_facts

    text = (EXAMPLE / "spec.yaml").read_text()
    text = re.sub(r"(?m)^  path: data/", f"  path: {(EXAMPLE / 'data').as_posix()}/", text)
    for target, machine in (("nrf52840", "mps2-an386"), ("stm32l432kc", None),
                            ("atsamd21g18", None)):  # fmt: skip
        spec = tmp_path / f"{target}.yaml"
        spec.write_text(re.sub(r"(?m)^target: .*$", f"target: {target}", text))
        plan = resolve(load_spec(spec), load_catalog())
        assert _firmware_facts(plan, None).get("qemu_machine") == machine, target


def test_platformio_ini(catalog: Catalog, tmp_path: Path) -> None:
    for target, platform in (("nrf52840", "nordicnrf52"), ("rp2040", "raspberrypi")):
        project = render(catalog, "platformio", target, tmp_path / target)
        ini = configparser.ConfigParser(interpolation=None)
        ini.read(project / "platformio.ini")
        env = ini["env"]
        assert env["board"] == board_variables(catalog.target(target))["board_platformio"]
        assert env["platform"] == platform
        assert env["framework"] == "arduino"
        assert env["monitor_speed"] == "115200"
        assert ini["platformio"]["default_envs"] == "sensor"
        for mode in ("sensor", "selftest", "bench"):
            assert (
                f"-DMCUFORGE_MODE=MCUFORGE_MODE_{mode.upper()}" in ini[f"env:{mode}"]["build_flags"]
            )
        assert (project / "lib" / "model" / "library.json").is_file()
        assert (project / "src" / "main.cpp").is_file()


def test_zephyr_config(catalog: Catalog, tmp_path: Path) -> None:
    for target in ("nrf52840", "rp2040"):
        t = catalog.target(target)
        project = render(catalog, "zephyr", target, tmp_path / target)
        conf = dict(
            line.split("=", 1)
            for line in (project / "prj.conf").read_text().splitlines()
            if line and not line.startswith("#")
        )
        assert conf["CONFIG_SENSOR"] == "y" and conf["CONFIG_THREAD_STACK_INFO"] == "y"
        assert conf["CONFIG_BOOT_BANNER"] == "n"
        assert ("CONFIG_FPU" in conf) == (t.fpu != "none")
        cmake = (project / "CMakeLists.txt").read_text()
        boards = board_variables(t)
        assert f'set(BOARD "{boards["board_zephyr"]}")' in cmake
        assert "find_package(Zephyr" in cmake
        west = yaml.safe_load((project / "west.yml").read_text())
        assert west["manifest"]["projects"][0]["name"] == "zephyr"
        assert west["manifest"]["self"]["path"] == "demo"
        modules = west["manifest"]["projects"][0]["import"]["name-allowlist"]
        assert modules == sorted([*boards["zephyr_modules"].split(","), "picolibc"])
    hals = {
        t: board_variables(catalog.target(t))["zephyr_modules"]
        for t in ("apollo3", "esp32-s3", "ra4m1", "nrf52840", "stm32f446re")
    }
    assert hals == {
        "apollo3": "cmsis,hal_ambiq",
        "esp32-s3": "hal_espressif",
        "ra4m1": "cmsis,hal_renesas",
        "nrf52840": "cmsis,hal_nordic",
        "stm32f446re": "cmsis,hal_stm32",
    }


def test_arduino_output_is_a_library(catalog: Catalog, tmp_path: Path) -> None:
    """library.properties, src/ (header, runtime, model), examples/<name>/<name>.ino."""
    project = render(catalog, "arduino", "atsamd21g18", tmp_path / "demo")
    props = dict(
        line.split("=", 1) for line in (project / "library.properties").read_text().splitlines()
    )
    assert props["name"] == "demo" and props["includes"] == "demo.h"
    assert props["architectures"] == "samd" and props["version"] == "1.0.0"
    assert (project / "src" / "demo.h").is_file()
    assert (project / "src" / "model" / "demo_model.c").is_file()
    assert (project / "src" / "mcuforge_arduino.cpp").is_file()
    example = project / "examples" / "demo"
    assert "#include <demo.h>" in (example / "demo.ino").read_text()
    sketch = yaml.safe_load((example / "sketch.yaml").read_text())
    assert sketch["default_fqbn"] == "arduino:samd:arduino_zero_native"
    assert not list(project.glob("*.ino"))  # a library, not a sketch


def test_one_board_package_for_two_parts_names_the_part(catalog: Catalog) -> None:
    """STM32 Nucleo boards share a board menu: the FQBN carries the part (pnum)."""
    fqbns = {
        t: board_variables(catalog.target(t))["board_arduino"]
        for t in ("stm32f401re", "stm32f446re", "stm32l432kc", "stm32h743zi")
    }
    assert len(set(fqbns.values())) == len(fqbns)
    assert fqbns["stm32f446re"] == "STMicroelectronics:stm32:Nucleo_64:pnum=NUCLEO_F446RE"
    for template in BOARD_FIELDS:  # every entry of a table names a catalog target
        assert set(targets_of(template)) <= set(catalog.targets), template


def test_context_keeps_its_old_signature(catalog: Catalog) -> None:
    t = catalog.target("nrf52840")
    core = catalog.core(t.core)
    v = scaffold.context("demo", t, core, None, SHA, RECIPE, 7)
    assert v["task"] == "classification" and v["stride"] == "0" and v["platform"] == "board"
    assert v["board_zephyr"] == "nrf52840dk/nrf52840"
    assert v["platformio_platform"] == "nordicnrf52"


def test_the_report_tells_each_template_its_own_build(catalog: Catalog) -> None:
    # the report told zephyr, arduino and platformio users to run cmake and run-qemu
    t = catalog.target("nrf52840")
    assert scaffold.build_steps("cmake-baremetal", t, "demo") is None  # the report's own
    zephyr = scaffold.build_steps("zephyr", t, "demo")
    assert zephyr is not None
    assert zephyr[0]["commands"] == ["cd firmware", "west build -b nrf52840dk/nrf52840 -d build ."]
    arduino = scaffold.build_steps("arduino", t, "demo")
    assert arduino is not None and arduino[0]["commands"][1].endswith("./examples/demo")


def test_unknown_template_lists_the_templates(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="available: arduino, cmake-baremetal, platformio"):
        render(catalog, "mbed", "nrf52840", tmp_path / "p")
    with pytest.raises(OutputError, match="unknown firmware template"):
        render(catalog, "_runtime", "nrf52840", tmp_path / "p")


@pytest.mark.parametrize("name", ["../evil", "a/b", "1abc", "with-dash", "sp ace", ""])
def test_unsafe_names_are_refused(catalog: Catalog, tmp_path: Path, name: str) -> None:
    v = variables(catalog, "nrf52840") | {"project_slug": name, "prefix": name}
    with pytest.raises(OutputError, match=r"project_slug: .* not a valid C identifier"):
        scaffold.render("cmake-baremetal", v, {}, tmp_path / "p")
    with pytest.raises(OutputError, match="plain file name"):
        scaffold.render(
            "cmake-baremetal", variables(catalog, "nrf52840"), {"../x.c": ""}, tmp_path / "q"
        )
    assert not (tmp_path / "p").exists() and not (tmp_path / "q").exists()


def test_bad_task_stride_and_hash_are_refused(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="unknown task"):
        variables(catalog, "nrf52840", task="ranking")
    with pytest.raises(OutputError, match="stride"):
        variables(catalog, "nrf52840", stride=0)
    v = variables(catalog, "nrf52840") | {"spec_sha256": "xyz"}
    with pytest.raises(OutputError, match="64 lowercase hex"):
        scaffold.render("zephyr", v, {}, tmp_path / "p")


@pytest.mark.parametrize("template", ["cmake-baremetal", "platformio", "zephyr", "arduino"])
def test_golden_projects(
    catalog: Catalog, tmp_path: Path, update_golden: bool, template: str
) -> None:
    """The rendered project of a fixed model for nrf52840, byte for byte (model excluded)."""
    project = render(catalog, template, "nrf52840", tmp_path / "demo", stride=2)
    model_dir = scaffold.template_info(template).model_dir
    files = {
        p.relative_to(project).as_posix(): p.read_text().replace(__version__, "VERSION")
        for p in sorted(project.rglob("*"))
        if p.is_file() and model_dir not in p.relative_to(project).parents
    }
    golden = GOLDEN / template
    if update_golden:
        shutil.rmtree(golden, ignore_errors=True)
        for rel, text in files.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_text(text)
    stored = {
        p.relative_to(golden).as_posix(): p.read_text()
        for p in sorted(golden.rglob("*"))
        if p.is_file()
    }
    assert sorted(files) == sorted(stored), "run pytest tests/test_scaffold.py --update-golden"
    for rel, text in files.items():
        assert text == stored[rel], f"{template}/{rel} differs; --update-golden rewrites it"


# ---- compile and run the framework projects against the stand-in headers ---------------


def _run(cmd: list[str], cwd: Path | None = None) -> bytes:
    proc = subprocess.run(cmd, capture_output=True, cwd=cwd, timeout=120)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr.decode(errors='replace')}"
    return proc.stdout


def build_arduino_like(
    project: Path,
    src: Path,
    out: Path,
    mode: str,
    cc: str = "gcc",
    cxx: str = "g++",
    cpu: list[str] | None = None,
    link: bool = True,
) -> Path:
    """Compile an Arduino library's example or a PlatformIO project (framework arduino) with
    the stubs."""
    out.mkdir(parents=True, exist_ok=True)
    loops = 20000 if mode == "sensor" else 2  # sensor: 1 ms per loop(), 100 ms per sample
    defs = [f"-DMCUFORGE_MODE=MCUFORGE_MODE_{mode.upper()}", f"-DMCUFORGE_STUB_LOOPS={loops}"]
    inc = [f"-I{STUBS / 'arduino'}", f"-I{src}", f"-I{project / 'lib' / 'model'}"]
    cpu = cpu or []
    objs: list[Path] = []
    for path in sorted(src.rglob("*.c")) + sorted((project / "lib").rglob("*.c")):
        obj = out / f"{len(objs)}.o"
        _run([cc, *CFLAGS, *cpu, *inc, "-c", str(path), "-o", str(obj)])
        objs.append(obj)
    cpps = sorted(src.rglob("*.cpp"))
    # arduino-cli: the sketch (the library's example) becomes C++ with Arduino.h
    for ino in sorted(project.glob("examples/*/*.ino")):
        cpp = out / "sketch.cpp"
        cpp.write_text(f'#include <Arduino.h>\n#line 1 "{ino.name}"\n{ino.read_text()}')
        cpps.append(cpp)
    if link:
        cpps.append(STUBS / "arduino" / "main_stub.cpp")
    for path in cpps:
        obj = out / f"{len(objs)}.o"
        _run([cxx, *CXXFLAGS, *cpu, *defs, *inc, f"-I{project}", "-c", str(path), "-o", str(obj)])
        objs.append(obj)
    exe = out / "fw"
    if link:
        _run([cxx, *map(str, objs), "-lm", "-o", str(exe)])
    return exe


def build_zephyr(
    project: Path,
    out: Path,
    mode: str,
    extra: list[str],
    cc: str = "gcc",
    cpu: list[str] | None = None,
    link: bool = True,
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    src = project / "src"
    flags = [
        *CFLAGS,
        *(cpu or []),
        f"-I{STUBS / 'zephyr'}",
        f"-I{src}",
        f"-I{src / 'model'}",
        f"-DMCUFORGE_MODE=MCUFORGE_MODE_{mode.upper()}",
        "-DMCUFORGE_CLOCK_HZ=64000000u",
        *extra,
    ]
    sources = sorted(src.glob("*.c")) + sorted((src / "model").glob("*.c"))
    exe = out / "fw"
    if link:
        _run(
            [
                cc,
                *flags,
                *map(str, sources),
                str(STUBS / "zephyr" / "host_kernel.c"),
                "-lm",
                "-o",
                str(exe),
            ]
        )
    else:
        for i, path in enumerate(sources):
            _run([cc, *flags, "-c", str(path), "-o", str(out / f"{i}.o")])
    return exe


def check_selftest(text: str, task: str, n: int) -> None:
    preds = re.findall(r"^pred (\d+) (-?\d+) (-?\d+) (\S+)$", text, re.M)
    assert [int(p[1]) for p in preds[:n]] == _expected(task)
    assert f"mcuforge: done agree={n}/{n} " in text


def check_bench(data: bytes, task: str, counter: int, hz: int) -> None:
    bench = parse_bench(data)
    assert bench.hello == {
        "id": SHA[:16],
        "n_windows": len(WINDOWS),
        "n_outputs": 3 if task == "classification" else 1,
        "clock_hz": hz,
        "counter": counter,
    }
    assert [r[1] for r in bench.results] == _expected(task)
    assert [r[0] for r in bench.results] == list(range(len(WINDOWS)))
    m0, m1 = _means(WINDOWS[0])
    first = {"classification": (m0, m1, -m0 - m1), "regression": (m0 + m1,), "anomaly": (m0,)}
    assert bench.results[0][3] == first[task]
    assert bench.done["agree"] == bench.done["total"] == len(WINDOWS)


LABELS = {
    "classification": ["second", "first", "third"],
    "regression": ["1.5000", "2.7500", "-3.0000"],
    "anomaly": ["normal", "anomaly", "normal"],
}


@needs_host_cc
@pytest.mark.parametrize("task", ["classification", "regression", "anomaly"])
@pytest.mark.parametrize("template", ["arduino", "platformio"])
def test_arduino_api_projects_run_on_the_host(
    catalog: Catalog, tmp_path: Path, template: str, task: str
) -> None:
    project = render(catalog, template, "rp2040", tmp_path / "demo", task=task)
    src = project / "src"
    text = build_arduino_like(project, src, tmp_path / "st", "selftest")
    out = _run([str(text)]).decode()
    check_selftest(out, task, len(WINDOWS))
    assert re.findall(r"^pred \d+ -?\d+ -?\d+ (\S+)$", out, re.M)[:3] == LABELS[task]
    bench = _run([str(build_arduino_like(project, src, tmp_path / "b", "bench"))])
    # not Arm on the host: the micros() counter
    first = bench[: bench.index(b"\xa5\x5a\x03") + 19]
    check_bench(first, task, counter=2, hz=1_000_000)
    sensor = _run([str(build_arduino_like(project, src, tmp_path / "s", "sensor"))]).decode()
    lines = re.findall(r"^window (\d+) (-?\d+) (\S+)$", sensor, re.M)
    # hop = window length: the replayed windows come back one by one
    assert [int(rc) for _, rc, _ in lines[:3]] == _expected(task)
    assert [label for _, _, label in lines[:3]] == LABELS[task]


@needs_host_cc
@pytest.mark.parametrize("task", ["classification", "regression", "anomaly"])
def test_zephyr_project_runs_on_the_host(catalog: Catalog, tmp_path: Path, task: str) -> None:
    project = render(catalog, "zephyr", "nrf52840", tmp_path / "demo", task=task, stride=2)
    out = _run([str(build_zephyr(project, tmp_path / "st", "selftest", []))]).decode()
    check_selftest(out, task, len(WINDOWS))
    bench = _run([str(build_zephyr(project, tmp_path / "b", "bench", []))])
    check_bench(bench, task, counter=2, hz=1_000_000)
    # replay (no alias) with hop 2: windows 0, 0.5, 1, 1.5, 2, ...
    replay = build_zephyr(project, tmp_path / "r", "sensor", ["-DMCUFORGE_STUB_SLEEPS=25"])
    lines = re.findall(r"^window (\d+) (-?\d+) (\S+)$", _run([str(replay)]).decode(), re.M)
    assert [int(rc) for _, rc, _ in lines[0:5:2]] == _expected(task)
    # with a devicetree alias: the sensor API (stub: channel c reads c + 0.5)
    alias = [
        "-DDT_N_ALIAS_mcuforge_sensor=DT_N_S_imu",
        "-DDT_N_S_imu_EXISTS=1",
        "-DMCUFORGE_SENSOR_CHANNELS=SENSOR_CHAN_ACCEL_X,SENSOR_CHAN_GYRO_X",
        "-DMCUFORGE_STUB_SLEEPS=8",
    ]
    live = build_zephyr(project, tmp_path / "a", "sensor", alias)
    lines = re.findall(r"^window (\d+) (-?\d+) (\S+)$", _run([str(live)]).decode(), re.M)
    # every sample is (0.5, 4.5): classification -> "second", regression 5.0, anomaly normal
    assert (
        lines
        and lines[0][2]
        == {"classification": "second", "regression": "5.0000", "anomaly": "normal"}[task]
    )


@pytest.mark.toolchain
@needs_arm_gcc
@pytest.mark.parametrize("cpu", sorted(CPUS))
def test_framework_projects_cross_compile(catalog: Catalog, tmp_path: Path, cpu: str) -> None:
    """Cortex-M4F (DWT) and Cortex-M0+ (SysTick) paths of the ports, with the stubs."""
    target = "nrf52840" if cpu == "m4f" else "rp2040"
    cc, cxx = "arm-none-eabi-gcc", "arm-none-eabi-g++"
    for template in ("arduino", "platformio"):
        project = render(catalog, template, target, tmp_path / template / "demo")
        for mode in ("sensor", "bench"):
            build_arduino_like(
                project,
                project / "src",
                tmp_path / f"o-{template}-{mode}",
                mode,
                cc,
                cxx,
                CPUS[cpu],
                link=False,
            )
    project = render(catalog, "zephyr", target, tmp_path / "zephyr")
    alias = [
        "-DDT_N_ALIAS_mcuforge_sensor=DT_N_S_imu",
        "-DDT_N_S_imu_EXISTS=1",
        "-DMCUFORGE_SENSOR_CHANNELS=SENSOR_CHAN_ACCEL_X,SENSOR_CHAN_ACCEL_Y",
    ]
    systick = ["-DCONFIG_CORTEX_M_SYSTICK"]  # the kernel's timer is SysTick (e.g. rpi_pico)
    for mode, extra in (("bench", []), ("sensor", alias), ("selftest", systick)):
        build_zephyr(project, tmp_path / f"oz-{mode}", mode, extra, cc, CPUS[cpu], link=False)


# ---- cmake-baremetal in QEMU with a real generated model -----------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The bundled example through the pipeline (3 trials, no measurement)."""
    from mcuforge.pipeline import generate

    out = tmp_path_factory.mktemp("scaffold-gen") / "out"
    generate(EXAMPLE / "spec.yaml", out, trials=3, force=True, measure_cost=False)
    model = out / "firmware" / "src" / "model"
    sources = {p.name: p.read_text() for p in model.iterdir() if p.suffix in (".c", ".h")}
    vec = sources["test_vectors.c"]
    m = re.search(r"mcuforge_test_expected\[.*?\] = \{([^}]*)\}", vec, re.S)
    assert m is not None
    expected = [int(v) for v in m.group(1).replace("\n", "").split(",") if v.strip()]
    return {"sources": sources, "expected": expected, "out": out}


def qemu_run(elf: Path, machine: str) -> tuple[int, bytes]:
    cmd = ["qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none",
           "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
           "-kernel", str(elf)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout


def build_cmake(project: Path, build: Path, mode: str, *options: str) -> Path:
    _run(["cmake", "-S", str(project), "-B", str(build), f"-DMCUFORGE_MODE={mode}", *options])
    _run(["cmake", "--build", str(build)])
    return next(build.glob("*.elf"))


@pytest.mark.slow
@pytest.mark.toolchain
@needs_arm_gcc
@pytest.mark.parametrize(("cpu", "target"), [("m4f", "nrf52840"), ("m0plus", "nrf51822")])
def test_cmake_baremetal_sources_are_iso_c99(
    catalog: Catalog, generated: dict[str, object], tmp_path: Path, cpu: str, target: str
) -> None:
    """Every C file of the firmware, the generated model's and the runtime's, compiles
    with -std=c99 -pedantic -Wall -Wextra -Werror on every platform and in every mode
    (the vector table held the stack top as a function pointer: not ISO C)."""
    sources = generated["sources"]
    assert isinstance(sources, dict)
    t = catalog.target(target)
    v = scaffold.context("basicmotions", t, catalog.core(t.core), None, SHA, RECIPE, 7)
    project = scaffold.render("cmake-baremetal", v, sources, tmp_path / "fw")
    src = project / "src"
    files = sorted(str(p) for p in [*src.glob("*.c"), *(src / "model").glob("*.c")])
    assert any(f.endswith("startup.c") for f in files) and any("model" in f for f in files)
    for platform in ("mps2", "microbit", "board"):
        for mode in ("selftest", "sensor", "bench", "capture"):
            _run(
                ["arm-none-eabi-gcc", *CPUS[cpu], "-std=c99", "-pedantic", "-Wall", "-Wextra",
                 "-Werror", "-fsyntax-only", f"-I{src}",
                 f"-DMCUFORGE_PLATFORM_{platform.upper()}=1",
                 f"-DMCUFORGE_MODE=MCUFORGE_MODE_{mode.upper()}",
                 "-DMCUFORGE_SENSOR_REPLAY=1", "-DMCUFORGE_CLOCK_HZ=64000000u", *files]
            )  # fmt: skip


@pytest.mark.slow
@pytest.mark.toolchain
@needs_arm_gcc
@needs_qemu
@pytest.mark.parametrize(
    ("target", "machine", "modes"),
    [
        ("nrf52840", "mps2-an386", ("selftest", "bench", "sensor")),
        ("nrf51822", "microbit", ("selftest", "bench")),
    ],
)
def test_cmake_baremetal_in_qemu(
    catalog: Catalog,
    generated: dict[str, object],
    tmp_path: Path,
    target: str,
    machine: str,
    modes: tuple[str, ...],
) -> None:
    sources = generated["sources"]
    expected = generated["expected"]
    assert isinstance(sources, dict) and isinstance(expected, list)
    t = catalog.target(target)
    core = catalog.core(t.core)
    qemu = catalog.qemu_machines[machine]
    v = scaffold.context("basicmotions", t, core, qemu, SHA, RECIPE, 7, stride=50)
    project = scaffold.render(
        "cmake-baremetal", scaffold.qemu_context(v, t, qemu), sources, tmp_path / "fw"
    )
    for mode in modes:
        code, out = qemu_run(build_cmake(project, tmp_path / f"b-{mode}", mode), machine)
        assert code == 0, out[-2000:]
        if mode == "selftest":
            text = out.decode()
            preds = [int(p) for p in re.findall(r"^pred \d+ (-?\d+) -?\d+ \S+$", text, re.M)]
            assert preds == expected
            # QEMU's counter is instructions (SysTick ticks under -icount, converted)
            done = re.search(
                r"mcuforge: done agree=(\d+)/\1 instructions_max=(\d+) instructions_mean=\d+ "
                r"stack_bytes=([1-9]\d*)\nmcuforge: stack_peak_bytes=(\d+) stack_size_bytes=(\d+)",
                text,
            )
            assert done, text
            stack, peak, size = (int(done.group(i)) for i in (3, 4, 5))
            assert stack < peak < size  # predict's stack is part of the whole run's
            # a stack a few words too small for the model call stops the run with a
            # message and 4, also where the emulator drops the writes below RAM and
            # nothing faults (the run went on with wrong classes or hung)
            small = peak // 8 * 8 - 8
            elf = build_cmake(project, tmp_path / "b-small", mode, f"-DMCUFORGE_STACK_SIZE={small}")
            code, out = qemu_run(elf, machine)
            assert code == 4, out[-2000:]
            assert b"mcuforge: stack overflow: " in out
        elif mode == "bench":
            bench = parse_bench(out)
            assert bench.hello["id"] == SHA[:16]
            # instructions at 1e9 per second of virtual time
            assert bench.hello["counter"] == 3 and bench.hello["clock_hz"] == 1_000_000_000
            assert bench.hello["n_windows"] == len(expected)
            assert [r[1] for r in bench.results] == expected
            assert all(r[2] > 0 and len(r[3]) == bench.hello["n_outputs"] for r in bench.results)
            assert bench.done["agree"] == bench.done["total"] == len(expected)
            assert bench.done["cycles_max"] == max(r[2] for r in bench.results)
            assert bench.done["stack_bytes"] > 0
            # and for a board (built, not run: it waits on its UART), as in every mode
            build_cmake(project, tmp_path / "b-bench-board", mode, "-DMCUFORGE_PLATFORM=board")
        else:
            lines = re.findall(r"^window (\d+) (-?\d+) (\S+)$", out.decode(), re.M)
            # stride 50 = half a window: every other inference sees one embedded window
            assert len(lines) == 2 * len(expected) - 1
            assert [int(rc) for _, rc, _ in lines[0::2]] == expected


@pytest.mark.slow
@pytest.mark.toolchain
@needs_arm_gcc
@needs_qemu
def test_a_firmware_nothing_measured_reserves_the_analytic_stack(
    generated: dict[str, object], tmp_path: Path
) -> None:
    """Without measurement the template reserved a quarter of the RAM (1 to 16 kB) as the
    stack: a firmware linked at 18.8 kB for a 2.84 kB SRAM figure within a 16 kB budget,
    and an overflow where the feature vector was larger (25.6 kB of a raw window)."""
    out = generated["out"]
    assert isinstance(out, Path)
    fw = out / "firmware"
    cmake = (fw / "CMakeLists.txt").read_text()
    m = re.search(r"set\(_mcuforge_stack (\d+)\)", cmake)
    assert m is not None and "mcuforge's estimate (nothing ran this firmware)" in cmake
    reserve = int(m.group(1))
    assert f"default {reserve}: mcuforge's\nanalytic estimate" in (fw / "README.md").read_text()
    # the deployable firmware (a board, sensor mode, no embedded window) is what the
    # report's SRAM figure estimates, within it
    sram = json.loads((out / "report.json").read_text())["cost"]["sram_bytes"]
    assert sram["source"] == "analytic"
    build = tmp_path / "board"
    _run(["cmake", "-S", str(fw), "-B", str(build), "-DMCUFORGE_MODE=sensor",
          "-DMCUFORGE_PLATFORM=board", "-DMCUFORGE_SENSOR_REPLAY=OFF"])  # fmt: skip
    used = re.search(rb"RAM:\s+(\d+) B", _run(["cmake", "--build", str(build)]))
    assert used is not None
    assert reserve < int(used.group(1)) <= sram["value"] + ESTIMATE_ALLOWANCE
    # and the self-test runs in that stack
    code, text = qemu_run(build_cmake(fw, tmp_path / "selftest", "selftest"), "mps2-an386")
    assert code == 0, text[-2000:]
    peak = re.search(rb"stack_peak_bytes=(\d+) stack_size_bytes=(\d+)", text)
    assert peak is not None and int(peak.group(1)) < int(peak.group(2)) == reserve
