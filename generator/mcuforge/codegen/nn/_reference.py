"""The reference the C is checked against: the LiteRT interpreter, reference kernels.

``OpResolverType.BUILTIN_REF`` selects TFLite's reference kernels (no XNNPACK
delegate, whose int8 requantisation rounds differently, and no optimized kernels,
whose int8 softmax uses a float lookup table): the arithmetic TFLite Micro also uses.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ...errors import McuforgeError


class ReferenceError(McuforgeError):
    """The reference interpreter is missing or rejects the model."""


class Reference:
    """Runs an int8 ``.tflite`` on int8 input vectors, one row at a time (batch 1).

    ``kind`` is ``litert`` (ai-edge-litert, reference kernels) or ``tflm`` (the
    tflite-micro package's interpreter, the kernels that run on microcontrollers).
    """

    def __init__(self, tflite: bytes, kind: str = "litert") -> None:
        self.kind = kind
        if kind == "tflm":
            self._init_tflm(tflite)
            return
        if kind != "litert":
            raise ReferenceError(f"unknown reference {kind!r}; use 'litert' or 'tflm'")
        try:
            litert = importlib.import_module("ai_edge_litert.interpreter")
        except ImportError as exc:  # the nn extra is not installed
            raise ReferenceError(
                "ai-edge-litert is not installed; pip install 'mcuforge[nn]'"
            ) from exc
        try:
            self._interp: Any = litert.Interpreter(
                model_content=bytes(tflite),
                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
            )
            self._interp.allocate_tensors()
        except Exception as exc:  # the interpreter raises RuntimeError/ValueError
            raise ReferenceError(f"the LiteRT interpreter rejects the model: {exc}") from exc
        self._in = self._interp.get_input_details()[0]
        self._out = self._interp.get_output_details()[0]

    def _init_tflm(self, tflite: bytes) -> None:
        try:
            runtime = importlib.import_module("tflite_micro.python.tflite_micro.runtime")
        except ImportError as exc:
            raise ReferenceError(
                "the tflite-micro package is not installed; pip install --pre tflite-micro"
            ) from exc
        self._tflm: Any = runtime.Interpreter.from_bytes(bytes(tflite), arena_size=1 << 20)
        self._in = self._tflm.get_input_details(0)
        self._out = self._tflm.get_output_details(0)

    def _invoke(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "tflm":
            self._tflm.set_input(x, 0)
            self._tflm.invoke()
            return np.asarray(self._tflm.get_output(0)).reshape(-1)
        self._interp.set_tensor(self._in["index"], x)
        self._interp.invoke()
        return np.asarray(self._interp.get_tensor(self._out["index"])).reshape(-1)

    def run(self, q: np.ndarray, in_q: tuple[float, int], out_q: tuple[float, int]) -> np.ndarray:
        """int8 outputs (n, out_size) for int8 inputs (n, in_size).

        ``in_q``/``out_q`` (scale, zero point) of the network's int8 tensors are used when
        the model's own input/output is float32 (a QUANTIZE/DEQUANTIZE at the edge): the
        int8 values are passed through exactly.
        """
        shape = tuple(int(d) for d in self._in["shape"])
        rows = []
        for row in np.asarray(q, dtype=np.int8):
            if self._in["dtype"] == np.float32:
                scale, zp = in_q
                x = (row.astype(np.int32) - zp).astype(np.float32) * np.float32(scale)
            else:
                x = row
            y = self._invoke(x.reshape(shape).astype(self._in["dtype"]))
            if y.dtype == np.float32:
                scale, zp = out_q
                y = np.clip(np.round(y / np.float32(scale)) + zp, -128, 127)
            rows.append(y.astype(np.int8))
        out: np.ndarray = np.stack(rows) if rows else np.zeros((0, 0), np.int8)
        return out
