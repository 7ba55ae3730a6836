"""Full-integer post-training quantisation of a Keras model to an int8 ``.tflite``.

Weights are quantised symmetrically (per output channel where the converter supports
it), activations asymmetrically from a representative data set, and the model's input
and output tensors are int8: the deployed network never touches a float except to
quantise its input and dequantise its output.

The representative data set is a seeded random sample (without replacement) of the
training inputs, fed one row at a time in a fixed order, so the same model, data and
seed give the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import McuforgeError

#: At most this many training rows calibrate the activation ranges; TFLite's own
#: guidance is 100-500, and more only slows the search down.
MAX_REPRESENTATIVE = 200


class QuantizationError(McuforgeError):
    """The model cannot be converted to a full-integer int8 ``.tflite``."""


def representative_rows(representative: np.ndarray, seed: int, limit: int) -> np.ndarray:
    """The calibration rows: up to ``limit`` rows drawn without replacement with ``seed``."""
    x = np.asarray(representative, dtype=np.float32)
    if len(x) == 0:
        raise QuantizationError("the representative data set is empty; pass training inputs")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.permutation(len(x))[: min(limit, len(x))])
    out: np.ndarray = x[idx]
    return out


def quantize_int8(
    model: Any, representative: np.ndarray, seed: int, limit: int = MAX_REPRESENTATIVE
) -> bytes:
    """Full-integer quantisation of a Keras model, int8 input and output.

    Args:
        model: a built ``keras.Model`` with one input and one output.
        representative: training inputs, (n, ...) float32; each row is reshaped to the
            model's input shape (without the batch dimension).
        seed: picks the calibration rows (see :func:`representative_rows`).
        limit: the largest number of calibration rows.

    Returns:
        The ``.tflite`` flatbuffer.

    Raises:
        QuantizationError: the model has not exactly one input and one output, the data
            does not fit its input shape, or the converter rejects the model (an op
            without an int8 kernel, for example).
    """
    from .._lazy import tensorflow as tf

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise QuantizationError(
            f"model {model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} "
            "outputs; int8 deployment needs exactly one of each"
        )
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    rows = representative_rows(representative, seed, limit)
    if int(np.prod(rows.shape[1:])) != int(np.prod(shape)):
        raise QuantizationError(
            f"representative rows have shape {rows.shape[1:]} but model {model.name!r} "
            f"takes {shape}; pass the training inputs the model was fitted on"
        )
    rows = rows.reshape((len(rows), 1, *shape))

    def dataset() -> Iterator[list[np.ndarray]]:
        for r in rows:
            yield [r]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    tf.random.set_seed(seed)
    try:
        with _quiet(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "statistics for inputs" chatter
            flat = converter.convert()
    except Exception as exc:  # the converter raises many unrelated types
        raise QuantizationError(
            f"TFLite int8 conversion of model {model.name!r} failed: "
            f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__}"
        ) from exc
    return bytes(flat)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the converter's chatter: Python-level on stdout, native log lines on fd 2."""
    from .._lazy import quiet_native_stderr

    old = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    try:
        with contextlib.redirect_stdout(io.StringIO()), quiet_native_stderr():
            yield
    finally:
        if old is None:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
        else:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = old
