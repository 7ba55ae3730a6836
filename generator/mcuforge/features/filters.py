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
from typing import Any

import numpy as np

from ..codegen.c import c_array
from ._params import FeatureParamError

KINDS = ("lowpass", "highpass", "bandpass")
F32 = np.float32


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


def design(spec: Any, rate_hz: float, block: str) -> Biquads:
    """Butterworth biquads from the ``filter`` parameter of ``block``.

    Raises:
        FeatureParamError: unknown kind, bad order, cutoff outside (0, rate/2).
    """
    from scipy import signal

    where = f"{block}.filter"
    if not isinstance(spec, dict):
        raise FeatureParamError(
            f"{where} must be a mapping like {{kind: lowpass, order: 4, cutoff_hz: 3}}"
        )
    extra = sorted(set(spec) - {"kind", "order", "cutoff_hz"})
    if extra:
        raise FeatureParamError(f"{where} has no key {', '.join(extra)} (kind, order, cutoff_hz)")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise FeatureParamError(f"{where}.kind must be one of {', '.join(KINDS)}; got {kind!r}")
    order = spec.get("order", 2)
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= 8:
        raise FeatureParamError(f"{where}.order must be an integer in [1, 8]; got {order!r}")
    cut = spec.get("cutoff_hz")
    nyq = rate_hz / 2
    given = list(cut) if isinstance(cut, list | tuple) else [cut]
    want = 2 if kind == "bandpass" else 1
    cuts = [float(c) for c in given if isinstance(c, int | float) and not isinstance(c, bool)]
    if len(given) != want or len(cuts) != want:
        shape = "[low_hz, high_hz]" if want == 2 else "one frequency in Hz"
        raise FeatureParamError(f"{where}.cutoff_hz for {kind} must be {shape}; got {cut!r}")
    if not all(0 < c < nyq for c in cuts) or (want == 2 and not cuts[0] < cuts[1]):
        raise FeatureParamError(
            f"{where}.cutoff_hz must lie strictly between 0 and the Nyquist frequency "
            f"{nyq:g} Hz (rate_hz / 2){' and be increasing' if want == 2 else ''}; got {cut!r}"
        )
    wn = cuts if want == 2 else cuts[0]
    sos = signal.butter(order, wn, btype=kind, fs=rate_hz, output="sos")
    desc = f"Butterworth {kind}, order {order}, cutoff {cut} Hz at {rate_hz:g} Hz"
    return Biquads(np.asarray(sos, dtype=np.float64).astype(F32), desc)
