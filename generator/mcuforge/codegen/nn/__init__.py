"""Interpreter-less C for int8 neural networks (TFLite flatbuffers) with a static
memory plan, bit-exact with TFLite's reference kernels.

Public API:
    * :func:`emit_network` - ``.tflite`` bytes -> :class:`NetworkC` (C99 + facts).
    * :func:`check_ops` - every operator the emitter cannot generate, with its layer.
    * :data:`SUPPORTED_OPS` - the TFLite builtins it generates.
"""

from ._emit import SUPPORTED_OPS, Layer, NetworkC, TensorIO, check_ops, emit_network
from ._graph import ModelFormatError, UnsupportedOpError
from ._ops_misc import LUT_MIN_ELEMENTS
from ._quant import dequantize, quantize_input, reconstruction_mse

__all__ = [
    "LUT_MIN_ELEMENTS",
    "SUPPORTED_OPS",
    "Layer",
    "ModelFormatError",
    "NetworkC",
    "TensorIO",
    "UnsupportedOpError",
    "check_ops",
    "dequantize",
    "emit_network",
    "quantize_input",
    "reconstruction_mse",
]
