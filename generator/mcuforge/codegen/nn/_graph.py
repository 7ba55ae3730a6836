"""Read an int8 ``.tflite`` flatbuffer into a small graph: tensors, ops, constants.

Only the host reads the flatbuffer; the generated C carries the result as constants.
The schema module is the one shipped with ``ai-edge-litert`` (generated from the same
``schema.fbs`` as TensorFlow's), so no extra dependency is needed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import McuforgeError

_DTYPES: dict[int, tuple[str, Any]] = {
    0: ("float32", np.float32),
    1: ("float16", np.float16),
    2: ("int32", np.int32),
    3: ("uint8", np.uint8),
    4: ("int64", np.int64),
    7: ("int16", np.int16),
    9: ("int8", np.int8),
}


class ModelFormatError(McuforgeError):
    """The bytes are not a TFLite model this code generator can read."""


class UnsupportedOpError(McuforgeError):
    """The model uses operators (or operator variants) the int8 emitter cannot generate.

    ``reasons`` lists one line per offending operator: the op, the tensor it writes
    (the layer) and why.
    """

    def __init__(self, problems: list[str]) -> None:
        self.reasons = problems
        super().__init__(
            "the int8 C emitter cannot generate this model:\n  "
            + "\n  ".join(problems)
            + "\nuse layers from the supported set (see mcuforge.codegen.nn.SUPPORTED_OPS)"
        )


@dataclass
class Tensor:
    """One tensor of the graph; ``data`` is set for constants (weights, biases, shapes)."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray  # float32 (n,), empty when not quantised
    zero_point: np.ndarray  # int64 (n,)
    quantized_dimension: int
    data: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * int(np.dtype(_np_type(self.dtype)).itemsize)

    @property
    def s(self) -> float:
        """The per-tensor scale (first entry)."""
        return float(self.scale[0]) if len(self.scale) else 0.0

    @property
    def zp(self) -> int:
        """The per-tensor zero point (first entry)."""
        return int(self.zero_point[0]) if len(self.zero_point) else 0


@dataclass
class Op:
    """One operator: its builtin name, tensor indices (-1: absent optional) and options."""

    index: int
    kind: str
    inputs: list[int]
    outputs: list[int]
    options: Any
    version: int = 1


@dataclass
class Graph:
    """The single subgraph of a model, in execution order."""

    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    consumers: dict[int, list[int]] = field(default_factory=dict)

    def tensor(self, i: int) -> Tensor:
        return self.tensors[i]

    def layer(self, op: Op) -> str:
        """The name users know an op by: the tensor it writes."""
        return self.tensors[op.outputs[0]].name if op.outputs else f"op {op.index}"


def _np_type(dtype: str) -> Any:
    for name, ty in _DTYPES.values():
        if name == dtype:
            return ty
    return np.uint8


def _schema() -> Any:
    """The flatbuffer schema module shipped with ai-edge-litert."""
    return importlib.import_module("ai_edge_litert.schema_py_generated")


def _op_names() -> dict[int, str]:
    schema = _schema()

    return {
        v: k
        for k, v in vars(schema.BuiltinOperator).items()
        if not k.startswith("_") and isinstance(v, int)
    }


def parse(tflite: bytes) -> Graph:
    """Parse a ``.tflite`` flatbuffer.

    Raises:
        ModelFormatError: not a TFLite flatbuffer, or more than one subgraph.
    """
    schema = _schema()

    buf = bytes(tflite)
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelFormatError("not a TFLite model (the flatbuffer identifier TFL3 is missing)")
    try:
        model = schema.ModelT.InitFromPackedBuf(buf, 0)
    except Exception as exc:  # flatbuffers raises bare struct/index errors
        raise ModelFormatError(f"cannot read the TFLite flatbuffer: {exc}") from exc
    if not model.subgraphs or len(model.subgraphs) != 1:
        n = len(model.subgraphs or [])
        raise ModelFormatError(f"the model has {n} subgraphs; only single-subgraph models run")
    sub = model.subgraphs[0]
    names = _op_names()
    buffers = model.buffers or []
    tensors: list[Tensor] = []
    for i, t in enumerate(sub.tensors or []):
        dtype, nptype = _DTYPES.get(int(t.type), (f"type{t.type}", None))
        q = t.quantization
        scale = np.asarray(q.scale if q is not None and q.scale is not None else [], np.float32)
        zp = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], np.int64)
        qdim = int(q.quantizedDimension) if q is not None else 0
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        data = None
        if 0 < t.buffer < len(buffers) and buffers[t.buffer].data is not None:
            raw = np.asarray(buffers[t.buffer].data, dtype=np.uint8).tobytes()
            if nptype is not None and raw:
                data = np.frombuffer(raw, dtype=np.dtype(nptype).newbyteorder("<")).copy()
                data = data.reshape(shape) if shape else data
        name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
        tensors.append(Tensor(i, name, shape, dtype, scale, zp, qdim, data))
    ops: list[Op] = []
    for i, op in enumerate(sub.operators or []):
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        kind = names.get(builtin, f"BUILTIN_{builtin}")
        if kind == "CUSTOM":
            cname = code.customCode
            kind = f"CUSTOM:{cname.decode() if isinstance(cname, bytes) else cname}"
        ops.append(
            Op(
                i,
                kind,
                [int(x) for x in (op.inputs if op.inputs is not None else [])],
                [int(x) for x in (op.outputs if op.outputs is not None else [])],
                op.builtinOptions,
                int(code.version),
            )
        )
    graph = Graph(
        tensors,
        ops,
        [int(x) for x in sub.inputs],
        [int(x) for x in sub.outputs],
    )
    for op in ops:
        for t in op.inputs:
            if t >= 0:
                graph.consumers.setdefault(t, []).append(op.index)
    return graph
