"""``emit_network``: an int8 ``.tflite`` as self-contained C99 with a static memory plan."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..c import c_comment, c_float
from . import _ops_conv, _ops_depthwise, _ops_misc
from ._graph import Graph, Op, UnsupportedOpError, parse
from ._kernels import helpers, render, resolve
from ._lower import INPLACE, VIEW, Lowered, merge
from ._plan import Buffer, Plan, aligned, plan

HANDLERS = merge(_ops_conv.HANDLERS, _ops_depthwise.HANDLERS, _ops_misc.HANDLERS)
#: Every TFLite builtin the emitter generates.
SUPPORTED_OPS: tuple[str, ...] = tuple(sorted([*HANDLERS, "DEQUANTIZE"]))


@dataclass(frozen=True)
class TensorIO:
    """The network's int8 input or output: elements, shape and quantisation."""

    name: str
    shape: tuple[int, ...]
    size: int
    scale: float
    zero_point: int


@dataclass(frozen=True)
class Layer:
    """One generated operator, for reports."""

    kind: str
    name: str
    macs: int
    params: int
    scratch: int
    outputs: int
    #: output pixels (rows of a fully connected layer); the channels are outputs / pixels
    pixels: int = 1
    #: runs the im2col of a convolution copies per output pixel, on average
    segments: float = 0.0


@dataclass(frozen=True)
class NetworkC:
    """The generated C and the facts measured while generating it.

    ``code`` defines (all ``static``, names starting with ``prefix``): the weights, the
    arena, the kernels, ``int8_t *{prefix}_input(void)`` (where to write the quantised
    input) and ``const int8_t *{prefix}_invoke(void)`` (runs every operator; returns
    the int8 output).
    """

    code: str
    prefix: str
    input: TensorIO
    output: TensorIO
    arena_bytes: int
    lower_bound: int
    plan_strategy: str
    macs: int
    params: int
    const_bytes: int
    layers: tuple[Layer, ...]


def _boundary(graph: Graph) -> tuple[int, int, set[int]]:
    """Network int8 input/output tensors; float QUANTIZE/DEQUANTIZE at the edges are
    replaced by the C's own input quantisation and output dequantisation."""
    skip: set[int] = set()
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UnsupportedOpError(
            [f"{len(graph.inputs)} inputs and {len(graph.outputs)} outputs (one of each)"]
        )
    inp, out = graph.inputs[0], graph.outputs[0]
    for op in graph.ops:
        if op.kind == "QUANTIZE" and op.inputs[0] == inp and graph.tensor(inp).dtype == "float32":
            skip.add(op.index)
            inp = op.outputs[0]
        if (
            op.kind == "DEQUANTIZE"
            and op.outputs[0] == out
            and graph.tensor(out).dtype == "float32"
        ):
            skip.add(op.index)
            out = op.inputs[0]
    return inp, out, skip


def check_ops(tflite: bytes) -> list[str]:
    """Every reason the emitter cannot generate this model, one line per operator.

    An empty list means :func:`emit_network` will generate it. Lines read
    ``OP (layer 'tensor name'): reason``.
    """
    graph = parse(tflite)
    try:
        inp, out, skip = _boundary(graph)
    except UnsupportedOpError as exc:
        return exc.reasons
    problems = []
    for t in (inp, out):
        if graph.tensor(t).dtype != "int8":
            problems.append(
                f"model {'input' if t == inp else 'output'} {graph.tensor(t).name!r} is "
                f"{graph.tensor(t).dtype}; quantise with int8 input and output"
            )
    for op in graph.ops:
        if op.index in skip:
            continue
        handler = HANDLERS.get(op.kind)
        where = f"{op.kind} (layer {graph.layer(op)!r})"
        if handler is None:
            problems.append(f"{where}: operator not supported")
            continue
        problems.extend(f"{where}: {why}" for why in handler.check(graph, op))
    return problems


class _Aliases:
    """Union-find over tensors that share one buffer (views, in-place ops)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, t: int) -> int:
        while self.parent.get(t, t) != t:
            t = self.parent[t]
        return t

    def union(self, keep: int, other: int) -> None:
        self.parent[self.find(other)] = self.find(keep)


def _buffers(
    graph: Graph, steps: list[tuple[Op, Lowered]], views: list[Op], inp: int, out: int
) -> tuple[list[Buffer], _Aliases]:
    alias = _Aliases()
    for op in views:
        alias.union(op.inputs[0], op.outputs[0])
    step_of: dict[int, int] = {op.index: s for s, (op, _) in enumerate(steps)}
    view_ids = {op.index for op in views}

    def last_use(root: int) -> int:
        uses = [
            step_of[c]
            for t in range(len(graph.tensors))
            if alias.find(t) == root
            for c in graph.consumers.get(t, [])
            if c not in view_ids and c in step_of
        ]
        if alias.find(out) == root:
            uses.append(len(steps))
        return max(uses, default=0)

    for s, (op, low) in enumerate(steps):
        x, y = op.inputs[0], op.outputs[0]
        same = graph.tensor(x).size == graph.tensor(y).size
        if low.alias == INPLACE and same and last_use(alias.find(x)) <= s:
            alias.union(x, y)
    first: dict[int, int] = {alias.find(inp): 0}
    last: dict[int, int] = {}
    for s, (op, _) in enumerate(steps):
        for t in op.outputs:
            first.setdefault(alias.find(t), s)
        for t in [*op.inputs, *op.outputs]:
            if t >= 0 and graph.tensor(t).data is None:
                last[alias.find(t)] = max(last.get(alias.find(t), 0), s)
    last[alias.find(out)] = len(steps)
    buffers = [
        Buffer(f"t{root}", graph.tensor(root).nbytes, first[root], last.get(root, first[root]))
        for root in sorted(first)
    ]
    buffers += [
        Buffer(f"s{op.index}", low.scratch, s, s, scratch=True)
        for s, (op, low) in enumerate(steps)
        if low.scratch
    ]
    return buffers, alias


def emit_network(tflite: bytes, prefix: str, reference: str = "litert") -> NetworkC:
    """Generate C99 for an int8 TFLite model: no interpreter, no malloc, one arena.

    Raises:
        UnsupportedOpError: naming every operator (and its layer) that cannot be
            generated, see :func:`check_ops`.
        ModelFormatError: the bytes are not a single-subgraph TFLite model.
    """
    problems = check_ops(tflite)
    if problems:
        raise UnsupportedOpError(problems)
    graph = parse(tflite)
    inp, out, skip = _boundary(graph)
    steps: list[tuple[Op, Lowered]] = []
    views: list[Op] = []
    for op in graph.ops:
        if op.index in skip:
            continue
        low = HANDLERS[op.kind].lower(graph, op, prefix, reference)
        if low.alias == VIEW:
            views.append(op)
        else:
            steps.append((op, low))
    buffers, alias = _buffers(graph, steps, views, inp, out)
    mem = plan(buffers)
    return _render(graph, prefix, steps, mem.offsets, alias, inp, out, mem)


def _io(graph: Graph, t: int) -> TensorIO:
    x = graph.tensor(t)
    return TensorIO(x.name, x.shape, x.size, x.s, x.zp)


def _layers(graph: Graph, steps: list[tuple[Op, Lowered]]) -> tuple[Layer, ...]:
    """What each step costs (for the cost model and the report)."""
    out = []
    for op, low in steps:
        y = graph.tensor(op.outputs[0])
        out.append(
            Layer(
                op.kind,
                graph.layer(op),
                low.macs,
                low.params,
                aligned(low.scratch),
                y.size,
                y.size // max(y.shape[-1], 1),
                low.segments,
            )
        )
    return tuple(out)


def _render(
    graph: Graph,
    p: str,
    steps: list[tuple[Op, Lowered]],
    offsets: dict[str, int],
    alias: _Aliases,
    inp: int,
    out: int,
    mem: Plan,
) -> NetworkC:
    addr = {
        t: f"(a + {offsets[f't{alias.find(t)}']})"
        for t in range(len(graph.tensors))
        if f"t{alias.find(t)}" in offsets
    }
    calls: list[dict[str, str | int]] = []
    for op, low in steps:
        scratch = f"(a + {offsets[f's{op.index}']})" if low.scratch else "0"
        y = op.outputs[0]
        calls.append(
            {
                "kind": op.kind,
                "layer": c_comment(graph.layer(op)),
                "call": low.call(addr, scratch),
                "index": op.index,
                "output": addr[y],
                "size": graph.tensor(y).size,
            }
        )
    kernels, forms, modes = resolve({k for _, low in steps for k in low.kernels})
    kinds = Counter(op.kind for op, _ in steps)
    layers = _layers(graph, steps)
    i_io, o_io = _io(graph, inp), _io(graph, out)
    code = render(
        "network.c.jinja",
        p=p,
        P=p.upper(),
        n_ops=len(steps),
        op_counts=", ".join(f"{n} {k}" for k, n in sorted(kinds.items())),
        params=sum(low.params for _, low in steps),
        macs=sum(low.macs for _, low in steps),
        arena=mem.arena,
        arena_words=(mem.arena + 3) // 4,
        strategy=mem.strategy,
        lower_bound=mem.lower_bound,
        consts=[c for _, low in steps for c in low.consts],
        kernels=kernels,
        forms=forms,
        modes=modes,
        helpers=helpers(kernels, modes),
        steps=calls,
        uses_r=any("r = 0" in str(c["call"]) for c in calls),
        input_offset=offsets[f"t{alias.find(inp)}"],
        output=addr[out],
        **_quantizer_context(i_io),
    )
    return NetworkC(
        code,
        p,
        i_io,
        o_io,
        mem.arena,
        mem.lower_bound,
        mem.strategy,
        sum(low.macs for _, low in steps),
        sum(low.params for _, low in steps),
        sum(low.const_bytes for _, low in steps),
        layers,
    )


def _quantizer_context(io: TensorIO) -> dict[str, str | int]:
    return {"in_scale": c_float(io.scale), "in_scale_repr": repr(io.scale), "in_zp": io.zero_point}


def _quantizer(p: str, io: TensorIO) -> str:
    """``{p}_quantize``: float32 -> int8 exactly as ``_quant.quantize_input``."""
    return render("quantize.c.jinja", p=p, **_quantizer_context(io))
