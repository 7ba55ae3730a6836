"""Log-mel energies (``mfe``) and MFCC (``mfcc``) of a single-channel audio window.

Convention: librosa's, with ``center=False`` (no padding: an MCU sees only the
window), i.e. what these calls compute::

    S = librosa.feature.melspectrogram(y=x, sr=rate, n_fft=n_fft, hop_length=stride,
        win_length=frame, window="hann", center=False, power=2.0, n_mels=n_mels,
        fmin=fmin, fmax=fmax, htk=False, norm="slaney")
    mfe = librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=top_db)
    mfcc = librosa.feature.mfcc(S=mfe, n_mfcc=n_mfcc, dct_type=2, norm="ortho")

``frame_length`` and ``frame_stride`` are in **seconds** (rounded to samples at the
block's ``rate_hz``, so a recipe means the same thing at 8 and 16 kHz); ``n_fft`` is
in samples (default: the next power of two >= the frame). Frame ``f`` spans samples
``f*stride .. f*stride + n_fft``; the periodic Hann window of ``frame`` samples sits in
its middle (librosa's ``pad_center``); ``frames = 1 + (length - n_fft) // stride``.
The result is ``(frames, n_mels)`` or ``(frames, n_mfcc)``, row-major, transposed
from librosa's ``(n_mels, frames)``.

Everything is implemented here in numpy (no librosa dependency): the Slaney mel
filterbank and the orthonormal DCT-II are computed in float64 and emitted as float32
tables (the filterbank sparse: first bin and weights of each filter); the power
spectrum is our real FFT (``_fft``); the logarithm is ``_fft.ln_f32`` (no libm), so
the C is bit-exact with :meth:`transform`. ``top_db`` clips at ``max - top_db`` over
the whole window, as librosa does (``null`` turns it off, and lets ``mfcc`` stream
frame by frame with ``n_mels`` floats of scratch instead of ``frames * n_mels``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, Field

from ..codegen.c import c_array, c_float, smallest_int_type
from ..cost import CoreCosts
from ._base import BlockCase, BlockCost, BlockParams, CFunction, FeatureBlock
from ._fft import RealFFT, emit_ln, ln_f32, window_table
from ._params import FeatureParamError, need_rate, power_of_two

F32 = np.float32
AMIN = F32(1e-10)
DB = F32(10.0 / math.log(10.0))
C_DB, C_AMIN = c_float(float(DB)), c_float(float(AMIN))


class MfeParams(BlockParams):
    """``mfe`` (and the log-mel part of ``mfcc``)."""

    frame_length: float = Field(default=0.025, gt=0.0, description="Frame length in seconds.")
    frame_stride: float = Field(default=0.02, gt=0.0, description="Seconds between frame starts.")
    n_fft: Annotated[int | None, AfterValidator(power_of_two)] = Field(
        default=None,
        description="FFT length in samples, a power of two >= 8; null: the next power of two "
        ">= the frame.",
    )
    n_mels: int = Field(default=40, ge=1, le=256, description="Mel filters.")
    fmin: float = Field(default=0.0, ge=0.0, description="Lowest frequency of the filters, Hz.")
    fmax: float | None = Field(
        default=None, gt=0.0, description="Highest frequency of the filters, Hz; null: rate / 2."
    )
    top_db: float | None = Field(
        default=80.0,
        gt=0.0,
        description="Clip at the window's maximum minus this many dB; null: no clipping "
        "(and frame-by-frame MFCC).",
    )


class MfccParams(MfeParams):
    """``mfcc``."""

    n_mfcc: int = Field(default=13, ge=1, description="Cepstral coefficients (at most n_mels).")


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale (librosa ``htk=False``): linear below 1 kHz, log above."""
    f = np.asarray(f, dtype=np.float64)
    lin = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-300) / 1000.0) / (np.log(6.4) / 27.0)
    out: np.ndarray = np.where(f >= 1000.0, log, lin).astype(np.float64)
    return out


def mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    lin = m * (200.0 / 3)
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    out: np.ndarray = np.where(m >= 15.0, log, lin).astype(np.float64)
    return out


def mel_filterbank(rate: float, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Slaney-normalised triangular filters ``(n_mels, n_fft/2 + 1)``, float64."""
    fft_f = np.linspace(0.0, rate / 2, n_fft // 2 + 1)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_f[None, :]
    w = np.zeros((n_mels, len(fft_f)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        w[i] = np.maximum(0.0, np.minimum(lower, upper))
    out: np.ndarray = w * (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return out


def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II ``(n_out, n_in)`` (``scipy.fft.dct(norm="ortho")`` rows)."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    d: np.ndarray = np.sqrt(2.0 / n_in) * np.cos(np.pi * k * (2 * n + 1) / (2 * n_in))
    d[0] = np.sqrt(1.0 / n_in)
    return d


class _AudioBlock(FeatureBlock):
    """Shared framing, FFT, mel filterbank and log of ``mfe`` and ``mfcc``."""

    Params = MfeParams

    @classmethod
    def conformance_cases(cls) -> list[BlockCase]:
        return [BlockCase({}, 4000, ("mic",), 16000.0)]

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        super().__init__(params, length, channels, rate_hz)
        p = self.config
        assert isinstance(p, MfeParams)
        b = self.name
        rate = need_rate(b, rate_hz)
        if len(channels) != 1:
            raise FeatureParamError(
                f"{b} works on one audio channel, the data has {len(channels)} "
                f"({', '.join(channels)}); keep one channel in the spec's `data.sensors`"
            )
        fl, fs = p.frame_length, p.frame_stride
        self.win_len = round(fl * rate)
        self.hop = round(fs * rate)
        if self.win_len < 2 or self.hop < 1:
            raise FeatureParamError(
                f"{b}.frame_length ({fl} s) and frame_stride ({fs} s) are in seconds and give "
                f"{self.win_len} and {self.hop} samples at {rate:g} Hz; use longer frames"
            )
        default_fft = 1 << max(3, (self.win_len - 1).bit_length())
        self.n_fft = default_fft if p.n_fft is None else p.n_fft
        self.fft = RealFFT(self.n_fft, f"{b}.n_fft")
        if self.win_len > self.n_fft:
            raise FeatureParamError(
                f"{b}.frame_length gives {self.win_len} samples, more than n_fft={self.n_fft}; "
                f"use n_fft >= {default_fft} or a shorter frame_length"
            )
        if self.n_fft > length:
            raise FeatureParamError(
                f"{b}.n_fft={self.n_fft} is longer than the window ({length} samples); use a "
                "longer `data.window` or a smaller n_fft / frame_length"
            )
        self.frames = 1 + (length - self.n_fft) // self.hop
        self.n_mels = p.n_mels
        fmin = p.fmin
        fmax = rate / 2 if p.fmax is None else p.fmax
        if not 0 <= fmin < fmax <= rate / 2:
            raise FeatureParamError(
                f"{b}: need 0 <= fmin < fmax <= rate_hz / 2 = {rate / 2:g}; got fmin={fmin:g}, "
                f"fmax={fmax:g}"
            )
        self.top_db = p.top_db
        self.win = window_table("hann", self.win_len)
        self.off = (self.n_fft - self.win_len) // 2
        w = mel_filterbank(rate, self.n_fft, self.n_mels, fmin, fmax).astype(F32)
        nz = [np.nonzero(row)[0] for row in w]
        empty = [i for i, idx in enumerate(nz) if len(idx) == 0]
        if empty:
            raise FeatureParamError(
                f"{b}: mel filters {empty[:5]} are empty with n_fft={self.n_fft} at {rate:g} Hz; "
                "use fewer n_mels or a larger n_fft"
            )
        self.mel_lo = [int(idx[0]) for idx in nz]
        self.mel_w = [w[i, idx[0] : idx[-1] + 1] for i, idx in enumerate(nz)]

    def _log_mel(self, x: np.ndarray) -> np.ndarray:
        """float32 (n, frames, n_mels) in dB, clipped by top_db, as the C computes it."""
        xs = np.ascontiguousarray(x[:, :, 0], dtype=F32)
        idx = np.arange(self.frames)[:, None] * self.hop + np.arange(self.n_fft)[None, :]
        fr = np.zeros((len(xs), self.frames, self.n_fft), dtype=F32)
        part = slice(self.off, self.off + self.win_len)
        fr[..., part] = xs[:, idx][..., part] * self.win
        p = self.fft.power(fr)
        mel = np.empty((*p.shape[:2], self.n_mels), dtype=F32)
        for m, (lo, w) in enumerate(zip(self.mel_lo, self.mel_w, strict=True)):
            acc = np.zeros(p.shape[:2], dtype=F32)
            for j, wj in enumerate(w):
                acc = acc + p[..., lo + j] * wj
            mel[..., m] = acc
        db = (DB * ln_f32(np.maximum(mel, AMIN))).astype(F32)
        if self.top_db is not None:
            floor = db.max(axis=(1, 2)) - F32(self.top_db)
            db = np.maximum(db, floor[:, None, None]).astype(F32)
        return db

    def _emit_frames(self, fn: str, dest: str, per_frame: bool) -> list[str]:
        """C that fills ``dest`` (row f, or one row when ``per_frame``) with log-mel dB."""
        row = "mel" if per_frame else f"{dest} + f * NMELS"
        return [
            "    for (f = 0; f < FRAMES; ++f) {",
            "        const float *s = x + f * HOP;",
            f"        float *row = {row};",
            "        int w = 0;",
            "        for (k = 0; k < M; ++k) { re[k] = 0.0f; im[k] = 0.0f; }",
            "        for (k = OFF; k < OFF + WL; ++k) {",
            f"            const float v = s[k] * {fn}_WIN[k - OFF];",
            f"            const int j = {fn}_fft_BITREV[k >> 1];",
            "            if (k & 1) { im[j] = v; } else { re[j] = v; }",
            "        }",
            f"        {fn}_fft(re, im, power);",
            "        for (m = 0; m < NMELS; ++m) {",
            "            float acc = 0.0f;",
            "            int i;",
            f"            for (i = 0; i < {fn}_CNT[m]; ++i, ++w) {{",
            f"                acc += power[{fn}_LO[m] + i] * {fn}_MELW[w];",
            "            }",
            f"            row[m] = {C_DB} * {fn}_ln(acc > {C_AMIN} ? acc : {C_AMIN});",
            *(["            if (row[m] > mx) { mx = row[m]; }"] if self.top_db is not None else []),
            "        }",
        ]

    def _emit_tables(self, fn: str) -> list[str]:
        cnt = [len(w) for w in self.mel_w]
        m = self.n_fft // 2
        return [
            self.fft.emit(f"{fn}_fft"),
            c_array(f"{fn}_WIN", "float", self.win.tolist()),
            c_array(f"{fn}_LO", smallest_int_type(0, m), self.mel_lo, per_line=16),
            c_array(f"{fn}_CNT", smallest_int_type(0, m + 1), cnt, per_line=16),
            c_array(f"{fn}_MELW", "float", np.concatenate(self.mel_w).tolist()),
            emit_ln(f"{fn}_ln"),
        ]

    def _enum(self) -> str:
        return (
            f"    enum {{ N = {self.n_fft}, M = {self.n_fft // 2}, HOP = {self.hop}, "
            f"OFF = {self.off}, WL = {self.win_len}, FRAMES = {self.frames}, "
            f"NMELS = {self.n_mels} }};"
        )

    def _clip(self, dest: str) -> list[str]:
        if self.top_db is None:
            return []
        return [
            "    {",
            f"        const float floor = mx - {c_float(float(F32(self.top_db)))};",
            "        for (k = 0; k < FRAMES * NMELS; ++k) {",
            f"            if ({dest}[k] < floor) {{ {dest}[k] = floor; }}",
            "        }",
            "    }",
        ]

    def _mel_cost(self, core: CoreCosts) -> tuple[float, int, int]:
        fo = core.float_op
        taps = sum(len(w) for w in self.mel_w)
        per_frame = (
            self.fft.instructions(fo)
            + self.win_len * (fo + 6)
            + self.n_fft * 2
            + taps * (2 * fo + 5)
            + self.n_mels * (14 * fo + core.float_div + 24)
        )
        instr = self.frames * per_frame + (self.top_db is not None) * self.frames * self.n_mels * (
            fo + 4
        )
        flash = self.fft.flash(fo > 1) + 4 * self.win_len + 4 * taps + 4 * self.n_mels + 420
        flash += 600 if fo > 1 else 0
        stack = 4 * (3 * (self.n_fft // 2) + 1) + 64
        return instr, flash, stack


class MfeBlock(_AudioBlock):
    """Log-mel energies in dB, ``output_shape = (frames, n_mels)``."""

    name = "mfe"

    @property
    def feature_names(self) -> list[str]:
        return [f"t{f}.mel{m}" for f in range(self.frames) for m in range(self.n_mels)]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.frames, self.n_mels)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return self._log_mel(x).reshape(len(x), -1)

    def emit_c(self, fn_name: str) -> CFunction:
        mx = ["    float mx = -3.40282347e+38f;"] if self.top_db is not None else []
        body = [
            "/* Log-mel energies (librosa convention, see mcuforge.features.audio). */",
            f"static void {fn_name}(const float *x, float *out)",
            "{",
            self._enum(),
            "    float re[M], im[M], power[M + 1];",
            *mx,
            "    int f, k, m;",
            *self._emit_frames(fn_name, "out", per_frame=False),
            "    }",
            *self._clip("out"),
            "}",
        ]
        code = "\n\n".join([*self._emit_tables(fn_name), "\n".join(body)])
        return CFunction(fn_name, code, ("<stdint.h>",))

    def cost(self, core: CoreCosts) -> BlockCost:
        instr, flash, stack = self._mel_cost(core)
        return BlockCost(int(flash), int(stack), int(instr))


class MfccBlock(_AudioBlock):
    """MFCC: orthonormal DCT-II of the log-mel frames, ``output_shape = (frames, n_mfcc)``."""

    name = "mfcc"
    Params = MfccParams

    def __init__(
        self, params: dict[str, Any], length: int, channels: list[str], rate_hz: float
    ) -> None:
        super().__init__(params, length, channels, rate_hz)
        p = self.config
        assert isinstance(p, MfccParams)
        self.n_mfcc = p.n_mfcc
        if self.n_mfcc > self.n_mels:
            raise FeatureParamError(
                f"mfcc.n_mfcc must be in [1, {self.n_mels}] (n_mels), got {self.n_mfcc}"
            )
        self.dct = dct_matrix(self.n_mfcc, self.n_mels).astype(F32)

    @property
    def feature_names(self) -> list[str]:
        return [f"t{f}.mfcc{k}" for f in range(self.frames) for k in range(self.n_mfcc)]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.frames, self.n_mfcc)

    def transform(self, x: np.ndarray) -> np.ndarray:
        db = self._log_mel(x)
        out: np.ndarray = np.zeros((*db.shape[:2], self.n_mfcc), dtype=F32)
        for m in range(self.n_mels):
            out = out + db[..., m : m + 1] * self.dct[:, m]
        return out.reshape(len(x), -1).astype(F32)

    def emit_c(self, fn_name: str) -> CFunction:
        whole = self.top_db is not None
        dct = [
            "        for (k = 0; k < NMFCC; ++k) {",
            "            float acc = 0.0f;",
            "            for (m = 0; m < NMELS; ++m) {",
            f"                acc += {'mel[f * NMELS + m]' if whole else 'mel[m]'} * "
            f"{fn_name}_DCT[k][m];",
            "            }",
            "            out[f * NMFCC + k] = acc;",
            "        }",
        ]
        frames = self._emit_frames(fn_name, "mel", per_frame=not whole)
        body = [
            "/* MFCC (librosa convention, see mcuforge.features.audio). */",
            f"static void {fn_name}(const float *x, float *out)",
            "{",
            self._enum(),
            f"    enum {{ NMFCC = {self.n_mfcc} }};",
            "    float re[M], im[M], power[M + 1];",
            f"    float mel[{'FRAMES * NMELS' if whole else 'NMELS'}];",
            *(["    float mx = -3.40282347e+38f;"] if whole else []),
            "    int f, k, m;",
            *frames,
        ]
        if whole:
            body += ["    }", *self._clip("mel"), "    for (f = 0; f < FRAMES; ++f) {"]
        body += [*dct, "    }", "}"]
        tables = [*self._emit_tables(fn_name), c_array(
            f"{fn_name}_DCT", "float", self.dct.tolist(), inner=self.n_mels)]  # fmt: skip
        return CFunction(fn_name, "\n\n".join([*tables, "\n".join(body)]), ("<stdint.h>",))

    def cost(self, core: CoreCosts) -> BlockCost:
        instr, flash, stack = self._mel_cost(core)
        instr += self.frames * self.n_mfcc * self.n_mels * (2 * core.float_op + 4)
        flash += 4 * self.n_mfcc * self.n_mels + 60
        stack += 4 * (self.frames * self.n_mels if self.top_db is not None else self.n_mels)
        return BlockCost(int(flash), int(stack), int(instr))
