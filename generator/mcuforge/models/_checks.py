"""Checks of training data and labels, with messages that say what to change.

Every failure is a :class:`mcuforge.errors.DataError`: the user can fix it by giving
more recordings, another split or another ``validation`` fraction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import DataError


def check_features(x: np.ndarray, y: np.ndarray) -> None:
    """``x`` is a finite 2-D float array with one row per label.

    Raises:
        DataError: wrong shape, no rows, or NaN/inf values.
    """
    if x.ndim != 2:
        raise DataError(f"features must be a 2-D array (rows, features), got shape {x.shape}")
    if len(x) != len(y):
        raise DataError(f"{len(x)} feature rows but {len(y)} labels")
    if len(x) == 0:
        raise DataError("no training rows; give the data more recordings")
    if not np.all(np.isfinite(x)):
        raise DataError("features contain NaN or infinite values; check the recordings")


def check_classes(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Class indices present in the training labels ``y`` (at least two).

    Raises:
        DataError: labels outside ``0..n_classes-1`` or a single class.
    """
    y = np.asarray(y)
    present = np.unique(y)
    if present.size and (present[0] < 0 or present[-1] >= n_classes):
        raise DataError(f"class indices must be in 0..{n_classes - 1}, got {present.tolist()}")
    if present.size < 2:
        raise DataError(
            f"the training split holds a single class ({present.tolist()}); a classifier "
            "needs at least two: give every class recordings on the training side"
        )
    return present


def check_labels(y_train: np.ndarray, y_test: np.ndarray, classes: Sequence[str]) -> None:
    """Every label of the test split was seen in training.

    Raises:
        DataError: naming the classes that only occur in the test split.
    """
    unseen = sorted(set(np.asarray(y_test).tolist()) - set(np.asarray(y_train).tolist()))
    if unseen:
        names = ", ".join(classes[i] if 0 <= i < len(classes) else str(i) for i in unseen)
        raise DataError(
            f"class {names} occurs in the test split but never in training; move some of "
            "its recordings to the training side (data.split) or drop the class"
        )


def validation_block(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train / validation row indices, the validation rows one contiguous block at a
    seeded place: rows in time order (overlapping windows of recordings) keep their
    neighbours on the same side but at the block's two edges.

    Raises:
        DataError: ``fraction`` outside (0, 1), or too few rows for both sides.
    """
    if not 0.0 < fraction < 1.0:
        raise DataError(f"validation fraction must be in (0, 1), got {fraction}")
    n_val = round(n * fraction)
    if n < 2 or n_val < 1 or n_val >= n:
        raise DataError(
            f"{n} rows are too few for a validation split of {fraction:g}; "
            "give the data more windows (shorter stride) or change `validation`"
        )
    start = int(np.random.default_rng(seed).integers(0, n - n_val + 1))
    val = np.arange(start, start + n_val)
    return np.concatenate([np.arange(start), np.arange(start + n_val, n)]), val


def validation_split(
    n: int, fraction: float, seed: int, y: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (stratified when ``y`` is given) train / validation row indices.

    Raises:
        DataError: ``fraction`` outside (0, 1), or too few rows (per class when
            stratified) for both sides to be non-empty.
    """
    if not 0.0 < fraction < 1.0:
        raise DataError(f"validation fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if y is None else [np.flatnonzero(y == c) for c in np.unique(y)]
    train: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for idx in groups:
        n_val = round(len(idx) * fraction)
        if y is not None:
            n_val = min(max(n_val, 1), len(idx) - 1)
        if len(idx) < 2 or n_val < 1 or n_val >= len(idx):
            what = "rows" if y is None else f"rows of class {int(y[idx[0]])}"
            raise DataError(
                f"{len(idx)} {what} are too few for a validation split of {fraction:g}; "
                "give the data more windows (shorter stride) or change `validation`"
            )
        perm = rng.permutation(idx)
        val.append(perm[:n_val])
        train.append(perm[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
