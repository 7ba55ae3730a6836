"""Compression: post-training quantisation of trained models."""

from .int8 import QuantizationError, quantize_int8

__all__ = ["QuantizationError", "quantize_int8"]
