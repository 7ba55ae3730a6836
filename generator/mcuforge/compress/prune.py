"""Magnitude pruning of Keras 3 models: zero the smallest weights on a schedule.

Why our own and not ``tensorflow-model-optimization``: its pruning API (0.8.1) wraps
only legacy ``tf_keras`` models (``TF_USE_LEGACY_KERAS=1``), so using it would mean a
second Keras in the process and models that the rest of mcuforge (Keras 3) cannot
build or convert the same way. Magnitude pruning needs nothing from it: a callback
that holds one 0/1 mask per kernel is enough, and works for every layer type.

:class:`MagnitudePruning` raises each kernel's sparsity from 0 to ``target`` along
the polynomial schedule of Zhu & Gupta (2017), ``s(t) = target · (1 - (1 - t)³)``
with ``t`` the fraction of the pruning steps done; at each update it zeroes, per
kernel, the smallest-magnitude weights still alive until the fraction ``s(t)`` is
zero (ties: the lower flat index first, so the result is deterministic). Masks only
ever grow, and after **every** training batch the masked weights are set back to
zero, so the optimiser cannot revive them. Biases and normalisation weights are not
pruned.

Zero stays zero through int8 conversion: TFLite quantises weights symmetrically
(zero point 0), so ``round(0 / scale) = 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._lazy import keras as _keras

keras: Any = _keras.module()  # imported quietly: TensorFlow's start-up lines filtered

#: Layer weights that are pruned: the kernels of these layer types.
PRUNABLE = (
    keras.layers.Dense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
)


def prunable(model: keras.Model) -> list[tuple[Any, Any]]:
    """(layer, kernel variable) of the prunable layers, in layer order."""
    out: list[tuple[Any, Any]] = []
    for layer in model.layers:
        if isinstance(layer, PRUNABLE):
            kernel = getattr(layer, "depthwise_kernel", None)
            out.append((layer, kernel if kernel is not None else layer.kernel))
    return out


def prunable_kernels(model: keras.Model) -> list[Any]:
    """The kernel variables of the prunable layers, in layer order."""
    return [k for _, k in prunable(model)]


def sparsity(model: keras.Model) -> float:
    """Fraction of zero weights over the prunable kernels."""
    kernels = [np.asarray(k.numpy()) for k in prunable_kernels(model)]
    total = sum(k.size for k in kernels)
    return float(sum(int((k == 0).sum()) for k in kernels) / total) if total else 0.0


def schedule(target: float, fraction_done: float) -> float:
    """Polynomial (cubic) sparsity schedule from 0 to ``target``."""
    t = min(max(fraction_done, 0.0), 1.0)
    return target * (1.0 - (1.0 - t) ** 3)


def magnitude_mask(weights: np.ndarray, old_mask: np.ndarray, level: float) -> np.ndarray:
    """Mask with at least ``level`` of the weights zero, pruning the smallest alive ones."""
    n_zero = int(np.floor(level * weights.size))
    mask = old_mask.copy().reshape(-1)
    alive = np.flatnonzero(mask)
    need = n_zero - (weights.size - len(alive))
    if need > 0:
        mags = np.abs(weights.reshape(-1)[alive])
        order = np.argsort(mags, kind="stable")  # ties: lower index first
        mask[alive[order[:need]]] = 0.0
    return mask.reshape(weights.shape)


class MagnitudePruning(keras.callbacks.Callback):  # type: ignore[misc,unused-ignore]
    """Prune the model's kernels to ``target`` sparsity during ``fit``.

    Args:
        target: final fraction of zero weights per kernel, in [0, 1).
        begin: fraction of the training steps before pruning starts.
        end: fraction of the steps at which ``target`` is reached.
        frequency: update the masks every this many batches (between updates the masks
            are still enforced after every batch).
        total_steps: the number of training batches ``fit`` will run (epochs * batches).
    """

    def __init__(
        self,
        target: float,
        total_steps: int,
        begin: float = 0.0,
        end: float = 0.7,
        frequency: int = 1,
    ) -> None:
        super().__init__()
        if not 0.0 <= target < 1.0:
            raise ValueError(f"pruning target must be in [0, 1), got {target}")
        self.target = target
        self.total_steps = max(total_steps, 1)
        self.begin = begin
        self.end = max(end, begin)
        self.frequency = max(frequency, 1)
        self.step = 0
        self.masks: list[np.ndarray] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        kernels = prunable_kernels(self.model)
        if len(self.masks) != len(kernels):
            self.masks = [np.ones(tuple(k.shape), dtype=np.float32) for k in kernels]

    def level(self) -> float:
        """Sparsity the schedule asks for at the current step."""
        span = (self.end - self.begin) * self.total_steps
        done = (self.step - self.begin * self.total_steps) / span if span > 0 else 1.0
        return schedule(self.target, done) if done >= 0 else 0.0

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.step += 1
        kernels = prunable_kernels(self.model)
        if self.step % self.frequency == 0 or self.step >= self.total_steps:
            level = self.level()
            self.masks = [
                magnitude_mask(np.asarray(k.numpy()), m, level)
                for k, m in zip(kernels, self.masks, strict=True)
            ]
        self.apply_masks()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.finalize()

    def finalize(self) -> None:
        """Bring every kernel to the target sparsity now and zero the pruned weights."""
        kernels = prunable_kernels(self.model)
        self.masks = [
            magnitude_mask(np.asarray(k.numpy()), m, self.target)
            for k, m in zip(kernels, self.masks, strict=True)
        ]
        self.apply_masks()

    def apply_masks(self) -> None:
        for k, m in zip(prunable_kernels(self.model), self.masks, strict=True):
            k.assign(np.asarray(k.numpy()) * m)
