"""Anomaly detectors: fit on normal rows, choose the threshold on held-out rows.

``y`` holds 0 (normal) and 1 (anomaly). A detector is trained on part of the normal
rows; the others (one contiguous block: windows come in recording and time order, and
a random choice would leave each held-out window's overlapping neighbours in training,
scoring it as if seen), and every anomaly row, form the validation set on which the
threshold is chosen:

* with anomalies in the validation set, the threshold maximises balanced accuracy,
  half-way between the two validation scores it falls between (the largest margin on
  both sides; ties: the highest such gap, i.e. the fewest alarms). At the highest
  normal score itself, as it was, every normal window scoring a little higher than
  the held-out ones raised an alarm (a false-positive rate of 0.5 on test data the
  detector separated perfectly);
* with normal rows only, it is the ``quantile`` of their scores (default 0.95: about
  5 % false alarms on normal data).

A row is an anomaly when its score is strictly above the threshold, in Python and C.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from ..errors import DataError
from ._base import FamilyParams
from ._checks import check_features, validation_block


class AnomalyParams(FamilyParams):
    """The threshold parameters every anomaly family shares (:func:`split_anomaly`,
    :func:`pick_threshold`)."""

    validation: float = Field(
        default=0.25,
        gt=0.0,
        lt=1.0,
        description="Share of the normal rows held out to choose the threshold (networks also "
        "stop training early on it).",
    )
    quantile: float = Field(
        default=0.95,
        gt=0.0,
        le=1.0,
        description="Quantile of the held-out normal scores used as the threshold when no "
        "anomaly is held out.",
    )


@dataclass(frozen=True)
class AnomalySplit:
    fit_x: np.ndarray  # normal rows to fit on
    val_x: np.ndarray  # held-out normal rows, then every anomaly row
    val_y: np.ndarray  # 0 / 1 for val_x


def split_anomaly(x: np.ndarray, y: np.ndarray, validation: float, seed: int) -> AnomalySplit:
    """Split the normal rows into fit / validation (``validation`` of them, a contiguous
    block at a seeded place); anomalies go to validation.

    Raises:
        DataError: labels other than 0/1, or too few normal rows.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    check_features(x, y)
    bad = sorted(set(np.unique(y).tolist()) - {0, 1})
    if bad:
        raise DataError(f"anomaly labels must be 0 (normal) or 1 (anomaly), got {bad}")
    normal = np.flatnonzero(y == 0)
    if len(normal) == 0:
        raise DataError("no normal rows (label 0) to train the anomaly detector on")
    tr, va = validation_block(len(normal), validation, seed)
    anomalies = np.flatnonzero(y == 1)
    val_rows = np.concatenate([normal[va], anomalies])
    val_y = np.concatenate([np.zeros(len(va), dtype=np.int64), np.ones(len(anomalies), np.int64)])
    return AnomalySplit(x[normal[tr]], x[val_rows], val_y)


def pick_threshold(scores: np.ndarray, y_val: np.ndarray, quantile: float) -> np.float32:
    """float32 threshold on validation ``scores``; see the module docstring."""
    s = np.asarray(scores, dtype=np.float32)
    if not 0.0 < quantile <= 1.0:
        raise DataError(f"quantile must be in (0, 1], got {quantile}")
    if not np.any(y_val == 1):
        return np.float32(np.quantile(s.astype(np.float64), quantile, method="higher"))
    levels = np.unique(s)
    best, best_ba = len(levels) - 1, -1.0
    for i in range(len(levels) - 1, -1, -1):  # highest first: ties keep the fewest alarms
        flag = s > levels[i]
        tpr = flag[y_val == 1].mean()
        tnr = (~flag[y_val == 0]).mean() if np.any(y_val == 0) else 1.0
        ba = 0.5 * (tpr + tnr)
        if ba > best_ba:
            best, best_ba = i, ba
    if best == len(levels) - 1:
        return np.float32(levels[best])  # nothing above it: no alarm on validation
    # half-way to the next score up: the same validation decisions, the widest margin
    low, high = float(levels[best]), float(levels[best + 1])
    mid = np.float32(low + 0.5 * (high - low))
    return mid if levels[best] <= mid < levels[best + 1] else np.float32(levels[best])
