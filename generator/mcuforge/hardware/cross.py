"""Cross-compile the generated C for the target core and read sizes from the ELF.

Flash and static SRAM of features + model are measured as the difference between two
links of the same tiny program, one calling ``PREFIX_predict`` and one not: what the
model pulls in (its code, constants, and the libgcc/libm routines it needs, such as
soft-float arithmetic on cores without an FPU) and nothing else.

A third link, the *bench* ELF, adds the test vectors and a ``main`` that runs
``PREFIX_predict`` on each; the emulator (:mod:`.emulate`) runs it.

The model's C is compiled once per content and flags (:func:`_model_objects`): the
"with" and bench links use the same object files, and a later measurement of the same
model (the chosen candidate measured again with its firmware's test windows) compiles
nothing. A large inline forest is a megabyte of C and 9 s of arm-none-eabi-gcc. The
firmware builds of a measurement share the same folder through a compiler launcher
(:mod:`._objcache`).
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from ..cost import Cost, Figure
from ..errors import ToolchainError
from ._base import Profile, Profiler, Workload

GCC = "arm-none-eabi-gcc"
#: -Os as the firmware builds it; -ffp-contract=off keeps the C equal to the reference.
CROSS_CFLAGS = [
    "-std=c99",
    "-Os",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-ffp-contract=off",
    "-fno-math-errno",
    "-ffunction-sections",
    "-fdata-sections",
]
#: The Debian/Ubuntu packages of the Arm cross compiler and its C library.
DEBIAN_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi"
INSTALL_HINT = f"install the Arm cross compiler (Debian/Ubuntu: apt-get install {DEBIAN_PACKAGES})"

_MAIN = """\
#include "{p}_model.h"
volatile int mcuforge_sink;
float mcuforge_window[{P}_WINDOW_LEN * {P}_N_CHANNELS];
int main(void)
{{
{call}
    return 0;
}}
"""
_BENCH_MAIN = """\
#include "{p}_model.h"
#include "test_vectors.h"
volatile int mcuforge_sink;
int main(void)
{{
    int i;
    int agree = 0;
    for (i = 0; i < MCUFORGE_N_TEST_WINDOWS; ++i) {{
        agree += {p}_predict(mcuforge_test_windows[i]) == mcuforge_test_expected[i];
    }}
    mcuforge_sink = agree;
    return 0;
}}
"""


def cross_compiler() -> str | None:
    return shutil.which(GCC)


def require_cross_compiler() -> str:
    """The cross compiler's path.

    Raises:
        ToolchainError: it is not installed (the message names the Debian packages).
    """
    gcc = cross_compiler()
    if gcc is None:
        raise ToolchainError(f"{GCC} not found; {INSTALL_HINT}")
    return gcc


@dataclass(frozen=True)
class Sizes:
    """Section totals of a linked ELF, in bytes."""

    text: int
    rodata: int
    data: int
    bss: int

    @property
    def flash(self) -> int:
        return self.text + self.rodata + self.data

    @property
    def static_sram(self) -> int:
        return self.data + self.bss


def elf_sizes(path: Path) -> Sizes:
    """Sum allocated sections of an ELF by kind (code, read-only, data, zero-init)."""
    text = rodata = data = bss = 0
    with path.open("rb") as fh:
        elf = ELFFile(fh)
        for sec in elf.iter_sections():
            flags = sec["sh_flags"]
            if not flags & 0x2:  # SHF_ALLOC
                continue
            size = sec["sh_size"]
            if sec["sh_type"] == "SHT_NOBITS":
                if sec.name not in (".heap", ".stack", "._user_heap_stack"):
                    bss += size
            elif flags & 0x4:  # SHF_EXECINSTR
                text += size
            elif flags & 0x1:  # SHF_WRITE
                data += size
            else:
                rodata += size
    return Sizes(text, rodata, data, bss)


@dataclass(frozen=True)
class CrossBuild:
    """The ELFs of one cross build and what features + model add to a program."""

    with_model: Path
    without_model: Path
    bench: Path | None
    sizes: Sizes


#: Object files of model sources by the hash of their compiler, flags and sources; the
#: folder is removed when the process exits.
_OBJECTS: dict[str, list[Path]] = {}
_OBJECT_DIR: list[Path] = []


def object_dir() -> Path:
    """This process's folder of cached object files (removed when it exits)."""
    if not _OBJECT_DIR:
        made = Path(tempfile.mkdtemp(prefix="mcuforge-objects-"))
        atexit.register(shutil.rmtree, made, True)
        _OBJECT_DIR.append(made)
    return _OBJECT_DIR[0]


def _model_objects(gcc: str, gcc_flags: str, d: Path, sources: Mapping[str, str]) -> list[Path]:
    """The model's ``.c`` files of ``d`` compiled to objects, once per content and flags
    (every source, headers included, is part of the key)."""
    key = hashlib.sha256("\0".join([gcc, gcc_flags, *CROSS_CFLAGS]).encode())
    for name in sorted(sources):
        key.update(f"\0{name}\0{sources[name]}".encode())
    digest = key.hexdigest()
    if digest in _OBJECTS and all(o.is_file() for o in _OBJECTS[digest]):
        return _OBJECTS[digest]
    out = object_dir() / digest[:24]
    out.mkdir(parents=True, exist_ok=True)
    objects = []
    for name in sorted(n for n in sources if n.endswith(".c")):
        obj = out / f"{Path(name).stem}.o"
        cmd = [gcc, *gcc_flags.split(), *CROSS_CFLAGS, "-I", str(d), "-c", str(d / name)]
        proc = subprocess.run([*cmd, "-o", str(obj)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolchainError(f"cross build failed ({' '.join(cmd)}):\n{proc.stderr}")
        objects.append(obj)
    _OBJECTS[digest] = objects
    return objects


def _link(gcc: str, gcc_flags: str, d: Path, c_files: list[Path], elf: Path) -> Path:
    """Compile ``c_files`` (``.c``; ``.o`` are linked as they are) and link ``elf``."""
    cmd = [
        gcc,
        *gcc_flags.split(),
        *CROSS_CFLAGS,
        "-I",
        str(d),
        *map(str, c_files),
        "--specs=nano.specs",
        "--specs=nosys.specs",
        "-Wl,--gc-sections",
        "-o",
        str(elf),
        "-lm",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"cross build failed ({' '.join(cmd)}):\n{proc.stderr}")
    return elf


def cross_build(
    sources: Mapping[str, str],
    prefix: str,
    gcc_flags: str,
    dest: Path,
    test_vectors: Mapping[str, str] | None = None,
) -> CrossBuild:
    """Link the with/without programs (and the bench ELF if test vectors are given).

    Raises:
        ToolchainError: no cross compiler, or the build failed.
    """
    gcc = require_cross_compiler()
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in {**sources, **(test_vectors or {})}.items():
        (dest / name).write_text(text)
    model_c = _model_objects(gcc, gcc_flags, dest, sources)
    elfs: dict[str, Path] = {}
    for tag, call in (
        ("with", f"    mcuforge_sink = {prefix}_predict(mcuforge_window);"),
        ("without", "    mcuforge_sink = (int)mcuforge_window[0];"),
    ):
        main = dest / f"main_{tag}.c"
        main.write_text(_MAIN.format(p=prefix, P=prefix.upper(), call=call))
        c_files = [main, *(model_c if tag == "with" else [])]
        elfs[tag] = _link(gcc, gcc_flags, dest, c_files, dest / f"{tag}.elf")
    bench: Path | None = None
    if test_vectors:
        main = dest / "main_bench.c"
        main.write_text(_BENCH_MAIN.format(p=prefix))
        vec_c = [dest / n for n in test_vectors if n.endswith(".c")]
        bench = _link(gcc, gcc_flags, dest, [main, *model_c, *vec_c], dest / "bench.elf")
    w, wo = elf_sizes(elfs["with"]), elf_sizes(elfs["without"])
    sizes = Sizes(
        max(w.text - wo.text, 0),
        max(w.rodata - wo.rodata, 0),
        max(w.data - wo.data, 0),
        max(w.bss - wo.bss, 0),
    )
    return CrossBuild(elfs["with"], elfs["without"], bench, sizes)


def model_sizes(sources: dict[str, str], prefix: str, gcc_flags: str) -> Sizes:
    """Flash/SRAM that features + model add to a program on this core.

    Raises:
        ToolchainError: no cross compiler, or the build failed.
    """
    with tempfile.TemporaryDirectory(prefix="mcuforge-cross-") as tmp:
        return cross_build(sources, prefix, gcc_flags, Path(tmp)).sizes


def workload_build(work: Workload) -> CrossBuild:
    """The cross build of ``work`` (with its bench ELF), made once and shared."""
    build = work.cached("cross")
    if build is None:
        assert work.core.gcc_flags is not None
        build = cross_build(
            work.sources,
            work.prefix,
            work.core.gcc_flags,
            work.workdir / "cross",
            work.test_vectors,
        )
        work.store("cross", build)
    assert isinstance(build, CrossBuild)
    return build


class CompiledProfiler(Profiler):
    """Flash (.text + .rodata + .data) and static SRAM (.data + .bss) from the ELF.

    SRAM also needs the stack, which only a run shows; this profiler leaves SRAM to
    the emulated profilers and reports the static part in ``details``.
    """

    name = "compiled"
    source = "compiled"
    measures = ("flash_bytes",)

    def unavailable(self, work: Workload) -> str | None:
        if work.core.gcc_flags is None:
            return f"no cross compiler for {work.target.core} here"
        if cross_compiler() is None:
            return f"{GCC} not found ({INSTALL_HINT})"
        return None

    def profile(self, work: Workload, base: Cost) -> Profile:
        sizes = workload_build(work).sizes
        return Profile(
            base.with_(flash_bytes=Figure(float(sizes.flash), "compiled")),
            details={
                "text_bytes": sizes.text,
                "rodata_bytes": sizes.rodata,
                "data_bytes": sizes.data,
                "bss_bytes": sizes.bss,
                "static_sram_bytes": sizes.static_sram,
            },
        )
