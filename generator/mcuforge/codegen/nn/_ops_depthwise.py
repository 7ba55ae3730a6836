"""CONV_2D and DEPTHWISE_CONV_2D: which kernel takes a convolution.

A CONV_2D is a matrix product (``_ops_conv._lower_gemm``: banded or pointwise, the
GEMM assembly on cores with the DSP extension); one of a single input channel is, on
those cores, a depthwise convolution of depth multiplier ``out_c`` when a ``dwplane``
kernel fits its geometry (the channel as an int16 plane, weight pairs in registers).
A DEPTHWISE_CONV_2D takes a ``dwplane`` kernel on DSP cores where one fits, the
portable depthwise kernel otherwise. The arithmetic is the same integer sum either way.
"""

from __future__ import annotations

import numpy as np

from ._graph import Graph, Op
from ._kernels import DWPLANE
from ._lower import Handler, Lowered, const_array
from ._ops_conv import (
    _act,
    _bias,
    _check_conv,
    _consts,
    _geometry,
    _image,
    _lower_gemm,
    _multipliers,
    acc_bound,
    conv_requant,
)
from ._quant import INT32_MAX, activation_range

#: Most weight pairs a dwplane kernel keeps in registers (its code is unrolled).
PLANE_MAX_PAIRS = 16


def _plane_kernel(g: list[int]) -> str:
    """The dwplane kernel of a depthwise geometry (column dilation 1, at most
    PLANE_MAX_PAIRS weight pairs), or ''."""
    kh, kw, sw, dh, dw = g[3], g[4], g[6], g[7], g[8]
    name = f"dwplane{kh}x{kw + kw % 2}r{dh * _image(g)[1]}s{sw}"
    small = kh * (kw + kw % 2) // 2 <= PLANE_MAX_PAIRS
    return name if dw == 1 and small and DWPLANE.fullmatch(name) else ""


def _const_name(const: str) -> str:
    """The name a ``const_array`` text defines."""
    return const.split("[", 1)[0].split()[-1]


def _lower_conv(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    """A CONV_2D; of one input channel, on cores with the DSP extension, a depthwise
    dwplane kernel of depth multiplier out_c where there is one for its geometry."""
    gemm = _lower_gemm(graph, op, p, reference)
    _, kh, kw, cin = graph.tensor(op.inputs[1]).shape
    if cin != 1 or not _plane_kernel(_geometry(graph, op, kh, kw)):
        return gemm
    plane = _lower_dwconv(graph, op, p, reference, tag="d")

    def void(consts: list[str]) -> str:  # each branch leaves the other's constants unused
        return "".join(f"\n    (void){_const_name(c)};" for c in consts)

    def call(addr: dict[int, str], scratch: str) -> str:
        return (
            f"\n#ifdef {p.upper()}_DSP\n    {plane.call(addr, scratch)}{void(gemm.consts)}"
            f"{void(plane.consts)}\n#else\n    {gemm.call(addr, scratch)}{void(plane.consts)}"
            "\n#endif"
        )

    return Lowered(
        gemm.kernels + tuple(k for k in plane.kernels if k.startswith("dwplane")) + ("dwconv",),
        gemm.consts + plane.consts,
        scratch=max(gemm.scratch, plane.scratch),
        segments=gemm.segments,
        macs=gemm.macs,
        params=gemm.params,
        const_bytes=gemm.const_bytes + plane.const_bytes,
        call=call,
    )


def _lower_dwconv(graph: Graph, op: Op, p: str, reference: str, tag: str = "") -> Lowered:
    """A DEPTHWISE_CONV_2D, or (tag "d": the dwplane call alone, constants named apart)
    the depthwise form of a CONV_2D of one input channel."""
    x, w, y = (graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0]))
    assert w.data is not None
    if op.kind == "CONV_2D":  # one input channel: depthwise with depth multiplier cout
        cout, kh, kw, _ = w.shape
        taps = w.data.astype(np.int64).reshape(cout, kh * kw).T
    else:
        _, kh, kw, cout = w.shape
        taps = w.data.astype(np.int64).reshape(kh * kw, cout)
    g = _geometry(graph, op, kh, kw)
    g[13] = cout // g[2]  # depth multiplier
    bias = _bias(graph, op, cout)
    # interior pixels: the input offset folded into the bias, raw inputs
    bias_in = bias - x.zp * taps.sum(axis=0)
    bound = max(acc_bound(bias, taps.T, 255), acc_bound(bias_in, taps.T, 128))
    if bound > INT32_MAX:
        raise ValueError(f"{graph.layer(op)}: accumulator may overflow int32")
    m, s = _multipliers(x, w, y, cout, float_product=False)
    lo, hi = activation_range(_act(op), y.s, y.zp)
    mode, rq = conv_requant(m, s, y.zp, lo, hi, bound)
    i, t = op.index, tag
    consts, n = _consts(p, i, taps.reshape(-1), bias, rq, tag)
    consts.append(const_array(f"{p}_{t}bi{i}", "int32_t", bias_in))
    _, w_, c_in, _, _, _, _, dh, dw = g[:9]
    fy, fx = np.divmod(np.arange(kh * kw), kw)
    offsets = (fy * dh * w_ + fx * dw) * c_in  # each tap's input offset, kernel order
    consts.append(const_array(f"{p}_{t}g{i}", "int32_t", np.concatenate([g, offsets])))
    kernels, scratch = [f"dwconv:{mode}"], 0
    plane = _plane_kernel(g)
    if plane:
        img_h, img_w = _image(g)
        scratch = (img_h * img_w + 2) * 2
        kernels.append(f"{plane}:{mode}")
        wq = np.zeros((cout, kh, kw + kw % 2), np.int64)
        wq[:, :, :kw] = taps.reshape(kh, kw, cout).transpose(2, 0, 1)
        consts.append(const_array(f"{p}_{t}wq{i}", "int16_t", wq, f"{p.upper()}_ALIGN4"))
        consts.append(const_array(f"{p}_{t}d{i}", "int32_t", np.asarray([img_h, img_w])))

    def call(addr: dict[int, str], img: str) -> str:
        xa, ya = addr[x.index], addr[y.index]
        direct = (
            f"{p}_{plane}_{mode}({xa}, {p}_{t}g{i}, {p}_{t}d{i}, {x.zp}, {p}_{t}wq{i}, "
            f"{p}_{t}bi{i}, {n['rq']}, {lo}, {hi}, (int16_t *)({img}), {ya});"
        )
        if tag:  # the CONV_2D's own C is the other branch
            return direct
        generic = (
            f"{p}_dwconv_{mode}({xa}, {p}_g{i}, {-x.zp}, {n['w']}, {n['b']}, {p}_bi{i}, "
            f"{n['rq']}, {lo}, {hi}, {ya});"
        )
        if not plane:
            return generic
        return (  # the dwplane kernel on cores with the DSP extension
            f"\n#ifdef {p.upper()}_DSP\n    {direct}\n    (void){n['w']};\n    (void){n['b']};\n"
            f"#else\n    {generic}\n    (void){p}_wq{i};\n    (void){p}_d{i};\n#endif"
        )

    return Lowered(
        tuple(kernels),
        consts,
        scratch=scratch,
        macs=g[11] * g[12] * cout * kh * kw,
        params=int(w.data.size) + cout,
        const_bytes=int(w.data.size) + 8 * cout + 4 * len(rq) + 4 * (len(g) + kh * kw),
        call=call,
    )


def _check_dwconv(graph: Graph, op: Op) -> list[str]:
    problems = _check_conv(graph, op)
    if not problems:
        x, w = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
        if w.shape[3] % x.shape[3]:
            problems.append("output channels are not a multiple of input channels")
    return problems


HANDLERS = {
    "CONV_2D": Handler(_check_conv, _lower_conv),
    "DEPTHWISE_CONV_2D": Handler(_check_dwconv, _lower_dwconv),
}
