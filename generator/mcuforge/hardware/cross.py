"""Cross-compile the generated C for the target core and read sizes from the ELF.

Flash and static SRAM of features + model are measured as the difference between two
links of the same tiny program, one calling ``PREFIX_predict`` and one not: what the
model pulls in (its code, constants, and the libgcc/libm routines it needs, such as
soft-float arithmetic on cores without an FPU) and nothing else.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from ..errors import ToolchainError

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
INSTALL_HINT = (
    "install the Arm cross compiler (Debian/Ubuntu: "
    "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
)

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


def cross_compiler() -> str | None:
    return shutil.which(GCC)


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


def model_sizes(sources: dict[str, str], prefix: str, gcc_flags: str) -> Sizes:
    """Flash/SRAM that features + model add to a program on this core.

    Raises:
        ToolchainError: no cross compiler, or the build failed.
    """
    gcc = cross_compiler()
    if gcc is None:
        raise ToolchainError(f"{GCC} not found; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="mcuforge-cross-") as tmp:
        d = Path(tmp)
        for name, text in sources.items():
            (d / name).write_text(text)
        results = []
        for tag, call in (
            ("with", f"    mcuforge_sink = {prefix}_predict(mcuforge_window);"),
            ("without", "    mcuforge_sink = (int)mcuforge_window[0];"),
        ):
            main = d / f"main_{tag}.c"
            main.write_text(_MAIN.format(p=prefix, P=prefix.upper(), call=call))
            elf = d / f"{tag}.elf"
            c_files = [str(main)] + (
                [str(d / n) for n in sources if n.endswith(".c")] if tag == "with" else []
            )
            cmd = [
                gcc,
                *gcc_flags.split(),
                *CROSS_CFLAGS,
                "-I",
                str(d),
                *c_files,
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
            results.append(elf_sizes(elf))
    w, wo = results
    return Sizes(
        max(w.text - wo.text, 0),
        max(w.rodata - wo.rodata, 0),
        max(w.data - wo.data, 0),
        max(w.bss - wo.bss, 0),
    )
