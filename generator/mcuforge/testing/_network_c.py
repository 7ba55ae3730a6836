"""Compile generated network C with the host compiler and run it (parity checks).

Two entry points: :func:`run_network_host` drives ``{p}_input``/``{p}_invoke`` with
int8 vectors (the network alone), :func:`run_model_host` drives
``{p}_infer(const float *f, float *out)`` with float32 features (quantisation,
network, dequantisation and the task's decision, as the firmware calls it).
"""

from __future__ import annotations

import numpy as np

from ..hardware.host import build_and_run as host_build_and_run

_NET_MAIN = """\
#include <stdio.h>
#include <stdint.h>
{code}
int main(int argc, char **argv)
{{
    static int8_t buf[{n_in}];
    FILE *in, *out;
    (void)&{p}_quantize; /* the float entry point is not exercised here */
    if (argc != 3) {{ return 2; }}
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {{ return 2; }}
    while (fread(buf, 1, {n_in}, in) == {n_in}) {{
        int8_t *x = {p}_input();
        const int8_t *y;
        int i;
        for (i = 0; i < {n_in}; ++i) {{ x[i] = buf[i]; }}
        y = {p}_invoke();
        fwrite(y, 1, {n_out}, out);
    }}
    fclose(in);
    return fclose(out) == 0 ? 0 : 4;
}}
"""

_MODEL_MAIN = """\
#include <stdio.h>
#include <stdint.h>
{code}
int main(int argc, char **argv)
{{
    static float f[{n_in}];
    static float o[{n_out}];
    FILE *in, *out;
    if (argc != 3) {{ return 2; }}
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {{ return 2; }}
    while (fread(f, sizeof(float), {n_in}, in) == {n_in}) {{
        const int32_t pred = (int32_t){p}_infer(f, o);
        fwrite(&pred, sizeof pred, 1, out);
        fwrite(o, sizeof(float), {n_out}, out);
    }}
    fclose(in);
    return fclose(out) == 0 ? 0 : 4;
}}
"""


def build_and_run(main: str, data: bytes, extra_flags: list[str]) -> bytes:
    """Compile one C file with the host compiler and run it (see ``hardware.host``)."""
    return host_build_and_run({"main.c": main}, data, extra_flags, "generated network")


def run_network_host(
    code: str, prefix: str, q: np.ndarray, n_out: int, extra_flags: list[str] | None = None
) -> np.ndarray:
    """int8 outputs (n, n_out) of the network C for int8 inputs ``q`` (n, n_in)."""
    q = np.ascontiguousarray(q, dtype=np.int8)
    main = _NET_MAIN.format(code=code, p=prefix, n_in=q.shape[1], n_out=n_out)
    raw = build_and_run(main, q.tobytes(), extra_flags or [])
    out: np.ndarray = np.frombuffer(raw, dtype=np.int8).reshape(-1, n_out)
    return out


def run_model_host(
    code: str, prefix: str, features: np.ndarray, n_out: int, extra_flags: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(return values, ``out`` vectors) of ``{prefix}_infer`` on each feature row."""
    f = np.ascontiguousarray(features, dtype="<f4")
    main = _MODEL_MAIN.format(code=code, p=prefix, n_in=f.shape[1], n_out=n_out)
    raw = build_and_run(main, f.tobytes(), extra_flags or [])
    rec = np.dtype([("pred", "<i4"), ("out", "<f4", (n_out,))])
    res = np.frombuffer(raw, dtype=rec)
    return res["pred"].astype(np.int32), res["out"].astype(np.float32)
