"""One candidate: features, model, score by grouped cross-validation, analytic cost."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    mean_absolute_error,
    roc_auc_score,
)
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

from ..cost import Cost
from ..data import Dataset
from ..data.augment import Augment, augment
from ..features import FEATURES, FeatureBlock, FeaturePipeline
from ..hardware.analytic import analytic_cost
from ..models import MODELS, DeployedModel, ModelFamily
from ..resolver import Plan
from ._space import CandidateConfig

OnEpoch = Callable[[int, float], None]


@dataclass
class Candidate:
    """One trained pipeline with its cost."""

    config: CandidateConfig
    features: FeaturePipeline
    model: DeployedModel
    cost: Cost


def score(
    metric: str, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None = None
) -> float:
    """The task metric. ``scores`` (anomaly scores) are needed for ``roc_auc``."""
    if metric == "accuracy":
        return float(accuracy_score(y_true, y_pred))
    if metric == "balanced_accuracy":
        return float(balanced_accuracy_score(y_true, y_pred))
    if metric == "f1_macro":
        return float(f1_score(y_true, y_pred, average="macro"))
    if metric == "mae":
        return float(mean_absolute_error(y_true, y_pred))
    if metric == "rmse":
        return float(
            np.sqrt(np.mean((np.asarray(y_true, np.float64) - np.asarray(y_pred, np.float64)) ** 2))
        )
    if metric == "roc_auc":
        assert scores is not None
        return float(roc_auc_score(y_true, scores))
    raise ValueError(f"unknown metric {metric!r}")


def evaluate(metric: str, model: DeployedModel, x: np.ndarray, y: np.ndarray) -> float:
    """Score a deployed model on features ``x`` with targets ``y``."""
    pred = model.predict(x)
    scores = model.outputs(x)[:, 0] if metric == "roc_auc" else None
    return score(metric, y, pred, scores)


class FeatureCache:
    """Window-block outputs by block, parameters and split, computed once per search.

    Window blocks are stateless, so their outputs are shared by every trial and fold;
    vector blocks (projections) are fitted per fold and never cached.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._cache: dict[tuple[str, str, str], np.ndarray] = {}

    def pipeline(self, config: CandidateConfig) -> FeaturePipeline:
        """Fresh blocks for ``config``; window blocks that learn (e.g. ``raw`` with
        normalisation) are fitted on the whole training split here, so their cached
        outputs are those of the deployed block (a per-channel mean and scale: the
        folds of cross-validation share it, a negligible leak)."""
        ds = self.dataset
        blocks: list[FeatureBlock] = [
            FEATURES.get(name)(
                config.block_params.get(name, {}), ds.window, ds.channels, ds.rate_hz
            )
            for name in config.recipe.pipeline.features
        ]
        for b in blocks:
            if b.input == "window" and type(b).fit is not FeatureBlock.fit:
                b.fit(ds.train.x, ds.train.y)
        return FeaturePipeline(blocks)

    def _block_output(self, block: FeatureBlock, split: str) -> np.ndarray:
        key = (block.name, json.dumps(block.params, sort_keys=True, default=str), split)
        if key not in self._cache:
            self._cache[key] = block.transform(getattr(self.dataset, split).x)
        return self._cache[key]

    def window_features(self, pipe: FeaturePipeline, split: str) -> np.ndarray:
        return pipe.window_features(getattr(self.dataset, split).x, self._block_output, split)


def n_classes(ds: Dataset) -> int:
    """What ``ModelFamily.fit`` expects: class count, 0 for regression, 2 for anomaly."""
    return len(ds.classes)


def _fit(
    family: ModelFamily,
    x: np.ndarray,
    y: np.ndarray,
    ds: Dataset,
    config: CandidateConfig,
    seed: int,
    on_epoch: OnEpoch | None,
    input_shape: tuple[int, ...],
) -> DeployedModel:
    return family.fit(
        x, y, n_classes(ds), config.model_params, seed, input_shape=input_shape, on_epoch=on_epoch
    )


def augmentation(config: CandidateConfig) -> Augment:
    """The candidate's training-window augmentation (``augment.*`` parameters)."""
    return Augment.from_params(config.block_params.get("augment", {}))


def _with_copies(
    pipe: FeaturePipeline,
    v: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    aug: Augment,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Window features ``v`` of windows ``x`` with those of their augmented copies."""
    if not aug.active:
        return v, y
    xa, ya = augment(x, y, aug, seed)
    return np.concatenate([v, pipe.window_features(xa)]), np.concatenate([y, ya])


def build(config: CandidateConfig, cache: FeatureCache, plan: Plan) -> Candidate:
    """Fit ``config`` on all training windows (and their augmented copies) and cost it."""
    ds = cache.dataset
    pipe = cache.pipeline(config)
    v, y = _with_copies(
        pipe,
        cache.window_features(pipe, "train"),
        ds.train.x,
        ds.train.y,
        augmentation(config),
        plan.seed,
    )
    pipe.fit_vector(v, y)
    family = MODELS.get(config.recipe.pipeline.model)()
    model = _fit(
        family, pipe.transform_vector(v), y, ds, config, plan.seed, None, pipe.output_shape
    )
    cost = analytic_cost(pipe, model, plan.target, plan.core, calibration=plan.calibration)
    return Candidate(config, pipe, model, cost)


def _splitter(ds: Dataset, folds: int, seed: int) -> GroupKFold | StratifiedGroupKFold:
    y, groups = ds.train.y, ds.train.fold_groups
    folds = max(2, min(folds, len(np.unique(groups))))
    if ds.task == "regression":
        return GroupKFold(n_splits=folds)
    counts = np.bincount(y.astype(np.int64))
    folds = max(2, min(folds, int(counts[counts > 0].min())))
    return StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)


@dataclass(frozen=True, eq=False)
class Validated:
    """A cross-validation: the mean score over the folds and, for each training window,
    the outputs (what the C writes to ``out``: class scores, a value, an anomaly score)
    and the prediction of the model of the fold that held it out."""

    score: float
    outputs: np.ndarray  # float64 (windows, outputs)
    predicted: np.ndarray  # float64 (windows,)

    def fingerprint(self) -> str:
        """A short digest of the out-of-fold outputs and predictions: configurations
        with the same one are the same model on these folds (a k-NN's prototype limit
        of 64 or 256 where a fold holds 45 windows); the race enters one of them.
        Outputs, not only the predicted classes, since near-perfect models of any kind
        predict alike; the predictions too, since an anomaly detector's threshold
        (``quantile``) changes them and not its scores."""
        h = hashlib.sha256(str(self.outputs.shape).encode())
        h.update(np.ascontiguousarray(self.outputs, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(self.predicted, dtype=np.float64).tobytes())
        return h.hexdigest()[:16]


def _by_window(
    n: int, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Each fold's validation (indices, outputs, predictions) put in window order."""
    if not parts:
        raise ValueError("a cross-validation without a fold")
    outputs = np.zeros((n, parts[0][1].shape[1]), dtype=np.float64)
    predicted = np.zeros(n, dtype=np.float64)
    for va, out, pred in parts:
        outputs[va] = out
        predicted[va] = pred
    return outputs, predicted


def cross_validate(
    config: CandidateConfig,
    cache: FeatureCache,
    plan: Plan,
    on_epoch: OnEpoch | None = None,
    check: Callable[[], None] | None = None,
    seed: int | None = None,
) -> Validated:
    """Grouped cross-validation of the deployed model on the training recordings: the
    mean score over the folds and the out-of-fold outputs and predictions
    (:class:`Validated`).

    Projections are refitted inside each fold, so no validation window leaks into them.
    ``on_epoch`` (pruning) sees the epochs of the first fold only. For anomaly
    detection with ``roc_auc``, folds whose validation part has one class only are
    skipped; when every fold is, the score is the share of validation windows
    classified correctly. ``check`` runs before each fold (it may raise to stop).
    ``seed`` (default: the spec's) draws the folds and seeds the model's training; a
    re-score on other folds passes another one.
    """
    seed = plan.seed if seed is None else seed
    ds = cache.dataset
    v = cache.window_features(cache.pipeline(config), "train")
    y, groups = ds.train.y, ds.train.fold_groups  # recordings, or subjects (split by subject)
    aug = augmentation(config)
    family = MODELS.get(config.recipe.pipeline.model)()
    metric = plan.spec.spec.task.resolved_metric
    scores: list[float] = []
    fallback: list[float] = []
    held_out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for fold, (tr, va) in enumerate(
        _splitter(ds, plan.spec.spec.search.folds, seed).split(v, y, groups)
    ):
        if check is not None:
            check()
        pipe = cache.pipeline(config)
        # augmented copies of the training fold only: the validation fold stays as it is
        v_tr, y_tr = _with_copies(pipe, v[tr], ds.train.x[tr], y[tr], aug, seed + 1 + fold)
        pipe.fit_vector(v_tr, y_tr)
        model = _fit(
            family,
            pipe.transform_vector(v_tr),
            y_tr,
            ds,
            config,
            seed,
            on_epoch if fold == 0 else None,
            pipe.output_shape,
        )
        xv = pipe.transform_vector(v[va])
        pred = model.predict(xv)
        out = model.outputs(xv)
        held_out.append((va, out, pred))
        ranked = out[:, 0] if metric == "roc_auc" else None
        if ranked is not None and len(np.unique(y[va])) < 2:
            fallback.append(float(np.mean(pred == y[va])))
            continue
        scores.append(score(metric, y[va], pred, ranked))
    return Validated(float(np.mean(scores if scores else fallback)), *_by_window(len(y), held_out))
