"""Augmentation of training windows, for data sets too small to learn from as they are.

A recipe (or a spec's recipe overrides) turns it on with ``augment.*`` parameters, in its
search space like any other (``augment.copies: {choice: [0, 2]}``). Each training window
then gets ``copies`` altered copies, made with, in this order:

* ``scale``: each channel multiplied by a factor drawn from N(1, scale);
* ``shift``: the window moved in time by up to ``shift`` of its length (the edge sample
  repeated into the gap);
* ``warp``: a smooth random change of speed (a random walk of speeds, at most
  ``1 ± warp``), resampled to the window's length by linear interpolation;
* ``mix``: blended with another window of the same class, ``(1 - λ) a + λ b`` with
  ``λ ~ U(0, mix)`` (regression targets blend the same way);
* ``noise``: Gaussian noise of ``noise`` times each channel's standard deviation over
  the training windows.

Only the windows a model is trained on are augmented: in cross-validation the training
folds, never the validation fold, and never the test split. Everything is drawn from
``numpy.random.default_rng(seed)``, so the same seed gives the same copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import CatalogError

#: The parameters, their defaults and their ranges (``augment.<name>`` in a recipe).
PARAMS: dict[str, tuple[float, float, float]] = {
    "copies": (0, 0, 16),
    "scale": (0.1, 0.0, 1.0),
    "shift": (0.1, 0.0, 0.5),
    "warp": (0.0, 0.0, 0.5),
    "mix": (0.0, 0.0, 1.0),
    "noise": (0.05, 0.0, 1.0),
}


@dataclass(frozen=True)
class Augment:
    """Validated augmentation parameters (see the module docstring)."""

    copies: int = 0
    scale: float = 0.1
    shift: float = 0.1
    warp: float = 0.0
    mix: float = 0.0
    noise: float = 0.05

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Augment:
        """From a recipe's ``augment.*`` values.

        Raises:
            CatalogError: an unknown parameter or a value out of its range.
        """
        unknown = sorted(set(params) - set(PARAMS))
        if unknown:
            raise CatalogError(
                f"augment has no parameter {', '.join(unknown)}; its parameters are "
                f"{', '.join(PARAMS)}"
            )
        values: dict[str, Any] = {}
        for name, (default, lo, hi) in PARAMS.items():
            v = params.get(name, default)
            if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
                raise CatalogError(
                    f"augment.{name} must be a number in [{lo:g}, {hi:g}], got {v!r}"
                )
            if name == "copies" and int(v) != v:
                raise CatalogError(f"augment.copies must be a whole number, got {v!r}")
            values[name] = int(v) if name == "copies" else float(v)
        return cls(**values)

    @property
    def active(self) -> bool:
        return self.copies > 0


def _shift(x: np.ndarray, steps: int) -> np.ndarray:
    if steps == 0:
        return x
    if steps > 0:
        return np.concatenate([np.repeat(x[:1], steps, axis=0), x[:-steps]])
    return np.concatenate([x[-steps:], np.repeat(x[-1:], -steps, axis=0)])


def _warp(x: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    n = len(x)
    speeds = 1 + np.clip(np.cumsum(rng.normal(0, strength / 4, n)), -strength, strength)
    t = np.concatenate([[0.0], np.cumsum(speeds[:-1])])
    t = t / t[-1] * (n - 1) if t[-1] > 0 else np.arange(n, dtype=np.float64)
    grid = np.arange(n, dtype=np.float64)
    return np.stack([np.interp(grid, t, x[:, c]) for c in range(x.shape[1])], axis=1)


def augment(x: np.ndarray, y: np.ndarray, aug: Augment, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` altered copies of every window of ``x (n, length, channels)``, with
    their targets; the originals are not included (the caller keeps them)."""
    if not aug.active or len(x) == 0:
        return x[:0], y[:0]
    rng = np.random.default_rng(seed)
    x64 = np.asarray(x, dtype=np.float64)
    std = x64.reshape(-1, x64.shape[2]).std(axis=0)
    numeric = y.dtype.kind == "f"
    same = {c: np.flatnonzero(y == c) for c in ([] if numeric else np.unique(y))}
    xs: list[np.ndarray] = []
    ys: list[Any] = []
    n, length, channels = x64.shape
    for _ in range(aug.copies):
        for i in range(n):
            w = x64[i] * rng.normal(1.0, aug.scale, channels)
            w = _shift(w, int(rng.integers(-int(aug.shift * length), int(aug.shift * length) + 1)))
            if aug.warp > 0:
                w = _warp(w, aug.warp, rng)
            target = y[i]
            if aug.mix > 0:
                lam = rng.uniform(0, aug.mix)
                j = int(rng.integers(n)) if numeric else int(rng.choice(same[y[i]]))
                w = (1 - lam) * w + lam * x64[j]
                if numeric:
                    target = (1 - lam) * y[i] + lam * y[j]
            w = w + rng.normal(0, 1, w.shape) * (aug.noise * std)
            xs.append(w)
            ys.append(target)
    return np.stack(xs).astype(np.float32), np.asarray(ys, dtype=y.dtype)


__all__ = ["PARAMS", "Augment", "augment"]
