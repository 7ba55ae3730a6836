"""The C of a network: Jinja2 templates in ``_templates/`` (StrictUndefined).

``network.c.jinja`` is the whole translation unit: the header comment, the arena, the
constants, the kernels an operator needs (each template file is one kernel family)
and ``{prefix}_input``/``{prefix}_invoke``/``{prefix}_quantize``. A kernel is named by
what the lowering asked for (``conv``, ``matvec``, ``maxpool``, …); the requantisation
forms (``rq:fast``, ``rq:fixed``, ``rq:double``, ``rq:affine``) pick which variants of
the matrix and depthwise kernels are written. Integer semantics follow TFLite's reference kernels
(``reference_integer_ops``) and gemmlowp's fixed-point helpers exactly; the one
implementation-defined behaviour they rely on, arithmetic right shift of negative
integers, is what GCC, Clang, Arm Compiler and IAR all do.

Matrix products (convolutions, fully connected layers of several rows) copy their
activations to int16 and multiply them with int8 weights two output channels by two
pixels at a time (SXTB16 + SMLAD in assembly on cores with the DSP extension: 16
multiply-accumulates in 17 instructions; portable C elsewhere); convolutions read
receptive fields in place from an output row's band, and requantise with one SMLAL
where the ``affine`` form is exact (``_fit``). 1x1 convolutions of 4 or 8 channels
(``pw4``/``pw8``) keep a pixel's inputs in registers. Fully connected layers of one row
multiply int8 by int8 (four rows at a time); ``fc`` requantises each output with one
SMLAL and an ASR whose constants ``_fit.py`` checked at generation time. Depthwise
convolutions, and convolutions of one input channel, take one channel at a time as an
int16 plane (``dwplane``). Integer
addition is associative, so the DSP and portable paths give the same bytes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment

from ..templates import c_environment

TEMPLATES = Path(__file__).resolve().parent / "_templates"
#: Requantisation forms, with four int32 parameters per output channel: fast
#: {multiplier, 2^(r-1) + (zp << r), r, 0}, fixed {multiplier, shift, zp, 0},
#: double {md >> 32, md & 0xffffffff, sh, zp}, affine {C & 0xffffffff, C >> 32, M, 0}
#: (convolutions only: ``_fit`` with no shift, see ``_ops_conv.conv_requant``).
RQ_FORMS = ("fast", "fixed", "double", "affine")
RQ_STRIDE = 4
#: k values per SXTB16/SMLAD group, and output rows per weight block (the kernels take
#: two rows at a time).
GROUP = 4
BLOCK = 2
#: Largest right shift of the fast requantisation (c = 2^(r-1) + (zp << r) < 2^30).
FAST_MAX_SHIFT = 22
#: Depthwise kernels unrolled for one layer geometry, ``dwplane<k_h>x<k_w2>r<row>s<sx>``
#: (k_w2: the kernel width rounded up to even; row: int16 values between two kernel rows
#: of the plane; sx: the column stride); the ``dwconv`` kernel of the same form calls them.
DWPLANE = re.compile(r"dwplane([1-9])x([1-9][0-9]?)r([1-9][0-9]{0,3})s([1-9])")
#: Pointwise convolutions of 4 or 8 input channels in the affine form, ``pw4``/``pw8``:
#: the ``conv`` kernel of the same form calls them on cores with the DSP extension.
PW = re.compile(r"pw[48]")
#: Kernels that call others.
DEPENDS = {
    "conv": ("gemm",),
    "mean": ("mbqm",),
    "meanq": ("mbqm",),
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
    "meanq",
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
        "meanq",
        "add",
        "add_fast",
        "requant",
    },
    "ld32": {"matvec", "fc", "gemm", "dwconv", "maxpool", "avgpool", "meanq"},
    "sxtb16": {"matvec", "fc", "gemm"},
    "smlad": {"matvec", "fc", "gemm", "dwconv"},
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
        known = name in KNOWN or any(r.fullmatch(name) for r in (DWPLANE, PW))
        if not known or (mode and mode not in RQ_FORMS):
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
