"""Quantisation-aware training (QAT) for Keras 3 models, ahead of int8 conversion.

Why our own and not ``tensorflow-model-optimization``: its QAT API (0.8.1) accepts
only legacy ``tf_keras`` models and rejects ``Conv1D``, which the 1D-CNN family needs.
What int8 deployment needs from QAT is small and fits in two pieces that work with
any Keras 3 layer:

* **Weights** (:class:`WeightFakeQuant`, a callback): the forward and backward pass
  of every training batch (and every validation pass) run on the weights rounded to
  the int8 grid TFLite will use, per output channel and symmetric
  (``scale = max|w| / 127``, ``q = round(w / scale)``); the optimiser's update is then
  applied to the float *latent* weights (the straight-through estimator, as in
  BinaryConnect / Jacob et al. 2018). :meth:`WeightFakeQuant.finalize` leaves the
  rounded weights in the model, so the converter's own per-channel rounding
  reproduces them exactly: the int8 model has the weights QAT trained.
* **Activations** (:class:`ActivationQuant`, a layer placed after each activation by
  the model builders): fake-quantises its input to 8 bits over a range tracked by an
  exponential moving average of the batch min/max (always including 0, as TFLite
  does), with straight-through gradients inside the range. The network learns to
  tolerate the activation rounding; the layers are dropped before conversion
  (:func:`without_activation_quant`), and the converter calibrates the real ranges
  on the representative data.

Pruning composes with QAT: a pruned (zero) weight rounds to 0, and the pruning
callback re-applies its masks after this one restores the latent weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._lazy import keras as _keras
from .prune import prunable, prunable_kernels

keras: Any = _keras.module()  # imported quietly: TensorFlow's start-up lines filtered


def fake_quant_weights(w: np.ndarray, depthwise: bool = False) -> np.ndarray:
    """Round ``w`` to the symmetric int8 grid per output channel (last axis).

    Depthwise kernels (kh, kw, in, multiplier) have one channel per (in, multiplier).
    """
    w = np.asarray(w, dtype=np.float32)
    flat = w.reshape(-1, w.shape[-2] * w.shape[-1]) if depthwise else w.reshape(-1, w.shape[-1])
    top = np.abs(flat).max(axis=0)
    scale = np.where(top > 0, top / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.round(flat / scale), -127, 127) * scale
    return q.astype(np.float32).reshape(w.shape)


def _is_depthwise(model: keras.Model) -> list[bool]:
    depthwise = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
    return [isinstance(layer, depthwise) for layer, _ in prunable(model)]


class WeightFakeQuant(keras.callbacks.Callback):  # type: ignore[misc,unused-ignore]
    """Train on int8-rounded weights, update the float latent weights (see module doc)."""

    def __init__(self) -> None:
        super().__init__()
        self._latent: list[np.ndarray] | None = None
        self._rounded: list[np.ndarray] = []

    def _swap_in(self) -> None:
        kernels = prunable_kernels(self.model)
        depthwise = _is_depthwise(self.model)
        self._latent = [np.asarray(k.numpy()) for k in kernels]
        self._rounded = [
            fake_quant_weights(w, d) for w, d in zip(self._latent, depthwise, strict=True)
        ]
        for k, q in zip(kernels, self._rounded, strict=True):
            k.assign(q)

    def _swap_out(self, keep_update: bool) -> None:
        if self._latent is None:
            return
        for k, w, q in zip(prunable_kernels(self.model), self._latent, self._rounded, strict=True):
            # after a training step the variable holds q + update: move the update to w
            k.assign(w + (np.asarray(k.numpy()) - q) if keep_update else w)
        self._latent = None

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._swap_in()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._swap_out(keep_update=True)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._swap_in()

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        self._swap_out(keep_update=False)

    def finalize(self) -> None:
        """Leave the int8-rounded weights in the model (call after ``fit``)."""
        self._swap_out(keep_update=False)
        for k, d in zip(prunable_kernels(self.model), _is_depthwise(self.model), strict=True):
            k.assign(fake_quant_weights(np.asarray(k.numpy()), d))


@keras.saving.register_keras_serializable(package="mcuforge")
class ActivationQuant(keras.layers.Layer):  # type: ignore[misc,unused-ignore]
    """8-bit fake quantisation of activations over a moving-average range."""

    def __init__(self, momentum: float = 0.9, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.momentum = momentum

    def build(self, input_shape: Any) -> None:
        zeros = keras.initializers.Zeros()
        self.lo = self.add_weight(shape=(), initializer=zeros, trainable=False, name="lo")
        self.hi = self.add_weight(shape=(), initializer=zeros, trainable=False, name="hi")
        self.seen = self.add_weight(shape=(), initializer=zeros, trainable=False, name="seen")

    def call(self, x: Any, training: bool | None = None) -> Any:
        ops = keras.ops
        if training:
            m = self.momentum
            first = ops.equal(self.seen, 0.0)
            lo = ops.minimum(ops.min(x), 0.0)
            hi = ops.maximum(ops.max(x), 0.0)
            self.lo.assign(ops.where(first, lo, m * self.lo + (1.0 - m) * lo))
            self.hi.assign(ops.where(first, hi, m * self.hi + (1.0 - m) * hi))
            self.seen.assign(1.0)
        hi = ops.maximum(self.hi, self.lo + 1e-6)
        return keras.quantizers.fake_quant_with_min_max_vars(x, self.lo, hi, num_bits=8)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum}


def without_activation_quant(
    build: Callable[[bool], keras.Model], trained: keras.Model
) -> keras.Model:
    """The same network built without :class:`ActivationQuant`, with the trained weights.

    ``build(qat)`` must name every weighted layer the same whether or not ``qat`` is set.
    """
    plain = build(False)
    weights = {layer.name: layer.get_weights() for layer in trained.layers}
    for layer in plain.layers:
        if layer.weights:
            layer.set_weights(weights[layer.name])
    return plain
