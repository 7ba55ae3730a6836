"""TFLite's quantisation arithmetic, reproduced on the host.

Every constant the generated C uses (fixed-point multipliers, shifts, activation
ranges, lookup tables, softmax parameters) is computed here exactly as TFLite's
kernels compute it in their ``Prepare`` step (``QuantizeMultiplier``,
``CalculateActivationRangeQuantized``, ``LUTPopulate``, ``PreprocessSoftmaxScaling``),
so that the C, which only runs the ``Eval`` part, is bit-exact with the interpreter.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def tflite_round(x: float) -> float:
    """``std::round``: half away from zero."""
    return math.copysign(math.floor(abs(x) + 0.5), x) if abs(x) < 2**52 else x


def quantize_multiplier(real: float) -> tuple[int, int]:
    """``QuantizeMultiplier``: ``real ~= m * 2^(shift - 31)``, ``m`` in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(tflite_round(q * (1 << 31)))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def f32(x: float) -> float:
    """Round a Python float to float32 (a C ``float`` expression)."""
    return float(np.float32(x))


def quantize_scalar(scale: float, zero_point: int, value: float) -> int:
    """``Quantize`` of kernel_util.cc: ``zp + (int)round(value / scale)`` in float32."""
    return zero_point + int(tflite_round(f32(f32(value) / f32(scale))))


def activation_range(act: int, scale: float, zero_point: int) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized`` for an int8 output.

    ``act`` is the schema's ActivationFunctionType: 0 none, 1 relu, 2 relu_n1_to_1,
    3 relu6.
    """
    lo, hi = -128, 127
    if act == 1:
        return max(lo, quantize_scalar(scale, zero_point, 0.0)), hi
    if act == 3:
        return (
            max(lo, quantize_scalar(scale, zero_point, 0.0)),
            min(hi, quantize_scalar(scale, zero_point, 6.0)),
        )
    if act == 2:
        return (
            max(lo, quantize_scalar(scale, zero_point, -1.0)),
            min(hi, quantize_scalar(scale, zero_point, 1.0)),
        )
    return lo, hi


def srdhm(a: int, b: int) -> int:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` on int32."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    v = ab + nudge
    q = abs(v) >> 31
    return q if v >= 0 else -q  # C division truncates toward zero


def rdbp(x: int, exponent: int) -> int:
    """gemmlowp ``RoundingDivideByPOT`` on int32."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def wrap32(x: int) -> int:
    """Two's-complement int32 wrap-around (what the C's unsigned shifts give)."""
    return ((x + 2**31) % 2**32) - 2**31


def mbqm(x: int, m: int, shift: int) -> int:
    """``MultiplyByQuantizedMultiplier`` (double rounding, TFLite's default build)."""
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return rdbp(srdhm(wrap32(x << left), m), right)


def _libm() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("m")
    return ctypes.CDLL(path) if path else None


_LIBM = _libm()


def _cfloat_fn(name: str, fallback: Callable[[float], float]) -> Callable[[float], float]:
    """The C library's float function (``expf``, ``tanhf``) as TFLite calls it."""
    if _LIBM is not None and hasattr(_LIBM, name):
        fn = getattr(_LIBM, name)
        fn.restype = ctypes.c_float
        fn.argtypes = [ctypes.c_float]
        return lambda v: float(fn(v))
    return lambda v: f32(fallback(v))


_expf = _cfloat_fn("expf", math.exp)
_tanhf = _cfloat_fn("tanhf", math.tanh)


def _sigmoid(v: float) -> float:
    """``1.0f / (1.0f + std::exp(-value))`` in float32."""
    return f32(1.0 / f32(1.0 + _expf(-v)))


LUT_FUNCTIONS: dict[str, Callable[[float], float]] = {"LOGISTIC": _sigmoid, "TANH": _tanhf}


def lut_int8(
    fn: Callable[[float], float],
    in_scale: float,
    in_zp: int,
    out_scale: float,
    out_zp: int,
) -> list[int]:
    """``LUTPopulateInt8``: table indexed by ``(uint8_t)x`` (0..127, then -128..-1)."""
    inverse = f32(1.0 / f32(out_scale))
    lut = [0] * 256
    for val in range(-128, 128):
        deq = f32(f32(in_scale) * f32(val - in_zp))
        rescaled = tflite_round(f32(fn(deq) * inverse))
        quantized = math.trunc(f32(rescaled + out_zp))
        lut[val & 0xFF] = max(-128, min(127, quantized))
    return lut


def softmax_params(beta: float, in_scale: float) -> tuple[int, int, int]:
    """``PreprocessSoftmaxScaling`` + ``CalculateInputRadius`` for the reference kernel.

    Returns:
        (input_multiplier, input_left_shift, diff_min).
    """
    integer_bits = 5
    real = min(beta * in_scale * (1 << (31 - integer_bits)), (1 << 31) - 1.0)
    m, shift = quantize_multiplier(real)
    radius = math.floor(1.0 * ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << shift))
    return m, shift, -radius


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Quantise float32 features exactly as the generated C does.

    ``q = clamp(round(x / scale) + zero_point, -128, 127)`` with the division in
    float32 and ``round`` half away from zero (C's ``roundf``); NaN becomes the zero
    point.
    """
    v = np.asarray(x, dtype=np.float32) / np.float32(scale)
    v = np.where(np.isnan(v), np.float32(0.0), v)
    v = np.clip(v, np.float32(-1024.0), np.float32(1024.0))
    a = np.abs(v)
    whole = np.floor(a)
    r = whole + (a - whole >= np.float32(0.5))
    q = np.copysign(r, v).astype(np.int64) + zero_point
    out: np.ndarray = np.clip(q, -128, 127).astype(np.int8)
    return out


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float32 ``(q - zero_point) * scale``, as the C computes it."""
    out: np.ndarray = (q.astype(np.int32) - zero_point).astype(np.float32) * np.float32(scale)
    return out


def reconstruction_mse(output: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Anomaly score per row: mean squared error, float32, in the C's order.

    ``s = 0; for i in 0..n-1: d = out[i] - f[i]; s = s + d * d`` (two roundings per
    step, no fused multiply-add), then ``s / n``.
    """
    out = np.asarray(output, dtype=np.float32)
    f = np.asarray(features, dtype=np.float32)
    s = np.zeros(len(out), dtype=np.float32)
    for i in range(out.shape[1]):
        d = out[:, i] - f[:, i]
        s = s + d * d
    score: np.ndarray = s / np.float32(out.shape[1])
    return score
