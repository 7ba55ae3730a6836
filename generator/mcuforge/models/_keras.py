"""Training Keras 3 networks for the search: seeded, early-stopped, pruned, QAT'd.

One recipe for every network family (:mod:`.nets`):

1. Seeds: ``keras.utils.set_random_seed(seed)`` and TensorFlow op determinism, so the
   same data, parameters and seed give the same weights.
2. Inputs are standardised (per feature, or per channel for windows) for training;
   the scaling is then folded into the first layer (and, for autoencoders, the
   inverse into the last), so the deployed network takes raw features. The first
   convolution uses ``valid`` padding, which makes the fold exact.
3. Training: Adam, early stopping on the validation loss (best weights restored),
   class weights against imbalance (``class_weight: balanced``), and after each epoch
   ``on_epoch(epoch, score)`` (validation accuracy, or minus the validation loss); an
   exception it raises, such as ``optuna.TrialPruned``, ends training and propagates.
4. Compression: ``sparsity`` > 0 prunes by magnitude during training
   (:mod:`mcuforge.compress.prune`); ``compression: qat_int8`` then fine-tunes with
   quantisation-aware training (:mod:`mcuforge.compress.qat`). Folding the input
   scaling (step 2) happens after QAT, so the first layer's weights leave the int8
   grid QAT trained on and are rounded again by the converter; the other layers are
   converted exactly as trained. Pruned weights stay zero through the fold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field

from .._deadline import check, critical
from .._lazy import keras
from ..errors import DataError
from ._base import EpochCallback, FamilyParams

#: Compression names the Keras families accept (the parameter ``compression``).
COMPRESSIONS = ("int8", "qat_int8", "prune_int8", "prune_qat_int8")
#: Sparsity of ``prune_*`` compressions when the recipe gives no ``sparsity``.
DEFAULT_SPARSITY = 0.5

Builder = Callable[[bool], Any]  # builds a keras.Model (with QAT layers when True)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow ops deterministic."""
    from .._lazy import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class TrainParams(FamilyParams):
    """Training parameters of every network family (:mod:`.nets`)."""

    compression: str = Field(
        default="int8",
        description="The recipe's `pipeline.compression`: int8 | qat_int8 | prune_int8 | "
        "prune_qat_int8.",
    )
    epochs: int = Field(default=30, ge=1, le=10_000, description="Most training epochs.")
    batch_size: int = Field(default=16, ge=1, description="Rows per training step.")
    learning_rate: float = Field(default=0.005, gt=0.0, le=1.0, description="Adam's learning rate.")
    patience: int = Field(
        default=6, ge=1, description="Epochs without a better validation loss before stopping."
    )
    validation: float = Field(
        default=0.2,
        gt=0.0,
        lt=1.0,
        description="Share of the training rows held out for early stopping.",
    )
    class_weight: Literal["balanced", "none"] = Field(
        default="balanced", description="Weigh classes against their imbalance, or not."
    )
    sparsity: float | None = Field(
        default=None,
        ge=0.0,
        lt=1.0,
        description=f"Share of kernel weights pruned to zero; null: {DEFAULT_SPARSITY} with a "
        "prune_* compression, else 0.",
    )
    qat_epochs: int | None = Field(
        default=None,
        ge=1,
        description="Fine-tuning epochs with quantisation-aware training (qat_* "
        "compressions); null: max(2, epochs // 3).",
    )

    @property
    def qat(self) -> bool:
        """Quantisation-aware fine-tuning: compression qat_int8 / prune_qat_int8."""
        return "qat" in self.compression

    @property
    def pruning(self) -> float:
        """The share of kernel weights zeroed (``sparsity`` or its default)."""
        if self.sparsity is not None:
            return self.sparsity
        return DEFAULT_SPARSITY if self.compression.startswith("prune") else 0.0

    @property
    def fine_tune_epochs(self) -> int:
        """Epochs of quantisation-aware fine-tuning (``qat_epochs`` or its default)."""
        return self.qat_epochs if self.qat_epochs is not None else max(2, self.epochs // 3)


def balanced_class_weight(y: np.ndarray) -> dict[int, float]:
    """``n / (classes * count)`` per present class, as sklearn's ``balanced``."""
    classes, counts = np.unique(y, return_counts=True)
    return {
        int(c): float(len(y) / (len(classes) * n)) for c, n in zip(classes, counts, strict=True)
    }


def standardisation(x: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) over the training rows: per feature, or per last axis of a window."""
    x64 = np.asarray(x, dtype=np.float64)
    axes = tuple(range(x64.ndim - 1)) if per_channel else (0,)
    mean, std = x64.mean(axis=axes), x64.std(axis=axes)
    if not per_channel:
        mean, std = mean.reshape(-1), std.reshape(-1)
    return mean, np.where(std > 1e-8, std, 1.0)


def fold_input_scaling(layer: Any, mean: np.ndarray, std: np.ndarray) -> None:
    """Make ``layer`` take raw inputs: it was trained on ``(x - mean) / std``.

    ``mean`` and ``std`` run along the kernel's input-channel axis (second to last).
    """
    kernel, bias = layer.get_weights()
    cin = kernel.shape[-2]
    s = np.broadcast_to(std, (cin,)).reshape(cin, 1)
    m = np.broadcast_to(mean, (cin,)).reshape(cin, 1)
    k = kernel.astype(np.float64) / s
    b = bias.astype(np.float64) - (k.reshape(-1, cin, kernel.shape[-1]) * m).sum(axis=(0, 1))
    layer.set_weights([k.astype(np.float32), b.astype(np.float32)])


def fold_output_scaling(layer: Any, mean: np.ndarray, std: np.ndarray) -> None:
    """Make a final Dense output raw values: it was trained on ``(y - mean) / std``."""
    kernel, bias = layer.get_weights()
    k = kernel.astype(np.float64) * std[None, :]
    b = bias.astype(np.float64) * std + mean
    layer.set_weights([k.astype(np.float32), b.astype(np.float32)])


def _epoch_score(on_epoch: EpochCallback, offset: int, metric: str) -> Any:
    """A Keras callback calling ``on_epoch(offset + epoch, score)`` after each epoch
    (the class is made on first use, so importing this module does not load Keras)."""

    class _EpochScore(keras.callbacks.Callback):  # type: ignore[misc,unused-ignore]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            if metric == "val_accuracy":
                score = float(logs.get("val_accuracy", 0.0))
            else:
                score = -float(logs.get("val_loss", math.inf))
            on_epoch(offset + epoch, score)

    return _EpochScore()


def fit_loop(
    net: Any,
    fit: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    epochs: int,
    batch_size: int,
    class_weight: dict[int, float] | None,
    callbacks: list[Any],
    seed: int,
) -> int:
    """Train ``net`` (compiled) like ``Model.fit`` with shuffling, returning the epochs run.

    The loop drives the Keras callbacks itself with ``train_on_batch`` and one
    ``test_on_batch`` over the validation rows per epoch: ``Model.fit`` builds a
    ``tf.data`` iterator for every epoch and every evaluation, which on the small data
    sets of microcontroller work costs more than the training (measured: 40 ms an
    epoch against 3 ms). Each batch is a clean point for the search's trial limit
    (:func:`mcuforge._deadline.check`); every TensorFlow call runs uninterrupted.
    """
    x, y = fit
    n = len(x)
    steps = math.ceil(n / batch_size)
    cbs = keras.callbacks.CallbackList(
        callbacks, add_history=False, add_progbar=False, model=net, epochs=epochs, steps=steps
    )
    rng = np.random.default_rng(seed)
    net.stop_training = False
    logs: dict[str, Any] = {}
    ran = 0
    with critical():
        cbs.on_train_begin()
    for epoch in range(epochs):
        with critical():
            cbs.on_epoch_begin(epoch)
            order = rng.permutation(n)
            for step in range(steps):
                idx = order[step * batch_size : (step + 1) * batch_size]
                cbs.on_train_batch_begin(step)
                logs = net.train_on_batch(
                    x[idx], y[idx], class_weight=class_weight, return_dict=True
                )
                cbs.on_train_batch_end(step, logs)
            cbs.on_test_begin()
            val_logs = net.test_on_batch(val[0], val[1], return_dict=True)
            cbs.on_test_end(val_logs)
            logs = {**logs, **{f"val_{k}": v for k, v in val_logs.items()}}
            cbs.on_epoch_end(epoch, logs)
        ran += 1
        check()
        if net.stop_training:
            break
    with critical():
        cbs.on_train_end(logs)
    return ran


@dataclass(frozen=True)
class Fitted:
    """The trained network, ready for conversion, and what training saw."""

    model: Any  # keras.Model
    epochs_run: int
    sparsity: float


def train(
    build: Builder,
    fit: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    cfg: TrainParams,
    loss: str,
    seed: int,
    on_epoch: EpochCallback | None,
    classify: bool,
) -> Fitted:
    """Train ``build(qat)`` on standardised inputs; see the module docstring.

    ``fit`` and ``val`` hold the (already standardised) inputs and targets.
    """
    from ..compress.prune import MagnitudePruning, sparsity
    from ..compress.qat import WeightFakeQuant, without_activation_quant

    x_fit, y_fit = fit
    if len(x_fit) < 2 or len(val[0]) < 1:
        raise DataError(
            f"{len(x_fit)} training and {len(val[0])} validation rows are too few to train "
            "a network; give the data more windows or lower `validation`"
        )
    seed_everything(seed)
    model = build(False)
    metric = "val_accuracy" if classify else "val_loss"
    weights = balanced_class_weight(y_fit) if classify and cfg.class_weight == "balanced" else None
    steps = math.ceil(len(x_fit) / cfg.batch_size)
    pruner = (
        MagnitudePruning(cfg.pruning, total_steps=steps * cfg.epochs, end=0.6)
        if cfg.pruning > 0
        else None
    )

    def run(net: keras.Model, epochs: int, offset: int, extra: list[Any]) -> int:
        net.compile(
            optimizer=keras.optimizers.Adam(cfg.learning_rate),
            loss=loss,
            metrics=["accuracy"] if classify else [],
        )
        start = math.ceil(0.6 * epochs) if pruner is not None and offset == 0 else 0
        callbacks: list[Any] = [
            *extra,
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=cfg.patience,
                restore_best_weights=True,
                start_from_epoch=start,
            ),
        ]
        if pruner is not None:
            callbacks.append(pruner)
        if on_epoch is not None:
            callbacks.append(_epoch_score(on_epoch, offset, metric))
        ran = fit_loop(
            net, (x_fit, y_fit), val, epochs, cfg.batch_size, weights, callbacks, seed + offset
        )
        if pruner is not None:
            pruner.finalize()  # best weights restored: re-zero to the target sparsity
        return ran

    done = run(model, cfg.epochs, 0, [])
    if cfg.qat:
        qat_model = build(True)
        for layer in qat_model.layers:
            if layer.weights and not layer.name.startswith("aq"):
                layer.set_weights(model.get_layer(layer.name).get_weights())
        if pruner is not None:
            pruner.total_steps, pruner.step, pruner.end = 1, 1, 0.0  # masks at target now
        fake = WeightFakeQuant()
        done += run(qat_model, cfg.fine_tune_epochs, done, [fake])
        fake.finalize()
        if pruner is not None:
            pruner.apply_masks()
        model = without_activation_quant(build, qat_model)
    return Fitted(model, done, sparsity(model) if pruner is not None else 0.0)
