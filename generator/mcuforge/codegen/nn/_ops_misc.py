"""Pooling, MEAN, SOFTMAX, LOGISTIC, TANH, ADD, CONCATENATION, RELU(6), QUANTIZE and
the views (RESHAPE, EXPAND_DIMS, SQUEEZE), with TFLite's ``Prepare`` arithmetic."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._fit import add_input_form
from ._graph import Graph, Op
from ._kernels import FAST_MAX_SHIFT
from ._lower import (
    INPLACE,
    VIEW,
    Handler,
    Lowered,
    const_array,
    nhwc,
    quant_problems,
    same_padding,
)
from ._quant import (
    LUT_FUNCTIONS,
    activation_range,
    f32,
    lut_int8,
    mbqm,
    quantize_multiplier,
    softmax_params,
    tflite_round,
)
from ._softmax import exp_table

#: RELU, RELU6 and int8 QUANTIZE of at least this many values become a 256-byte table
#: (one load per value instead of a requantisation: ~30 instructions).
LUT_MIN_ELEMENTS = 128
#: TFLite's int8 ADD shifts both inputs left by 20 before rescaling them.
ADD_LEFT_SHIFT = 20


def _io(graph: Graph, op: Op) -> tuple[Any, Any]:
    return graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])


def _check_unary(graph: Graph, op: Op) -> list[str]:
    return quant_problems(graph, op, op.inputs[:1], op.outputs)


def _same_quant(graph: Graph, op: Op, tensors: list[int]) -> list[str]:
    y = graph.tensor(op.outputs[0])
    return [
        f"tensor {graph.tensor(t).name!r} is quantised differently from the output"
        for t in tensors
        if graph.tensor(t).s != y.s or graph.tensor(t).zp != y.zp
    ]


# --- pooling -------------------------------------------------------------------------


def _check_pool(graph: Graph, op: Op) -> list[str]:
    problems = _check_unary(graph, op)
    if not problems:
        x, _ = _io(graph, op)
        if len(x.shape) != 4 or x.shape[0] != 1:
            problems.append(f"input shape {x.shape} (batch 1 NHWC only)")
        problems += _same_quant(graph, op, op.inputs[:1])
    return problems


def _lower_pool(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    x, y = _io(graph, op)
    o: Any = op.options
    _, h, w, c = nhwc(x)
    _, oh, ow, _ = nhwc(y)
    fh, fw, sh, sw = int(o.filterHeight), int(o.filterWidth), int(o.strideH), int(o.strideW)
    g = [
        h,
        w,
        c,
        fh,
        fw,
        sh,
        sw,
        same_padding(int(o.padding), sh, 1, h, fh, oh),
        same_padding(int(o.padding), sw, 1, w, fw, ow),
        oh,
        ow,
    ]
    lo, hi = activation_range(int(o.fusedActivationFunction or 0), y.s, y.zp)
    kernel = "maxpool" if op.kind == "MAX_POOL_2D" else "avgpool"
    name = f"{p}_g{op.index}"

    def call(addr: dict[int, str], scratch: str) -> str:
        return f"{p}_{kernel}({addr[x.index]}, {name}, {lo}, {hi}, {addr[y.index]});"

    return Lowered(
        (kernel,),
        [const_array(name, "int32_t", np.asarray(g))],
        const_bytes=4 * len(g),
        macs=oh * ow * c * fh * fw,
        call=call,
    )


# --- MEAN ----------------------------------------------------------------------------


def _axes(graph: Graph, op: Op) -> list[int]:
    x = graph.tensor(op.inputs[0])
    a = graph.tensor(op.inputs[1])
    if a.data is None:
        return []
    return sorted({int(v) % len(x.shape) for v in np.asarray(a.data).reshape(-1)})


def _check_mean(graph: Graph, op: Op) -> list[str]:
    problems = _check_unary(graph, op)
    if len(op.inputs) < 2 or graph.tensor(op.inputs[1]).data is None:
        return [*problems, "reduction axes are not constant"]
    axes = _axes(graph, op)
    if axes and axes != list(range(axes[0], axes[-1] + 1)):
        problems.append(f"non-contiguous reduction axes {axes}")
    return problems


def _lower_mean(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    x, y = _io(graph, op)
    axes = _axes(graph, op)
    shape = list(x.shape)
    outer = int(np.prod(shape[: axes[0]])) if axes else x.size
    red = int(np.prod(shape[axes[0] : axes[-1] + 1])) if axes else 1
    inner = int(np.prod(shape[axes[-1] + 1 :])) if axes else 1
    # PrepareMeanOrSum, then QuantizedMeanOrSum folds 1/num_elements into the multiplier
    m, shift = quantize_multiplier(float(np.float32(x.s)) / float(np.float32(y.s)))
    n_shift = min(red.bit_length() - 1, 32, 31 + shift)
    m = (m << n_shift) // red
    shift -= n_shift

    kernel = "meanq" if inner % 4 == 0 and red <= 256 else "mean"  # sums fit 16 bits

    def call(addr: dict[int, str], scratch: str) -> str:
        return (
            f"{p}_{kernel}({addr[x.index]}, {outer}, {red}, {inner}, {x.zp}, {m}, {shift}, "
            f"{y.zp}, {addr[y.index]});"
        )

    return Lowered((kernel,), macs=x.size, call=call)


# --- SOFTMAX, LOGISTIC, TANH ---------------------------------------------------------


def _check_softmax(graph: Graph, op: Op) -> list[str]:
    problems = _check_unary(graph, op)
    if not problems:
        _, y = _io(graph, op)
        if y.zp != -128 or abs(y.s - 1 / 256) > 0.001 / 256:
            problems.append("output is not quantised with scale 1/256, zero point -128")
    return problems


def _lower_softmax(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    x, y = _io(graph, op)
    beta = float(np.float32(getattr(op.options, "beta", 1.0)))
    table = exp_table(*softmax_params(beta, float(np.float32(x.s))))
    depth = x.shape[-1]
    outer = x.size // depth
    name = f"{p}_exp{op.index}"

    def call(addr: dict[int, str], scratch: str) -> str:
        return (
            f"{p}_softmax({addr[x.index]}, {outer}, {depth}, {name}, {len(table)}u, "
            f"{addr[y.index]});"
        )

    return Lowered(
        ("softmax",),
        [const_array(name, "int32_t", np.asarray(table))],
        const_bytes=4 * len(table),
        macs=x.size,
        call=call,
    )


def _lower_lut(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    x, y = _io(graph, op)
    table = lut_int8(LUT_FUNCTIONS[op.kind], x.s, x.zp, y.s, y.zp)
    name = f"{p}_lut{op.index}"

    def call(addr: dict[int, str], scratch: str) -> str:
        return f"{p}_lut({addr[x.index]}, {x.size}, {name}, {addr[y.index]});"

    return Lowered(
        ("lut",),
        [const_array(name, "int8_t", np.asarray(table))],
        alias=INPLACE,
        const_bytes=256,
        macs=x.size,
        call=call,
    )


# --- RELU, RELU6, QUANTIZE (int8 -> int8) --------------------------------------------


def _lower_requant(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    x, y = _io(graph, op)
    lo, hi = -128, 127
    out_zp = y.zp
    if op.kind == "QUANTIZE":  # quantize.cc: Requantize
        m, shift = quantize_multiplier(float(np.float32(x.s)) / float(np.float32(y.s)))
    elif op.kind == "RELU6" and reference == "tflm":
        # TFLite Micro's Relu6Quantized clamps to [zp, q(6)] of the *input* and copies:
        # the identity multiplier (2^30, shift 1) keeps the value, the output zero point
        # is the input's
        m, shift, out_zp = 1 << 30, 1, x.zp
        lo = x.zp
        hi = min(127, x.zp + int(tflite_round(f32(f32(6.0) / f32(x.s)))))
    else:  # LiteRT ReluPrepare + QuantizedReluX; TFLite Micro CalculateReluOpData
        real = f32(f32(x.s) / f32(y.s)) if reference == "litert" else x.s / y.s
        m, shift = quantize_multiplier(real)
        lo = max(-128, y.zp + int(tflite_round(f32(0.0 / f32(y.s)))))
        if op.kind == "RELU6":
            hi = min(127, y.zp + int(tflite_round(f32(f32(6.0) / f32(y.s)))))

    if x.size >= LUT_MIN_ELEMENTS:  # a 256-byte table: one load per element
        # index (uint8_t)v: 0..127 are v = 0..127, 128..255 are v = -128..-1
        values = [i - 256 if i >= 128 else i for i in range(256)]
        table = [max(lo, min(hi, out_zp + mbqm(v - x.zp, m, shift))) for v in values]
        name = f"{p}_lut{op.index}"

        def lut_call(addr: dict[int, str], scratch: str) -> str:
            return f"{p}_lut({addr[x.index]}, {x.size}, {name}, {addr[y.index]});"

        return Lowered(
            ("lut",),
            [const_array(name, "int8_t", np.asarray(table))],
            alias=INPLACE,
            const_bytes=256,
            macs=x.size,
            call=lut_call,
        )

    def call(addr: dict[int, str], scratch: str) -> str:
        return (
            f"{p}_requant({addr[x.index]}, {x.size}, {x.zp}, {m}, {shift}, {out_zp}, {lo}, "
            f"{hi}, {addr[y.index]});"
        )

    return Lowered(("requant",), alias=INPLACE, macs=x.size, call=call)


# --- ADD -----------------------------------------------------------------------------


def _check_add(graph: Graph, op: Op) -> list[str]:
    problems = quant_problems(graph, op, op.inputs[:2], op.outputs)
    if not problems:
        a, b = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
        if a.shape != b.shape:
            problems.append(f"broadcasting add of {a.shape} and {b.shape}")
    act = int(getattr(op.options, "fusedActivationFunction", 0) or 0)
    return problems + ([f"fused activation {act}"] if act not in (0, 1, 2, 3) else [])


def _smaller_than_one(real: float) -> tuple[int, int]:
    m, shift = quantize_multiplier(real)
    if shift > 0:
        raise ValueError(f"multiplier {real} is not below one")
    return m, shift


def _add_fast(
    a: Any, b: Any, mults: list[tuple[int, int]], om: int, osh: int, y_zp: int, act: tuple[int, int]
) -> list[int] | None:
    """The fast ADD's constants (see ``_fit.add_input_form``; the output requantisation of the
    sum in the SMMULR form of ``requant.c.jinja``), or None."""
    ins = [
        add_input_form(t.zp, m, sh, ADD_LEFT_SHIFT)
        for t, (m, sh) in zip((a, b), mults, strict=True)
    ]
    if ins[0] is None or ins[1] is None:
        return None
    bound = max(abs(v) for v in ins[0][1]) + max(abs(v) for v in ins[1][1])
    r = -osh  # the output: requant.c's fast form (exact for these bounds)
    if bound >= 2**30 or not 1 <= r <= FAST_MAX_SHIFT:
        return None
    (sa, ca, ra), (sb, cb, rb) = ins[0][0], ins[1][0]
    c = (1 << (r - 1)) + (y_zp << r)
    return [-a.zp, sa, mults[0][0], ca, ra, -b.zp, sb, mults[1][0], cb, rb, om, c, r, *act]


def _lower_add(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    a, b, y = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    left = ADD_LEFT_SHIFT
    twice_max = 2 * float(max(np.float32(a.s), np.float32(b.s)))
    am, ash = _smaller_than_one(float(np.float32(a.s)) / twice_max)
    bm, bsh = _smaller_than_one(float(np.float32(b.s)) / twice_max)
    om, osh = _smaller_than_one(twice_max / ((1 << left) * float(np.float32(y.s))))
    lo, hi = activation_range(int(op.options.fusedActivationFunction or 0), y.s, y.zp)
    fast = _add_fast(a, b, [(am, ash), (bm, bsh)], om, osh, y.zp, (lo, hi))
    if fast is not None:  # constants as literals: the compiler keeps them in registers
        args = ", ".join(str(v) for v in fast)

        def fast_call(addr: dict[int, str], scratch: str) -> str:
            return (
                f"{p}_add_fast({addr[a.index]}, {addr[b.index]}, {y.size}, {args}, "
                f"{addr[y.index]});"
            )

        return Lowered(("add_fast",), macs=y.size, call=fast_call)
    q = [-a.zp, am, ash, -b.zp, bm, bsh, left, om, osh, y.zp, lo, hi]
    name = f"{p}_q{op.index}"

    def call(addr: dict[int, str], scratch: str) -> str:
        return f"{p}_add({addr[a.index]}, {addr[b.index]}, {y.size}, {name}, {addr[y.index]});"

    return Lowered(
        ("add",),
        [const_array(name, "int32_t", np.asarray(q))],
        const_bytes=4 * len(q),
        macs=y.size,
        call=call,
    )


# --- CONCATENATION -------------------------------------------------------------------


def _check_concat(graph: Graph, op: Op) -> list[str]:
    problems = quant_problems(graph, op, list(op.inputs), op.outputs)
    act = int(getattr(op.options, "fusedActivationFunction", 0) or 0)
    if act:
        problems.append(f"fused activation {act} on a concatenation")
    return problems or _same_quant(graph, op, list(op.inputs))


def _lower_concat(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    y = graph.tensor(op.outputs[0])
    axis = int(op.options.axis) % len(y.shape)
    outer = int(np.prod(y.shape[:axis]))
    chunks = [int(np.prod(graph.tensor(t).shape[axis:])) for t in op.inputs]
    total = sum(chunks)

    def call(addr: dict[int, str], scratch: str) -> str:
        lines = []
        offset = 0
        for t, chunk in zip(op.inputs, chunks, strict=True):
            if outer == 1:
                lines.append(f"{p}_copy({addr[y.index]} + {offset}, {addr[t]}, {chunk});")
            else:
                lines.append(
                    f"for (r = 0; r < {outer}; ++r) {{ {p}_copy({addr[y.index]} + r * {total}"
                    f" + {offset}, {addr[t]} + r * {chunk}, {chunk}); }}"
                )
            offset += chunk
        return "\n    ".join(lines)

    return Lowered(("copy",), call=call)


# --- views ---------------------------------------------------------------------------


def _check_view(graph: Graph, op: Op) -> list[str]:
    x, y = _io(graph, op)
    problems = []
    if x.dtype != y.dtype:
        problems.append(f"{x.dtype} to {y.dtype}")
    if x.data is not None:
        problems.append(f"constant input {x.name!r}")
    return problems


def _lower_view(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    return Lowered(alias=VIEW)


_UNARY = Handler(_check_unary, _lower_requant)

HANDLERS = {
    "AVERAGE_POOL_2D": Handler(_check_pool, _lower_pool),
    "MAX_POOL_2D": Handler(_check_pool, _lower_pool),
    "MEAN": Handler(_check_mean, _lower_mean),
    "SOFTMAX": Handler(_check_softmax, _lower_softmax),
    "LOGISTIC": Handler(_check_unary, _lower_lut),
    "TANH": Handler(_check_unary, _lower_lut),
    "RELU": _UNARY,
    "RELU6": _UNARY,
    "QUANTIZE": _UNARY,
    "ADD": Handler(_check_add, _lower_add),
    "CONCATENATION": Handler(_check_concat, _lower_concat),
    "RESHAPE": Handler(_check_view, _lower_view),
    "EXPAND_DIMS": Handler(_check_view, _lower_view),
    "SQUEEZE": Handler(_check_view, _lower_view),
}
