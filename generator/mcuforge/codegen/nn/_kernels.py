"""The C of a network: Jinja2 templates in ``_templates/`` (StrictUndefined).

``network.c.jinja`` is the whole translation unit: the header comment, the arena, the
constants, the kernels an operator needs (each template file is one kernel family)
and ``{prefix}_input``/``{prefix}_invoke``/``{prefix}_quantize``. A kernel is named by
what the lowering asked for (``conv``, ``matvec``, ``maxpool``, …); the requantisation
forms (``rq:fast``, ``rq:fixed``, ``rq:double``) pick which variants of the matrix and
depthwise kernels are written. Integer semantics follow TFLite's reference kernels
(``reference_integer_ops``) and gemmlowp's fixed-point helpers exactly; the one
implementation-defined behaviour they rely on, arithmetic right shift of negative
integers, is what GCC, Clang, Arm Compiler and IAR all do.

Matrix products (convolutions, fully connected layers of several rows) copy their
activations to int16 and multiply them with int8 weights two output channels by two
pixels at a time (SXTB16 + SMLAD on cores with the DSP extension: 16 multiply-
accumulates in 20 instructions; portable C elsewhere). Fully connected layers of one
row multiply int8 by int8 (four rows at a time); ``fc`` requantises each output with
one SMLAL and an ASR whose constants ``_fit.py`` checked at generation time.
Depthwise convolutions take four channels at a time with SMLABB/SMLATT. Integer
addition is associative, so the DSP and portable paths give the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment

from ..templates import c_environment

TEMPLATES = Path(__file__).resolve().parent / "_templates"
#: Requantisation forms, with four int32 parameters per output channel: fast
#: {multiplier, 2^(r-1) + (zp << r), r, 0}, fixed {multiplier, shift, zp, 0},
#: double {md >> 32, md & 0xffffffff, sh, zp}.
RQ_FORMS = ("fast", "fixed", "double")
RQ_STRIDE = 4
#: k values per SXTB16/SMLAD group, and output rows per weight block.
GROUP = 4
BLOCK = 4
#: Largest right shift of the fast requantisation (c = 2^(r-1) + (zp << r) < 2^30).
FAST_MAX_SHIFT = 22
#: Kernels that call others.
DEPENDS = {
    "conv": ("gemm",),
    "mean": ("mbqm",),
    "add": ("mbqm",),
    "requant": ("mbqm",),
}
KNOWN = {
    "gemm",
    "conv",
    "matvec",
    "fc",
    "dwconv",
    "maxpool",
    "avgpool",
    "mean",
    "add",
    "add_fast",
    "requant",
    "lut",
    "copy",
    "softmax",
    "mbqm",
}


def environment() -> Environment:
    """The Jinja environment of the kernel templates (a missing variable is an error)."""
    return c_environment(TEMPLATES)


#: The small helpers of ``base.c.jinja`` and the kernels (or forms) that call them.
HELPERS = {
    "clamp8": {
        "gemm",
        "matvec",
        "fc",
        "dwconv",
        "maxpool",
        "avgpool",
        "mean",
        "add",
        "add_fast",
        "requant",
    },
    "ld32": {"matvec", "fc", "maxpool", "avgpool"},
    "sxtb16": {"matvec", "fc"},
    "smlad": {"matvec", "fc"},
    "smmulr": {"rq:fast", "add_fast"},
}


def helpers(kernels: set[str], modes: list[str]) -> set[str]:
    """The helpers of ``base.c.jinja`` that the kernels and forms use."""
    used = kernels | {f"rq:{m}" for m in modes}
    return {name for name, users in HELPERS.items() if used & users}


def resolve(names: set[str]) -> tuple[set[str], dict[str, list[str]], list[str]]:
    """The kernels (with their dependencies), the requantisation forms each matrix or
    depthwise kernel is written for (``conv:fast`` asks for ``conv`` in the fast form),
    and all forms used.

    Raises:
        ValueError: an unknown kernel or requantisation form.
    """
    forms: dict[str, set[str]] = {}
    kernels: set[str] = set()
    unknown = []
    todo = list(names)
    while todo:
        name, _, mode = todo.pop().partition(":")
        if name not in KNOWN or (mode and mode not in RQ_FORMS):
            unknown.append(f"{name}:{mode}" if mode else name)
            continue
        kernels.add(name)
        if mode:
            forms.setdefault(name, set()).add(mode)
        todo.extend(f"{dep}:{mode}" if mode else dep for dep in DEPENDS.get(name, ()))
    if unknown:
        raise ValueError(f"unknown kernels {sorted(unknown)}")
    modes = sorted({m for ms in forms.values() for m in ms})
    if "fixed" in modes:
        kernels.add("mbqm")
    return kernels, {k: sorted(v) for k, v in forms.items()}, modes


def render(template: str, **context: Any) -> str:
    """Render one template with the constants every kernel template may use."""
    base = {
        "RQ_STRIDE": RQ_STRIDE,
        "GROUP": GROUP,
        "BLOCK": BLOCK,
        "fast_max_shift": FAST_MAX_SHIFT,
    }
    return environment().get_template(template).render(**base, **context)
