"""FULLY_CONNECTED, and the matrix-product (GEMM) form of CONV_2D with the helpers the
depthwise lowering shares (``_ops_depthwise`` picks the kernel of a convolution).

Output multipliers follow TFLite's ``Prepare``: per-channel (and every convolution)
``double(in_scale) * double(filter_scale) / double(out_scale)``; a per-tensor fully
connected layer multiplies the two scales in float32 first
(``GetQuantizedConvolutionMultipler``). The bias the C adds is TFLite's bias plus
``-input_zero_point * sum(row weights)`` (computed here in 64-bit and checked to fit
int32), so the inner loop multiplies raw int8 values: ``sum(w * (x - zp)) + bias`` is
the same integer either way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._fit import fit_layer, litert_fns, tflm_fns
from ._graph import Graph, Op, Tensor
from ._kernels import BLOCK, FAST_MAX_SHIFT, GROUP, PW
from ._lower import Handler, Lowered, const_array, nhwc, quant_problems, same_padding
from ._quant import INT32_MAX, activation_range, f32, quantize_multiplier, wrap32


def block_layout(w: np.ndarray) -> np.ndarray:
    """Rows of ``w`` (n_out, k) for the int8 x int8 kernels (``matvec``): blocks of four
    rows, four inputs of each row in turn, then each row's last ``k % 4``; remaining
    rows as they are."""
    n_out, k = w.shape
    n4, k4 = n_out // 4 * 4, k // 4 * 4
    parts = []
    for b in range(0, n4, 4):
        blk = w[b : b + 4]
        parts.append(blk[:, :k4].reshape(4, k4 // 4, 4).transpose(1, 0, 2).reshape(-1))
        parts.append(blk[:, k4:].reshape(-1))
    parts.extend(w[r] for r in range(n4, n_out))
    out: np.ndarray = np.concatenate(parts).astype(np.int8) if parts else np.zeros(0, np.int8)
    return out


def gemm_layout(w: np.ndarray) -> tuple[np.ndarray, int]:
    """Rows of ``w`` (n_out, k) for the int8 x int16 kernels (``gemm``), and ``k4``.

    ``k`` is zero-filled to ``k4``, a multiple of four; within each group of four the
    bytes are stored as ``w0 w2 w1 w3`` (SXTB16 then gives ``(w0, w1)``, SXTB16 ROR 8
    ``(w2, w3)``, the order of the int16 activations); rows in blocks of ``BLOCK``, the
    groups of a block's rows following each other; the last ``n_out % BLOCK`` rows whole.
    """
    n_out, k = w.shape
    k4 = -(-k // GROUP) * GROUP
    padded = np.zeros((n_out, k4), dtype=np.int64)
    padded[:, :k] = w
    padded = padded.reshape(n_out, k4 // GROUP, GROUP)[:, :, [0, 2, 1, 3]].reshape(n_out, k4)
    n4 = n_out // BLOCK * BLOCK
    parts = [
        padded[b : b + BLOCK].reshape(BLOCK, k4 // GROUP, GROUP).transpose(1, 0, 2).reshape(-1)
        for b in range(0, n4, BLOCK)
    ]
    parts.extend(padded[r] for r in range(n4, n_out))
    out: np.ndarray = np.concatenate(parts).astype(np.int8) if parts else np.zeros(0, np.int8)
    return out, k4


def requant_rows(
    mults: np.ndarray, shifts: np.ndarray, out_zp: int, acc_bound: int
) -> tuple[str, np.ndarray]:
    """The requantisation form of a layer's channels and its per-channel parameters.

    ``fast`` (``{m, 2^(r-1) + (zp << r), r}``, SMMULR) when every channel shifts right
    by 1..FAST_MAX_SHIFT and no accumulator can reach 2^30 (``acc_bound``); ``fixed``
    (``{m, shift, zp}``, TFLite's general MultiplyByQuantizedMultiplier) otherwise.
    """
    right = -np.asarray(shifts, dtype=np.int64)
    if acc_bound < 2**30 and np.all((right >= 1) & (right <= FAST_MAX_SHIFT)):
        c = (np.int64(1) << (right - 1)) + (np.int64(out_zp) << right)
        rows = np.stack([np.asarray(mults, np.int64), c, right, np.zeros_like(c)], axis=1)
        return "fast", rows.reshape(-1)
    m = np.asarray(mults, np.int64)
    rows = np.stack(
        [m, np.asarray(shifts, np.int64), np.full(len(m), out_zp), np.zeros_like(m)], axis=1
    )
    return "fixed", rows.reshape(-1)


def conv_requant(
    mults: np.ndarray, shifts: np.ndarray, out_zp: int, lo: int, hi: int, bound: int
) -> tuple[str, np.ndarray]:
    """The requantisation form of a convolution: ``affine`` (``{C low, C high, M, 0}``:
    clamp((acc * M + C) >> 32), one SMLAL whose high word is the output, fitted by
    ``_fit`` to TFLite's MultiplyByQuantizedMultiplier + zp for every accumulator up to
    ``bound``) where such constants exist, else :func:`requant_rows`. Left shifts keep
    the general forms."""
    if np.all(np.asarray(shifts) <= 0):
        fns, scales = tflm_fns(mults, shifts, out_zp)
        bounds = np.full(len(fns), bound)
        rows = fit_layer(fns, scales, np.zeros(len(fns), np.int64), lo, hi, bounds, shift=0)
        if rows is not None:
            return "affine", rows
    return requant_rows(mults, shifts, out_zp, bound)


def acc_bound(bias: np.ndarray, w: np.ndarray, x_max: int) -> int:
    """Largest |accumulator| of any row: |bias| + x_max * sum |w| (int64)."""
    b = np.abs(np.asarray(bias, np.int64)) + x_max * np.abs(w.astype(np.int64)).sum(axis=1)
    return int(b.max(initial=0))


def _multipliers(
    x: Tensor, w: Tensor, y: Tensor, n: int, float_product: bool
) -> tuple[np.ndarray, np.ndarray]:
    mults, shifts = [], []
    for i in range(n):
        ws = float(w.scale[i] if len(w.scale) > 1 else w.scale[0])
        if float_product:
            real = f32(f32(x.s) * f32(ws)) / float(np.float32(y.s))
        else:
            real = float(np.float32(x.s)) * ws / float(np.float32(y.s))
        m, s = quantize_multiplier(real)
        mults.append(m)
        shifts.append(s)
    return np.asarray(mults, np.int64), np.asarray(shifts, np.int64)


def _bias(graph: Graph, op: Op, n: int) -> np.ndarray:
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        data = graph.tensor(op.inputs[2]).data
        if data is not None:
            return data.astype(np.int64).reshape(-1)
    return np.zeros(n, np.int64)


def _folded(bias: np.ndarray, w: np.ndarray, in_zp: int, where: str) -> np.ndarray:
    b = bias - in_zp * w.astype(np.int64).sum(axis=1)
    worst = np.abs(b) + 128 * np.abs(w.astype(np.int64)).sum(axis=1)
    if worst.max(initial=0) > INT32_MAX:
        raise ValueError(f"{where}: accumulator may overflow int32")
    out: np.ndarray = b
    return out


def _weight_problems(graph: Graph, op: Op, ndim: int) -> list[str]:
    problems = []
    if len(op.inputs) < 2 or op.inputs[1] < 0:
        return ["no weight tensor"]
    w = graph.tensor(op.inputs[1])
    if w.data is None:
        problems.append(f"weights {w.name!r} are not constant")
    if w.dtype != "int8":
        problems.append(f"{w.dtype} weights {w.name!r} (int8 only)")
    elif np.any(w.zero_point != 0):
        problems.append(f"weights {w.name!r} have a non-zero zero point")
    if len(w.shape) != ndim:
        problems.append(f"weights {w.name!r} have shape {w.shape}")
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        b = graph.tensor(op.inputs[2])
        if b.dtype != "int32" or b.data is None:
            problems.append(f"bias {b.name!r} is not a constant int32 tensor")
    return problems


def _act(op: Op) -> int:
    return int(getattr(op.options, "fusedActivationFunction", 0) or 0)


def _act_problem(op: Op) -> list[str]:
    return [] if _act(op) in (0, 1, 2, 3) else [f"fused activation {_act(op)}"]


def _check_fc(graph: Graph, op: Op) -> list[str]:
    problems = quant_problems(graph, op, op.inputs[:1], op.outputs) + _weight_problems(graph, op, 2)
    if int(getattr(op.options, "weightsFormat", 0) or 0) != 0:
        problems.append("shuffled weights format")
    if not problems:
        x, w = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
        if x.size % w.shape[1]:
            problems.append(f"input size {x.size} is not a multiple of {w.shape[1]}")
    return problems + _act_problem(op)


def _double_scales(x: Tensor, w: Tensor, y: Tensor, n: int) -> tuple[np.ndarray, np.ndarray]:
    """LiteRT's reference FullyConnected scales ``double(in) * double(w) / double(out)``
    as ``md * 2^-sh``: (md >> 32, md & 0xffffffff) pairs and ``sh`` per channel."""
    mds, shs = [], []
    for i in range(n):
        ws = float(w.scale[i] if len(w.scale) > 1 else w.scale[0])
        d = float(np.float32(x.s)) * ws / float(np.float32(y.s))
        frac, exp = math.frexp(d)
        md = int(frac * (1 << 53))
        sh = 53 - exp if md else 1
        if not 0 < sh < 127:
            raise ValueError(f"output scale {d} out of range")
        mds += [md >> 32, md & 0xFFFFFFFF]
        shs.append(sh)
    return np.asarray(mds, np.int64), np.asarray(shs, np.int64)


def _consts(
    p: str, i: int, w_layout: np.ndarray, bias: np.ndarray, rq: np.ndarray, tag: str = ""
) -> tuple[list[str], dict[str, str]]:
    names = {k: f"{p}_{tag}{k}{i}" for k in ("w", "b", "rq")}
    consts = [
        const_array(names["w"], "int8_t", w_layout, f"{p.upper()}_ALIGN4"),
        const_array(names["b"], "int32_t", bias),
        const_array(names["rq"], "int32_t", rq),
    ]
    return consts, names


def _fc_requant(
    x: Tensor, w: Tensor, y: Tensor, n_out: int, bound: int, reference: str
) -> tuple[str, np.ndarray]:
    if reference == "litert":  # reference FullyConnected: round(double(acc) * scale)
        m, s = _double_scales(x, w, y, n_out)
        # md >> 32, md & 0xffffffff (as the int32 of its bits), sh, zp
        low = np.asarray([wrap32(int(v)) for v in m[1::2]], dtype=np.int64)
        rows = np.stack([m[0::2], low, s, np.full(n_out, y.zp)], axis=1)
        return "double", rows.reshape(-1)
    # TFLite Micro: fixed-point multiplier and shift
    m, s = _multipliers(x, w, y, n_out, float_product=len(w.scale) == 1)
    return requant_rows(m, s, y.zp, bound)


def _fit_rows(
    x: Tensor,
    w: Tensor,
    y: Tensor,
    bias: np.ndarray,
    wm: np.ndarray,
    act: tuple[int, int],
    reference: str,
) -> np.ndarray | None:
    """Every row's requantisation as one multiply-accumulate (``_fit.py``), or None."""
    n_out = wm.shape[0]
    bounds = 128 * np.abs(wm).sum(axis=1)
    if reference == "litert":
        fns, scales = litert_fns(*_double_scales(x, w, y, n_out), y.zp)
    else:
        mults, shifts = _multipliers(x, w, y, n_out, float_product=len(w.scale) == 1)
        if acc_bound(bias, wm, 128) << max(int(shifts.max(initial=0)), 0) >= 2**31:
            return None  # the left shift could wrap: not monotone
        fns, scales = tflm_fns(mults, shifts, y.zp)
    if min(scales, default=1.0) <= 0.0:
        return None
    return fit_layer(fns, scales, bias, act[0], act[1], bounds)


def _lower_fc(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    x, w, y = (graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0]))
    assert w.data is not None
    n_out, k = w.shape
    batch = x.size // k
    wm = w.data.astype(np.int64).reshape(n_out, k)
    bias = _folded(_bias(graph, op, n_out), wm, x.zp, graph.layer(op))
    lo, hi = activation_range(_act(op), y.s, y.zp)
    fitted = _fit_rows(x, w, y, bias, wm, (lo, hi), reference)
    if fitted is not None:
        kernel, rq, name = "fc", fitted, "fc"
        names = {k: f"{p}_{k}{op.index}" for k in ("w", "rq")}
        consts = [
            const_array(names["w"], "int8_t", block_layout(wm), f"{p.upper()}_ALIGN4"),
            const_array(names["rq"], "int32_t", rq),
        ]
        args = f"{k}, {names['w']}, {names['rq']}, {n_out}, {lo}, {hi}"
        const_bytes = wm.size + 4 * len(rq)
    else:
        mode, rq = _fc_requant(x, w, y, n_out, acc_bound(bias, wm, 128), reference)
        kernel, name = f"matvec_{mode}", f"matvec:{mode}"
        consts, n = _consts(p, op.index, block_layout(wm), bias, rq)
        args = f"{k}, {n['w']}, {n['b']}, {n['rq']}, {n_out}, {lo}, {hi}"
        const_bytes = wm.size + 4 * n_out + 4 * len(rq)

    def call(addr: dict[int, str], scratch: str) -> str:
        xa, ya = addr[x.index], addr[y.index]
        if batch == 1:
            return f"{p}_{kernel}({xa}, {args}, {ya});"
        return (
            f"for (r = 0; r < {batch}; ++r) {{\n"
            f"        {p}_{kernel}({xa} + r * {k}, {args}, {ya} + r * {n_out});\n    }}"
        )

    return Lowered(
        (name,),
        consts,
        macs=batch * n_out * k,
        params=wm.size + n_out,
        const_bytes=const_bytes,
        call=call,
    )


def _check_conv(graph: Graph, op: Op) -> list[str]:
    problems = quant_problems(graph, op, op.inputs[:1], op.outputs) + _weight_problems(graph, op, 4)
    if not problems:
        x, w = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
        if len(x.shape) != 4 or x.shape[0] != 1:
            problems.append(f"input shape {x.shape} (batch 1 NHWC only)")
        elif op.kind == "CONV_2D" and w.shape[3] != x.shape[3]:
            problems.append("grouped convolution")
    return problems + _act_problem(op)


def _geometry(graph: Graph, op: Op, k_h: int, k_w: int) -> list[int]:
    o: Any = op.options
    _, h, w_, c = nhwc(graph.tensor(op.inputs[0]))
    _, oh, ow, oc = nhwc(graph.tensor(op.outputs[0]))
    sh, sw = int(o.strideH), int(o.strideW)
    dh, dw = int(o.dilationHFactor or 1), int(o.dilationWFactor or 1)
    ph = same_padding(int(o.padding), sh, dh, h, k_h, oh)
    pw = same_padding(int(o.padding), sw, dw, w_, k_w, ow)
    return [h, w_, c, k_h, k_w, sh, sw, dh, dw, ph, pw, oh, ow, oc]


def _image(g: list[int]) -> tuple[int, int]:
    """The rows and columns of a convolution's input with its zero-point border (the
    input plus every row and column of padding a kernel reaches): ``pad16`` and
    ``band`` in conv.c.jinja, ``dwplane`` in dwconv.c.jinja."""
    h, w, _, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow = g[:13]
    img_h = ph + h + max(0, (oh - 1) * sh - ph + (kh - 1) * dh + 1 - h)
    img_w = pw + w + max(0, (ow - 1) * sw - pw + (kw - 1) * dw + 1 - w)
    return img_h, img_w


def _pointwise(p: str, i: int, wm: np.ndarray, bias: np.ndarray, rq: np.ndarray) -> list[str]:
    """The constants of a ``pw4``/``pw8`` kernel: the weights as int16 in SXTB16's order
    (``w0 w2 w1 w3`` per group of four inputs) and the affine rows with the bias folded
    in, ``C + bias * M`` (so the accumulator starts at zero)."""
    cout, k = wm.shape
    w16 = wm.reshape(cout, k // GROUP, GROUP)[:, :, [0, 2, 1, 3]].reshape(-1)
    rows = rq.reshape(cout, 4)
    c = (rows[:, 1] << 32) + (rows[:, 0] & 0xFFFFFFFF) + bias * rows[:, 2]
    c_lo = c & 0xFFFFFFFF
    folded = np.stack(
        [np.where(c_lo >= 1 << 31, c_lo - (1 << 32), c_lo), c >> 32, rows[:, 2], rows[:, 3]], 1
    )
    return [
        const_array(f"{p}_pw{i}", "int16_t", w16, f"{p.upper()}_ALIGN4"),
        const_array(f"{p}_pq{i}", "int32_t", folded),
    ]


def _lower_gemm(graph: Graph, op: Op, p: str, reference: str) -> Lowered:
    x, w, y = (graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0]))
    assert w.data is not None
    cout, kh, kw, cin = w.shape
    k = kh * kw * cin
    wm = w.data.astype(np.int64).reshape(cout, k)
    bias = _folded(_bias(graph, op, cout), wm, x.zp, graph.layer(op))
    m, s = _multipliers(x, w, y, cout, float_product=False)
    lo, hi = activation_range(_act(op), y.s, y.zp)
    mode, rq = conv_requant(m, s, y.zp, lo, hi, acc_bound(bias, wm, 128))
    geo = _geometry(graph, op, kh, kw)
    img_h, img_w = _image(geo)
    pointwise = kh == kw == geo[5] == geo[6] == 1 and geo[9] == geo[10] == 0 and cin % GROUP == 0
    colh = 0 if pointwise or geo[8] != 1 else kh * cin + kh * cin % 2
    if colh:  # banded: kernel column, row, channel, each column zero-filled to colh
        wcol = np.zeros((cout, kw, colh), np.int64)
        wcol[:, :, : kh * cin] = (
            w.data.reshape(cout, kh, kw, cin).transpose(0, 2, 1, 3).reshape(cout, kw, kh * cin)
        )
        layout, k4 = gemm_layout(wcol.reshape(cout, kw * colh))
        scratch = (img_w * colh + 4) * 2  # one output row's band
    else:
        layout, k4 = gemm_layout(wm)
        scratch = 2 * k4 * 2  # int16 receptive fields of two pixels
        if not pointwise:
            scratch += (img_h * img_w * cin + 4) * 2  # the bordered int16 image
    g = [*geo, k4, k, img_h, img_w, colh]
    consts, n = _consts(p, op.index, layout, bias, rq)
    consts.append(const_array(f"{p}_g{op.index}", "int32_t", np.asarray(g)))
    n_px = g[11] * g[12]
    kernels, pw = [f"conv:{mode}"], "0, 0"
    if pointwise and mode == "affine" and PW.fullmatch(f"pw{cin}"):
        kernels.append(f"pw{cin}:affine")
        pw = f"{p}_pw{op.index}, {p}_pq{op.index}"
        consts += _pointwise(p, op.index, wm, bias, rq)

    def call(addr: dict[int, str], col: str) -> str:
        return (
            f"{p}_conv_{mode}({addr[x.index]}, {p}_g{op.index}, {x.zp}, {n['w']}, {n['b']}, "
            f"{n['rq']}, {lo}, {hi}, {pw}, (int16_t *)({col}), {addr[y.index]});"
        )

    return Lowered(
        tuple(kernels),
        consts,
        scratch=scratch,
        segments=0.0 if colh or pointwise else float(kh * kw),  # im2col's runs a pixel
        macs=n_px * cout * k,
        params=wm.size + cout,
        const_bytes=cout * k4 + 4 * cout + 4 * len(rq) + 4 * len(g),
        call=call,
    )


HANDLERS = {"FULLY_CONNECTED": Handler(_check_fc, _lower_fc)}
