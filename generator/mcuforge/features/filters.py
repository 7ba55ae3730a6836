"""IIR pre-filters: Butterworth designed with scipy.signal as biquads, run as DF2T.

The parameter is ``{kind: lowpass|highpass|bandpass, order: N, cutoff_hz: F}`` (for
``bandpass``, ``cutoff_hz: [low, high]``). ``scipy.signal.butter(..., output="sos")``
designs it in float64; the coefficients are rounded to float32 and emitted. Each
second-order section runs in Direct Form II transposed, per sample::

    y  = b0 x + z1
    z1 = (b1 x - a1 y) + z2
    z2 = b2 x - a2 y

with zero initial state at the start of every window, in float32, in that order (so
the numpy reference below is bit-exact with the C).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from ..codegen.c import c_array
from ..params import Params
from ._params import FeatureParamError

Kind = Literal["lowpass", "highpass", "bandpass"]
KINDS: tuple[str, ...] = get_args(Kind)
F32 = np.float32


class FilterParams(Params):
    """A block's ``filter`` parameter: a Butterworth pre-filter."""

    kind: Kind = Field(description="lowpass, highpass or bandpass.")
    order: int = Field(default=2, ge=1, le=8, description="Filter order.")
    cutoff_hz: float | list[float] = Field(
        description="Cutoff frequency in Hz; [low_hz, high_hz] for bandpass."
    )

    @field_validator("cutoff_hz")
    @classmethod
    def _cutoff(cls, v: float | list[float], info: ValidationInfo) -> float | list[float]:
        kind = info.data.get("kind")
        want = 2 if kind == "bandpass" else 1
        given = v if isinstance(v, list) else [v]
        if kind is not None and len(given) != want:
            shape = "[low_hz, high_hz]" if want == 2 else "one frequency in Hz"
            raise ValueError(f"for {kind} must be {shape}; got {v!r}")
        if want == 2 and not given[0] < given[1]:
            raise ValueError(f"[low_hz, high_hz] must be increasing; got {v!r}")
        return v


@dataclass(frozen=True)
class Biquads:
    """A cascade of second-order sections, float32 ``(sections, 6)``: b0 b1 b2 1 a1 a2."""

    sos: np.ndarray
    description: str

    @property
    def sections(self) -> int:
        return int(self.sos.shape[0])

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Filter float32 ``(n, length, channels)`` along time, as the C does."""
        y = np.array(x, dtype=F32, copy=True)
        for b0, b1, b2, _, a1, a2 in self.sos:
            z1 = np.zeros(y.shape[:1] + y.shape[2:], dtype=F32)
            z2 = np.zeros_like(z1)
            for t in range(y.shape[1]):
                v = y[:, t]
                out = b0 * v + z1
                z1 = (b1 * v - a1 * out) + z2
                z2 = b2 * v - a2 * out
                y[:, t] = out
        return y

    def emit(self, name: str) -> str:
        """Table and ``static void name(float *buf, int n)``: in-place, one channel."""
        rows = [[float(v) for k, v in enumerate(row) if k != 3] for row in self.sos]
        return "\n".join(
            [
                f"/* {self.description}: b0 b1 b2 a1 a2 per section (a0 = 1). */",
                c_array(f"{name}_SOS", "float", rows, inner=5),
                "",
                "/* Direct Form II transposed, in place, zero initial state. */",
                f"static void {name}(float *buf, int n)",
                "{",
                "    int s;",
                f"    for (s = 0; s < {self.sections}; ++s) {{",
                f"        const float *k = {name}_SOS[s];",
                "        float z1 = 0.0f, z2 = 0.0f;",
                "        int t;",
                "        for (t = 0; t < n; ++t) {",
                "            const float v = buf[t];",
                "            const float y = k[0] * v + z1;",
                "            z1 = (k[1] * v - k[3] * y) + z2;",
                "            z2 = k[2] * v - k[4] * y;",
                "            buf[t] = y;",
                "        }",
                "    }",
                "}",
            ]
        )

    def instructions(self, n: int, float_op: float) -> float:
        return self.sections * n * (9 * float_op + 8)

    def flash(self) -> int:
        return 20 * self.sections + 90


def design(spec: FilterParams, rate_hz: float, block: str) -> Biquads:
    """Butterworth biquads from the ``filter`` parameter of ``block``.

    Raises:
        FeatureParamError: a cutoff outside (0, rate/2).
    """
    from scipy import signal

    cuts = spec.cutoff_hz if isinstance(spec.cutoff_hz, list) else [spec.cutoff_hz]
    nyq = rate_hz / 2
    if not all(0 < c < nyq for c in cuts):
        raise FeatureParamError(
            f"{block}.filter.cutoff_hz must lie strictly between 0 and the Nyquist frequency "
            f"{nyq:g} Hz (rate_hz / 2); got {spec.cutoff_hz!r}"
        )
    wn = cuts if len(cuts) == 2 else cuts[0]
    sos = signal.butter(spec.order, wn, btype=spec.kind, fs=rate_hz, output="sos")
    desc = (
        f"Butterworth {spec.kind}, order {spec.order}, cutoff {spec.cutoff_hz} Hz at {rate_hz:g} Hz"
    )
    return Biquads(np.asarray(sos, dtype=np.float64).astype(F32), desc)
