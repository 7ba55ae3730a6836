"""Render a firmware project from a cookiecutter template and drop the generated C in."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

from . import __version__
from ._resources import data_dir
from .catalog import Core, QemuMachine, Target
from .errors import OutputError

MODEL_DIR = Path("src") / "model"


def templates() -> list[str]:
    """Names of the built-in firmware templates."""
    root = data_dir("templates")
    return sorted(p.name for p in root.iterdir() if (p / "cookiecutter.json").is_file())


QEMU_FLASH_ORIGIN = 0x00000000
QEMU_RAM_ORIGIN = 0x20000000


def fits_qemu(target: Target, qemu: QemuMachine | None) -> bool:
    """Whether firmware linked for ``target`` also runs unchanged on the QEMU machine."""
    return (
        qemu is not None
        and target.memory.flash_origin == QEMU_FLASH_ORIGIN
        and target.memory.ram_origin == QEMU_RAM_ORIGIN
        and target.flash_kb <= qemu.flash_kb
        and target.sram_kb <= qemu.sram_kb
    )


def context(
    prefix: str,
    target: Target,
    core: Core,
    qemu: QemuMachine | None,
    spec_sha256: str,
    recipe: str,
    seed: int,
) -> dict[str, str]:
    """The template variables for a target (see templates/*/cookiecutter.json).

    The default platform is the QEMU machine's when the target's memory map fits it
    (so ``run-qemu`` works out of the box), else the real board.
    """
    return {
        "project_slug": prefix,
        "prefix": prefix,
        "target_name": target.name,
        "core": target.core,
        "gcc_cpu_flags": core.gcc_flags or "",
        "flash_origin": f"0x{target.memory.flash_origin:08X}",
        "flash_kb": f"{target.flash_kb:g}",
        "ram_origin": f"0x{target.memory.ram_origin:08X}",
        "sram_kb": f"{target.sram_kb:g}",
        "clock_mhz": f"{target.clock_mhz:g}",
        "qemu_machine": core.qemu_machine or "",
        "platform": qemu.platform if qemu is not None and fits_qemu(target, qemu) else "board",
        "spec_sha256": spec_sha256,
        "recipe": recipe,
        "seed": str(seed),
        "mcuforge_version": __version__,
    }


def qemu_context(variables: dict[str, str], target: Target, qemu: QemuMachine) -> dict[str, str]:
    """The same project, linked for the QEMU machine's memory map and platform layer."""
    return {
        **variables,
        "flash_origin": f"0x{QEMU_FLASH_ORIGIN:08X}",
        "flash_kb": f"{qemu.flash_kb:g}",
        "ram_origin": f"0x{QEMU_RAM_ORIGIN:08X}",
        "sram_kb": f"{min(target.sram_kb, qemu.sram_kb):g}",
        "platform": qemu.platform,
    }


def render(template: str, variables: dict[str, Any], sources: dict[str, str], dest: Path) -> Path:
    """Render ``template`` into ``dest`` (which must not exist) and add ``sources``.

    Raises:
        OutputError: unknown template, or the template needs a variable not given.
    """
    names = templates()
    if template not in names:
        raise OutputError(f"unknown firmware template {template!r}; available: {', '.join(names)}")
    with tempfile.TemporaryDirectory(prefix="mcuforge-render-") as tmp:
        try:
            # keep cookiecutter's replay and clone folders out of the user's home
            config = {"replay_dir": f"{tmp}/replay", "cookiecutters_dir": f"{tmp}/cc"}
            out = cookiecutter(
                str(data_dir("templates") / template),
                no_input=True,
                extra_context=variables,
                output_dir=f"{tmp}/out",
                default_config=config,
            )
        except Exception as exc:  # cookiecutter raises many types; all are template faults
            raise OutputError(f"rendering template {template!r} failed: {exc}") from exc
        shutil.move(out, dest)
    model_dir = dest / MODEL_DIR
    model_dir.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (model_dir / name).write_text(text)
    return dest
