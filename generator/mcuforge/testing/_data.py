"""Deterministic synthetic data for the conformance suites: windows a model can learn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Seed of every synthetic data set (the suites are deterministic).
SEED = 20261129


@dataclass(frozen=True)
class Windows:
    """Labelled windows: float32 ``x (n, length, channels)``, ``y (n,)``."""

    x: np.ndarray
    y: np.ndarray


def windows(
    n: int, length: int, channels: int, rate_hz: float, n_classes: int = 3, seed: int = SEED
) -> Windows:
    """Windows of ``n_classes`` classes that differ in frequency, amplitude and offset,
    with noise; classes alternate so every prefix holds all of them."""
    rng = np.random.default_rng(seed)
    t = np.arange(length) / rate_hz
    y = np.arange(n) % max(n_classes, 1)
    x = np.empty((n, length, channels), dtype=np.float64)
    nyquist = rate_hz / 2
    for i in range(n):
        c = y[i]
        freq = nyquist * (0.05 + 0.12 * c) * rng.uniform(0.9, 1.1)
        for ch in range(channels):
            phase = rng.uniform(0, 2 * np.pi)
            amp = (1.0 + 0.6 * c) * (1 + 0.1 * ch)
            x[i, :, ch] = amp * np.sin(2 * np.pi * freq * t + phase) + 0.3 * c * (ch % 2)
        x[i] += rng.normal(0, 0.2, size=(length, channels))
    return Windows(x.astype(np.float32), y.astype(np.int64))


def features(n: int, k: int, n_classes: int = 3, seed: int = SEED) -> Windows:
    """Feature vectors ``(n, 1, k)`` with class-dependent means (a window of one sample)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % max(n_classes, 1)
    centres = rng.normal(0, 2.0, size=(max(n_classes, 1), k))
    x = centres[y] + rng.normal(0, 0.7, size=(n, k))
    return Windows(x.reshape(n, 1, k).astype(np.float32), y.astype(np.int64))


def targets_for(task: str, w: Windows) -> np.ndarray:
    """``y`` as the task wants it: class index, 0/1 anomaly flag, or a float target."""
    if task == "regression":
        mean = w.x.reshape(len(w.x), -1).astype(np.float64).mean(axis=1)
        value: np.ndarray = (mean * 3 + w.y).astype(np.float32)
        return value
    if task == "anomaly":
        flag: np.ndarray = (w.y == w.y.max()).astype(np.int64)
        return flag
    return w.y


__all__ = ["SEED", "Windows", "features", "targets_for", "windows"]
