"""Run a feature pipeline's generated C on the host: the parity harness of the blocks.

``run_features_c`` emits ``FeaturePipeline.emit_c(prefix)`` into one C file with a
``main`` that reads float32 windows from a file, calls ``PREFIX_features`` on each and
writes the float32 features back; it is built with the host compiler and the strict
warning flags of :mod:`mcuforge.hardware.host` (a C99 lint). Used by the tests and by
``bench/features.py`` (which cross-compiles the same source).
"""

from __future__ import annotations

import numpy as np

from ..features import FeaturePipeline

_MAIN = """\
#include <stdio.h>

int main(int argc, char **argv)
{{
    static float window[{n_in}];
    static float features[{n_out}];
    FILE *in, *out;
    if (argc != 3) {{ return 2; }}
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {{ return 2; }}
    while (fread(window, sizeof(float), {n_in}, in) == (size_t){n_in}) {{
        if ({p}_features(window, features) != 0) {{ return 3; }}
        fwrite(features, sizeof(float), {n_out}, out);
    }}
    fclose(in);
    return fclose(out) == 0 ? 0 : 4;
}}
"""


def pipeline_source(pipe: FeaturePipeline, prefix: str) -> str:
    """A self-contained C file: includes, the error code, the blocks and ``PREFIX_features``."""
    text, includes = pipe.emit_c(prefix)
    incs = sorted({"<stddef.h>", "<stdint.h>", *includes})
    return "\n".join(
        [
            *(f"#include {i}" for i in incs),
            "",
            f"#define {prefix.upper()}_ERR_NULL (-1)",
            f"int {prefix}_features(const float *window, float *features);",
            "",
            text,
            "",
        ]
    )


def run_features_c(pipe: FeaturePipeline, windows: np.ndarray, prefix: str = "fx") -> np.ndarray:
    """Features of float32 ``windows (n, length, channels)`` computed by the generated C.

    Raises:
        ToolchainError: no host compiler, the C does not build cleanly, or it fails.
    """
    from ..hardware.host import build_and_run

    n_in = int(np.prod(windows.shape[1:]))
    n_out = pipe.n_outputs
    main = pipeline_source(pipe, prefix) + _MAIN.format(p=prefix, n_in=n_in, n_out=n_out)
    raw = build_and_run(
        {"features.c": main}, np.ascontiguousarray(windows, dtype="<f4").tobytes(), what="feature C"
    )
    out = np.frombuffer(raw, dtype="<f4").copy()
    return out.reshape(len(windows), n_out)
