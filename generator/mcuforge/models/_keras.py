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
from typing import Any

import numpy as np

from .._deadline import check, critical
from .._lazy import keras
from ..errors import DataError
from ._base import EpochCallback

#: Compression names the Keras families accept (``params["compression"]``).
COMPRESSIONS = ("int8", "qat_int8", "prune_int8", "prune_qat_int8")
#: Sparsity of ``prune_*`` compressions when the recipe gives no ``sparsity``.
DEFAULT_SPARSITY = 0.5

Builder = Callable[[bool], Any]  # builds a keras.Model (with QAT layers when True)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow ops deterministic."""
    from .._lazy import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


@dataclass(frozen=True)
class TrainConfig:
    """Training parameters from the recipe space (defaults in brackets)."""

    epochs: int  # [30]
    batch_size: int  # [16]
    learning_rate: float  # [0.005]
    patience: int  # [6] epochs without a better validation loss
    validation: float  # [0.2] of the training rows
    class_weight: str  # [balanced] | none
    sparsity: float  # [0, or 0.5 for prune_*] fraction of kernel weights zeroed
    qat: bool  # compression qat_int8 / prune_qat_int8
    qat_epochs: int  # [max(2, epochs // 3)] fine-tuning epochs with QAT

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TrainConfig:
        comp = str(params.get("compression", "int8"))
        if comp not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {list(COMPRESSIONS)}, got {comp!r}")
        epochs = int(params.get("epochs", 30))
        default_sparsity = DEFAULT_SPARSITY if comp.startswith("prune") else 0.0
        return cls(
            epochs=epochs,
            batch_size=int(params.get("batch_size", 16)),
            learning_rate=float(params.get("learning_rate", 0.005)),
            patience=int(params.get("patience", 6)),
            validation=float(params.get("validation", 0.2)),
            class_weight=str(params.get("class_weight", "balanced")),
            sparsity=float(params.get("sparsity", default_sparsity)),
            qat="qat" in comp,
            qat_epochs=int(params.get("qat_epochs", max(2, epochs // 3))),
        )


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
    cfg: TrainConfig,
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
        MagnitudePruning(cfg.sparsity, total_steps=steps * cfg.epochs, end=0.6)
        if cfg.sparsity > 0
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
        done += run(qat_model, cfg.qat_epochs, done, [fake])
        fake.finalize()
        if pruner is not None:
            pruner.apply_masks()
        model = without_activation_quant(build, qat_model)
    return Fitted(model, done, sparsity(model) if pruner is not None else 0.0)
