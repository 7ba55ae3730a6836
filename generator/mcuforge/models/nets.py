"""Keras 3 network families, deployed as full-int8 models.

Each family builds a small network, trains it (:mod:`._keras`: seeded, standardised
inputs folded into the first layer, early stopping, class weights, pruning, QAT),
converts it with :func:`mcuforge.compress.int8.quantize_int8` and returns an
:class:`mcuforge.models.int8.Int8Model`: the search scores, and the C runs, the int8
network, never the float one.

* ``mlp``: dense layers on a feature vector (classification).
* ``mlp_regressor``: the same with one linear output (regression).
* ``cnn1d``: 1-D convolutions over a raw window ``(length, channels)``.
* ``cnn1d_regressor``: the same with one linear output (regression).
* ``ds_cnn``: depthwise-separable 2-D convolutions over a spectrogram ``(frames, coeffs)``.
* ``autoencoder``: a dense autoencoder (anomaly); the score is the reconstruction
  mean squared error, the threshold is chosen on held-out rows with the int8 model.

Shared parameters (:class:`~._keras.TrainParams`): ``epochs``, ``batch_size``,
``learning_rate``, ``patience``, ``validation``, ``class_weight``, ``sparsity``,
``qat_epochs`` and ``compression`` (``int8`` | ``qat_int8`` | ``prune_int8`` |
``prune_qat_int8``); each family's own in its ``Params`` model below.
Classifiers output logits (no softmax: the argmax is the same and int8 keeps more
resolution).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from .._deadline import critical
from .._lazy import keras
from ..compress.int8 import quantize_int8
from ..errors import DataError
from ._anomaly import AnomalyParams, pick_threshold, split_anomaly
from ._base import DeployedModel, EpochCallback, ModelCase, ModelFamily
from ._checks import check_classes, check_features, validation_split
from ._keras import (
    COMPRESSIONS,
    Fitted,
    TrainParams,
    fold_input_scaling,
    fold_output_scaling,
    standardisation,
    train,
)
from .int8 import Int8Model


class MlpParams(TrainParams):
    """``mlp`` and ``mlp_regressor``."""

    layers: int = Field(default=2, ge=1, le=16, description="Hidden dense layers.")
    units: int = Field(default=32, ge=1, le=4096, description="Units per hidden layer.")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="Dropout after each layer.")


class Cnn1dParams(TrainParams):
    """``cnn1d``."""

    layers: int = Field(default=2, ge=1, le=16, description="Convolution + pooling blocks.")
    filters: int = Field(default=8, ge=1, le=1024, description="Filters per convolution.")
    kernel_size: int = Field(
        default=5, ge=1, description="Convolution length (capped at the input length)."
    )
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="Dropout before the head.")


class DsCnnParams(TrainParams):
    """``ds_cnn``."""

    blocks: int = Field(default=2, ge=1, le=16, description="Depthwise 3x3 + pointwise 1x1 blocks.")
    filters: int = Field(default=8, ge=1, le=1024, description="Filters of every convolution.")
    kernel_size: int = Field(
        default=3, ge=1, description="Size of the stem's square kernel (capped at the input)."
    )
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="Dropout before the head.")


class AutoencoderParams(TrainParams, AnomalyParams):
    """``autoencoder``."""

    units: int = Field(default=16, ge=1, le=4096, description="Units of the outer layers.")
    bottleneck: int = Field(default=4, ge=1, le=4096, description="Units of the code layer.")


def _act(x: Any, qat: bool, name: str) -> Any:
    """An activation output, fake-quantised during QAT."""
    from ..compress.qat import ActivationQuant

    return ActivationQuant(name=f"aq_{name}")(x) if qat else x


def _mlp(p: MlpParams, n_in: int, n_out: int, qat: bool) -> keras.Model:
    inp = keras.Input((n_in,), name="features")
    x = inp
    for i in range(p.layers):
        x = keras.layers.Dense(p.units, activation="relu", name=f"dense{i}")(x)
        x = _act(x, qat, f"dense{i}")
        if p.dropout > 0:
            x = keras.layers.Dropout(p.dropout, name=f"drop{i}")(x)
    out = keras.layers.Dense(n_out, name="head")(x)
    return keras.Model(inp, out, name="mlp")


def _cnn1d(p: Cnn1dParams, shape: tuple[int, ...], n_out: int, qat: bool) -> keras.Model:
    inp = keras.Input(shape, name="window")
    x = inp
    filters, kernel = p.filters, p.kernel_size
    for i in range(p.layers):
        k = min(kernel, int(x.shape[1]))
        pad = "valid" if i == 0 else "same"  # valid: the input scaling folds exactly
        x = keras.layers.Conv1D(filters, k, padding=pad, activation="relu", name=f"conv{i}")(x)
        x = _act(x, qat, f"conv{i}")
        if int(x.shape[1]) >= 4:
            x = keras.layers.MaxPooling1D(2, name=f"pool{i}")(x)
    x = keras.layers.GlobalAveragePooling1D(name="gap")(x)
    if p.dropout > 0:
        x = keras.layers.Dropout(p.dropout, name="drop")(x)
    out = keras.layers.Dense(n_out, name="head")(x)
    return keras.Model(inp, out, name="cnn1d")


def _dscnn(p: DsCnnParams, shape: tuple[int, ...], n_out: int, qat: bool) -> keras.Model:
    frames, coeffs = shape
    inp = keras.Input((frames, coeffs, 1), name="spectrogram")
    filters, k = p.filters, p.kernel_size
    kf, kc = min(k, frames), min(k, coeffs)
    stride = (2, 1) if frames >= 2 * kf else (1, 1)
    x = keras.layers.Conv2D(
        filters, (kf, kc), strides=stride, padding="valid", activation="relu", name="conv0"
    )(inp)
    x = _act(x, qat, "conv0")
    for b in range(p.blocks):
        x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name=f"dw{b}")(x)
        x = _act(x, qat, f"dw{b}")
        x = keras.layers.Conv2D(filters, 1, activation="relu", name=f"pw{b}")(x)
        x = _act(x, qat, f"pw{b}")
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    if p.dropout > 0:
        x = keras.layers.Dropout(p.dropout, name="drop")(x)
    out = keras.layers.Dense(n_out, name="head")(x)
    return keras.Model(inp, out, name="ds_cnn")


def _autoencoder(p: AutoencoderParams, n_in: int, qat: bool) -> keras.Model:
    inp = keras.Input((n_in,), name="features")
    units, bottleneck = p.units, p.bottleneck
    x = keras.layers.Dense(units, activation="relu", name="enc")(inp)
    x = _act(x, qat, "enc")
    x = keras.layers.Dense(bottleneck, activation="relu", name="code")(x)
    x = _act(x, qat, "code")
    x = keras.layers.Dense(units, activation="relu", name="dec")(x)
    x = _act(x, qat, "dec")
    out = keras.layers.Dense(n_in, name="head")(x)
    return keras.Model(inp, out, name="autoencoder")


def _deploy(fitted: Fitted, representative: np.ndarray, task: str, seed: int) -> Int8Model:
    """Full-int8 conversion (calibrated on ``representative`` rows) into the C's form."""
    with critical():  # a conversion torn by the trial limit leaves TensorFlow unusable
        tflite = quantize_int8(fitted.model, representative, seed)
        return Int8Model(tflite, task=task)


class _NetFamily(ModelFamily):
    """Shared fit for the classifier and regressor networks."""

    compressions = COMPRESSIONS
    extra = "nn"
    training_cost = 2
    Params: ClassVar[type[TrainParams]] = MlpParams
    needs_shape: ClassVar[int] = 0  # rank of input_shape required (0: a flat vector)
    #: how inputs are standardised: per feature, per channel (last axis) or globally
    scaling: ClassVar[str] = "feature"
    #: the small network the conformance suite trains
    small: ClassVar[dict[str, Any]] = {"units": 8, "layers": 1}

    @classmethod
    def conformance_case(cls) -> ModelCase:
        return ModelCase({"epochs": 3, **cls.small}, (16, 3) if cls.needs_shape else (12,), 60)

    def _build(self, p: TrainParams, shape: tuple[int, ...], n_out: int, qat: bool) -> Any:
        assert isinstance(p, MlpParams)
        return _mlp(p, int(np.prod(shape)), n_out, qat)

    def _shape(self, x: np.ndarray, input_shape: tuple[int, ...] | None) -> tuple[int, ...]:
        if not self.needs_shape:
            return (x.shape[1],)
        if input_shape is None or len(input_shape) != self.needs_shape:
            raise DataError(
                f"model family {self.name!r} needs a {self.needs_shape}-D input (e.g. "
                f"(length, channels)), got {input_shape}; use a feature block that keeps "
                "the window's shape (raw, or a spectrogram)"
            )
        if int(np.prod(input_shape)) != x.shape[1]:
            raise DataError(f"input_shape {input_shape} does not match {x.shape[1]} features")
        return tuple(int(d) for d in input_shape)

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        params: dict[str, Any],
        seed: int,
        *,
        input_shape: tuple[int, ...] | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> DeployedModel:
        cfg = self.parse_params(params)
        assert isinstance(cfg, TrainParams)
        check_features(x, y)
        shape = self._shape(x, input_shape)
        classify = self.task == "classification"
        target: np.ndarray
        if classify:
            check_classes(y, n_classes)
            tr, va = validation_split(len(x), cfg.validation, seed, y)
            target = np.asarray(y, dtype=np.int64)
            n_out = n_classes
        else:
            tr, va = validation_split(len(x), cfg.validation, seed)
            target = np.asarray(y, dtype=np.float64)
            if not np.all(np.isfinite(target)):
                raise DataError("regression targets contain NaN or infinite values")
            n_out = 1
        xs = np.asarray(x, dtype=np.float32).reshape((len(x), *shape))
        if self.scaling == "global":  # one input channel: one mean and std
            xs = xs[..., None]
            mean, std = standardisation(xs[tr].reshape(-1, 1), per_channel=False)
        else:
            mean, std = standardisation(xs[tr], per_channel=self.scaling == "channel")
        z = ((xs - mean) / std).astype(np.float32)
        y_mean, y_std = (0.0, 1.0)
        if not classify:
            y_mean, y_std = float(target[tr].mean()), float(target[tr].std()) or 1.0
            target = (target - y_mean) / y_std

        def build(qat: bool) -> keras.Model:
            return self._build(cfg, shape, n_out, qat)

        loss: Any = (
            keras.losses.SparseCategoricalCrossentropy(from_logits=True) if classify else "mse"
        )
        fitted = train(
            build, (z[tr], target[tr]), (z[va], target[va]), cfg, loss, seed, on_epoch, classify
        )
        first = next(layer for layer in fitted.model.layers if layer.weights)
        fold_input_scaling(first, mean, std)
        if not classify:
            fold_output_scaling(
                fitted.model.get_layer("head"), np.array([y_mean]), np.array([y_std])
            )
        return _deploy(fitted, np.asarray(x, dtype=np.float32)[tr], self.task, seed)


class MlpFamily(_NetFamily):
    """Dense ReLU layers; parameters in :class:`MlpParams`."""

    name = "mlp"


class MlpRegressorFamily(_NetFamily):
    """Dense ReLU layers and one linear output (``out[0]``); parameters in :class:`MlpParams`."""

    name = "mlp_regressor"
    task = "regression"


class Cnn1dFamily(_NetFamily):
    """Conv1D + max-pool blocks, global average pooling, dense head; parameters in
    :class:`Cnn1dParams`."""

    name = "cnn1d"
    Params = Cnn1dParams
    needs_shape = 2
    scaling = "channel"
    small: ClassVar[dict[str, Any]] = {"filters": 4, "layers": 1}

    def _build(self, p: TrainParams, shape: tuple[int, ...], n_out: int, qat: bool) -> Any:
        assert isinstance(p, Cnn1dParams)
        return _cnn1d(p, shape, n_out, qat)


class Cnn1dRegressorFamily(Cnn1dFamily):
    """The :class:`Cnn1dFamily` network with one linear output (``out[0]``): a value
    from the shape of the raw window; parameters in :class:`Cnn1dParams`."""

    name = "cnn1d_regressor"
    task = "regression"


class DsCnnFamily(_NetFamily):
    """A Conv2D stem, then depthwise 3x3 + pointwise 1x1 blocks, global average pooling.

    The input is one channel (frames, coeffs); its scaling is one mean and std.
    Parameters in :class:`DsCnnParams`.
    """

    name = "ds_cnn"
    Params = DsCnnParams
    needs_shape = 2
    scaling = "global"
    small: ClassVar[dict[str, Any]] = {"filters": 4, "blocks": 1}

    def _build(self, p: TrainParams, shape: tuple[int, ...], n_out: int, qat: bool) -> Any:
        assert isinstance(p, DsCnnParams)
        return _dscnn(p, shape, n_out, qat)


class AutoencoderFamily(ModelFamily):
    """Dense autoencoder for anomaly detection (reconstruction error); parameters in
    :class:`AutoencoderParams`."""

    training_cost = 2
    name = "autoencoder"
    task = "anomaly"
    compressions = COMPRESSIONS
    extra = "nn"
    Params = AutoencoderParams

    @classmethod
    def conformance_case(cls) -> ModelCase:
        return ModelCase({"epochs": 3, "units": 8, "bottleneck": 2}, (12,), 60)

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        params: dict[str, Any],
        seed: int,
        *,
        input_shape: tuple[int, ...] | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> DeployedModel:
        cfg = self.parse_params(params)
        assert isinstance(cfg, AutoencoderParams)
        split = split_anomaly(x, y, cfg.validation, seed)
        normal_val = split.val_x[split.val_y == 0]
        mean, std = standardisation(split.fit_x, per_channel=False)
        z_fit = ((split.fit_x - mean) / std).astype(np.float32)
        z_val = ((normal_val - mean) / std).astype(np.float32)
        n_in = x.shape[1]

        def build(qat: bool) -> keras.Model:
            return _autoencoder(cfg, n_in, qat)

        fitted = train(build, (z_fit, z_fit), (z_val, z_val), cfg, "mse", seed, on_epoch, False)
        fold_input_scaling(fitted.model.get_layer("enc"), mean, std)
        fold_output_scaling(fitted.model.get_layer("head"), mean, std)
        model = _deploy(fitted, split.fit_x, "anomaly", seed)
        scores = model.outputs(split.val_x)[:, 0]  # the int8 model's reconstruction error
        model.threshold = float(pick_threshold(scores, split.val_y, cfg.quantile))
        return model
