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

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import Field

from ..params import Params


class Augment(Params):
    """Validated augmentation parameters (``augment.<name>`` in a recipe; see the module
    docstring)."""

    copies: int = Field(
        default=0, ge=0, le=16, description="Altered copies of each training window (0: off)."
    )
    scale: float = Field(
        default=0.1, ge=0.0, le=1.0, description="Std of the per-channel gain around 1."
    )
    shift: float = Field(
        default=0.1, ge=0.0, le=0.5, description="Largest time shift, a share of the window."
    )
    warp: float = Field(
        default=0.0, ge=0.0, le=0.5, description="Largest change of speed of the time warp."
    )
    mix: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Largest share of another same-class window blended in.",
    )
    noise: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="Gaussian noise, times each channel's standard deviation.",
    )

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Augment:
        """From a recipe's ``augment.*`` values.

        Raises:
            ParamError: an unknown parameter or a value out of its range.
        """
        return cls.read(params, "augment")

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


__all__ = ["Augment", "augment"]
