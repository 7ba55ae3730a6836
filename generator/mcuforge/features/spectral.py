"""Spectral features per channel: Welch-averaged power spectrum, bands, peak, centroid.

Framing: the channel's window is cut into ``frames = 1 + (length - fft_size) // hop``
frames of ``fft_size`` samples (``hop`` defaults to ``fft_size // 2``: 50 % overlap;
samples after the last whole frame are not used). Each frame has its mean removed
(``remove_mean``, default true), is multiplied by a periodic ``window`` (hann,
hamming or none) and transformed by a real FFT (our radix-2 kernel, ``_fft``). The
power spectra are averaged (Welch's method, ``scipy.signal.welch`` with
``scaling="spectrum"``, ``detrend="constant"``, but one-sided bins not doubled):
``P[k] = Σ_frames |X[k]|² / (frames (Σ w)²)``, ``k = 0..fft_size/2``.

Outputs per channel (channel-major, subset ``features``):

* ``bands``: ``bands`` energies ``Σ P[k]`` over bins ``1..fft_size/2`` split into
  contiguous groups, equally wide (``band_spacing: linear``) or geometrically growing
  (``log``); ``band_scale: log`` gives ``10 log10(max(E, 1e-10))`` (dB).
* ``dominant``: frequency in Hz of the largest ``P[k]``, ``k >= 1`` (first on ties).
* ``centroid``: ``(Σ k P[k] / Σ P[k]) · rate / fft_size`` in Hz, 0 for a silent frame.

An optional IIR ``filter`` (see :mod:`.filters`) runs over the whole window first.
``numeric: q15`` runs framing, window and FFT in fixed point (:mod:`.fixed`); the
band sums, peak and centroid then use the exact int64 spectrum. Both paths are
bit-exact between numpy and C; q15 agrees with float32 within ``Q15_TOLERANCE``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, Field, field_validator

from ..codegen.c import c_array, smallest_int_type
from ..cost import CoreCosts
from ..params import check_subset
from ._base import BlockCost, BlockParams, CFunction, FeatureBlock
from ._fft import RealFFT, Window, emit_ln, ln_f32, window_table
from ._params import FeatureParamError, need_rate, power_of_two
from .filters import Biquads, FilterParams, design
from .fixed import RealFFTQ15, block_exponent, ldexp_f32, normalise, q15_table, to_q24

F32 = np.float32
OUTPUTS = ("bands", "dominant", "centroid")
AMIN = F32(1e-10)
DB = F32(10.0 / math.log(10.0))
#: q15 vs float32, band energies: |E_q15 - E_f32| <= Q15_TOLERANCE * (the channel's
#: total band energy). Each of the log2(fft_size/2) stages halves and truncates, which
#: adds ~0.1-0.2 % of the total energy as noise (measured on Gaussian frames, fft_size
#: 64-256, like Q15 FFTs with per-stage scaling elsewhere); a window whose one spike sets
#: the block exponent leaves the rest fewer bits: 2.9 % worst case on BasicMotions at
#: fft_size 64. Centroid: within Q15_TOLERANCE * rate_hz / 2.
Q15_TOLERANCE = 0.05
Scale = Literal["linear", "log"]


@dataclass(frozen=True)
class _Q15Cost:
    """Instructions of the q15 path's integer code (see :meth:`SpectralBlock.cost`)."""

    sample: float  # per window sample: the block exponent and peak passes
    sample_mean: float  # per window sample: the mean pass (remove_mean)
    frame_sample: float  # per frame sample: conversion, window, split and power
    frame_mean: float  # per frame sample: the frame's sum (remove_mean)
    butterfly: float  # per butterfly of the FFT
    bin: float  # per spectrum bin: the band sums, peak and centroid (int64)
    fixed: float  # per channel: int64 -> float conversions, scaling


#: Fitted to QEMU counts on the Cortex-M0+ (ARMv6-M: no long multiply, two-operand
#: instructions) and the M4F (Thumb-2: SMULL, shifts folded into operands).
Q15_NARROW = _Q15Cost(44, 39, 152, 10, 61, 90, 2640)
Q15_THUMB2 = _Q15Cost(46, 32, 74, 4.5, 42, 30, 273)


class SpectralParams(BlockParams):
    """``spectral``."""

    fft_size: Annotated[int | None, AfterValidator(power_of_two)] = Field(
        default=None,
        description="FFT length, a power of two >= 8; null: the largest power of two up to "
        "the window, at most 64.",
    )
    hop: int | None = Field(
        default=None, ge=1, description="Samples between frames (<= fft_size); null: fft_size / 2."
    )
    window: Window = Field(default="hann", description="Window of each frame.")
    bands: int = Field(
        default=8, ge=1, description="Band energies per channel (at most fft_size / 2)."
    )
    band_scale: Scale = Field(default="linear", description="Band energies as power, or in dB.")
    band_spacing: Scale = Field(
        default="linear", description="Band edges spaced evenly in Hz, or logarithmically."
    )
    features: list[str] = Field(
        default_factory=lambda: list(OUTPUTS),
        description=f"Outputs per channel, a non-empty subset of {', '.join(OUTPUTS)}.",
    )
    remove_mean: bool = Field(default=True, description="Subtract each frame's mean first.")
    filter: FilterParams | None = Field(
        default=None, description="A Butterworth pre-filter, {kind, order, cutoff_hz}; null: none."
    )
    numeric: Literal["float32", "q15"] = Field(
        default="float32", description="float32, or q15 fixed point (cores without an FPU)."
    )

    @field_validator("features")
    @classmethod
    def _subset(cls, v: list[str]) -> list[str]:
        return check_subset(v, OUTPUTS)


def band_edges(bands: int, m: int, spacing: str) -> list[int]:
    """``bands + 1`` increasing bin edges covering bins ``1..m`` (each band >= 1 bin)."""
    if spacing == "linear":
        raw = np.linspace(1, m + 1, bands + 1)
    else:
        raw = np.geomspace(1, m + 1, bands + 1)
    edges = [1]
    for i in range(1, bands):
        edges.append(max(round(float(raw[i])), edges[-1] + 1))
    edges.append(m + 1)
    if edges[-2] >= edges[-1]:
        raise FeatureParamError(
            f"spectral.bands={bands} with band_spacing {spacing} leaves an empty band for "
            f"fft_size={2 * m}; use fewer bands or a larger fft_size"
        )
    return edges


class SpectralBlock(FeatureBlock):
    """Band energies, dominant frequency and centroid per channel (see module doc)."""

    name = "spectral"
    Params = SpectralParams

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        super().__init__(params, length, channels, rate_hz)
        p = self.config
        assert isinstance(p, SpectralParams)
        b = self.name
        self.rate = need_rate(b, rate_hz)
        n = p.fft_size or min(64, 1 << (max(length, 1).bit_length() - 1))
        self.fft = RealFFT(n, "spectral.fft_size")
        if n > length:
            raise FeatureParamError(
                f"spectral.fft_size={n} is longer than the window ({length} samples); use "
                f"fft_size <= {1 << (length.bit_length() - 1)} or a longer `data.window`"
            )
        self.n, self.m = n, n // 2
        self.hop = n // 2 if p.hop is None else p.hop
        if self.hop > n:
            raise FeatureParamError(f"spectral.hop must be in [1, {n}] (fft_size), got {self.hop}")
        self.frames = 1 + (length - n) // self.hop
        self.window: str = p.window
        self.win = window_table(self.window, n)
        self.bands = p.bands
        if self.bands > self.m:
            raise FeatureParamError(
                f"spectral.bands must be in [1, {self.m}] (fft_size / 2), got {self.bands}"
            )
        self.band_scale: str = p.band_scale
        self.edges = band_edges(self.bands, self.m, p.band_spacing)
        self.outputs = list(p.features)
        self.remove_mean = p.remove_mean
        self.filter: Biquads | None = None if p.filter is None else design(p.filter, self.rate, b)
        self.numeric: str = p.numeric
        wsum = float(np.sum(self.win.astype(np.float64)))
        self.scale = F32(1.0 / (self.frames * wsum * wsum))
        self.bin_hz = F32(self.rate / n)
        if self.numeric == "q15":
            self.qfft = RealFFTQ15(n, "spectral.fft_size")
            self.qwin = np.minimum(q15_table(self.win), 32767)
            if (self.m + 1) ** 2 * self.frames >= 2**29:
                raise FeatureParamError(
                    f"spectral numeric q15: {self.frames} frames of fft_size={n} could "
                    "overflow the 64-bit spectrum sums; use a larger hop, a smaller fft_size "
                    "or numeric: float32"
                )

    @property
    def per_channel(self) -> int:
        return (
            (self.bands if "bands" in self.outputs else 0)
            + len(self.outputs)
            - ("bands" in self.outputs)
        )

    @property
    def feature_names(self) -> list[str]:
        names: list[str] = []
        for c in self.channels:
            if "bands" in self.outputs:
                names += [f"{c}.band{i}" for i in range(self.bands)]
            names += [f"{c}.{o}" for o in self.outputs if o != "bands"]
        return names

    # -- reference -------------------------------------------------------------------

    def _frames(self, x: np.ndarray) -> np.ndarray:
        """(n, channels, frames, fft_size) of the (filtered) window."""
        if self.filter is not None:
            x = self.filter.apply(x)
        xs = np.ascontiguousarray(np.transpose(x, (0, 2, 1)), dtype=F32)
        idx = np.arange(self.frames)[:, None] * self.hop + np.arange(self.n)[None, :]
        return xs[:, :, idx]

    def _power_float(self, fr: np.ndarray) -> np.ndarray:
        if self.remove_mean:
            total = np.zeros(fr.shape[:-1], dtype=F32)
            for i in range(self.n):
                total = total + fr[..., i]
            fr = fr - (total / F32(self.n))[..., None]
        p = self.fft.power(fr * self.win)
        acc = np.zeros(p.shape[:2] + p.shape[3:], dtype=F32)
        for f in range(self.frames):
            acc = acc + p[:, :, f]
        return (acc * self.scale).astype(F32)

    def _power_q15(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """int64 spectrum sums (n, ch, M+1) and exponent shift (n, ch)."""
        if self.filter is not None:
            x = self.filter.apply(x)
        xs = np.ascontiguousarray(np.transpose(x, (0, 2, 1)), dtype=F32)
        emax = block_exponent(xs)
        q, shift = normalise(to_q24(xs, emax), self.remove_mean)
        idx = np.arange(self.frames)[:, None] * self.hop + np.arange(self.n)[None, :]
        fr = q[:, :, idx]
        mean = (fr.sum(axis=-1) + self.n // 2) >> int(math.log2(self.n))
        if not self.remove_mean:
            mean = np.zeros_like(mean)
        v = ((fr - mean[..., None]) * self.qwin + 16384) >> 15
        acc = self.qfft.power(v).sum(axis=2)
        return acc, 2 * self.qfft.stages + 2 * (emax - 149 + shift)

    def _band_value(self, e: np.ndarray) -> np.ndarray:
        if self.band_scale == "log":
            return (DB * ln_f32(np.maximum(e, AMIN))).astype(F32)
        return e.astype(F32)

    def transform(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=F32)
        cols: list[np.ndarray] = []  # each (n, ch)
        k = np.arange(self.m + 1)
        if self.numeric == "float32":
            p = self._power_float(self._frames(x))
            if "bands" in self.outputs:
                for lo, hi in zip(self.edges[:-1], self.edges[1:], strict=True):
                    e = np.zeros(p.shape[:2], dtype=F32)
                    for j in range(lo, hi):
                        e = e + p[..., j]
                    cols.append(self._band_value(e))
            peak: np.ndarray = np.argmax(p[..., 1:], axis=-1) + 1
            num: np.ndarray = np.zeros(p.shape[:2], dtype=F32)
            den: np.ndarray = np.zeros_like(num)
            for kk in range(self.m + 1):
                num = num + F32(kk) * p[..., kk]
                den = den + p[..., kk]
        else:
            acc, shift = self._power_q15(x)
            if "bands" in self.outputs:
                for lo, hi in zip(self.edges[:-1], self.edges[1:], strict=True):
                    e = acc[..., lo:hi].sum(axis=-1).astype(F32) * self.scale
                    cols.append(self._band_value(ldexp_f32(e, shift)))
            peak = np.argmax(acc[..., 1:], axis=-1) + 1
            num = (acc * k).sum(axis=-1).astype(F32)
            den = acc.sum(axis=-1).astype(F32)
        dominant = peak.astype(F32) * self.bin_hz
        safe = np.where(den > 0, den, F32(1))
        centroid = np.where(den > 0, (num / safe) * self.bin_hz, F32(0)).astype(F32)
        out = {"dominant": dominant, "centroid": centroid}
        cols += [out[o] for o in self.outputs if o != "bands"]
        return np.stack(cols, axis=2).reshape(len(x), -1).astype(F32)

    # -- C --------------------------------------------------------------------------

    def emit_c(self, fn_name: str) -> CFunction:
        q = self.numeric == "q15"
        fft = f"{fn_name}_fft"
        parts = [f"/* Spectral features: {', '.join(self.outputs)} per channel (Welch). */"]
        parts.append(self.qfft.emit(fft) if q else self.fft.emit(fft))
        parts.append(
            c_array(f"{fn_name}_WIN", "int16_t" if q else "float", (
                self.qwin if q else self.win).tolist(), per_line=8)
        )  # fmt: skip
        edge_t = smallest_int_type(0, self.m + 1)
        parts.append(c_array(f"{fn_name}_EDGES", edge_t, self.edges, per_line=16))
        if self.band_scale == "log" and "bands" in self.outputs:
            parts.append(emit_ln(f"{fn_name}_ln"))
        if self.filter is not None:
            parts.append(self.filter.emit(f"{fn_name}_filter"))
        from ._spectral_c import c_body  # it imports this module

        body = c_body(self, fn_name, q)
        return CFunction(fn_name, "\n\n".join([*parts, body]), ("<stdint.h>",))

    # -- cost -----------------------------------------------------------------------

    def cost(self, core: CoreCosts) -> BlockCost:
        ch, n, m, fr = len(self.channels), self.n, self.m, self.frames
        fo, fd = core.float_op, core.float_div
        prep: float
        tail: float
        soft = fo > 1
        rm = int(self.remove_mean)
        # Fitted to QEMU counts (bench/features.py: fft_size 16-64, hop n/2 and n, with
        # and without remove_mean, windows of 100 and 200 samples, 2-8 bands; Cortex-M0+
        # and M4F): within 5 % on each.
        if self.numeric == "q15":
            # integer code: per sample the block exponent, peak (and mean) passes; per
            # frame sample its conversion, window and the split into power (an int64
            # product: a libgcc call on ARMv6-M); per butterfly 4 multiplies and shifts
            c = Q15_NARROW if core.narrow_integer else Q15_THUMB2
            prep = (c.sample + c.sample_mean * rm) * self.length
            per_frame = (
                c.frame_sample * n
                + c.frame_mean * rm * n
                + c.butterfly * (m // 2) * self.qfft.stages
            )
            tail = (m + 1) * c.bin + c.fixed + self.bands * (fo + 11) + 4 * fo + fd
            flash = self.qfft.flash() + 2 * n + 520
            stack = 8 * n + 8 * (m + 1)
        else:
            # the FFT (butterflies, split, power), the windowed load of each frame sample
            # (a multiply) and the mean's sum and subtraction; the spectrum's scaling,
            # bands, peak and centroid
            per_frame = self.fft.instructions(fo) + n * (1.2 * fo + 13.7)
            per_frame += rm * n * (1.9 * fo + 5.2)
            prep = 0.0
            tail = (m + 1) * (4.9 * fo + 19.3) + 44.6 * fo + 179
            flash = self.fft.flash(soft) + 4 * n + 400
            stack = 4 * n + 8 * (m + 1)
        if self.band_scale == "log":
            tail += self.bands * (12 * fo + fd + 20)
            flash += 160
        if self.filter is not None:
            prep += self.filter.instructions(self.length, fo) + 6 * self.length
            flash += self.filter.flash()
            stack += 4 * self.length
        # the soft-float library itself is counted once per program (core table)
        instructions = int(ch * (prep + fr * per_frame + tail + 20))
        return BlockCost(int(flash + len(self.edges)), int(stack + 48), instructions)
