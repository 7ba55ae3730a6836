"""Render a firmware project from a cookiecutter template and drop the generated C in.

A firmware template is a folder ``templates/<name>/`` holding a cookiecutter template
(``cookiecutter.json`` + ``{{cookiecutter.project_slug}}/``). Its ``cookiecutter.json``
also describes, under the private key ``_mcuforge``, how the project is assembled:

* ``model_dir``: where the generated model C goes (``src/model``, ``lib/model``...);
* ``runtime_dir`` / ``runtime_files``: where the shared application runtime
  (``templates/_runtime``: ring buffer, replay, self-check, bench protocol) goes, and
  which of its files the template takes; ``model_include``: the path from the runtime
  folder to the model headers as the runtime's ``#include`` sees it;
* ``requires``: the variables that must be non-empty for a target, each with what it
  means (e.g. ``board_zephyr``: a Zephyr board in the target catalog);
* ``build``: how the project is built with its default options (``tools`` it needs on
  ``PATH``, ``commands`` with ``{project}``, ``{build}`` and template variables in
  braces, an ``env``): ``generate`` builds every project once before it reports success.

Templates are data: adding one is adding a folder, not code here. Every template lists
``mcuforge.scaffold.CFilters`` in its ``_extensions``: the ``c_string`` and ``c_comment``
filters of :mod:`mcuforge.codegen.c`, the one escaping path for text in generated C. Every
variable is also checked against the characters the files it lands in (CMake, INI, YAML,
JSON, C) can hold (:func:`_check`).
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter
from jinja2 import Environment
from jinja2.ext import Extension

from ._resources import data_dir
from ._version import __version__
from .boards import BOARD_FIELDS, board_variables
from .catalog import BOARD_PATTERN, Core, QemuMachine, Target
from .codegen.c import c_comment, c_identifier, c_string
from .errors import OutputError

MODEL_DIR = Path("src") / "model"
RUNTIME = "_runtime"
TASKS = ("classification", "regression", "anomaly")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_BOARD = re.compile(BOARD_PATTERN)
#: What each variable may hold: no quote, newline, ``#``, ``;``, ``$`` or ``*/`` can reach
#: a build file, an INI/YAML/JSON value or a C comment through any of them.
_SAFE = {
    "target_name": r"^[a-z0-9][a-z0-9_\-]*$",
    "core": r"^[a-z0-9][a-z0-9\-]*$",
    "recipe": r"^[a-z0-9][a-z0-9\-]*@[0-9]+$",
    "seed": r"^[0-9]+$",
    "gcc_cpu_flags": r"^[A-Za-z0-9_=+.,/ \-]*$",
    "qemu_machine": r"^[a-z0-9.\-]*$",
    "platformio_platform": r"^[A-Za-z0-9_.\-]*$",
    "zephyr_modules": r"^[a-z0-9_,]*$",
    "model_include": r"^[A-Za-z0-9_/]*$",
    "fpu": r"^(none|single|double)$",
    "platform": r"^[a-z0-9]+$",
    "mcuforge_version": r"^[A-Za-z0-9.+\-]+$",
}
_NUMBER = re.compile(r"^(0x[0-9A-F]{8}|[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?)$")


class CFilters(Extension):
    """Jinja filters for the templates: ``c_string`` and ``c_comment`` (see codegen.c)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["c_string"] = lambda v: c_string(str(v))
        environment.filters["c_comment"] = lambda v: c_comment(str(v))


@dataclass(frozen=True)
class BuildSteps:
    """How a template's project is built with its default options."""

    tools: tuple[str, ...]
    commands: tuple[tuple[str, ...], ...]
    env: dict[str, str]

    def expand(self, values: dict[str, str]) -> tuple[list[list[str]], dict[str, str]]:
        """The commands and environment with ``{name}`` replaced from ``values``."""

        def sub(text: str) -> str:
            return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)

        return [[sub(a) for a in cmd] for cmd in self.commands], {
            k: sub(v) for k, v in self.env.items()
        }


@dataclass(frozen=True)
class FirmwareTemplate:
    """How a template's project is assembled (its ``cookiecutter.json`` ``_mcuforge``)."""

    name: str
    path: Path
    model_dir: Path
    runtime_dir: Path
    runtime_files: tuple[str, ...]
    model_include: str
    requires: dict[str, str]
    build: BuildSteps | None = None


def templates() -> list[str]:
    """Names of the built-in firmware templates."""
    root = data_dir("templates")
    return sorted(
        p.name
        for p in root.iterdir()
        if (p / "cookiecutter.json").is_file() and not p.name.startswith("_")
    )


def template_info(name: str) -> FirmwareTemplate:
    """The assembly description of template ``name``.

    Raises:
        OutputError: no such template.
    """
    names = templates()
    if name not in names:
        raise OutputError(f"unknown firmware template {name!r}; available: {', '.join(names)}")
    path = data_dir("templates") / name
    meta = json.loads((path / "cookiecutter.json").read_text()).get("_mcuforge", {})
    build = meta.get("build")
    return FirmwareTemplate(
        name=name,
        path=path,
        model_dir=Path(meta.get("model_dir", str(MODEL_DIR))),
        runtime_dir=Path(meta.get("runtime_dir", "src")),
        runtime_files=tuple(meta.get("runtime_files", ())),
        model_include=str(meta.get("model_include", "")),
        requires=dict(meta.get("requires", {})),
        build=None
        if build is None
        else BuildSteps(
            tuple(build.get("tools", ())),
            tuple(tuple(c) for c in build.get("commands", ())),
            dict(build.get("env", {})),
        ),
    )


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
    *,
    task: str = "classification",
    stride: int | None = None,
) -> dict[str, str]:
    """The template variables for a target (see templates/*/cookiecutter.json).

    The same variables serve every template. The default platform of cmake-baremetal is
    the QEMU machine's when the target's memory map fits it (so ``run-qemu`` works out
    of the box), else the real board.

    Args:
        prefix: C prefix of the model (also the project name).
        target: the microcontroller; its ``boards`` give the board per framework.
        core: the core's compiler flags.
        qemu: the QEMU machine emulating the core, if any.
        spec_sha256: hex sha256 of the spec file (provenance, firmware id).
        recipe: ``name@version`` of the recipe.
        seed: the search seed.
        task: ``classification``, ``regression`` or ``anomaly``: how predictions print.
        stride: hop between two inferences in sensor mode, in samples (the spec's
            window stride); None: one window length.

    Raises:
        OutputError: unknown task, or a negative stride.
    """
    if task not in TASKS:
        raise OutputError(f"unknown task {task!r}; one of: {', '.join(TASKS)}")
    if stride is not None and stride < 1:
        raise OutputError(f"stride must be a positive number of samples (got {stride})")
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
        "fpu": target.fpu,
        "qemu_machine": core.qemu_machine or "",
        "platform": qemu.platform if qemu is not None and fits_qemu(target, qemu) else "board",
        **board_variables(target),
        "task": task,
        "stride": str(stride or 0),
        "spec_sha256": spec_sha256,
        "recipe": recipe,
        "seed": str(seed),
        "mcuforge_version": __version__,
    }


def build_steps(template: str, target: Target, prefix: str) -> list[dict[str, Any]] | None:
    """The report's build step for a project of ``template`` (its own build commands,
    run from the output's ``firmware`` folder); None for ``cmake-baremetal``, whose
    steps the report writes itself (build, run in QEMU, build for the board)."""
    steps = template_info(template).build
    if template == "cmake-baremetal" or steps is None:
        return None
    values = {**board_variables(target), "project_slug": prefix, "prefix": prefix}
    commands, _ = steps.expand({**values, "project": ".", "build": "build"})
    return [
        {
            "what": f"Build with {', '.join(steps.tools)} ({template}; the project's "
            "README.md says how to flash the board and watch its output)",
            "commands": ["cd firmware", *(shlex.join(c) for c in commands)],
        }
    ]


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


def supported_templates(variables: dict[str, Any]) -> list[str]:
    """The templates whose required variables ``variables`` all give."""
    return [
        name
        for name in templates()
        if all(str(variables.get(k, "")) for k in template_info(name).requires)
    ]


def _check(info: FirmwareTemplate, variables: dict[str, Any]) -> None:
    """Refuse variables that would give a broken or unsafe project."""
    for key in ("project_slug", "prefix"):
        c_identifier(str(variables.get(key, "")), key)
    for key, pattern in _SAFE.items():
        value = str(variables.get(key, ""))
        if key in variables and not re.fullmatch(pattern, value):
            raise OutputError(
                f"{key} {value!r} has characters the firmware project cannot hold safely"
            )
    for key in ("flash_origin", "flash_kb", "ram_origin", "sram_kb", "clock_mhz"):
        value = str(variables.get(key, "0"))
        if not _NUMBER.fullmatch(value):
            raise OutputError(f"{key} {value!r} is not a plain number")
    sha = str(variables.get("spec_sha256", ""))
    if not _SHA256.fullmatch(sha):
        raise OutputError(f"spec_sha256 {sha!r} is not 64 lowercase hex digits")
    task = str(variables.get("task", "classification"))
    if task not in TASKS:
        raise OutputError(f"unknown task {task!r}; one of: {', '.join(TASKS)}")
    stride = str(variables.get("stride", "0"))
    if not stride.isdigit():
        raise OutputError(f"stride {stride!r} is not a number of samples")
    for fw in BOARD_FIELDS:
        board = str(variables.get(f"board_{fw}", ""))
        if board and not _BOARD.fullmatch(board):
            raise OutputError(f"{fw} board name {board!r} has characters a build file cannot hold")
    missing = [k for k in info.requires if not str(variables.get(k, ""))]
    if missing:
        target = variables.get("target_name", "?")
        others = [t for t in supported_templates(variables) if t != info.name]
        need = "; ".join(info.requires[k] for k in missing)
        raise OutputError(
            f"firmware template {info.name!r} cannot be used for target {target!r}: it needs "
            f"{need}, which the target does not give. Templates that support {target!r}: "
            f"{', '.join(others) if others else 'none'}"
        )


def check_template(template: str, target: Target, core: Core) -> None:
    """Refuse, before any training, a template that is unknown or cannot serve the target.

    Raises:
        OutputError: listing the available templates, or those that support the target.
    """
    names = templates()
    if template not in names:
        close = difflib.get_close_matches(template, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise OutputError(
            f"unknown firmware template {template!r}; {hint}available: {', '.join(names)}"
        )
    info = template_info(template)
    variables = {
        **board_variables(target),
        "target_name": target.name,
        "gcc_cpu_flags": core.gcc_flags or "",
    }
    missing = [k for k in info.requires if not variables.get(k)]
    if missing:
        others = [t for t in supported_templates(variables) if t != template]
        need = "; ".join(info.requires[k] for k in missing)
        raise OutputError(
            f"template {template!r} cannot be used for target {target.name!r}: it needs "
            f"{need}. Templates that support {target.name!r}: "
            f"{', '.join(others) if others else 'none'}"
        )


def _cookiecutter(template: Path, variables: dict[str, Any], tmp: str, what: str) -> Path:
    try:
        # keep cookiecutter's replay and clone folders out of the user's home
        config = {"replay_dir": f"{tmp}/replay", "cookiecutters_dir": f"{tmp}/cc"}
        out = cookiecutter(
            str(template),
            no_input=True,
            extra_context=variables,
            output_dir=f"{tmp}/{what}",
            default_config=config,
        )
    except Exception as exc:  # cookiecutter raises many types; all are template faults
        raise OutputError(f"rendering template {template.name!r} failed: {exc}") from exc
    return Path(out)


def render(template: str, variables: dict[str, Any], sources: dict[str, str], dest: Path) -> Path:
    """Render ``template`` into ``dest`` (which must not exist) and add ``sources``.

    The project gets the template's files, the runtime files it takes (rendered from
    ``templates/_runtime`` with the same variables) and ``sources`` (the generated
    model C) in the template's model folder.

    Raises:
        OutputError: unknown template, a target the template cannot serve (no board for
            its framework), unsafe names, or the template needs a variable not given.
    """
    info = template_info(template)
    _check(info, variables)
    for name in sources:
        if Path(name).name != name or name.startswith("."):
            raise OutputError(f"generated source name {name!r} is not a plain file name")
    with tempfile.TemporaryDirectory(prefix="mcuforge-render-") as tmp:
        out = _cookiecutter(info.path, variables, tmp, "out")
        if info.runtime_files:
            runtime_vars = {**variables, "model_include": info.model_include}
            runtime = _cookiecutter(data_dir("templates") / RUNTIME, runtime_vars, tmp, "rt")
            runtime_dir = out / info.runtime_dir
            runtime_dir.mkdir(parents=True, exist_ok=True)
            for name in info.runtime_files:
                shutil.copyfile(runtime / name, runtime_dir / name)
        shutil.move(out, dest)
    model_dir = dest / info.model_dir
    model_dir.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (model_dir / name).write_text(text)
    return dest


__all__ = [
    "BOARD_FIELDS",
    "MODEL_DIR",
    "TASKS",
    "BuildSteps",
    "FirmwareTemplate",
    "context",
    "fits_qemu",
    "qemu_context",
    "render",
    "supported_templates",
    "template_info",
    "templates",
]
