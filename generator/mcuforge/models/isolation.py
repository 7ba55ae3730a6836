"""Isolation forest anomaly detector, deployed as a :class:`TreeSum`.

Each leaf stores minus its isolation path length, ``-(depth + c(n_leaf))`` where
``c(n)`` is the mean path length of an unsuccessful search in a binary tree of ``n``
points (as sklearn). The anomaly score, ``out[0]``, is minus the mean path length over
the trees (float32, summed in tree order, then times ``1/trees``): short paths (easy to
isolate) give high scores. sklearn's ``2^(-E(h)/c(max_samples))`` is a monotone map
of the same mean, left out because ``exp2f`` is not bit-exact across C libraries.
The threshold is chosen on held-out rows (see :mod:`._anomaly`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ._anomaly import pick_threshold, split_anomaly
from ._base import DeployedModel, EpochCallback, ModelFamily
from ._flat import TREE_COMPRESSIONS, FlatForest
from ._tree_params import IsolationParams
from .tree_sums import build_tree_sum

EULER_GAMMA = 0.5772156649015329


def average_path_length(n: np.ndarray) -> np.ndarray:
    """``c(n)``: 0 for n ≤ 1, 1 for n = 2, ``2 H(n-1) - 2 (n-1)/n`` above."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + EULER_GAMMA) - 2.0 * (n[big] - 1.0) / n[big]
    return out


class IsolationForestFamily(ModelFamily):
    """Random isolation trees on normal rows; the threshold from held-out rows;
    parameters in :class:`IsolationParams`."""

    name = "isolation_forest"
    compressions = TREE_COMPRESSIONS
    task = "anomaly"
    size_param = "n_estimators"
    Params = IsolationParams

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
        p = self.parse_params(params)
        assert isinstance(p, IsolationParams)
        split = split_anomaly(x, y, p.validation, seed)
        max_samples = min(p.max_samples, len(split.fit_x))
        from sklearn.ensemble import IsolationForest

        forest = IsolationForest(
            n_estimators=p.n_estimators,
            max_samples=max_samples,
            random_state=seed,
            n_jobs=1,
        ).fit(split.fit_x)

        def leaf_values(k: int, flat: FlatForest) -> np.ndarray:
            samples = forest.estimators_[k].tree_.n_node_samples[flat.leaf_ids[k]]
            path: np.ndarray = -(flat.leaf_depth[k] + average_path_length(samples))
            return path

        model = build_tree_sum(
            list(forest.estimators_),
            [0] * len(forest.estimators_),
            [],
            np.zeros(1),
            True,
            split.fit_x,
            p,
            "anomaly",
            feature_maps=list(forest.estimators_features_),
            leaf_fn=leaf_values,
        )
        scores = model.outputs(split.val_x)[:, 0]
        threshold = pick_threshold(scores, split.val_y, p.quantile)
        return replace(model, threshold=threshold)
