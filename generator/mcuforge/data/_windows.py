"""Cutting a recording into windows, with the policy for recordings shorter than the window.

:func:`plan_cut` decides what happens to a recording of ``n`` samples (how many windows,
and whether it is kept as is, dropped, padded, resampled or truncated); :func:`fill`
writes those windows into a preallocated array, reading the samples through a strided
view, so a split's windows are written once and never concatenated.

``short`` (``data.window.short``):

* ``auto`` / ``drop``: a recording shorter than the window gives no window;
* ``pad``: it gives one window, padded at the end with ``pad_with`` (``edge`` repeats
  its last sample);
* ``whole``: every recording gives exactly one window of ``length`` samples, by linear
  interpolation (``fit: resample``: ``y[i] = x(i (n - 1) / (length - 1))``) or by
  padding / keeping the first ``length`` samples (``fit: pad``).

Regression targets follow their samples the same way; a window's target is their mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..spec import Window

Status = Literal["ok", "dropped", "padded", "resampled", "truncated"]


@dataclass(frozen=True)
class Cut:
    """What the policy does to one recording: its status and its number of windows."""

    status: Status
    n: int


def plan_cut(n: int, length: int, stride: int, window: Window) -> Cut:
    """The windows a recording of ``n`` samples gives under ``window``'s policy."""
    if window.short == "whole":
        if n == length:
            return Cut("ok", 1)
        if window.fit == "resample":
            return Cut("resampled", 1)
        return Cut("padded" if n < length else "truncated", 1)
    if n >= length:
        return Cut("ok", (n - length) // stride + 1)
    if window.short == "pad":
        return Cut("padded", 1)
    return Cut("dropped", 0)


def _pad(x: np.ndarray, length: int, pad_with: float | str) -> np.ndarray:
    widths = ((0, length - len(x)), *((0, 0),) * (x.ndim - 1))
    if pad_with == "edge":
        return np.pad(x, widths, mode="edge")
    return np.pad(x, widths, mode="constant", constant_values=float(pad_with))


def _resample(x: np.ndarray, length: int) -> np.ndarray:
    """Linear interpolation of ``x`` (n, channels) at ``length`` evenly spaced points."""
    n = len(x)
    at = np.linspace(0.0, n - 1.0, length)
    src = np.arange(n, dtype=np.float64)
    return np.stack(
        [np.interp(at, src, x[:, c].astype(np.float64)) for c in range(x.shape[1])], axis=1
    )


def one_window(x: np.ndarray, cut: Cut, length: int, window: Window) -> np.ndarray:
    """The single window of a padded, resampled or truncated recording ``x`` (n, channels)."""
    if cut.status == "padded":
        return _pad(x, length, window.pad_with)
    if cut.status == "resampled":
        return _resample(x, length)
    return x[:length]


def fill(
    out: np.ndarray, x: np.ndarray, cut: Cut, length: int, stride: int, window: Window
) -> None:
    """Write the ``cut.n`` windows of ``x`` (n, channels) into ``out`` (cut.n, length, channels)."""
    if cut.status == "ok" and len(x) == length:  # one window: the recording (a table row)
        out[0] = x
    elif cut.status == "ok":
        view = sliding_window_view(x, length, axis=0)[::stride]  # (k, channels, length)
        out[...] = view.transpose(0, 2, 1)
    elif cut.n:
        out[0] = one_window(x, cut, length, window)


def window_targets(
    targets: np.ndarray, cut: Cut, length: int, stride: int, window: Window
) -> np.ndarray:
    """Each window's regression target: the mean of its samples' targets (float64)."""
    if cut.status == "ok" and len(targets) == length:
        return np.asarray([targets.mean()])
    if cut.status == "ok":
        return np.asarray(sliding_window_view(targets, length)[::stride].mean(axis=1))
    if not cut.n:
        return np.empty(0)
    edge = window.model_copy(update={"pad_with": "edge"})  # a target is never a pad value
    return np.asarray([one_window(targets[:, None], cut, length, edge).mean()])
